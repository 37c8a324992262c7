/*
 * test-dispatch.c: the op table as the security policy, and the session
 * rules, through dispatch_line() with the fake libxenstore.  Every bad
 * request gets one clear error reply (code, message, the id when it
 * could be read) and the session carries on; before hello, any error
 * closes the session.  Watches, scans, special watches and transaction
 * conflicts are checked against the fake store.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "fake-xenstore.h"
#include "json-line.h"
#include "ops.h"
#include "proto.h"
#include "tap.h"
#include "util.h"

static json_t		*out;	/* every line the helper wrote, parsed */
static struct config	 cfg;
static struct session	 s;

static void
capture(void *arg, const char *line, size_t len)
{
	json_t	*j;

	j = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (j == NULL || memchr(line, '\n', len) != NULL)
		j = json_string("(not one JSON line)");
	json_array_append_new(out, j);
}

static void
fresh(int hello)
{
	if (s.cfg != NULL)
		session_free(&s);
	memset(&cfg, 0, sizeof(cfg));
	cfg.qmp_dir = "/nonexistent/qmp";
	cfg.xl = "/nonexistent/xl";
	cfg.log_dir = "/nonexistent/log";
	cfg.lock_dir = "/nonexistent/lock";
	cfg.xl_config_dir = "/etc/xen";
	fake_xs_fixture();
	session_init(&s, &cfg, capture, NULL);
	json_array_clear(out);
	if (hello) {
		const char *h = "{\"v\":1,\"id\":0,\"op\":\"hello\","
		    "\"args\":{\"version\":1}}";

		dispatch_line(&s, h, strlen(h));
		json_array_clear(out);
	}
}

/* Send one line, pump watches, return the first line written. */
static json_t *
send(const char *line)
{
	json_array_clear(out);
	dispatch_line(&s, line, strlen(line));
	xsops_pump(&s);
	return json_array_get(out, 0);
}

static const char *
code(json_t *r)
{
	return json_string_value(json_object_get(json_object_get(r, "error"),
	    "code")) ?: "";
}

static int
is_error(json_t *r, const char *c, json_int_t id)
{
	json_t	*e = json_object_get(r, "error");

	if (!json_is_false(json_object_get(r, "ok")) ||
	    strcmp(code(r), c) != 0 ||
	    !json_is_string(json_object_get(e, "message")) ||
	    json_string_length(json_object_get(e, "message")) == 0) {
		char *d = json_dumps(r, JSON_COMPACT | JSON_ENCODE_ANY);

		printf("# want %s, got %s\n", c, d ?: "(nothing)");
		free(d);
		return 0;
	}
	if (id < 0)
		return json_is_null(json_object_get(r, "id"));
	return json_integer_value(json_object_get(r, "id")) == id;
}

static int
is_ok(json_t *r, json_int_t id)
{
	return json_is_true(json_object_get(r, "ok")) &&
	    json_integer_value(json_object_get(r, "id")) == id &&
	    json_is_object(json_object_get(r, "result"));
}

/* The session is alive: a ping is answered. */
static int
carries_on(void)
{
	return s.closing == NULL && is_ok(send("{\"v\":1,\"id\":999,"
	    "\"op\":\"ping\",\"args\":{}}"), 999);
}

static void
test_table(void)
{
	const struct op	*ops;
	size_t		 n, i;
	int		 hello_once = 0, rest_need_hello = 1, fd_only_qmp = 1;

	ops = dispatch_ops(&n);
	for (i = 0; i < n; i++) {
		if (strcmp(ops[i].name, "hello") == 0)
			hello_once = ops[i].flags == OPF_ONCE;
		else if (!(ops[i].flags & OPF_NEED_HELLO))
			rest_need_hello = 0;
		if ((ops[i].flags & OPF_TAKES_FD) &&
		    strcmp(ops[i].name, "qmp") != 0)
			fd_only_qmp = 0;
	}
	ok(hello_once, "table: hello is OPF_ONCE and needs no hello");
	ok(rest_need_hello, "table: every other op needs hello");
	ok(fd_only_qmp, "table: only qmp may open and pass a file");
}

