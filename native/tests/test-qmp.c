/*
 * test-qmp.c: QMP reply parsing (qmp-proto.c) on the lines real QEMU 7.2
 * sent in shared/fixtures/real-qemu's transcript and on malformed ones;
 * the QMP command allowlist; SCM_RIGHTS fd passing over a socketpair
 * (fdpass.c); and the whole transient qmp op through dispatch against
 * the scripted monitor in fake-qmp.c (greeting, negotiation, events
 * before the return, QEMU errors reported as results, fd passing, the
 * timeout, libxl's lock).
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dispatch.h"
#include "fake-qmp.h"
#include "fake-xenstore.h"
#include "fdpass.h"
#include "ops.h"
#include "proto.h"
#include "qmp-proto.h"
#include "tap.h"
#include "util.h"

static void
test_parse(void)
{
	static const struct {
		const char	*line;
		int		 kind;	/* -1: refused */
		const char	*what;
	} cases[] = {
		{ "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": "
		    "2, \"major\": 7}, \"package\": \"Debian\"}, "
		    "\"capabilities\": [\"oob\"]}}", QMP_GREETING, "greeting" },
		{ "{\"return\": {}}", QMP_RETURN, "empty return" },
		{ "{\"return\": [{\"device\": \"ide-5632\"}]}", QMP_RETURN,
		    "list return" },
		{ "{\"error\": {\"class\": \"GenericError\", \"desc\": \"File "
		    "descriptor named 'fdset-id:8002' not found\"}}", QMP_ERROR,
		    "GenericError" },
		{ "{\"timestamp\": {\"seconds\": 1795279534, \"microseconds\": "
		    "682774}, \"event\": \"DEVICE_TRAY_MOVED\", \"data\": "
		    "{\"device\": \"ide-5632\", \"tray-open\": true, \"id\": "
		    "\"ide-5632\"}}", QMP_EVENT, "DEVICE_TRAY_MOVED" },
		{ "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
		    "\"event\": \"STOP\"}", QMP_EVENT, "an event without data" },
		{ "{\"return\": {}, \"id\": \"x\"}", QMP_RETURN,
		    "a return with an id" },
		{ "[]", -1, "an array" },
		{ "\"return\"", -1, "a string" },
		{ "{}", -1, "an empty object" },
		{ "{\"foo\": 1}", -1, "none of the kinds" },
		{ "{\"QMP\": 1}", -1, "a greeting that is not an object" },
		{ "{\"error\": \"x\"}", -1, "an error that is not an object" },
		{ "{\"event\": 5}", -1, "an event name that is not a string" },
		{ "{\"return\": 1, \"return\": 2}", -1, "duplicate keys" },
		{ "{\"return\": {}", -1, "truncated" },
		{ "", -1, "empty" },
	};
	struct qmp_msg	 m;
	size_t		 i;
	int		 rc;

	for (i = 0; i < nitems(cases); i++) {
		rc = qmp_parse(cases[i].line, strlen(cases[i].line), &m);
		if (cases[i].kind == -1)
			ok(rc == -EBADMSG && m.root == NULL,
			    "qmp_parse refuses %s", cases[i].what);
		else
			ok(rc == 0 && (int)m.kind == cases[i].kind,
			    "qmp_parse reads %s", cases[i].what);
		qmp_msg_free(&m);
	}
	rc = qmp_parse(cases[3].line, strlen(cases[3].line), &m);
	ok(rc == 0 && strcmp(m.err_class, "GenericError") == 0 &&
	    strstr(m.err_desc, "fdset-id:8002") != NULL,
	    "an error keeps QEMU's class and desc");
	qmp_msg_free(&m);
	rc = qmp_parse("{\"error\": {}}", 13, &m);
	ok(rc == 0 && strcmp(m.err_class, "GenericError") == 0 &&
	    strcmp(m.err_desc, "") == 0, "an error without class or desc "
	    "reads as GenericError with an empty desc");
	qmp_msg_free(&m);
	rc = qmp_parse(cases[4].line, strlen(cases[4].line), &m);
	ok(rc == 0 && strcmp(m.event, "DEVICE_TRAY_MOVED") == 0 &&
	    json_is_true(json_object_get(m.data, "tray-open")) &&
	    json_integer_value(json_object_get(m.timestamp, "seconds")) ==
	    1795279534, "an event keeps its data and timestamp");
	qmp_msg_free(&m);
}

