/*
 * util.c: the helper's small trusted base.  Every request field passes
 * through one of these checks before it reaches libxenstore, a socket
 * or an argv; they are pure functions, unit-tested and fuzzed, and they
 * reject rather than repair.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "util.h"

void *
xmalloc(size_t n)
{
	void	*p;

	if (n == 0)
		n = 1;
	if ((p = malloc(n)) == NULL)
		fatal("malloc %zu", n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if ((p = calloc(nmemb, size)) == NULL)
		fatal("calloc %zu x %zu", nmemb, size);
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if (size != 0 && nmemb > SIZE_MAX / size)
		fatalx("reallocarray: overflow");
	if ((p = realloc(ptr, nmemb * size)) == NULL)
		fatal("realloc %zu x %zu", nmemb, size);
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("strdup");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		fatal("strndup");
	return p;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("asprintf");
	return n;
}

int
parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;
	const char	*p;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	if (s[0] == '0' && s[1] != '\0')
		return -EINVAL;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int
write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t
read_retry(int fd, void *buf, size_t len)
{
	ssize_t	n;

	do {
		n = read(fd, buf, len);
	} while (n == -1 && errno == EINTR);
	return n;
}

int64_t
now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
ticker_set(struct ticker *t, int interval)
{
	t->interval = interval;
	t->next = now_ms();
	t->kicked = 0;
}

int
ticker_timeout(const struct ticker *t)
{
	int64_t	d;

	if (t->interval == 0)
		return -1;
	if (t->kicked)
		return 0;
	d = t->next - now_ms();
	return d < 0 ? 0 : (int)d;
}

void
ticker_kick(struct ticker *t)
{
	if (t->interval != 0)
		t->kicked = 1;
}

int
ticker_due(struct ticker *t)
{
	if (t->interval == 0 || (!t->kicked && now_ms() < t->next))
		return 0;
	t->kicked = 0;
	return 1;
}

const char *
errno_name(int e)
{
	static const struct {
		int		 e;
		const char	*name;
	} names[] = {
		{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EIO, "EIO" },
		{ E2BIG, "E2BIG" }, { EBADF, "EBADF" }, { EAGAIN, "EAGAIN" },
		{ ENOMEM, "ENOMEM" }, { EACCES, "EACCES" }, { EBUSY, "EBUSY" },
		{ EEXIST, "EEXIST" }, { ENOTDIR, "ENOTDIR" },
		{ EISDIR, "EISDIR" }, { EINVAL, "EINVAL" },
		{ ENOSPC, "ENOSPC" }, { EROFS, "EROFS" }, { EPIPE, "EPIPE" },
		{ ERANGE, "ERANGE" }, { ENOSYS, "ENOSYS" },
		{ ENOTEMPTY, "ENOTEMPTY" }, { EPROTO, "EPROTO" },
		{ EBADMSG, "EBADMSG" }, { EOVERFLOW, "EOVERFLOW" },
		{ EILSEQ, "EILSEQ" }, { EMSGSIZE, "EMSGSIZE" },
		{ EPROTONOSUPPORT, "EPROTONOSUPPORT" },
		{ ECONNRESET, "ECONNRESET" }, { EISCONN, "EISCONN" },
		{ ETIMEDOUT, "ETIMEDOUT" }, { ECONNREFUSED, "ECONNREFUSED" },
		{ ENOEXEC, "ENOEXEC" }, { ECHILD, "ECHILD" },
		{ ESRCH, "ESRCH" }, { ENXIO, "ENXIO" }, { ELOOP, "ELOOP" },
		{ ENAMETOOLONG, "ENAMETOOLONG" }, { ENOTSOCK, "ENOTSOCK" },
		{ ECANCELED, "ECANCELED" }, { ENODATA, "ENODATA" },
	};
	size_t	i;

	for (i = 0; i < nitems(names); i++)
		if (names[i].e == e)
			return names[i].name;
	return "EIO";
}

const char *
xs_path_check(const char *p)
{
	size_t	len, i;

	if (p == NULL || *p == '\0')
		return "empty path";
	len = strlen(p);
	if (len > MAX_XS_PATH)
		return "path too long";
	if (p[0] != '/')
		return "path must be absolute";
	if (strstr(p, "..") != NULL)
		return "path contains '..'";
	if (strstr(p, "//") != NULL)
		return "path contains '//'";
	if (len > 1 && p[len - 1] == '/')
		return "path has a trailing '/'";
	for (i = 0; i < len; i++) {
		char c = p[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '/' ||
		    c == '_')
			continue;
		return "path contains a character outside [A-Za-z0-9-/_]";
	}
	return NULL;
}

/* Is p equal to root or below it? */
static int
under(const char *p, const char *root)
{
	size_t	n = strlen(root);

	return strncmp(p, root, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

int
xs_path_readable(const char *p)
{
	static const char *roots[] = {
		"/local", "/vm", "/libxl", "/tool", "/xendeck",
	};
	size_t	i;

	for (i = 0; i < nitems(roots); i++)
		if (under(p, roots[i]))
			return 1;
	return 0;
}

/*
 * Match one '/'-separated pattern where "#" stands for one decimal
 * component; the path may continue below the pattern only if the
 * pattern ends in "/".
 */
static int
match_pattern(const char *p, const char *pat)
{
	while (*pat != '\0') {
		if (*pat == '#') {
			if (*p < '0' || *p > '9')
				return 0;
			while (*p >= '0' && *p <= '9')
				p++;
			pat++;
			continue;
		}
		if (*p != *pat)
			return 0;
		p++;
		pat++;
	}
	if (pat[-1] == '/')
		return *p != '\0';
	return *p == '\0';
}

int
xs_path_writable(const char *p)
{
	/*
	 * Xendeck acts through xl; it writes to xenstore only in its own
	 * subtree, to send a PV shutdown request, and to keep libxl's view
	 * of a CD-ROM in step after a forced QMP eject (the two places
	 * xl cd-insert itself updates).
	 */
	static const char *patterns[] = {
		"/xendeck",
		"/xendeck/",
		"/local/domain/#/control/shutdown",
		"/local/domain/#/backend/qdisk/#/#/params",
		"/local/domain/#/backend/qdisk/#/#/type",
		"/local/domain/#/backend/vbd/#/#/params",
		"/local/domain/#/backend/vbd/#/#/type",
		"/libxl/#/device/vbd/#/params",
		"/libxl/#/device/vbd/#/type",
	};
	size_t	i;

	for (i = 0; i < nitems(patterns); i++)
		if (match_pattern(p, patterns[i]))
			return 1;
	return 0;
}

const char *
file_path_check(const char *p)
{
	size_t	len, i;

	if (p == NULL || *p == '\0')
		return "empty path";
	len = strlen(p);
	if (len > MAX_FILE_PATH)
		return "path too long";
	if (p[0] != '/')
		return "path must be absolute";
	if (strstr(p, "//") != NULL)
		return "path contains '//'";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c == 0x7f)
			return "path contains a control character";
		if (c == '.' && (i == 0 || p[i - 1] == '/') &&
		    (p[i + 1] == '/' || p[i + 1] == '\0' ||
		    (p[i + 1] == '.' && (p[i + 2] == '/' || p[i + 2] == '\0'))))
			return "path contains a '.' or '..' component";
	}
	if (len > 1 && p[len - 1] == '/')
		return "path has a trailing '/'";
	return NULL;
}

