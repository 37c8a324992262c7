#!/bin/sh
# A stand-in for xl in the helper's tests (no hypervisor here): it echoes
# its argv one per line on stdout, prints -v style steps on stderr, and
# answers `xl list [-v]` from the files domains-v and domains-plain
# beside it (and refuses -v while a file no-verbose is there).  It reads
# nothing from its environment: the helper passes a fixed one.
here=$(dirname "$0")
for a in "$@"; do printf 'argv:%s\n' "$a"; done
verbose=0
while [ "${1:-}" = "-v" ]; do verbose=1; shift; done
cmd=${1:-}; [ $# -gt 0 ] && shift
case "$cmd" in
list)
	if [ "${1:-}" = "-v" ] && [ -f "$here/no-verbose" ]; then
		echo "xl: unknown option -v" >&2; exit 1
	fi
	if [ "${1:-}" = "-v" ]; then cat "$here/domains-v"; else cat "$here/domains-plain"; fi
	;;
create)
	[ $verbose = 1 ] && { echo "Parsing config from $1" >&2;
		echo "libxl: debug: step one" >&2; echo "libxl: debug: step two" >&2; }
	;;
destroy)
	echo "xl: domain $1 does not exist" >&2; exit 3 ;;
pause)
	[ "$1" = sleepy ] && exec sleep 10 ;;
esac
exit 0
