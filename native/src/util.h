/*
 * util.h: allocation that cannot fail, strict number parsing, EINTR-safe
 * I/O, and the input checks every op applies before it touches the
 * system: xenstore path syntax and allowlists, file paths, domain names,
 * virtual device names, UTF-8.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Parse a decimal unsigned integer in [0, max].  No sign, no spaces, no
 * leading zeros (except "0" itself), no trailing junk.  Returns 0 or
 * -EINVAL / -ERANGE.
 */
int	 parse_uint(const char *, uint64_t, uint64_t *);

/* write(2) the whole buffer, retrying on EINTR.  0 or -errno. */
int	 write_all(int, const void *, size_t);
/* read(2), retrying on EINTR. */
ssize_t	 read_retry(int, void *, size_t);

/* Monotonic milliseconds. */
int64_t	 now_ms(void);

/*
 * A polling timer (dominfo.poll, dm.poll): off while interval is 0; due
 * when `next` has passed or it was kicked.
 */
struct ticker {
	int	 interval;	/* ms; 0: off */
	int64_t	 next;
	int	 kicked;
};

/* Poll every `interval` ms (0: off), the first time at the next tick. */
void	 ticker_set(struct ticker *, int);
/* Milliseconds until due, or -1 when off. */
int	 ticker_timeout(const struct ticker *);
/* Make it due at once (when on). */
void	 ticker_kick(struct ticker *);
/* Is it due now?  If so the kick is spent; the caller sets `next`. */
int	 ticker_due(struct ticker *);

/* The name of an errno value ("ENOENT"), or "EIO" for unknown ones. */
const char *errno_name(int);

/*
 * xenstore path syntax: absolute, [A-Za-z0-9-/_] only, no "//", no
 * trailing "/", no "..", at most MAX_XS_PATH bytes.  Returns NULL if
 * good, or a static reason.
 */
const char *xs_path_check(const char *);
/* May the caller read or watch this (already syntax-checked) path? */
int	 xs_path_readable(const char *);
/* May the caller write, remove or change the permissions of this path? */
int	 xs_path_writable(const char *);

/*
 * An absolute file path: no "..", no "//", no control characters, at
 * most MAX_FILE_PATH bytes.  Returns NULL if good, or a static reason.
 */
const char *file_path_check(const char *);
/* A domain name: [A-Za-z0-9][A-Za-z0-9._-]{0,63}. */
int	 domain_name_ok(const char *);
/* A domain reference for xl: a name or a domid. */
int	 domain_ref_ok(const char *);
/* A virtual device: hd*, sd*, xvd* (letters, optional partition) or a number. */
int	 vdev_ok(const char *);
/* A safe token ([A-Za-z0-9._:-]{1,MAX_TOKEN}). */
int	 token_ok(const char *);

/* Is [s, s+len) valid UTF-8 (no overlongs, no surrogates)? */
int	 utf8_valid(const char *, size_t);
/* A NUL-terminated copy with invalid UTF-8 bytes replaced by U+FFFD. */
char	*utf8_sanitize(const char *, size_t);

#endif /* UTIL_H */
