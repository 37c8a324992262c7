/*
 * ops-log.c: tails of the Xen logs the host parses (xl-<name>.log,
 * qemu-dm-<name>.log, xen-hotplug.log) in the log directory.  The caller
 * names a file by its base name only; the helper builds the path, opens
 * it read-only without following a symlink at the last component, and
 * sends each new line raw (invalid UTF-8 replaced) as a log.line event.
 * Files are polled every LOG_POLL_MS: a file that does not exist yet is
 * picked up when it appears, a truncated or replaced (rotated) file is
 * read again from its start.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dispatch.h"
#include "log.h"
#include "ops.h"
#include "proto.h"
#include "util.h"

#define LOG_READ_MAX	65536	/* bytes per file per tick */

struct tail {
	char	*file;		/* base name */
	char	*path;
	char	*kind;		/* xl, qemu-dm, hotplug */
	char	*name;		/* domain name, or NULL */
	int	 fd;
	dev_t	 dev;
	ino_t	 ino;
	off_t	 off;
	char	 line[MAX_LOG_LINE];
	size_t	 linelen;
};

struct logtail_state {
	struct tail	t[MAX_LOG_TAILS];
	size_t		n;
	int64_t		next;
};

/* xl-<name>.log, qemu-dm-<name>.log or xen-hotplug.log. */
static int
log_name(const char *file, char **kind, char **name)
{
	size_t		 len = strlen(file);
	const char	*prefix = NULL;
	char		*n;

	*kind = *name = NULL;
	if (strcmp(file, "xen-hotplug.log") == 0) {
		*kind = xstrdup("hotplug");
		return 1;
	}
	if (len < 5 || strcmp(file + len - 4, ".log") != 0)
		return 0;
	if (strncmp(file, "xl-", 3) == 0)
		prefix = "xl";
	else if (strncmp(file, "qemu-dm-", 8) == 0)
		prefix = "qemu-dm";
	else
		return 0;
	n = xstrndup(file + strlen(prefix) + 1, len - strlen(prefix) - 1 - 4);
	if (!domain_name_ok(n)) {
		free(n);
		return 0;
	}
	*kind = xstrdup(prefix);
	*name = n;
	return 1;
}

void
logtail_init(struct session *s)
{
	s->lt = xcalloc(1, sizeof(*s->lt));
}

static void
tail_free(struct tail *t)
{
	if (t->fd != -1)
		close(t->fd);
	free(t->file);
	free(t->path);
	free(t->kind);
	free(t->name);
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}

void
logtail_free(struct session *s)
{
	size_t	i;

	if (s->lt == NULL)
		return;
	for (i = 0; i < s->lt->n; i++)
		tail_free(&s->lt->t[i]);
	free(s->lt);
	s->lt = NULL;
}

static int
tail_open(struct tail *t)
{
	struct stat	st;

	t->fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY);
	if (t->fd == -1)
		return -errno;
	if (fstat(t->fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(t->fd);
		t->fd = -1;
		return -EINVAL;
	}
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->off = 0;
	t->linelen = 0;
	return 0;
}

static void
emit_line(struct session *s, struct tail *t)
{
	char	*clean = utf8_sanitize(t->line, t->linelen);
	json_t	*d;

	d = json_pack("{s:s, s:s, s:s}", "file", t->file, "kind", t->kind,
	    "line", clean);
	if (t->name != NULL)
		json_object_set_new(d, "name", json_string(t->name));
	free(clean);
	t->linelen = 0;
	session_event(s, "log.line", d, 0);
}

static void
tail_poll(struct session *s, struct tail *t)
{
	struct stat	st;
	char		buf[8192];
	size_t		total = 0, i;
	ssize_t		n;

	if (stat(t->path, &st) == 0 && t->fd != -1 &&
	    (st.st_dev != t->dev || st.st_ino != t->ino)) {
		/* Rotated: finish the old file, then start the new one. */
		close(t->fd);
		t->fd = -1;
	}
	if (t->fd == -1 && tail_open(t) < 0)
		return;
	if (fstat(t->fd, &st) == 0 && st.st_size < t->off) {
		t->off = 0;	/* truncated */
		t->linelen = 0;
	}
	while (total < LOG_READ_MAX) {
		n = pread(t->fd, buf, sizeof(buf), t->off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		t->off += n;
		total += (size_t)n;
		for (i = 0; i < (size_t)n; i++) {
			if (buf[i] == '\n') {
				emit_line(s, t);
				continue;
			}
			if (t->linelen == sizeof(t->line))
				emit_line(s, t);
			t->line[t->linelen++] = buf[i];
		}
	}
}

int
op_log_follow(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	json_error_t	 jerr;
	const char	*file, *from = "end";
	struct tail	*t;
	struct stat	 st;
	char		*kind, *name;
	size_t		 i;

	if (json_unpack_ex(args, &jerr, 0, "{s:s, s?s !}", "file", &file,
	    "from", &from) == -1)
		return op_fail(e, EINVAL, "log.follow: %s", jerr.text);
	if (strcmp(from, "end") != 0 && strcmp(from, "start") != 0)
		return op_fail(e, EINVAL, "'from' must be start or end");
	if (!log_name(file, &kind, &name))
		return op_fail(e, EPERM, "only xl-<name>.log, "
		    "qemu-dm-<name>.log and xen-hotplug.log can be followed");
	for (i = 0; i < s->lt->n; i++) {
		if (strcmp(s->lt->t[i].file, file) == 0) {
			free(kind);
			free(name);
			return op_fail(e, EEXIST, "already following %s", file);
		}
	}
	if (s->lt->n == MAX_LOG_TAILS) {
		free(kind);
		free(name);
		return op_fail(e, ENOSPC, "at most %d log tails",
		    MAX_LOG_TAILS);
	}
	t = &s->lt->t[s->lt->n++];
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->file = xstrdup(file);
	t->kind = kind;
	t->name = name;
	xasprintf(&t->path, "%s/%s", s->cfg->log_dir, file);
	if (tail_open(t) == 0 && strcmp(from, "end") == 0 &&
	    fstat(t->fd, &st) == 0)
		t->off = st.st_size;
	*result = json_pack("{s:b}", "exists", t->fd != -1);
	s->lt->next = now_ms();
	return 0;
}

int
op_log_unfollow(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	json_error_t	 jerr;
	const char	*file;
	size_t		 i;

	if (json_unpack_ex(args, &jerr, 0, "{s:s !}", "file", &file) == -1)
		return op_fail(e, EINVAL, "log.unfollow: %s", jerr.text);
	for (i = 0; i < s->lt->n; i++) {
		if (strcmp(s->lt->t[i].file, file) == 0) {
			tail_free(&s->lt->t[i]);
			s->lt->t[i] = s->lt->t[--s->lt->n];
			return 0;
		}
	}
	return op_fail(e, ENOENT, "not following %s", file);
}

int
logtail_timeout(struct session *s)
{
	int64_t	d;

	if (s->lt->n == 0)
		return -1;
	d = s->lt->next - now_ms();
	return d < 0 ? 0 : (int)d;
}

void
logtail_tick(struct session *s)
{
	size_t	i;

	if (s->lt->n == 0 || now_ms() < s->lt->next)
		return;
	s->lt->next = now_ms() + LOG_POLL_MS;
	for (i = 0; i < s->lt->n; i++)
		tail_poll(s, &s->lt->t[i]);
}
