#!/bin/sh
# Integration tests against the real peers: Debian's xenstored 4.17 and
# QEMU 7.2 (shared/fixtures), plus xl, dominfo and log tails with the
# xl test double.  Starts the fixtures in a private directory and stops
# them (by the pids their run.sh recorded) whatever happens.
# usage: run-integration.sh FIXTURES BUILD_DIR
set -u
FIX=$1; B=$(cd "$2" && pwd); HERE=$(cd "$(dirname "$0")" && pwd)
D=$(mktemp -d /tmp/xendeck-native-it.XXXXXX)
cleanup() {
	"$FIX/real-qemu/run.sh" stop "$D/qmp/qmp-libxl-7" >/dev/null 2>&1
	"$FIX/real-xenstored/run.sh" stop "$D/xs.sock" >/dev/null 2>&1
	rm -rf "$D"
}
trap cleanup EXIT INT TERM
mkdir -p "$D/qmp" "$D/lock" "$D/xl" "$D/log"
"$FIX/real-xenstored/run.sh" start "$D/xs.sock" >"$D/xs.env" || {
	echo "not ok - real xenstored fixture did not start"; exit 1; }
QEMU_PID=$("$FIX/real-qemu/run.sh" start "$D/qmp/qmp-libxl-7" |
	sed -n 's/^QEMU_PID=//p')
[ -n "$QEMU_PID" ] || { echo "not ok - real QEMU fixture did not start"; exit 1; }
cp "$HERE/fake-xl.sh" "$D/xl/xl"
chmod 755 "$D/xl/xl"
CTL="$D/xs.sock.d/ctl"
sh "$HERE/run-tap.sh" \
	"$B/it-xenstore $B/xendeck-helper $D/xs.sock $CTL" \
	"$B/it-xenstore $B/asan/xendeck-helper $D/xs.sock $CTL" \
	"$B/it-qmp $B/xendeck-helper $D/xs.sock $D/qmp $D/lock $QEMU_PID" \
	"$B/it-qmp $B/asan/xendeck-helper $D/xs.sock $D/qmp $D/lock $QEMU_PID" \
	"$B/it-xl $B/xendeck-helper $D/xs.sock $D/xl/xl $D/log" \
	"$B/it-xl $B/asan/xendeck-helper $D/xs.sock $D/xl/xl $D/log"
