#!/bin/sh
# The helper benchmark on the real xenstored fixture: start it on a
# private socket, run bench-xs (one JSON object on stdout), stop it by
# the pid run.sh recorded.  Fixture output goes to stderr.
# usage: run-bench.sh FIXTURES BUILD_DIR [SECONDS]
set -u
FIX=$1; B=$(cd "$2" && pwd); secs=${3:-2}
D=$(mktemp -d /tmp/xendeck-native-bench.XXXXXX)
cleanup() {
	"$FIX/real-xenstored/run.sh" stop "$D/xs.sock" >/dev/null 2>&1
	rm -rf "$D"
}
trap cleanup EXIT INT TERM
started=
for _ in 1 2 3; do	# the fixture's start can misreport under load; retry
	if "$FIX/real-xenstored/run.sh" start "$D/xs.sock" >&2; then started=1; break; fi
	sleep 0.5
done
[ -n "$started" ] || {
	echo "bench-xs: the real xenstored fixture did not start" >&2; exit 1; }
"$B/bench-xs" "$B/xendeck-helper" "$D/xs.sock" "$secs"