static void
test_hello(void)
{
	json_t	*r, *ops;
	size_t	 n;

	fresh(0);
	r = send("{\"v\":1,\"id\":1,\"op\":\"xs.read\",\"args\":"
	    "{\"path\":\"/local/domain/0/name\"}}");
	ok(is_error(r, "EPROTO", 1) && strstr(json_string_value(
	    json_object_get(json_object_get(r, "error"), "message")),
	    "state error") != NULL, "op before hello: EPROTO, a state error");
	ok(s.closing != NULL, "op before hello: the session closes (exit)");

	fresh(0);
	r = send("{\"v\":1,\"id\":1,\"op\":\"hello\",\"args\":{\"version\":2}}");
	ok(is_error(r, "EPROTONOSUPPORT", 1), "hello with the wrong version: "
	    "EPROTONOSUPPORT");
	ok(s.closing != NULL, "wrong version: the session closes (exit)");

	fresh(0);
	r = send("{\"v\":2,\"id\":1,\"op\":\"hello\",\"args\":{\"version\":2}}");
	ok(is_error(r, "EPROTONOSUPPORT", 1) && s.closing != NULL,
	    "a v:2 request before hello: EPROTONOSUPPORT, then closing");

	fresh(0);
	r = send("{\"v\":1,\"id\":1,\"op\":\"nope\",\"args\":{}}");
	ok(is_error(r, "ENOSYS", 1) && s.closing != NULL,
	    "an unknown op before hello: ENOSYS, then closing");

	fresh(0);
	r = send("garbage");
	ok(is_error(r, "EBADMSG", -1) && s.closing != NULL,
	    "garbage before hello: EBADMSG with id null, then closing");

	fresh(0);
	dispatch_toolong(&s);
	ok(s.closing != NULL, "an over-long first line closes the session");

	fresh(0);
	r = send("{\"v\":1,\"id\":1,\"op\":\"hello\",\"args\":"
	    "{\"version\":1,\"extra\":1}}");
	ok(is_error(r, "EINVAL", 1) && s.closing != NULL,
	    "hello with an unknown argument: EINVAL, then closing");

	fresh(0);
	r = send("[{\"v\":1,\"id\":1,\"op\":\"ping\",\"args\":{}},"
	    "{\"v\":1,\"id\":2,\"op\":\"hello\",\"args\":{\"version\":1}}]");
	ok(json_is_array(r) && is_error(json_array_get(r, 0), "EPROTO", 1) &&
	    is_error(json_array_get(r, 1), "ECANCELED", 2) && !s.hello &&
	    s.closing != NULL, "a batch that starts before hello: the rest "
	    "is cancelled unrun");

	fresh(0);
	r = send("  ");
	ok(r == NULL && s.closing == NULL, "a blank line is a keep-alive, "
	    "even before hello");
	r = send("{\"v\":1,\"id\":5,\"op\":\"hello\",\"args\":{\"version\":1}}");
	ops = json_object_get(json_object_get(r, "result"), "ops");
	dispatch_ops(&n);
	ok(is_ok(r, 5) && json_integer_value(json_object_get(json_object_get(
	    r, "result"), "version")) == PROTOCOL_VERSION &&
	    json_array_size(ops) == n && json_is_false(json_object_get(
	    json_object_get(r, "result"), "elevated")) &&
	    json_integer_value(json_object_get(json_object_get(json_object_get(
	    r, "result"), "limits"), "max_line")) == MAX_LINE,
	    "hello: version, the op list from the table, elevated, limits");
	ok(s.hello && s.closing == NULL, "the session is established");
	r = send("{\"v\":1,\"id\":6,\"op\":\"hello\",\"args\":{\"version\":1}}");
	ok(is_error(r, "EPROTO", 6) && s.closing != NULL,
	    "a second hello is a state error (OPF_ONCE)");
}

