/*
 * ops-qmp.c: one transient QMP session per request.  QEMU serves one
 * monitor client at a time and libxl connects for each operation, so
 * the helper never stays connected: it takes libxl's own lock
 * (flock on <lock-dir>/userdata-l.<domid>.<uuid>.qmp-socket-lock, the
 * uuid read from xenstore, never from the caller), connects to
 * <qmp-dir>/qmp-libxl-<domid>, reads the greeting, negotiates, runs the
 * caller's commands (at most MAX_QMP_COMMANDS, stopping at the first
 * QMP error), collects the events QEMU sends meanwhile, disconnects
 * and unlocks.  A QMP error is a result, not a failure of the op: the
 * reply carries QEMU's class and desc.  add-fd's file is opened here,
 * read-only, with the invoking user's filesystem rights.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenstore.h>

#include "dispatch.h"
#include "fdpass.h"
#include "log.h"
#include "ops.h"
#include "proto.h"
#include "qmp-proto.h"
#include "util.h"

struct qmpconn {
	int	 sock;
	char	*buf;
	size_t	 len;
	int64_t	 deadline;
};

struct qmpreq {
	const char	*execute;
	json_t		*arguments;
	const char	*file;
	int		 fd;
};

static int
ms_left(int64_t deadline)
{
	int64_t	d = deadline - now_ms();

	return d < 0 ? 0 : (int)d;
}

/* Open a media file read-only with the invoking user's rights. */
static int
open_media(const struct config *cfg, const char *path, struct op_error *e)
{
	struct stat	st;
	int		fd, err = 0;

	if (cfg->elevated) {
		setfsgid(cfg->user_gid);
		setfsuid(cfg->user_uid);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		err = errno;
	if (cfg->elevated) {
		setfsuid(geteuid());
		setfsgid(getegid());
	}
	if (fd == -1)
		return op_fail(e, err, "open %s: %s", path, strerror(err));
	if (fstat(fd, &st) == -1 || !(S_ISREG(st.st_mode) ||
	    S_ISBLK(st.st_mode))) {
		close(fd);
		return op_fail(e, EINVAL, "%s is not a file or block device",
		    path);
	}
	/* QEMU gets a blocking fd. */
	(void)fcntl(fd, F_SETFL, 0);
	return fd;
}

/* The domain's uuid from /local/domain/<domid>/vm = /vm/<uuid>. */
static int
domain_uuid(struct session *s, unsigned int domid, char *uuid, size_t size,
    struct op_error *e)
{
	struct xs_handle	*h;
	unsigned long		 flags = 0;
	unsigned int		 len;
	char			 path[64], *v;
	size_t			 i;

	if (s->cfg->xs_socket != NULL)
		flags |= XS_OPEN_SOCKETONLY;
	if ((h = xs_open(flags)) == NULL)
		return op_fail(e, errno != 0 ? errno : EIO,
		    "cannot connect to xenstore");
	snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
	v = xs_read(h, XBT_NULL, path, &len);
	xs_close(h);
	if (v == NULL)
		return op_fail(e, ENOENT, "domain %u has no %s", domid, path);
	if (len != 40 || strncmp(v, "/vm/", 4) != 0) {
		free(v);
		return op_fail(e, EINVAL, "%s is not /vm/<uuid>", path);
	}
	for (i = 4; i < 40; i++) {
		char c = v[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F') || (c == '-' && (i == 12 ||
		    i == 17 || i == 22 || i == 27)))) {
			free(v);
			return op_fail(e, EINVAL, "%s is not /vm/<uuid>",
			    path);
		}
	}
	snprintf(uuid, size, "%s", v + 4);
	free(v);
	return 0;
}

/*
 * libxl's lock: open (creating) the lock file, flock it, and make sure
 * the file we locked is still the one at the path (libxl may unlink it
 * between our open and our flock).  Waits until deadline.
 */