static void
test_allowlist(void)
{
	static const struct {
		const char	*cmd;
		const char	*args;
		int		 file;
		int		 good;
		const char	*what;
	} cases[] = {
		{ "query-status", NULL, 0, 1, "query-status" },
		{ "eject", "{\"id\":\"ide-5632\"}", 0, 1, "eject by id" },
		{ "eject", "{\"id\":\"ide-5632\",\"force\":true}", 0, 1,
		    "a forced eject" },
		{ "add-fd", "{\"fdset-id\":8002,\"opaque\":\"hdc\"}", 1, 1,
		    "add-fd with a file" },
		{ "blockdev-change-medium", "{\"id\":\"ide-5632\",\"filename\":"
		    "\"/dev/fdset/8002\",\"format\":\"raw\"}", 0, 1,
		    "blockdev-change-medium by fdset" },
		{ "remove-fd", "{\"fdset-id\":8002}", 0, 1, "remove-fd" },
		{ "human-monitor-command", "{}", 0, 0, "human-monitor-command" },
		{ "quit", NULL, 0, 0, "quit" },
		{ "add-fd", "{\"fdset-id\":8002}", 0, 0, "add-fd without a file" },
		{ "query-status", NULL, 1, 0, "a file on a query" },
		{ "blockdev-change-medium", "{\"id\":\"ide-5632\",\"filename\":"
		    "\"/etc/shadow\"}", 0, 0, "a filename QEMU would open" },
		{ "blockdev-change-medium", "{\"id\":\"ide-5632\",\"filename\":"
		    "\"/dev/fdset/x\"}", 0, 0, "a bad fdset name" },
		{ "blockdev-change-medium", "{\"id\":\"ide-5632\",\"filename\":"
		    "\"/dev/fdset/8002\",\"format\":\"vvfat\"}", 0, 0,
		    "a format outside the list" },
		{ "eject", "{\"id\":\"ide 5632\"}", 0, 0, "a device id with a "
		    "space" },
		{ "eject", "{\"id\":\"ide-5632\",\"extra\":1}", 0, 0,
		    "an unknown argument" },
		{ "eject", "{\"force\":\"yes\"}", 0, 0, "force not a boolean" },
		{ "remove-fd", "{\"fdset-id\":70000}", 0, 0, "fdset-id too big" },
		{ "remove-fd", "{\"fdset-id\":-1}", 0, 0, "fdset-id negative" },
		{ "eject", "[]", 0, 0, "arguments not an object" },
	};
	json_t	*a;
	size_t	 i;

	for (i = 0; i < nitems(cases); i++) {
		a = cases[i].args != NULL ? json_loads(cases[i].args,
		    JSON_DECODE_ANY, NULL) : NULL;
		ok((qmp_check_command(cases[i].cmd, a, cases[i].file) ==
		    NULL) == cases[i].good, "QMP allowlist %s %s",
		    cases[i].good ? "allows" : "refuses", cases[i].what);
		json_decref(a);
	}
}

