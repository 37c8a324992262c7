/*
 * log.c: diagnostics to stderr.  The helper never writes anything but
 * protocol lines to stdout, so every message here goes to fd 2, one
 * line per call, prefixed with the program name.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proto.h"

static int log_verbose;

static void	vlog(const char *, int, const char *, va_list);

void
log_init(int debug)
{
	log_verbose = debug;
}

static void
vlog(const char *level, int saved_errno, const char *fmt, va_list ap)
{
	char	buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (saved_errno != 0)
		fprintf(stderr, "%s: %s: %s: %s\n", HELPER_NAME, level, buf,
		    strerror(saved_errno));
	else
		fprintf(stderr, "%s: %s: %s\n", HELPER_NAME, level, buf);
	fflush(stderr);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog("debug", 0, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("warning", 0, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog("warning", saved, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	vlog("fatal", saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("fatal", 0, fmt, ap);
	va_end(ap);
	exit(1);
}