static void
test_bad_requests(void)
{
	static const struct {
		const char	*line;
		const char	*code;
		json_int_t	 id;
		const char	*what;
	} bad[] = {
		{ "{\"v\":1,\"id\":10,\"op\":\"xs.nope\",\"args\":{}}",
		    "ENOSYS", 10, "unknown op" },
		{ "{\"v\":2,\"id\":11,\"op\":\"ping\",\"args\":{}}",
		    "EPROTONOSUPPORT", 11, "wrong version on a request" },
		{ "{\"id\":12,\"op\":\"ping\",\"args\":{}}", "EINVAL", 12,
		    "missing v" },
		{ "{\"v\":1,\"op\":\"ping\",\"args\":{}}", "EINVAL", -1,
		    "missing id" },
		{ "{\"v\":1,\"id\":-1,\"op\":\"ping\",\"args\":{}}", "EINVAL",
		    -1, "negative id" },
		{ "{\"v\":1,\"id\":9007199254740992,\"op\":\"ping\"}", "EINVAL",
		    -1, "id above 2^53-1" },
		{ "{\"v\":1,\"id\":\"7\",\"op\":\"ping\"}", "EINVAL", -1,
		    "a string id" },
		{ "{\"v\":1,\"id\":13,\"op\":7}", "EINVAL", 13, "op not a string" },
		{ "{\"v\":1,\"id\":14,\"op\":\"ping\",\"args\":[]}", "EINVAL", 14,
		    "args not an object" },
		{ "{\"v\":1,\"id\":15,\"op\":\"ping\",\"args\":{},\"x\":1}",
		    "EINVAL", 15, "unknown top-level key" },
		{ "{\"v\":1,\"id\":16,\"op\":\"ping\",\"op\":\"xl\"}", "EBADMSG",
		    -1, "duplicate top-level keys" },
		{ "{\"v\":1,\"id\":17,\"op\":\"xs.read\",\"args\":"
		    "{\"path\":\"/local\",\"path\":\"/etc\"}}", "EBADMSG", -1,
		    "duplicate argument keys" },
		{ "{\"v\":1,\"id\":18,\"op\":\"xs.read\",\"args\":"
		    "{\"path\":\"/local\",\"evil\":1}}", "EINVAL", 18,
		    "unknown argument key" },
		{ "{\"v\":1,\"id\":19,\"op\":\"xs.read\",\"args\":"
		    "{\"path\":\"/local/\xc3\x28\"}}", "EILSEQ", -1,
		    "invalid UTF-8" },
		{ "{\"v\":1,\"id\":20,\"op\":\"xs.read\",\"args\":"
		    "{\"path\":\"/etc/passwd\"}}", "EPERM", 20,
		    "read outside the allowlist" },
		{ "{\"v\":1,\"id\":21,\"op\":\"xs.write\",\"args\":"
		    "{\"path\":\"/local/domain/0/name\",\"value\":\"x\"}}",
		    "EPERM", 21, "write outside the allowlist" },
		{ "{\"v\":1,\"id\":22,\"op\":\"xs.read\",\"args\":"
		    "{\"path\":\"/local/../etc\"}}", "EINVAL", 22, "'..'" },
		{ "{\"v\":1,\"id\":23,\"op\":\"xs.read\",\"args\":"
		    "{\"path\":\"/local//domain\"}}", "EINVAL", 23, "'//'" },
		{ "{\"v\":1,\"id\":24,\"op\":\"xs.read\",\"args\":"
		    "{\"path\":\"/local/domain/\"}}", "EINVAL", 24,
		    "a trailing '/'" },
		{ "{\"v\":1,\"id\":25,\"op\":\"xs.read\",\"args\":"
		    "{\"path\":\"relative\"}}", "EINVAL", 25, "a relative path" },
		{ "{\"v\":1,\"id\":26,\"op\":\"xs.read\",\"args\":"
		    "{\"path\":7}}", "EINVAL", 26, "a path that is not a string" },
		{ "{\"v\":1,\"id\":27,\"op\":\"xs.watch\",\"args\":"
		    "{\"path\":\"/local\",\"token\":\"#introduce\"}}", "EINVAL",
		    27, "a watch token a caller may not spell" },
		{ "{\"v\":1,\"id\":28,\"op\":\"xl\",\"args\":"
		    "{\"argv\":[\"bash\",\"-c\",\"id\"]}}", "EPERM", 28,
		    "a non-allowlisted xl subcommand" },
		{ "{\"v\":1,\"id\":29,\"op\":\"xl\",\"args\":"
		    "{\"argv\":[\"destroy\",\"vm1;reboot\"]}}", "EPERM", 29,
		    "shell metacharacters in a domain name" },
		{ "{\"v\":1,\"id\":30,\"op\":\"xl\",\"args\":"
		    "{\"argv\":[\"destroy\",\"$(id)\"]}}", "EPERM", 30,
		    "command substitution in a domain name" },
		{ "{\"v\":1,\"id\":31,\"op\":\"xl\",\"args\":"
		    "{\"argv\":[\"destroy\",\"vm1\"],\"timeout_ms\":0}}",
		    "EINVAL", 31, "an xl timeout of 0" },
		{ "{\"v\":1,\"id\":32,\"op\":\"qmp\",\"args\":{\"domid\":3,"
		    "\"execute\":\"human-monitor-command\"}}", "EPERM", 32,
		    "a QMP command outside the allowlist" },
		{ "{\"v\":1,\"id\":33,\"op\":\"qmp\",\"args\":{\"domid\":0,"
		    "\"execute\":\"query-status\"}}", "EINVAL", 33,
		    "QMP to domain 0" },
		{ "{\"v\":1,\"id\":34,\"op\":\"log.follow\",\"args\":"
		    "{\"file\":\"../../etc/shadow\"}}", "EPERM", 34,
		    "a log path instead of a log name" },
		{ "{\"v\":1,\"id\":35,\"op\":\"xs.write\",\"args\":"
		    "{\"path\":\"/xendeck/a\",\"value\":\"x\",\"tx\":77}}",
		    "ENOENT", 35, "a transaction this session did not open" },
		{ "{\"v\":1,\"id\":36,\"op\":\"dominfo.poll\",\"args\":"
		    "{\"interval_ms\":5}}", "EINVAL", 36,
		    "a poll interval below the minimum" },
		{ "[]", "EINVAL", -1, "an empty batch" },
		{ "7", "EBADMSG", -1, "a bare number" },
	};
	json_t	*r;
	size_t	 i;
	int	 all_on = 1;

	fresh(1);
	for (i = 0; i < nitems(bad); i++) {
		r = send(bad[i].line);
		ok(is_error(r, bad[i].code, bad[i].id) &&
		    json_array_size(out) == 1, "%s: %s", bad[i].what,
		    bad[i].code);
		if (!carries_on())
			all_on = 0;
	}
	ok(all_on, "after each bad request the helper carries on");
	json_array_clear(out);
	dispatch_toolong(&s);
	r = json_array_get(out, 0);
	ok(is_error(r, "E2BIG", -1), "an over-long line: E2BIG");
	ok(carries_on(), "and the helper carries on");
}

