/*
 * it-xenstore.c: integration test of xendeck-helper against a real
 * xenstore server: Debian's C xenstored (shared/fixtures/real-xenstored)
 * or the simulator's wire server.  The test drives the helper over its
 * pipes, and plays libxl and the hypervisor with libxenstore directly
 * on the same server (writes behind the helper's back, INTRODUCE,
 * RELEASE) and, for the real daemon, through the fixture's ctl FIFO.
 *
 * usage: it-xenstore HELPER SOCKET [CTL]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <xenstore.h>

#include "helper-client.h"
#include "tap.h"

#define T	3000	/* ms to wait for anything */

static struct hc	 hc;
static struct xs_handle	*xsh;

static json_t *
call(const char *op, const char *fmt, ...)
{
	va_list	 ap;
	json_t	*args;

	va_start(ap, fmt);
	args = json_vpack_ex(NULL, 0, fmt, ap);
	va_end(ap);
	return hc_call(&hc, op, args, T);
}

static int
is_ok(json_t *r)
{
	return r != NULL && json_is_true(json_object_get(r, "ok"));
}

static const char *
result_str(json_t *r, const char *key)
{
	return json_string_value(json_object_get(json_object_get(r,
	    "result"), key));
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
ctl(const char *path, const char *line)
{
	int	fd;

	if (path == NULL)
		return;
	if ((fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return;
	if (write(fd, line, strlen(line)) == -1)
		perror("ctl");
	close(fd);
}

/*
 * A short session of its own: send each line, expect each error code,
 * then the helper must exit non-zero by itself (a state error), without
 * waiting for EOF.
 */
static void
test_state_error(char **hargv, const char *const *lines, const char *code,
    const char *what)
{
	struct hc	 one;
	json_t		*r = NULL;
	int		 status;
	size_t		 i;

	if (hc_start(&one, hargv) == -1) {
		ok(0, "start helper for: %s", what);
		return;
	}
	for (i = 0; lines[i] != NULL; i++) {
		hc_send_raw(&one, lines[i], strlen(lines[i]));
		json_decref(r);
		r = hc_recv(&one, T);
	}
	ok(code_is(r, code), "%s gets %s", what, code);
	/* Stdin stays open: the helper must leave on its own. */
	r = hc_recv(&one, T);
	ok(r == NULL, "then the helper closes its stdout");
	json_decref(r);
	status = hc_stop(&one);
	ok(status != 0, "and exits non-zero (status %d)", status);
}

/*
 * Elevated (pkexec sets PKEXEC_UID): path overrides are refused outright,
 * and without them hello reports elevated true.
 */
static void
test_elevated(char **hargv)
{
	struct hc	 one;
	char		*plain[2];
	json_t		*r;
	int		 status;

	setenv("PKEXEC_UID", "65534", 1);
	if (hc_start(&one, hargv) == -1) {
		ok(0, "start an elevated helper");
		unsetenv("PKEXEC_UID");
		return;
	}
	r = hc_recv(&one, T);
	ok(r == NULL, "elevated with --xenstore-socket: no protocol at all");
	json_decref(r);
	status = hc_stop(&one);
	ok(status == 2, "elevated: a path override is refused, exit 2 "
	    "(status %d)", status);

	plain[0] = hargv[0];
	plain[1] = NULL;
	if (hc_start(&one, plain) == -1) {
		ok(0, "start an elevated helper without overrides");
		unsetenv("PKEXEC_UID");
		return;
	}
	r = hc_call(&one, "hello", json_pack("{s:i}", "version", 1), T);
	ok(is_ok(r) && json_is_true(json_object_get(json_object_get(r,
	    "result"), "elevated")), "elevated without overrides: hello says "
	    "elevated true");
	json_decref(r);
	status = hc_stop(&one);
	ok(status == 0, "and it exits 0 on EOF (status %d)", status);
	unsetenv("PKEXEC_UID");
}

static void
test_core(char **hargv)
{
	static const char *const before[] = {
		"{\"v\":1,\"id\":1,\"op\":\"xs.read\",\"args\":"
		    "{\"path\":\"/local/domain/0/name\"}}", NULL };
	static const char *const version[] = {
		"{\"v\":1,\"id\":1,\"op\":\"hello\",\"args\":"
		    "{\"version\":2}}", NULL };
	static const char *const twice[] = {
		"{\"v\":1,\"id\":1,\"op\":\"hello\",\"args\":"
		    "{\"version\":1}}",
		"{\"v\":1,\"id\":2,\"op\":\"hello\",\"args\":"
		    "{\"version\":1}}", NULL };
	json_t	*r;

	test_state_error(hargv, before, "EPROTO", "an op before hello");
	test_state_error(hargv, version, "EPROTONOSUPPORT",
	    "hello with the wrong version");
	test_state_error(hargv, twice, "EPROTO", "a second hello");
	test_elevated(hargv);
	r = call("hello", "{s:i}", "version", 1);
	ok(is_ok(r) && json_is_false(json_object_get(json_object_get(r,
	    "result"), "elevated")), "hello with version 1 is accepted, "
	    "unelevated");
	json_decref(r);
}

static void
test_ops(void)
{
	json_t	*r, *e;

	xs_rm(xsh, XBT_NULL, "/xendeck");
	r = call("xs.write", "{s:s, s:s}", "path", "/xendeck/it/a",
	    "value", "hello");
	ok(is_ok(r), "xs.write creates /xendeck/it/a");
	json_decref(r);
	r = call("xs.read", "{s:s}", "path", "/xendeck/it/a");
	ok(is_ok(r) && strcmp(result_str(r, "value") ?: "", "hello") == 0,
	    "xs.read returns the value written");
	json_decref(r);
	r = call("xs.read", "{s:s}", "path", "/local/domain/0/name");
	ok(is_ok(r) && strcmp(result_str(r, "value") ?: "", "Domain-0") == 0,
	    "xs.read /local/domain/0/name is Domain-0");
	json_decref(r);
	r = call("xs.mkdir", "{s:s}", "path", "/xendeck/it/dir");
	ok(is_ok(r), "xs.mkdir");
	json_decref(r);
	r = call("xs.directory", "{s:s}", "path", "/xendeck/it");
	e = json_object_get(json_object_get(r, "result"), "entries");
	ok(is_ok(r) && json_array_size(e) == 2 &&
	    strcmp(json_string_value(json_array_get(e, 0)), "a") == 0 &&
	    strcmp(json_string_value(json_array_get(e, 1)), "dir") == 0,
	    "xs.directory lists a and dir");
	json_decref(r);
	r = call("xs.set_perms", "{s:s, s:[s,s]}", "path", "/xendeck/it/a",
	    "perms", "n0", "r0");
	ok(is_ok(r), "xs.set_perms n0 r0");
	json_decref(r);
	r = call("xs.get_perms", "{s:s}", "path", "/xendeck/it/a");
	e = json_object_get(json_object_get(r, "result"), "perms");
	ok(is_ok(r) && json_array_size(e) == 2 &&
	    strcmp(json_string_value(json_array_get(e, 0)), "n0") == 0 &&
	    strcmp(json_string_value(json_array_get(e, 1)), "r0") == 0,
	    "xs.get_perms reads back n0 r0");
	json_decref(r);
	r = call("xs.set_perms", "{s:s, s:[s]}", "path", "/xendeck/it/a",
	    "perms", "n42");
	ok(code_is(r, "ENOENT"), "xs.set_perms with a missing owner domain "
	    "is xenstored's ENOENT");
	r = call("xs.rm", "{s:s}", "path", "/xendeck/it/dir");
	ok(is_ok(r), "xs.rm");
	json_decref(r);
	r = call("xs.read", "{s:s}", "path", "/xendeck/it/dir");
	ok(code_is(r, "ENOENT"), "read after rm is ENOENT");
	r = call("xs.rm", "{s:s}", "path", "/xendeck/nope/deeper");
	ok(code_is(r, "ENOENT"), "rm under a missing parent is ENOENT");
	r = call("xs.write", "{s:s, s:s}", "path", "/local/domain/0/name",
	    "value", "evil");
	ok(code_is(r, "EPERM"), "write outside the allowlist is EPERM");
	r = call("xs.read", "{s:s}", "path", "/local/domain/0/name");
	ok(is_ok(r) && strcmp(result_str(r, "value") ?: "", "Domain-0") == 0,
	    "and the node is untouched");
	json_decref(r);
}

static void
test_watch(void)
{
	json_t	*r, *ev, *d;

	r = call("xs.watch", "{s:s, s:s}", "path", "/xendeck/w", "token",
	    "w1");
	ok(is_ok(r), "xs.watch /xendeck/w");
	json_decref(r);
	ev = hc_wait_event(&hc, "xs.watch", "token", "w1", T);
	d = json_object_get(ev, "data");
	ok(ev != NULL && strcmp(json_string_value(json_object_get(d, "path")),
	    "/xendeck/w") == 0 && json_is_null(json_object_get(d, "value")),
	    "the initial fire arrives with value null (node absent)");
	json_decref(ev);

	xs_write(xsh, XBT_NULL, "/xendeck/w/x", "1", 1);
	ev = hc_wait_event(&hc, "xs.watch", "path", "/xendeck/w/x", T);
	d = json_object_get(ev, "data");
	ok(ev != NULL && strcmp(json_string_value(json_object_get(d,
	    "value")) ?: "", "1") == 0,
	    "a write by another client arrives with its value");
	json_decref(ev);

	xs_rm(xsh, XBT_NULL, "/xendeck/w/x");
	ev = hc_wait_event(&hc, "xs.watch", "path", "/xendeck/w/x", T);
	d = json_object_get(ev, "data");
	ok(ev != NULL && json_is_null(json_object_get(d, "value")),
	    "removal arrives with value null");
	json_decref(ev);

	r = call("xs.watch", "{s:s, s:s}", "path", "/xendeck/w", "token",
	    "w1");
	ok(code_is(r, "EEXIST"), "the same path and token twice is EEXIST");
	r = call("xs.unwatch", "{s:s, s:s}", "path", "/xendeck/w", "token",
	    "w1");
	ok(is_ok(r), "xs.unwatch");
	json_decref(r);
	json_array_clear(hc.events);
	xs_write(xsh, XBT_NULL, "/xendeck/w/y", "2", 1);
	r = call("ping", "{}");
	json_decref(r);
	ev = hc_wait_event(&hc, "xs.watch", "token", "w1", 300);
	ok(ev == NULL, "no events after unwatch");
	json_decref(ev);
	r = call("xs.unwatch", "{s:s, s:s}", "path", "/xendeck/w", "token",
	    "w1");
	ok(code_is(r, "ENOENT"), "unwatch of an unknown watch is ENOENT");
}

static void
test_scan(void)
{
	json_t	*r, *ev, *d;
	int	 order_ok = 1, n = 0, saw_fire_before = 0;
	const char *want[] = { "/xendeck/s", "/xendeck/s/a", "/xendeck/s/b",
	    "/xendeck/s/b/c" };

	xs_write(xsh, XBT_NULL, "/xendeck/s/a", "A", 1);
	xs_write(xsh, XBT_NULL, "/xendeck/s/b/c", "C", 1);
	json_array_clear(hc.events);
	r = call("xs.watch", "{s:s, s:s, s:b}", "path", "/xendeck/s",
	    "token", "s1", "scan", 1);
	ok(is_ok(r), "xs.watch with scan");
	json_decref(r);
	for (;;) {
		ev = hc_wait_event(&hc, "xs.watch", "token", "s1", T);
		if (ev == NULL)
			break;
		d = json_object_get(ev, "data");
		if (!json_is_true(json_object_get(d, "scan"))) {
			saw_fire_before = 1;
			json_decref(ev);
			continue;
		}
		if (n >= 4 || strcmp(json_string_value(json_object_get(d,
		    "path")), want[n]) != 0)
			order_ok = 0;
		n++;
		json_decref(ev);
		if (n == 4)
			break;
	}
	ok(n == 4 && order_ok, "the scan reports the tree depth first (%d "
	    "nodes)", n);
	ok(!saw_fire_before, "no watch event overtakes the scan");
	ev = hc_wait_event(&hc, "xs.scan", "token", "s1", T);
	d = json_object_get(ev, "data");
	ok(ev != NULL && json_integer_value(json_object_get(d, "nodes")) == 4,
	    "xs.scan closes the scan with nodes 4");
	json_decref(ev);
	ev = hc_wait_event(&hc, "xs.watch", "token", "s1", T);
	ok(ev != NULL && !json_is_true(json_object_get(json_object_get(ev,
	    "data"), "scan")), "then the initial watch fire follows");
	json_decref(ev);
}

static void
test_transaction(void)
{
	json_t		*r;
	json_int_t	 tx;

	xs_write(xsh, XBT_NULL, "/xendeck/c", "0", 1);
	r = call("xs.tx.start", "{}");
	ok(is_ok(r), "xs.tx.start");
	tx = json_integer_value(json_object_get(json_object_get(r, "result"),
	    "tx"));
	json_decref(r);
	r = call("xs.read", "{s:s, s:I}", "path", "/xendeck/c", "tx", tx);
	ok(is_ok(r), "read inside the transaction");
	json_decref(r);
	/* Another client changes what the transaction read. */
	xs_write(xsh, XBT_NULL, "/xendeck/c", "1", 1);
	r = call("xs.write", "{s:s, s:s, s:I}", "path", "/xendeck/c2",
	    "value", "x", "tx", tx);
	ok(is_ok(r), "write inside the transaction");
	json_decref(r);
	r = call("xs.tx.end", "{s:I, s:b}", "tx", tx, "commit", 1);
	ok(code_is(r, "EAGAIN"), "a conflicting commit is surfaced as EAGAIN");
	r = call("xs.read", "{s:s}", "path", "/xendeck/c2");
	ok(code_is(r, "ENOENT"), "and nothing of it was applied");
	r = call("xs.tx.end", "{s:I, s:b}", "tx", tx, "commit", 1);
	ok(code_is(r, "ENOENT"), "the ended transaction is gone");

	r = call("xs.tx.start", "{}");
	tx = json_integer_value(json_object_get(json_object_get(r, "result"),
	    "tx"));
	json_decref(r);
	r = call("xs.write", "{s:s, s:s, s:I}", "path", "/xendeck/c3",
	    "value", "y", "tx", tx);
	json_decref(r);
	r = call("xs.tx.end", "{s:I, s:b}", "tx", tx, "commit", 1);
	ok(is_ok(r), "a clean commit succeeds");
	json_decref(r);
	r = call("xs.read", "{s:s}", "path", "/xendeck/c3");
	ok(is_ok(r) && strcmp(result_str(r, "value") ?: "", "y") == 0,
	    "and its write is visible");
	json_decref(r);
}

static void
test_domains(const char *ctlpath)
{
	json_t	*r, *ev, *ids;
	size_t	 i;
	int	 has0 = 0;

	r = call("xs.watch_domains", "{}");
	ids = json_object_get(json_object_get(r, "result"), "domids");
	for (i = 0; i < json_array_size(ids); i++)
		if (json_integer_value(json_array_get(ids, i)) == 0)
			has0 = 1;
	ok(is_ok(r) && has0, "xs.watch_domains reports dom0 introduced");
	json_decref(r);

	ctl(ctlpath, "create 7\n");
	xs_write(xsh, XBT_NULL, "/local/domain/7/name", "vm7", 3);
	ok(xs_introduce_domain(xsh, 7, 0x1234, 4), "INTRODUCE 7 (as libxl)");
	ev = hc_wait_event(&hc, "xs.introduce", "domid", "7", T);
	ok(ev != NULL, "@introduceDomain becomes xs.introduce {domid: 7}");
	json_decref(ev);

	ok(xs_release_domain(xsh, 7), "RELEASE 7");
	ev = hc_wait_event(&hc, "xs.release", "domid", "7", T);
	ok(ev != NULL, "@releaseDomain becomes xs.release {domid: 7}");
	json_decref(ev);

	if (ctlpath != NULL) {
		ctl(ctlpath, "create 8\n");
		xs_write(xsh, XBT_NULL, "/local/domain/8/name", "vm8", 3);
		xs_introduce_domain(xsh, 8, 0x1234, 4);
		ev = hc_wait_event(&hc, "xs.introduce", "domid", "8", T);
		ok(ev != NULL, "a second domain is introduced");
		json_decref(ev);
		ctl(ctlpath, "destroy 8\n");
		ev = hc_wait_event(&hc, "xs.release", "domid", "8", T);
		ok(ev != NULL, "the hypervisor killing it gives xs.release "
		    "{domid: 8}");
		json_decref(ev);
	}
	r = call("xs.unwatch_domains", "{}");
	ok(is_ok(r), "xs.unwatch_domains");
	json_decref(r);
	r = call("xs.unwatch_domains", "{}");
	ok(code_is(r, "ENOENT"), "xs.unwatch_domains again is ENOENT");
	xs_rm(xsh, XBT_NULL, "/local/domain/7");
	xs_rm(xsh, XBT_NULL, "/local/domain/8");
}

static void
test_bad_requests(void)
{
	static const struct {
		const char	*line;
		const char	*code;
		const char	*what;
	} bad[] = {
		{ "{\"v\":1,\"id\":90,\"op\":\"xs.nope\",\"args\":{}}",
		    "ENOSYS", "unknown op" },
		{ "{\"v\":1,\"id\":91,\"op\":\"xs.read\",\"args\":"
		    "{\"path\":\"/etc/passwd\"}}", "EPERM",
		    "path outside the allowlist" },
		{ "{\"v\":1,\"id\":92,\"op\":\"xs.read\",\"args\":"
		    "{\"path\":\"/local/../vm\"}}", "EINVAL", "'..' in a path" },
		{ "{\"v\":1,\"id\":97,\"op\":\"xs.read\",\"args\":"
		    "{\"path\":\"/local//domain\"}}", "EINVAL", "'//' in a path" },
		{ "{\"v\":1,\"id\":98,\"op\":\"xs.read\",\"args\":"
		    "{\"path\":\"/local/domain/\"}}", "EINVAL",
		    "a trailing '/'" },
		{ "{\"v\":1,\"id\":99,\"op\":\"xl\",\"args\":"
		    "{\"argv\":[\"destroy\",\"vm1;reboot\"]}}", "EPERM",
		    "shell metacharacters in a domain name" },
		{ "{\"v\":1,\"id\":93,\"op\":\"xs.read\",\"args\":"
		    "{\"path\":\"/local/\xc3\x28\"}}", "EILSEQ",
		    "invalid UTF-8" },
		{ "{\"v\":1,\"id\":94,\"op\":\"xs.read\",\"args\":"
		    "{\"path\":\"/local\",\"path\":\"/x\"}}", "EBADMSG",
		    "duplicate keys" },
		{ "{\"v\":1,\"id\":95,\"op\":\"xs.read\",\"args\":"
		    "{\"path\":\"/local\",\"evil\":1}}", "EINVAL",
		    "unknown argument key" },
		{ "{\"v\":2,\"id\":96,\"op\":\"xs.read\",\"args\":"
		    "{\"path\":\"/local\"}}", "EPROTONOSUPPORT",
		    "wrong version on a request" },
		{ "not json", "EBADMSG", "not JSON at all" },
	};
	json_t	*r;
	char	*big;
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hc_send_raw(&hc, bad[i].line, strlen(bad[i].line));
		r = hc_recv(&hc, T);
		while (r != NULL && json_object_get(r, "event") != NULL) {
			json_decref(r);
			r = hc_recv(&hc, T);
		}
		ok(code_is(r, bad[i].code), "%s gets %s", bad[i].what,
		    bad[i].code);
	}
	big = malloc(200000);
	memset(big, 'x', 200000);
	hc_send_raw(&hc, big, 200000);
	free(big);
	r = hc_recv(&hc, T);
	ok(code_is(r, "E2BIG"), "an over-long line gets E2BIG");
	r = call("xs.read", "{s:s}", "path", "/local/domain/0/name");
	ok(is_ok(r), "and the helper carries on");
	json_decref(r);
}

static void
test_batch(void)
{
	const char	*line = "[{\"v\":1,\"id\":200,\"op\":\"xs.read\","
	    "\"args\":{\"path\":\"/local/domain/0/name\"}},"
	    "{\"v\":1,\"id\":201,\"op\":\"xs.read\",\"args\":"
	    "{\"path\":\"/local/nope\"}},{\"v\":1,\"id\":202,"
	    "\"op\":\"ping\",\"args\":{}}]";
	json_t		*r;

	hc_send_raw(&hc, line, strlen(line));
	do {
		r = hc_recv(&hc, T);
	} while (r != NULL && json_object_get(r, "event") != NULL &&
	    (json_decref(r), 1));
	ok(json_is_array(r) && json_array_size(r) == 3 &&
	    json_is_true(json_object_get(json_array_get(r, 0), "ok")) &&
	    strcmp(hc_code(json_array_get(r, 1)), "ENOENT") == 0 &&
	    json_integer_value(json_object_get(json_array_get(r, 2), "id")) ==
	    202, "a batch of three is answered in one line, in order");
	json_decref(r);
}

int
main(int argc, char **argv)
{
	char	*hargv[5];
	int	 status;

	if (argc < 3) {
		fprintf(stderr, "usage: it-xenstore HELPER SOCKET [CTL]\n");
		return 2;
	}
	setenv("XENSTORED_PATH", argv[2], 1);
	if ((xsh = xs_open(XS_OPEN_SOCKETONLY)) == NULL) {
		perror("xs_open");
		return 1;
	}
	hargv[0] = argv[1];
	hargv[1] = "--xenstore-socket";
	hargv[2] = argv[2];
	hargv[3] = NULL;
	if (hc_start(&hc, hargv) == -1) {
		perror("start helper");
		return 1;
	}
	test_core(hargv);
	test_ops();
	test_watch();
	test_scan();
	test_transaction();
	test_domains(argc > 3 ? argv[3] : NULL);
	test_bad_requests();
	test_batch();
	status = hc_stop(&hc);
	ok(status == 0, "the helper exits 0 on EOF (status %d)", status);
	xs_rm(xsh, XBT_NULL, "/xendeck");
	xs_close(xsh);
	return tap_done();
}
