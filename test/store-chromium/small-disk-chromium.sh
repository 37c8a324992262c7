#!/bin/sh
# Debian's chromium with its IndexedDB folder on a small tmpfs of its own, mounted in a private mount
# namespace (nothing is mounted for anyone else; it goes away with the browser). For disk-full.test.ts.
#   XENDECK_IDB_DISK     size of the tmpfs (default 4m)
#   XENDECK_IDB_BALLAST  MiB of it taken by a file named ballast (default 0): remove it to free space
# The browser's pid is written to <user-data-dir>.pid: the tmpfs is reachable as /proc/<pid>/root/<user-data-dir>/Default/IndexedDB.
set -e
UDD=
for a in "$@"; do
  case "$a" in --user-data-dir=*) UDD="${a#--user-data-dir=}" ;; esac
done
[ -n "$UDD" ] || { echo "small-disk-chromium: no --user-data-dir given" >&2; exit 2; }
mkdir -p "$UDD/Default/IndexedDB"
echo $$ > "$UDD.pid"
if [ "$(id -u)" = 0 ]; then NS=-m; else NS=-rm; fi
exec unshare $NS sh -c '
  mount -t tmpfs -o "size=${XENDECK_IDB_DISK:-4m}" xendeck-idb "$0/Default/IndexedDB"
  if [ "${XENDECK_IDB_BALLAST:-0}" -gt 0 ]; then dd if=/dev/zero of="$0/Default/IndexedDB/ballast" bs=1M count="$XENDECK_IDB_BALLAST" status=none; fi
  exec "${XENDECK_CHROMIUM:-/usr/bin/chromium}" "$@"' "$UDD" "$@"
