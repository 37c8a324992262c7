#!/bin/sh
# Run each libFuzzer target for SECONDS under ASan + UBSan, all at once
# (the machines have two cores), seeded from the golden contract
# exchanges (test/contract) and, for the QMP parser, from the QEMU 7.2
# transcript lines in fuzz/qmp.seed.  Each target's corpus grows in
# BUILD/fuzz/corpus-NAME between runs.  Prints one TAP line per target
# and a "N passed, N failed" line; exits 1 on any crash, leak or
# sanitizer report.
# usage: run-fuzz.sh SECONDS BUILD_DIR FUZZER...
set -u
secs=$1; B=$2; shift 2
F=$B/fuzz
seeds=$F/seeds-contract
rm -rf "$seeds" "$F/seeds-qmp"
mkdir -p "$seeds" "$F/seeds-qmp"
"$B/unit/test-contract" --seeds "$seeds" ../test/contract ||
	{ echo "not ok - no seeds from the contract files"; exit 1; }
n=0
while IFS= read -r line; do
	n=$((n + 1))
	printf '%s\n' "$line" > "$F/seeds-qmp/transcript-$n"
done < fuzz/qmp.seed

for f in "$@"; do
	name=${f#fuzz-}
	mkdir -p "$F/corpus-$name"
	case $name in
	qmp) s=$F/seeds-qmp ;;
	*) s=$seeds ;;
	esac
	# -close_fd_mask=3: the helper's own warnings stay out of the log;
	# libFuzzer still reports crashes.
	"$F/$f" -max_total_time="$secs" -max_len=16384 -timeout=10 \
	    -dict="fuzz/$name.dict" -close_fd_mask=3 -print_final_stats=1 \
	    "$F/corpus-$name" "$s" > "$F/$name.log" 2>&1 &
	echo $! > "$F/$name.pid"
done
passed=0; failed=0
for f in "$@"; do
	name=${f#fuzz-}
	wait "$(cat "$F/$name.pid")"; rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$F/$name.log")
	if [ "$rc" = 0 ] && ! grep -q 'ERROR: \(AddressSanitizer\|LeakSanitizer\|libFuzzer\)\|runtime error' "$F/$name.log"; then
		echo "ok - $f: ${runs:-?} inputs in ${secs} s, no crash, no leak, no UB"
		passed=$((passed + 1))
	else
		echo "not ok - $f exited $rc; the end of $F/$name.log:"
		tail -n 40 "$F/$name.log" | sed 's/^/# /'
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