static int
take_lock(const char *path, int64_t deadline, struct op_error *e)
{
	struct stat	a, b;
	int		fd;

	for (;;) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0644);
		if (fd == -1)
			return op_fail(e, errno, "open %s: %s", path,
			    strerror(errno));
		while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			if (errno != EWOULDBLOCK && errno != EINTR) {
				int err = errno;

				close(fd);
				return op_fail(e, err, "flock %s: %s", path,
				    strerror(err));
			}
			if (ms_left(deadline) == 0) {
				close(fd);
				return op_fail(e, EBUSY, "the QMP lock %s is "
				    "held by another client (libxl?)", path);
			}
			poll(NULL, 0, 10);
		}
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return fd;
		close(fd);
	}
}

static int
qmp_connect(const char *path, struct op_error *e)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return op_fail(e, ENAMETOOLONG, "QMP socket path too long");
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return op_fail(e, errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int err = errno;

		close(fd);
		return op_fail(e, err, "connect %s: %s", path, strerror(err));
	}
	return fd;
}

/* Next line from QEMU, parsed. */
static int
qmp_next(struct qmpconn *c, struct qmp_msg *m, struct op_error *e)
{
	struct pollfd	 pfd;
	char		*nl;
	size_t		 linelen;
	ssize_t		 n;

	for (;;) {
		nl = memchr(c->buf, '\n', c->len);
		if (nl != NULL) {
			int blank;

			linelen = (size_t)(nl - c->buf);
			blank = linelen == 0 || (linelen == 1 &&
			    c->buf[0] == '\r');
			n = blank ? -EBADMSG : qmp_parse(c->buf, linelen, m);
			memmove(c->buf, nl + 1, c->len - linelen - 1);
			c->len -= linelen + 1;
			if (n == 0)
				return 0;
			if (blank)
				continue;
			return op_fail(e, EBADMSG, "QEMU sent a line that is "
			    "not QMP");
		}
		if (c->len == MAX_QMP_LINE)
			return op_fail(e, EMSGSIZE, "QMP line longer than %d "
			    "bytes", MAX_QMP_LINE);
		pfd.fd = c->sock;
		pfd.events = POLLIN;
		n = poll(&pfd, 1, ms_left(c->deadline));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0)
			return op_fail(e, ETIMEDOUT, "QEMU did not answer in "
			    "time");
		n = read_retry(c->sock, c->buf + c->len, MAX_QMP_LINE - c->len);
		if (n == -1 && errno == EAGAIN)
			continue;
		if (n <= 0)
			return op_fail(e, n == 0 ? ECONNRESET : errno,
			    "QMP connection closed");
		c->len += (size_t)n;
	}
}

static void
keep_event(json_t *events, int *dropped, struct qmp_msg *m)
{
	json_t	*ev;

	if (json_array_size(events) >= MAX_QMP_EVENTS) {
		(*dropped)++;
		return;
	}
	ev = json_pack("{s:s, s:O?, s:O?}", "event", m->event, "data",
	    m->data, "timestamp", m->timestamp);
	if (ev != NULL)
		json_array_append_new(events, ev);
}

/* Send one command and wait for its return or error. */
static int
qmp_exec(struct qmpconn *c, const char *execute, json_t *arguments, int fd,
    json_t *events, int *dropped, struct qmp_msg *reply, struct op_error *e)
{
	json_t	*cmd;
	char	*line, *withnl;
	size_t	 len;
	int	 rc;

	cmd = json_pack("{s:s}", "execute", execute);
	if (arguments != NULL)
		json_object_set(cmd, "arguments", arguments);
	line = json_dumps(cmd, JSON_COMPACT);
	json_decref(cmd);
	if (line == NULL)
		fatalx("json_dumps");
	len = strlen(line);
	withnl = xmalloc(len + 1);
	memcpy(withnl, line, len);
	withnl[len] = '\n';
	free(line);
	if (fd != -1)
		rc = fd_send(c->sock, fd, withnl, len + 1);
	else {
		/* Non-blocking socket: write_all may see EAGAIN; wait. */
		size_t off = 0;

		rc = 0;
		while (off < len + 1) {
			ssize_t n = write(c->sock, withnl + off, len + 1 - off);

			if (n == -1 && (errno == EINTR || errno == EAGAIN)) {
				struct pollfd pfd = { c->sock, POLLOUT, 0 };

				if (poll(&pfd, 1, ms_left(c->deadline)) == 0) {
					rc = -ETIMEDOUT;
					break;
				}
				continue;
			}
			if (n == -1) {
				rc = -errno;
				break;
			}
			off += (size_t)n;
		}
	}
	free(withnl);
	if (rc < 0)
		return op_fail(e, -rc, "send to QEMU: %s", strerror(-rc));
	for (;;) {
		if ((rc = qmp_next(c, reply, e)) < 0)
			return rc;
		if (reply->kind == QMP_EVENT) {
			keep_event(events, dropped, reply);
			qmp_msg_free(reply);
			continue;
		}
		if (reply->kind == QMP_GREETING) {
			qmp_msg_free(reply);
			return op_fail(e, EBADMSG, "unexpected QMP greeting");
		}
		return 0;
	}
}