/* A batch of n pings. */
static char *
batch_of(int n)
{
	char	*line, *p;
	int	 i;

	line = malloc(40 * ((size_t)n + 1));
	p = line;
	*p++ = '[';
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s{\"v\":1,\"id\":%d,\"op\":\"ping\"}",
		    i > 0 ? "," : "", i);
	*p++ = ']';
	*p = '\0';
	return line;
}

static void
test_batch(void)
{
	json_t	*r;
	char	*line;

	fresh(1);
	r = send("[{\"v\":1,\"id\":1,\"op\":\"xs.read\",\"args\":{\"path\":"
	    "\"/local/domain/0/name\"}},{\"v\":1,\"id\":2,\"op\":\"xs.read\","
	    "\"args\":{\"path\":\"/local/nope\"}},{\"v\":1,\"id\":3,"
	    "\"op\":\"nope\"},[1]]");
	ok(json_is_array(r) && json_array_size(r) == 4 &&
	    json_array_size(out) == 1, "a batch is answered in one line, one "
	    "reply per request");
	ok(is_ok(json_array_get(r, 0), 1) && strcmp(json_string_value(
	    json_object_get(json_object_get(json_array_get(r, 0), "result"),
	    "value")) ?: "", "Domain-0") == 0, "batch: the read answers");
	ok(is_error(json_array_get(r, 1), "ENOENT", 2) &&
	    is_error(json_array_get(r, 2), "ENOSYS", 3) &&
	    is_error(json_array_get(r, 3), "EINVAL", -1),
	    "batch: errors stay in their slots");
	line = batch_of(MAX_BATCH + 1);
	r = send(line);
	ok(is_error(r, "E2BIG", -1), "a batch of MAX_BATCH + 1 is E2BIG");
	free(line);
	line = batch_of(MAX_BATCH);
	r = send(line);
	ok(json_is_array(r) && json_array_size(r) == MAX_BATCH,
	    "a batch of MAX_BATCH is run");
	free(line);
}

static const char *
ev_name(json_t *ev)
{
	return json_string_value(json_object_get(ev, "event")) ?: "";
}

static json_t *
ev_data(json_t *ev, const char *key)
{
	return json_object_get(json_object_get(ev, "data"), key);
}

