/*
 * it-xl.c: the xl, dominfo and log ops end to end, with the xl test
 * double (fake-xl.sh) in place of xl: the argv it receives, stderr
 * steps streamed as events before the reply, exit status, timeout,
 * refusals; dominfo parsing and polling; log tails with rotation.
 *
 * usage: it-xl HELPER XS_SOCKET XL LOG_DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "helper-client.h"
#include "tap.h"

#define T	5000

static struct hc	 hc;
static char		 xldir[512], logdir[512];

static json_t *
xl(const char *fmt, ...)
{
	va_list	 ap;
	json_t	*args;

	va_start(ap, fmt);
	args = json_vpack_ex(NULL, 0, fmt, ap);
	va_end(ap);
	return hc_call(&hc, "xl", args, T);
}

static const char *
res_str(json_t *r, const char *k)
{
	return json_string_value(json_object_get(json_object_get(r, "result"),
	    k)) ?: "";
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
write_file(const char *dir, const char *name, const char *text, int append)
{
	char	path[1024];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, append ? "a" : "w");
	fputs(text, f);
	fclose(f);
}

static void
test_xl(void)
{
	json_t	*r, *ev;
	size_t	 i;
	int	 before = 0;

	json_array_clear(hc.events);
	r = xl("{s:[s,s,s]}", "argv", "-v", "create", "/etc/xen/vm1.cfg");
	ok(json_integer_value(json_object_get(json_object_get(r, "result"),
	    "status")) == 0, "xl -v create runs and exits 0");
	ok(strcmp(res_str(r, "stdout"), "argv:-v\nargv:create\n"
	    "argv:/etc/xen/vm1.cfg\n") == 0, "xl receives exactly the "
	    "checked argv, no shell in between");
	json_array_foreach(hc.events, i, ev)
		if (strcmp(json_string_value(json_object_get(ev, "event")),
		    "xl.line") == 0)
			before++;
	ok(before == 3, "the three -v step lines were streamed as xl.line "
	    "events before the reply (%d)", before);
	ev = json_array_get(hc.events, 1);
	ok(ev != NULL && strcmp(json_string_value(json_object_get(
	    json_object_get(ev, "data"), "line")) ?: "",
	    "libxl: debug: step one") == 0 && json_integer_value(
	    json_object_get(json_object_get(ev, "data"), "id")) ==
	    json_integer_value(json_object_get(r, "id")),
	    "an xl.line event carries the line and the request id");
	json_decref(r);

	r = xl("{s:[s,s]}", "argv", "destroy", "vm1");
	ok(json_is_true(json_object_get(r, "ok")) && json_integer_value(
	    json_object_get(json_object_get(r, "result"), "status")) == 3 &&
	    strstr(res_str(r, "stderr"), "does not exist") != NULL,
	    "a failing xl reports its exit status and stderr");
	json_decref(r);

	r = xl("{s:[s,s], s:i}", "argv", "pause", "sleepy", "timeout_ms", 300);
	ok(json_is_true(json_object_get(json_object_get(r, "result"),
	    "timed_out")) && json_integer_value(json_object_get(
	    json_object_get(r, "result"), "signal")) == 15,
	    "an xl that outlives its timeout is stopped with SIGTERM");
	json_decref(r);

	r = xl("{s:[s,s,s]}", "argv", "bash", "-c", "id");
	ok(code_is(r, "EPERM"), "a non-allowlisted subcommand is refused");
	r = xl("{s:[s,s]}", "argv", "destroy", "vm1;reboot");
	ok(code_is(r, "EPERM"), "shell metacharacters in a domain name are "
	    "refused");
	r = xl("{s:[s,s]}", "argv", "destroy", "$(id)");
	ok(code_is(r, "EPERM"), "command substitution in a domain name is "
	    "refused");
	r = xl("{s:[s,s,s]}", "argv", "shutdown", "-x", "vm1");
	ok(code_is(r, "EPERM"), "an option not listed for the subcommand is "
	    "refused");
	r = xl("{s:[s,s,s,s]}", "argv", "cd-insert", "vm1", "hdc",
	    "/isos/../etc/shadow");
	ok(code_is(r, "EPERM"), "a media path with '..' is refused");
	r = xl("{s:[s,s,s]}", "argv", "block-attach", "vm1",
	    "target=/x.img,vdev=xvdb,script=/tmp/evil");
	ok(code_is(r, "EPERM"), "a disk spec with script= is refused");
	r = xl("{s:[s,s,s,s]}", "argv", "cd-insert", "vm1", "hdc",
	    "/isos/tools.iso");
	ok(json_is_true(json_object_get(r, "ok")), "cd-insert with a clean "
	    "path runs");
	json_decref(r);
}

static void
test_dominfo(void)
{
	json_t	*r, *doms, *d, *ev;

	write_file(xldir, "domains-v",
	    "Name                                        ID   Mem VCPUs\tState\t"
	    "Time(s)   UUID                            Reason-Code\tSecurity "
	    "Label\n"
	    "Domain-0                                     0  4096     4     "
	    "r-----     123.4 00000000-0000-0000-0000-000000000000        -"
	    "                -\n"
	    "win10                                        3  4096     2     "
	    "-b----      12.0 6a3b1c2d-0000-4000-8000-000000000003        -"
	    "                -\n"
	    "crashy                                       4   512     1     "
	    "---sc-       1.0 6a3b1c2d-0000-4000-8000-000000000004        3"
	    "                -\n", 0);
	write_file(xldir, "domains-plain", "", 0);
	r = hc_call(&hc, "dominfo", json_object(), T);
	doms = json_object_get(json_object_get(r, "result"), "domains");
	ok(json_array_size(doms) == 3, "dominfo lists three domains");
	d = json_array_get(doms, 1);
	ok(json_integer_value(json_object_get(d, "domid")) == 3 &&
	    strcmp(json_string_value(json_object_get(d, "name")) ?: "",
	    "win10") == 0 && json_is_true(json_object_get(d, "blocked")) &&
	    !json_is_true(json_object_get(d, "running")) &&
	    strcmp(json_string_value(json_object_get(d, "uuid")) ?: "",
	    "6a3b1c2d-0000-4000-8000-000000000003") == 0,
	    "win10: domid 3, blocked, with its uuid");
	d = json_array_get(doms, 2);
	ok(json_is_true(json_object_get(d, "shutdown")) &&
	    strcmp(json_string_value(json_object_get(d, "reason")) ?: "",
	    "crash") == 0, "crashy: shutdown with reason crash");
	json_decref(r);

	r = hc_call(&hc, "dominfo.poll", json_pack("{s:i}", "interval_ms",
	    100), T);
	ok(json_is_true(json_object_get(r, "ok")), "dominfo.poll 100 ms");
	json_decref(r);
	ev = hc_wait_event(&hc, "dominfo", NULL, NULL, T);
	ok(ev != NULL, "the first poll reports the list");
	json_decref(ev);
	write_file(xldir, "domains-v",
	    "win10                                        3  4096     2     "
	    "--p---      12.0 6a3b1c2d-0000-4000-8000-000000000003        -"
	    "                -\n", 0);
	ev = hc_wait_event(&hc, "dominfo", NULL, NULL, T);
	d = json_array_get(json_object_get(json_object_get(ev, "data"),
	    "domains"), 0);
	ok(ev != NULL && json_is_true(json_object_get(d, "paused")),
	    "a pause (which fires no watch) is seen by the poll");
	json_decref(ev);
	r = hc_call(&hc, "dominfo.poll", json_pack("{s:i}", "interval_ms", 0),
	    T);
	json_decref(r);
	r = hc_call(&hc, "dominfo.poll", json_pack("{s:i}", "interval_ms", 5),
	    T);
	ok(code_is(r, "EINVAL"), "a poll interval below 100 ms is refused");
}

static void
test_logs(void)
{
	json_t	*r, *ev;
	char	 path[1024], old[1024];

	/* Start from a clean log dir whatever an earlier run left. */
	snprintf(path, sizeof(path), "%s/qemu-dm-vm2.log", logdir);
	unlink(path);
	write_file(logdir, "xl-vm1.log", "old line\n", 0);
	r = hc_call(&hc, "log.follow", json_pack("{s:s}", "file",
	    "xl-vm1.log"), T);
	ok(json_is_true(json_object_get(json_object_get(r, "result"),
	    "exists")), "log.follow xl-vm1.log");
	json_decref(r);
	write_file(logdir, "xl-vm1.log", "Domain 3 has shut down, reason "
	    "code 1\n", 1);
	ev = hc_wait_event(&hc, "log.line", "file", "xl-vm1.log", T);
	ok(ev != NULL && strcmp(json_string_value(json_object_get(
	    json_object_get(ev, "data"), "line")) ?: "",
	    "Domain 3 has shut down, reason code 1") == 0 &&
	    strcmp(json_string_value(json_object_get(json_object_get(ev,
	    "data"), "name")) ?: "", "vm1") == 0,
	    "a new line is sent raw, with file and domain name");
	json_decref(ev);

	snprintf(path, sizeof(path), "%s/xl-vm1.log", logdir);
	snprintf(old, sizeof(old), "%s/xl-vm1.log.1", logdir);
	rename(path, old);
	write_file(logdir, "xl-vm1.log", "after rotation\n", 0);
	ev = hc_wait_event(&hc, "log.line", "line", "after rotation", T);
	ok(ev != NULL, "a rotated log is read from the start of the new file");
	json_decref(ev);

	r = hc_call(&hc, "log.follow", json_pack("{s:s}", "file",
	    "qemu-dm-vm2.log"), T);
	ok(json_is_false(json_object_get(json_object_get(r, "result"),
	    "exists")), "a log that does not exist yet can be followed");
	json_decref(r);
	write_file(logdir, "qemu-dm-vm2.log", "qemu started\n", 0);
	ev = hc_wait_event(&hc, "log.line", "line", "qemu started", T);
	ok(ev != NULL, "and its lines arrive once it appears");
	json_decref(ev);

	r = hc_call(&hc, "log.follow", json_pack("{s:s}", "file",
	    "../../etc/shadow"), T);
	ok(code_is(r, "EPERM"), "a path instead of a log name is refused");
	r = hc_call(&hc, "log.follow", json_pack("{s:s}", "file",
	    "xl-a;b.log"), T);
	ok(code_is(r, "EPERM"), "a log name with a bad domain name is refused");
	r = hc_call(&hc, "log.unfollow", json_pack("{s:s}", "file",
	    "xl-vm1.log"), T);
	ok(json_is_true(json_object_get(r, "ok")), "log.unfollow");
	json_decref(r);
}

int
main(int argc, char **argv)
{
	json_t	*r;
	char	*hargv[10], *copy;

	if (argc != 5) {
		fprintf(stderr, "usage: it-xl HELPER XS_SOCKET XL LOG_DIR\n");
		return 2;
	}
	copy = strdup(argv[3]);
	snprintf(xldir, sizeof(xldir), "%s", dirname(copy));
	free(copy);
	snprintf(logdir, sizeof(logdir), "%s", argv[4]);
	hargv[0] = argv[1];
	hargv[1] = "--xenstore-socket";
	hargv[2] = argv[2];
	hargv[3] = "--xl";
	hargv[4] = argv[3];
	hargv[5] = "--log-dir";
	hargv[6] = argv[4];
	hargv[7] = NULL;
	if (hc_start(&hc, hargv) == -1)
		return 1;
	r = hc_call(&hc, "hello", json_pack("{s:i}", "version", 1), T);
	json_decref(r);
	test_xl();
	test_dominfo();
	test_logs();
	ok(hc_stop(&hc) == 0, "the helper exits 0 on EOF");
	return tap_done();
}