static int
parse_requests(json_t *args, struct qmpreq *reqs, size_t *nreqs,
    unsigned int *domid, json_int_t *timeout, struct op_error *e)
{
	json_error_t	 jerr;
	json_t		*cmds = NULL, *arguments = NULL, *el;
	const char	*execute = NULL, *file = NULL, *why;
	json_int_t	 jdomid;
	size_t		 i, n;

	if (json_unpack_ex(args, &jerr, 0, "{s:I, s?s, s?o, s?s, s?o, s?I !}",
	    "domid", &jdomid, "execute", &execute, "arguments", &arguments,
	    "file", &file, "commands", &cmds, "timeout_ms", timeout) == -1)
		return op_fail(e, EINVAL, "qmp: %s", jerr.text);
	if (jdomid < 1 || jdomid >= MAX_DOMID)
		return op_fail(e, EINVAL, "'domid' must be in [1, %d]",
		    MAX_DOMID - 1);
	*domid = (unsigned int)jdomid;
	if (*timeout < 1 || *timeout > QMP_TIMEOUT_MAX_MS)
		return op_fail(e, EINVAL, "'timeout_ms' must be in [1, %d]",
		    QMP_TIMEOUT_MAX_MS);
	if ((execute == NULL) == (cmds == NULL))
		return op_fail(e, EINVAL, "give either 'execute' or "
		    "'commands'");
	if (execute != NULL) {
		reqs[0].execute = execute;
		reqs[0].arguments = arguments;
		reqs[0].file = file;
		*nreqs = 1;
	} else {
		if (arguments != NULL || file != NULL)
			return op_fail(e, EINVAL, "'arguments' and 'file' go "
			    "inside 'commands'");
		if (!json_is_array(cmds) || (n = json_array_size(cmds)) == 0 ||
		    n > MAX_QMP_COMMANDS)
			return op_fail(e, EINVAL, "'commands' must hold 1 to "
			    "%d commands", MAX_QMP_COMMANDS);
		json_array_foreach(cmds, i, el) {
			reqs[i].arguments = NULL;
			reqs[i].file = NULL;
			if (json_unpack_ex(el, &jerr, 0, "{s:s, s?o, s?s !}",
			    "execute", &reqs[i].execute, "arguments",
			    &reqs[i].arguments, "file", &reqs[i].file) == -1)
				return op_fail(e, EINVAL, "commands[%zu]: %s",
				    i, jerr.text);
		}
		*nreqs = n;
	}
	for (i = 0; i < *nreqs; i++) {
		reqs[i].fd = -1;
		if ((why = qmp_check_command(reqs[i].execute,
		    reqs[i].arguments, reqs[i].file != NULL)) != NULL)
			return op_fail(e, EPERM, "%s: %s", reqs[i].execute,
			    why);
		if (reqs[i].file != NULL &&
		    (why = file_path_check(reqs[i].file)) != NULL)
			return op_fail(e, EINVAL, "file: %s", why);
	}
	return 0;
}