static void
test_watches(void)
{
	json_t	*r, *ev;
	size_t	 i;
	int	 scans = 0, scan_last_before_fire = 0;

	fresh(1);
	r = send("{\"v\":1,\"id\":1,\"op\":\"xs.watch\",\"args\":{\"path\":"
	    "\"/local/domain/3\",\"token\":\"t1\",\"scan\":true}}");
	ok(is_ok(r, 1), "xs.watch with scan");
	json_array_foreach(out, i, ev) {
		if (i == 0)
			continue;
		if (strcmp(ev_name(ev), "xs.watch") == 0 &&
		    json_is_true(ev_data(ev, "scan")))
			scans++;
		if (strcmp(ev_name(ev), "xs.scan") == 0 && i == (size_t)scans + 1)
			scan_last_before_fire = 1;
	}
	ok(scans == 3 && scan_last_before_fire, "the scan follows the reply "
	    "(3 nodes, then xs.scan)");
	ev = json_array_get(out, json_array_size(out) - 1);
	ok(strcmp(ev_name(ev), "xs.watch") == 0 && !json_is_true(ev_data(ev,
	    "scan")) && strcmp(json_string_value(ev_data(ev, "value")) ?: "",
	    "") == 0, "then the initial fire, with the value read");

	json_array_clear(out);
	fake_xs_set("/local/domain/3/name", "vm3-renamed");
	xsops_pump(&s);
	ev = json_array_get(out, 0);
	ok(json_array_size(out) == 1 && strcmp(json_string_value(ev_data(ev,
	    "value")) ?: "", "vm3-renamed") == 0 && strcmp(json_string_value(
	    ev_data(ev, "token")) ?: "", "t1") == 0,
	    "a write elsewhere: xs.watch with the caller's token and value");

	json_array_clear(out);
	fake_xs_set("/local/domain/3/bad", "\xff\xfe");
	xsops_pump(&s);
	ev = json_array_get(out, 0);
	ok(json_is_null(ev_data(ev, "value")) && strcmp(json_string_value(
	    ev_data(ev, "error")) ?: "", "EILSEQ") == 0,
	    "a value that is not UTF-8: null with error EILSEQ");

	r = send("{\"v\":1,\"id\":2,\"op\":\"xs.write\",\"args\":{\"path\":"
	    "\"/xendeck/x\",\"value\":\"1\"}}");
	ok(is_ok(r, 2), "xs.write in /xendeck");
	r = send("{\"v\":1,\"id\":3,\"op\":\"xs.watch\",\"args\":{\"path\":"
	    "\"/xendeck\",\"token\":\"t2\"}}");
	r = send("{\"v\":1,\"id\":4,\"op\":\"xs.rm\",\"args\":{\"path\":"
	    "\"/xendeck/x\"}}");
	ev = json_array_get(out, 1);
	ok(is_ok(r, 4) && strcmp(ev_name(ev), "xs.watch") == 0 &&
	    json_object_get(json_object_get(ev, "data"), "value") != NULL &&
	    json_is_null(ev_data(ev, "value")) &&
	    ev_data(ev, "error") == NULL, "a removed node: value null");

	r = send("{\"v\":1,\"id\":5,\"op\":\"xs.watch_domains\",\"args\":{}}");
	ok(is_ok(r, 5) && json_array_size(json_object_get(json_object_get(r,
	    "result"), "domids")) == 2, "xs.watch_domains lists dom0 and 3");
	json_array_clear(out);
	fake_xs_set("/local/domain/9/name", "vm9");
	fake_xs_introduce(9, 1);
	xsops_pump(&s);
	ev = NULL;
	json_array_foreach(out, i, r)
		if (strcmp(ev_name(r), "xs.introduce") == 0)
			ev = r;
	ok(ev != NULL && json_integer_value(ev_data(ev, "domid")) == 9,
	    "@introduceDomain: xs.introduce {domid: 9}");
	json_array_clear(out);
	fake_xs_introduce(3, 0);
	xsops_pump(&s);
	ev = NULL;
	json_array_foreach(out, i, r)
		if (strcmp(ev_name(r), "xs.release") == 0)
			ev = r;
	ok(ev != NULL && json_integer_value(ev_data(ev, "domid")) == 3,
	    "@releaseDomain: xs.release {domid: 3} found by the rescan");

	r = send("{\"v\":1,\"id\":6,\"op\":\"xs.tx.start\",\"args\":{}}");
	ok(is_ok(r, 6), "xs.tx.start");
	fake_xs_conflict_next();
	r = send("{\"v\":1,\"id\":7,\"op\":\"xs.tx.end\",\"args\":{\"tx\":"
	    "1,\"commit\":true}}");
	ok(is_error(r, "EAGAIN", 7), "a conflicting commit: EAGAIN");
	r = send("{\"v\":1,\"id\":8,\"op\":\"xs.tx.end\",\"args\":{\"tx\":"
	    "1,\"commit\":true}}");
	ok(is_error(r, "ENOENT", 8), "the transaction is over after EAGAIN");

	fake_xs_open_errno(ECONNREFUSED);
	fresh(1);
	fake_xs_open_errno(ECONNREFUSED);
	r = send("{\"v\":1,\"id\":9,\"op\":\"xs.read\",\"args\":{\"path\":"
	    "\"/local\"}}");
	ok(is_error(r, "ECONNREFUSED", 9), "xenstore unreachable: the "
	    "connect error is the reply");
	fake_xs_open_errno(0);
	ok(carries_on(), "and the helper carries on");
}

int
main(void)
{
	out = json_array();
	test_table();
	test_hello();
	test_bad_requests();
	test_batch();
	test_watches();
	session_free(&s);
	json_decref(out);
	return tap_done();
}
