/*
 * tap.h: a few lines of TAP for the C tests.  Each check prints
 * "ok N - name" or "not ok N - name"; tap_done() prints the plan and
 * the "N passed, N failed" line the test runner sums, and returns the
 * exit status.
 */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;

static int	tap_ok(int, const char *, ...)
		    __attribute__((format(printf, 2, 3), unused));
static int	tap_done(void) __attribute__((unused));

static int
tap_ok(int cond, const char *fmt, ...)
{
	va_list	ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	printf("%d passed, %d failed\n", tap_n - tap_failed, tap_failed);
	return tap_failed == 0 && tap_n > 0 ? 0 : 1;
}

#define ok(cond, ...)	tap_ok(!!(cond), __VA_ARGS__)

#endif /* TAP_H */
