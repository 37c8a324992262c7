#!/bin/sh
# Integration tests against the real peers: Debian's xenstored 4.17 and
# QEMU 7.2 (shared/fixtures), plus xl, dominfo and log tails with the
# xl test double.  it-flood floods a watched subtree while nobody reads the
# helper: the plain helper's VmRSS must stay under 16 MiB (the ASan one is
# only checked for behaviour: its allocator quarantines freed memory).  it-dm starts (and kills) QEMUs of its own, one
# directory per helper build.  Starts the fixtures in a private directory and stops
# them (by the pids their run.sh recorded) whatever happens.
# usage: run-integration.sh FIXTURES BUILD_DIR
set -u
FIX=$1; B=$(cd "$2" && pwd); HERE=$(cd "$(dirname "$0")" && pwd)
D=$(mktemp -d /tmp/xendeck-native-it.XXXXXX)
SIM_PID=
cleanup() {
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null
	"$FIX/real-qemu/run.sh" stop "$D/qmp/qmp-libxl-7" >/dev/null 2>&1
	for v in plain asan; do
		"$FIX/real-qemu/run.sh" stop "$D/dm-$v/qmp-libxl-9" >/dev/null 2>&1
	done
	"$FIX/real-xenstored/run.sh" stop "$D/xs.sock" >/dev/null 2>&1
	rm -rf "$D"
}
trap cleanup EXIT INT TERM
# The ASan helper: libxenstore's own teardown may leak an in-flight message (see lsan.supp).
LSAN_OPTIONS="suppressions=$HERE/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
mkdir -p "$D/qmp" "$D/lock" "$D/xl" "$D/log" "$D/dm-plain" "$D/dm-asan"
# run.sh can report "xenstored died" while its daemon is in fact starting (a race
# in the fixture under load); a second start on the same socket restarts cleanly.
started=
for _ in 1 2 3; do
	if "$FIX/real-xenstored/run.sh" start "$D/xs.sock" >"$D/xs.env" 2>"$D/xs.err"; then
		started=1; break
	fi
	sleep 0.5
done
[ -n "$started" ] || {
	echo "not ok - real xenstored fixture did not start"
	sed 's/^/# /' "$D/xs.err"; exit 1; }
QEMU_PID=$("$FIX/real-qemu/run.sh" start "$D/qmp/qmp-libxl-7" |
	sed -n 's/^QEMU_PID=//p')
[ -n "$QEMU_PID" ] || { echo "not ok - real QEMU fixture did not start"; exit 1; }
cp "$HERE/fake-xl.sh" "$D/xl/xl"
chmod 755 "$D/xl/xl"
CTL="$D/xs.sock.d/ctl"
# The simulator's xenstore too, when the TypeScript side is installed.
SIM=
REPO=$(cd "$HERE/../.." && pwd)
if [ -x "$REPO/node_modules/.bin/tsx" ] &&
    [ -f "$REPO/electron/sim/xenstore/server.ts" ]; then
	"$REPO/node_modules/.bin/tsx" "$HERE/sim-xenstored.ts" "$D/sim.sock" \
	    >"$D/sim.log" 2>&1 &
	SIM_PID=$!
	for _ in $(seq 100); do [ -S "$D/sim.sock" ] && break; sleep 0.1; done
	if [ -S "$D/sim.sock" ]; then
		SIM="$B/it-xenstore $B/xendeck-helper $D/sim.sock"
	else
		echo "not ok - the simulator's xenstore did not start:"
		sed 's/^/# /' "$D/sim.log"; exit 1
	fi
else
	echo "# no node_modules: the simulator's xenstore is not tested here"
fi
sh "$HERE/run-tap.sh" \
	"$B/it-xenstore $B/xendeck-helper $D/xs.sock $CTL" \
	"$B/it-xenstore $B/asan/xendeck-helper $D/xs.sock $CTL" \
	"$B/it-qmp $B/xendeck-helper $D/xs.sock $D/qmp $D/lock $QEMU_PID" \
	"$B/it-qmp $B/asan/xendeck-helper $D/xs.sock $D/qmp $D/lock $QEMU_PID" \
	"$B/it-xl $B/xendeck-helper $D/xs.sock $D/xl/xl $D/log" \
	"$B/it-xl $B/asan/xendeck-helper $D/xs.sock $D/xl/xl $D/log" \
	"$B/it-flood $B/xendeck-helper $D/xs.sock 16384" \
	"$B/it-flood $B/asan/xendeck-helper $D/xs.sock 0" \
	"$B/it-dm $B/xendeck-helper $FIX $D/dm-plain" \
	"$B/it-dm $B/asan/xendeck-helper $FIX $D/dm-asan" \
	${SIM:+"$SIM"}