static void
test_fdpass(void)
{
	int	sv[2], fd, fds[2], p[2];
	char	buf[64];
	ssize_t	n;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    pipe2(p, O_CLOEXEC) == -1) {
		ok(0, "socketpair");
		return;
	}
	ok(fd_send(sv[0], p[0], "hello\n", 6) == 0, "fd_send");
	n = fd_recv(sv[1], buf, sizeof(buf), &fd);
	ok(n == 6 && memcmp(buf, "hello\n", 6) == 0 && fd != -1 &&
	    fd != p[0], "fd_recv gets the bytes and a new fd");
	ok(fd != -1 && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
	    "the received fd is close-on-exec");
	ok(write(p[1], "x", 1) == 1 && read(fd, buf, 1) == 1 && buf[0] == 'x',
	    "and it is the same pipe");
	close(fd);
	ok(fd_send(sv[0], p[0], "", 0) == -EINVAL, "fd_send refuses to send "
	    "an fd without a byte");
	ok(write(sv[0], "plain", 5) == 5 && fd_recv(sv[1], buf, sizeof(buf),
	    &fd) == 5 && fd == -1, "plain bytes: no fd");

	/* Two fds in one message: refused, and both closed. */
	{
		struct msghdr	 msg;
		struct iovec	 iov;
		struct cmsghdr	*cmsg;
		union {
			struct cmsghdr	hdr;
			char		buf[CMSG_SPACE(2 * sizeof(int))];
		} cb;

		fds[0] = p[0];
		fds[1] = p[1];
		memset(&msg, 0, sizeof(msg));
		memset(&cb, 0, sizeof(cb));
		iov.iov_base = (void *)"x";
		iov.iov_len = 1;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cb.buf;
		msg.msg_controllen = sizeof(cb.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(2 * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
		ok(sendmsg(sv[0], &msg, 0) == 1, "send two fds at once");
		ok(fd_recv(sv[1], buf, sizeof(buf), &fd) == -EBADMSG &&
		    fd == -1, "fd_recv refuses more than MAX_FDS fds");
	}
	close(sv[0]);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

static json_t		*out;

static void
capture(void *arg, const char *line, size_t len)
{
	json_array_append_new(out, json_loadb(line, len, 0, NULL));
}

static json_t *
run(struct session *s, const char *line)
{
	json_array_clear(out);
	dispatch_line(s, line, strlen(line));
	return json_array_get(out, 0);
}

static json_t *
result(json_t *r, const char *key)
{
	return json_object_get(json_object_get(r, "result"), key);
}

static void
test_op(void)
{
	struct config	 cfg;
	struct session	 s;
	char		 dir[] = "/tmp/xendeck-test-qmp.XXXXXX";
	char		 sock[256], media[256], lock[512], line[1024];
	json_t		*r, *rep, *ev;
	pid_t		 peer;
	int		 fd, lfd;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(sock, sizeof(sock), "%s/qmp-libxl-3", dir);
	snprintf(media, sizeof(media), "%s/cd.iso", dir);
	snprintf(lock, sizeof(lock), "%s/userdata-l.3.6a3b1c2d-0000-4000-"
	    "8000-000000000003.qmp-socket-lock", dir);
	fd = open(media, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ok(fd != -1 && write(fd, "iso", 3) == 3, "a media file");
	close(fd);
	peer = fake_qmp_start(sock);
	ok(peer > 0, "the fake QMP peer listens at %s", sock);

	memset(&cfg, 0, sizeof(cfg));
	cfg.qmp_dir = dir;
	cfg.lock_dir = dir;
	cfg.xl = "/nonexistent/xl";
	cfg.log_dir = dir;
	fake_xs_fixture();
	out = json_array();
	session_init(&s, &cfg, capture, NULL);
	run(&s, "{\"v\":1,\"id\":0,\"op\":\"hello\",\"args\":{\"version\":1}}");

	r = run(&s, "{\"v\":1,\"id\":1,\"op\":\"qmp\",\"args\":{\"domid\":3,"
	    "\"execute\":\"eject\",\"arguments\":{\"id\":\"ide-5632\"}}}");
	rep = json_array_get(result(r, "replies"), 0);
	ev = json_array_get(result(r, "events"), 0);
	ok(json_is_true(json_object_get(r, "ok")) &&
	    json_is_true(json_object_get(rep, "ok")) &&
	    strcmp(json_string_value(json_object_get(rep, "execute")) ?: "",
	    "eject") == 0, "qmp eject: one reply, ok");
	ok(strcmp(json_string_value(json_object_get(ev, "event")) ?: "",
	    "DEVICE_TRAY_MOVED") == 0 && json_is_true(json_object_get(
	    json_object_get(ev, "data"), "tray-open")),
	    "the event QEMU sent before the return is collected");
	ok(json_integer_value(json_object_get(json_object_get(result(r,
	    "qemu"), "qemu"), "major")) == 7, "the greeting's version is in "
	    "the result");

	snprintf(line, sizeof(line), "{\"v\":1,\"id\":2,\"op\":\"qmp\","
	    "\"args\":{\"domid\":3,\"commands\":[{\"execute\":\"add-fd\","
	    "\"arguments\":{\"fdset-id\":8002},\"file\":\"%s\"},"
	    "{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"id\":"
	    "\"ide-5632\",\"filename\":\"/dev/fdset/8002\",\"format\":"
	    "\"raw\"}},{\"execute\":\"remove-fd\",\"arguments\":"
	    "{\"fdset-id\":8002}},{\"execute\":\"query-status\"}]}}", media);
	r = run(&s, line);
	rep = result(r, "replies");
	ok(json_integer_value(json_object_get(json_object_get(
	    json_array_get(rep, 0), "return"), "fdset-id")) == 8002,
	    "add-fd: the helper opened the file read-only and passed it");
	ok(json_is_true(json_object_get(json_array_get(rep, 1), "ok")) &&
	    json_array_size(result(r, "events")) == 1,
	    "blockdev-change-medium, with its tray event");
	ok(json_is_true(json_object_get(r, "ok")) && json_array_size(rep) == 3 &&
	    json_is_false(json_object_get(json_array_get(rep, 2), "ok")) &&
	    strcmp(json_string_value(json_object_get(json_object_get(
	    json_array_get(rep, 2), "error"), "class")) ?: "",
	    "GenericError") == 0, "remove-fd's GenericError is a result, and "
	    "the sequence stops there (query-status not sent)");

	r = run(&s, "{\"v\":1,\"id\":3,\"op\":\"qmp\",\"args\":{\"domid\":3,"
	    "\"execute\":\"query-version\",\"timeout_ms\":200}}");
	ok(strcmp(json_string_value(json_object_get(json_object_get(r,
	    "error"), "code")) ?: "", "ETIMEDOUT") == 0,
	    "a QEMU that does not answer: ETIMEDOUT");

	lfd = open(lock, O_RDWR | O_CLOEXEC);
	ok(lfd != -1 && flock(lfd, LOCK_EX | LOCK_NB) == 0,
	    "the helper released libxl's lock after each session");
	r = run(&s, "{\"v\":1,\"id\":4,\"op\":\"qmp\",\"args\":{\"domid\":3,"
	    "\"execute\":\"query-status\",\"timeout_ms\":100}}");
	ok(strcmp(json_string_value(json_object_get(json_object_get(r,
	    "error"), "code")) ?: "", "EBUSY") == 0,
	    "while another holder has the lock: EBUSY, QMP untouched");
	close(lfd);

	r = run(&s, "{\"v\":1,\"id\":5,\"op\":\"qmp\",\"args\":{\"domid\":4,"
	    "\"execute\":\"query-status\"}}");
	ok(strcmp(json_string_value(json_object_get(json_object_get(r,
	    "error"), "code")) ?: "", "ENOENT") == 0,
	    "a domain without /local/domain/N/vm: ENOENT");
	snprintf(line, sizeof(line), "{\"v\":1,\"id\":6,\"op\":\"qmp\","
	    "\"args\":{\"domid\":3,\"execute\":\"add-fd\",\"arguments\":"
	    "{\"fdset-id\":8002},\"file\":\"%s/missing.iso\"}}", dir);
	r = run(&s, line);
	ok(strcmp(json_string_value(json_object_get(json_object_get(r,
	    "error"), "code")) ?: "", "ENOENT") == 0,
	    "a missing media file: ENOENT");
	snprintf(line, sizeof(line), "{\"v\":1,\"id\":7,\"op\":\"qmp\","
	    "\"args\":{\"domid\":3,\"execute\":\"add-fd\",\"arguments\":"
	    "{\"fdset-id\":8002},\"file\":\"%s\"}}", dir);
	r = run(&s, line);
	ok(strcmp(json_string_value(json_object_get(json_object_get(r,
	    "error"), "code")) ?: "", "EINVAL") == 0,
	    "a directory as media: EINVAL");

	session_free(&s);
	json_decref(out);
	fake_qmp_stop(peer);
	unlink(sock);
	unlink(media);
	unlink(lock);
	rmdir(dir);
}

int
main(void)
{
	test_parse();
	test_allowlist();
	test_fdpass();
	test_op();
	return tap_done();
}
