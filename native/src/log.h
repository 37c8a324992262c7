/*
 * log.h: diagnostics for xendeck-helper.  Everything goes to stderr;
 * stdout carries the protocol and nothing else.
 */
#ifndef LOG_H
#define LOG_H

/* Set verbosity: 0 warnings only, 1 adds debug lines. */
void	log_init(int debug);
/* A debug line, printed only with --debug. */
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* A warning, always printed. */
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
/* A warning with strerror(errno) appended. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
/* A broken invariant or OOM, with strerror(errno): exit 1. */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
/* A broken invariant, without errno: exit 1. */
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* LOG_H */
