/*
 * it-qmp.c: integration test of the transient QMP op against a real
 * QEMU 7.2 (shared/fixtures/real-qemu) whose monitor socket sits where
 * libxl puts it (<qmp-dir>/qmp-libxl-<domid>), with the domain's uuid
 * in a real xenstored (shared/fixtures/real-xenstored).
 *
 * usage: it-qmp HELPER XS_SOCKET QMP_DIR LOCK_DIR QEMU_PID
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <xenstore.h>

#include "helper-client.h"
#include "tap.h"

#define DOMID	7
#define UUID	"6a3b1c2d-0000-4000-8000-000000000007"
#define T	8000

static struct hc	 hc;
static char		 lockpath[512], sockpath[512], media[256];

static json_t *
qmp(const char *fmt, ...)
{
	va_list	 ap;
	json_t	*args;

	va_start(ap, fmt);
	args = json_vpack_ex(NULL, 0, fmt, ap);
	va_end(ap);
	json_object_set_new(args, "domid", json_integer(DOMID));
	return hc_call(&hc, "qmp", args, T);
}

static json_t *
reply_n(json_t *r, size_t i)
{
	return json_array_get(json_object_get(json_object_get(r, "result"),
	    "replies"), i);
}

static int
has_tray_event(json_t *r, int open)
{
	json_t	*evs, *ev, *d;
	size_t	 i;

	evs = json_object_get(json_object_get(r, "result"), "events");
	json_array_foreach(evs, i, ev) {
		if (strcmp(json_string_value(json_object_get(ev, "event")) ?: "",
		    "DEVICE_TRAY_MOVED") != 0)
			continue;
		d = json_object_get(ev, "data");
		if (json_is_true(json_object_get(d, "tray-open")) == open &&
		    strcmp(json_string_value(json_object_get(d, "id")) ?: "",
		    "ide-5632") == 0)
			return 1;
	}
	return 0;
}

static int
code_is(json_t *r, const char *code)
{
	int	m = strcmp(hc_code(r), code) == 0;

	if (!m)
		fprintf(stderr, "# expected %s, got %s\n", code, hc_code(r));
	json_decref(r);
	return m;
}

static void
test_media_change(void)
{
	json_t	*r, *x;
	int	 fd;
	char	 zero[4096];

	r = qmp("{s:s}", "execute", "query-status");
	x = reply_n(r, 0);
	ok(json_is_true(json_object_get(x, "ok")) && strcmp(json_string_value(
	    json_object_get(json_object_get(x, "return"), "status")) ?: "",
	    "running") == 0, "query-status through the transient session");
	ok(json_object_get(json_object_get(json_object_get(r, "result"),
	    "qemu"), "qemu") != NULL, "the reply carries QEMU's version from "
	    "the greeting");
	json_decref(r);

	/* Start from a closed tray, whatever an earlier run left. */
	r = qmp("{s:s, s:{s:s}}", "execute", "blockdev-close-tray",
	    "arguments", "id", "ide-5632");
	json_decref(r);
	r = qmp("{s:s, s:{s:s}}", "execute", "eject", "arguments", "id",
	    "ide-5632");
	ok(json_is_true(json_object_get(reply_n(r, 0), "ok")),
	    "eject {id: ide-5632}");
	ok(has_tray_event(r, 1), "DEVICE_TRAY_MOVED tray-open true captured");
	json_decref(r);

	snprintf(media, sizeof(media), "/tmp/xendeck-it-qmp-%d.iso",
	    (int)getpid());
	fd = open(media, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	memset(zero, 0, sizeof(zero));
	for (int i = 0; i < 256; i++)
		if (write(fd, zero, sizeof(zero)) != sizeof(zero))
			break;
	close(fd);

	r = qmp("{s:[{s:s, s:{s:i, s:s}, s:s}, {s:s, s:{s:s, s:s, s:s}}]}",
	    "commands",
	    "execute", "add-fd", "arguments", "fdset-id", 8002, "opaque",
	    "hdc:raw", "file", media,
	    "execute", "blockdev-change-medium", "arguments", "id", "ide-5632",
	    "filename", "/dev/fdset/8002", "format", "raw");
	x = reply_n(r, 0);
	ok(json_is_true(json_object_get(x, "ok")) && json_integer_value(
	    json_object_get(json_object_get(x, "return"), "fdset-id")) == 8002,
	    "add-fd with the helper-opened fd passed by SCM_RIGHTS lands in "
	    "fdset 8002");
	ok(json_is_true(json_object_get(reply_n(r, 1), "ok")),
	    "blockdev-change-medium with /dev/fdset/8002");
	ok(has_tray_event(r, 0), "DEVICE_TRAY_MOVED tray-open false captured");
	json_decref(r);

	r = qmp("{s:s}", "execute", "query-block");
	x = json_array_get(json_object_get(reply_n(r, 0), "return"), 0);
	x = json_object_get(x, "inserted");
	ok(strcmp(json_string_value(json_object_get(x, "file")) ?: "",
	    "/dev/fdset/8002") == 0 && json_is_true(json_object_get(x, "ro")),
	    "query-block shows /dev/fdset/8002 inserted read-only");
	json_decref(r);

	r = qmp("{s:s, s:{s:s}}", "execute", "eject", "arguments", "id",
	    "ide-5632");
	json_decref(r);
	r = qmp("{s:s, s:{s:i}}", "execute", "remove-fd", "arguments",
	    "fdset-id", 8002);
	x = reply_n(r, 0);
	ok(json_is_true(json_object_get(r, "ok")) &&
	    json_is_false(json_object_get(x, "ok")) &&
	    strcmp(json_string_value(json_object_get(json_object_get(x,
	    "error"), "class")) ?: "", "GenericError") == 0 &&
	    strstr(json_string_value(json_object_get(json_object_get(x,
	    "error"), "desc")) ?: "", "fdset-id:8002") != NULL,
	    "remove-fd on the emptied fdset is QEMU's GenericError, reported "
	    "as such");
	json_decref(r);
	unlink(media);
}