int
op_qmp(struct session *s, json_t *args, json_t **result, struct op_error *e)
{
	struct qmpreq	 reqs[MAX_QMP_COMMANDS];
	struct qmpconn	 c;
	struct qmp_msg	 m;
	json_int_t	 timeout = QMP_TIMEOUT_MS;
	json_t		*replies = NULL, *events = NULL, *qemu = NULL, *r;
	unsigned int	 domid = 0;
	size_t		 nreqs = 0, i;
	char		 uuid[40], *lockpath = NULL, *sockpath = NULL;
	int		 rc, lockfd = -1, dropped = 0;

	memset(&c, 0, sizeof(c));
	c.sock = -1;
	memset(reqs, 0, sizeof(reqs));
	if ((rc = parse_requests(args, reqs, &nreqs, &domid, &timeout, e)) < 0)
		return rc;
	c.deadline = now_ms() + timeout;

	for (i = 0; i < nreqs; i++) {
		if (reqs[i].file == NULL)
			continue;
		if ((rc = open_media(s->cfg, reqs[i].file, e)) < 0)
			goto out;
		reqs[i].fd = rc;
	}
	if ((rc = domain_uuid(s, domid, uuid, sizeof(uuid), e)) < 0)
		goto out;
	xasprintf(&lockpath, "%s/userdata-l.%u.%s.qmp-socket-lock",
	    s->cfg->lock_dir, domid, uuid);
	xasprintf(&sockpath, "%s/qmp-libxl-%u", s->cfg->qmp_dir, domid);
	if ((rc = take_lock(lockpath, c.deadline, e)) < 0)
		goto out;
	lockfd = rc;
	if ((rc = qmp_connect(sockpath, e)) < 0)
		goto out;
	c.sock = rc;
	c.buf = xmalloc(MAX_QMP_LINE);

	events = json_array();
	replies = json_array();
	if ((rc = qmp_next(&c, &m, e)) < 0)
		goto out;
	if (m.kind != QMP_GREETING) {
		qmp_msg_free(&m);
		rc = op_fail(e, EBADMSG, "QEMU did not greet");
		goto out;
	}
	qemu = json_incref(m.version);
	qmp_msg_free(&m);
	if ((rc = qmp_exec(&c, "qmp_capabilities", NULL, -1, events, &dropped,
	    &m, e)) < 0)
		goto out;
	if (m.kind == QMP_ERROR) {
		rc = op_fail(e, EPROTO, "qmp_capabilities: %s: %s",
		    m.err_class, m.err_desc);
		qmp_msg_free(&m);
		goto out;
	}
	qmp_msg_free(&m);

	for (i = 0; i < nreqs; i++) {
		if ((rc = qmp_exec(&c, reqs[i].execute, reqs[i].arguments,
		    reqs[i].fd, events, &dropped, &m, e)) < 0)
			goto out;
		if (m.kind == QMP_RETURN)
			r = json_pack("{s:s, s:b, s:O}", "execute",
			    reqs[i].execute, "ok", 1, "return", m.ret);
		else
			r = json_pack("{s:s, s:b, s:{s:s, s:s}}", "execute",
			    reqs[i].execute, "ok", 0, "error", "class",
			    m.err_class, "desc", m.err_desc);
		json_array_append_new(replies, r);
		qmp_msg_free(&m);
		if (json_is_false(json_object_get(r, "ok")))
			break;	/* as libxl: the sequence stops here */
	}
	*result = json_pack("{s:o?, s:O, s:O}", "qemu", qemu, "replies",
	    replies, "events", events);
	qemu = NULL;
	if (dropped > 0)
		json_object_set_new(*result, "events_dropped",
		    json_integer(dropped));
	rc = 0;
out:
	if (c.sock != -1)
		close(c.sock);
	free(c.buf);
	if (lockfd != -1)
		close(lockfd);	/* releases the flock */
	for (i = 0; i < nreqs; i++)
		if (reqs[i].fd != -1)
			close(reqs[i].fd);
	json_decref(qemu);
	json_decref(replies);
	json_decref(events);
	free(lockpath);
	free(sockpath);
	return rc;
}
