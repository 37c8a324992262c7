#!/bin/sh
# Run each argument (a command line) as a TAP test program; print its
# output, then one "N passed, N failed" line for all of them.  Exit 1 if
# any check failed, any program failed, or nothing ran.
passed=0; failed=0; status=0
for t in "$@"; do
	out=$($t 2>&1); rc=$?
	printf '%s\n' "$out" | grep -v '^[0-9]* passed, [0-9]* failed$'
	p=$(printf '%s\n' "$out" | grep -c '^ok ')
	f=$(printf '%s\n' "$out" | grep -c '^not ok ')
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$rc" != 0 ]; then
		echo "# $t exited $rc"
		status=1
		[ "$f" = 0 ] && failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ] && [ "$status" = 0 ]