static void
test_refusals(void)
{
	json_t	*r;

	r = qmp("{s:s, s:{s:s, s:s}}", "execute", "blockdev-change-medium",
	    "arguments", "id", "ide-5632", "filename", "/etc/shadow");
	ok(code_is(r, "EPERM"), "a filename that is not /dev/fdset/N is "
	    "refused");
	r = qmp("{s:s, s:{s:i}}", "execute", "add-fd", "arguments",
	    "fdset-id", 8002);
	ok(code_is(r, "EPERM"), "add-fd without a file is refused");
	r = qmp("{s:s}", "execute", "human-monitor-command");
	ok(code_is(r, "EPERM"), "a command outside the QMP allowlist is "
	    "refused");
	r = qmp("{s:s, s:{s:i}, s:s}", "execute", "add-fd", "arguments",
	    "fdset-id", 8004, "file", "/tmp/../etc/shadow");
	ok(code_is(r, "EINVAL"), "a media path with '..' is refused");
	r = qmp("{s:s, s:{s:i}, s:s}", "execute", "add-fd", "arguments",
	    "fdset-id", 8004, "file", "/nonexistent/x.iso");
	ok(code_is(r, "ENOENT"), "a missing media file is ENOENT");
}

static void
test_lock(pid_t qemu)
{
	json_t	*r;
	int	 fd, p[2], status, result[2] = { -1, -1 };
	pid_t	 child;

	/* Someone else (libxl) holds the lock: the helper waits, then EBUSY. */
	fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ok(fd != -1 && flock(fd, LOCK_EX) == 0, "the test takes libxl's lock");
	r = qmp("{s:s, s:i}", "execute", "query-status", "timeout_ms", 500);
	ok(code_is(r, "EBUSY"), "while libxl holds the lock the helper "
	    "does not touch QMP (EBUSY)");
	close(fd);

	/*
	 * The helper holds the lock: freeze QEMU so the helper's session
	 * stays open, and check from another process that both the lock
	 * and the monitor are unavailable meanwhile.
	 */
	if (pipe(p) == -1)
		return;
	kill(qemu, SIGSTOP);
	child = fork();
	if (child == 0) {
		struct sockaddr_un	sun;
		struct pollfd		pfd;
		int			lfd, s;

		usleep(300000);
		lfd = open(lockpath, O_RDWR | O_CLOEXEC);
		result[0] = flock(lfd, LOCK_EX | LOCK_NB) == -1 &&
		    errno == EWOULDBLOCK;
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, sockpath, strnlen(sockpath,
		    sizeof(sun.sun_path) - 1));
		/* Queue behind the helper's connection, then let QEMU run. */
		result[1] = connect(s, (struct sockaddr *)&sun,
		    sizeof(sun)) == 0;
		kill(qemu, SIGCONT);
		if (result[1]) {
			pfd.fd = s;
			pfd.events = POLLIN;
			result[1] = poll(&pfd, 1, 5000) == 1;
		}
		close(s);
		if (write(p[1], result, sizeof(result)) != sizeof(result))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	r = qmp("{s:s, s:i}", "execute", "query-status", "timeout_ms", 8000);
	ok(json_is_true(json_object_get(reply_n(r, 0), "ok")), "the helper's "
	    "session completes once QEMU runs again");
	json_decref(r);
	if (read(p[0], result, sizeof(result)) != sizeof(result))
		result[0] = result[1] = 0;
	close(p[0]);
	waitpid(child, &status, 0);
	kill(qemu, SIGCONT);
	ok(result[0] == 1, "a second client cannot take the lock while the "
	    "helper holds it");
	ok(result[1] == 1, "a QMP client queued behind the helper is greeted "
	    "once the helper's session ends (it never stays connected)");

	fd = open(lockpath, O_RDWR | O_CLOEXEC);
	ok(fd != -1 && flock(fd, LOCK_EX | LOCK_NB) == 0, "the helper "
	    "released the lock when its session ended");
	close(fd);
}