static int
charset_ok(const char *s, const char *extra, size_t maxlen)
{
	size_t	i, len;

	len = strlen(s);
	if (len == 0 || len > maxlen)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (c != '\0' && strchr(extra, c) != NULL)
			continue;
		return 0;
	}
	return 1;
}

int
domain_name_ok(const char *s)
{
	if (!charset_ok(s, "._-", 64))
		return 0;
	/* Must start alphanumeric, so it can never look like an option. */
	return s[0] != '.' && s[0] != '_' && s[0] != '-';
}

int
domain_ref_ok(const char *s)
{
	uint64_t	v;

	if (parse_uint(s, MAX_DOMID - 1, &v) == 0)
		return 1;
	return domain_name_ok(s);
}

int
vdev_ok(const char *s)
{
	uint64_t	v;
	const char	*p;
	size_t		 letters = 0, digits = 0;

	if (parse_uint(s, UINT32_MAX, &v) == 0)
		return 1;
	if (strncmp(s, "xvd", 3) == 0)
		p = s + 3;
	else if (strncmp(s, "hd", 2) == 0 || strncmp(s, "sd", 2) == 0)
		p = s + 2;
	else
		return 0;
	while (*p >= 'a' && *p <= 'z') {
		p++;
		letters++;
	}
	while (*p >= '0' && *p <= '9') {
		p++;
		digits++;
	}
	return *p == '\0' && letters >= 1 && letters <= 3 && digits <= 3;
}

int
token_ok(const char *s)
{
	return charset_ok(s, "._:-", MAX_TOKEN);
}

/* Length of the valid UTF-8 sequence at s (max n bytes), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t	cp;
	size_t		len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int
utf8_valid(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n;

	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

char *
utf8_sanitize(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out, *o;
	size_t			 i = 0, n;

	/* Each bad byte becomes 3 bytes of U+FFFD. */
	if (len > (SIZE_MAX - 1) / 3)
		fatalx("utf8_sanitize: overflow");
	o = out = xmalloc(len * 3 + 1);
	while (i < len) {
		if (p[i] != 0 && (n = utf8_seq(p + i, len - i)) != 0) {
			memcpy(o, p + i, n);
			o += n;
			i += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	*o = '\0';
	return out;
}