int
main(int argc, char **argv)
{
	struct xs_handle	*xsh;
	json_t			*r;
	char			*hargv[10];
	pid_t			 qemu;

	if (argc != 6) {
		fprintf(stderr, "usage: it-qmp HELPER XS_SOCKET QMP_DIR "
		    "LOCK_DIR QEMU_PID\n");
		return 2;
	}
	qemu = (pid_t)atoi(argv[5]);
	snprintf(lockpath, sizeof(lockpath),
	    "%s/userdata-l.%d.%s.qmp-socket-lock", argv[4], DOMID, UUID);
	snprintf(sockpath, sizeof(sockpath), "%s/qmp-libxl-%d", argv[3],
	    DOMID);
	setenv("XENSTORED_PATH", argv[2], 1);
	if ((xsh = xs_open(XS_OPEN_SOCKETONLY)) == NULL) {
		perror("xs_open");
		return 1;
	}
	/* As libxl: the domain's home points at its /vm/<uuid>. */
	xs_write(xsh, XBT_NULL, "/local/domain/7/vm", "/vm/" UUID,
	    strlen("/vm/" UUID));
	hargv[0] = argv[1];
	hargv[1] = "--xenstore-socket";
	hargv[2] = argv[2];
	hargv[3] = "--qmp-dir";
	hargv[4] = argv[3];
	hargv[5] = "--lock-dir";
	hargv[6] = argv[4];
	hargv[7] = NULL;
	if (hc_start(&hc, hargv) == -1)
		return 1;
	r = hc_call(&hc, "hello", json_pack("{s:i}", "version", 1), T);
	ok(json_is_true(json_object_get(r, "ok")), "hello");
	json_decref(r);
	test_media_change();
	test_refusals();
	test_lock(qemu);
	ok(hc_stop(&hc) == 0, "the helper exits 0 on EOF");
	xs_rm(xsh, XBT_NULL, "/local/domain/7");
	xs_close(xsh);
	return tap_done();
}
