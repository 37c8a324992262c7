/*
 * test-dm.c: dm.poll, the device model probe.  The names it accepts
 * (qmp-libxl-<1..32751>, strict decimal), the verdict of one probe
 * (a listening socket is alive, a full backlog too, a socket file whose
 * listener was closed, which is what a killed QEMU leaves, is refused),
 * dm.poll's arguments, and the rounds through dispatch: the first
 * sighting reported, then only changes, a vanished file forgotten
 * silently, a new baseline per dm.poll, nothing while off, other files
 * ignored, at most MAX_DM_SOCKETS per round.  Everything happens in a
 * scratch directory of unix sockets; rounds are forced with dm_kick.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dispatch.h"
#include "fake-xenstore.h"
#include "ops.h"
#include "proto.h"
#include "tap.h"
#include "util.h"

static json_t		*out;	/* every line the helper wrote, parsed */
static struct config	 cfg;
static struct session	 s;
static char		 dir[64];
static int		 live[MAX_DOMID];	/* listening fds by domid, or 0 */

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
session(const char *qmp_dir)
{
	const char	*h = "{\"v\":1,\"id\":0,\"op\":\"hello\","
	    "\"args\":{\"version\":1}}";

	if (s.cfg != NULL)
		session_free(&s);
	memset(&cfg, 0, sizeof(cfg));
	cfg.qmp_dir = qmp_dir;
	cfg.xl = "/nonexistent/xl";
	cfg.log_dir = "/nonexistent/log";
	cfg.lock_dir = "/nonexistent/lock";
	cfg.xl_config_dir = "/etc/xen";
	fake_xs_fixture();
	session_init(&s, &cfg, capture, NULL);
	dispatch_line(&s, h, strlen(h));
	json_array_clear(out);
}

/* A request; the reply's error code, or "" when ok.  Events stay in out. */
static const char *
call(const char *line)
{
	static char	 code[32];
	json_t		*r;

	json_array_clear(out);
	dispatch_line(&s, line, strlen(line));
	r = json_array_get(out, 0);
	if (json_is_true(json_object_get(r, "ok")))
		code[0] = '\0';
	else
		snprintf(code, sizeof(code), "%s", json_string_value(
		    json_object_get(json_object_get(r, "error"), "code")) ?:
		    "?");
	json_array_remove(out, 0);
	return code;
}

static const char *
poll_ms(long long ms)
{
	char	line[128];

	snprintf(line, sizeof(line), "{\"v\":1,\"id\":1,\"op\":\"dm.poll\","
	    "\"args\":{\"interval_ms\":%lld}}", ms);
	return call(line);
}

/* The events a round produced, as "3+ 5-" (alive +, refused -). */
static const char *
round_(int kick)
{
	static char	 buf[8192];
	json_t		*ev, *d;
	size_t		 i, n = 0;

	if (kick)
		dm_kick(&s);
	dm_tick(&s);
	buf[0] = '\0';
	json_array_foreach(out, i, ev) {
		d = json_object_get(ev, "data");
		if (strcmp(json_string_value(json_object_get(ev, "event")) ?: "",
		    "dm.status") != 0 || n + 16 >= sizeof(buf)) {
			snprintf(buf + n, sizeof(buf) - n, "? ");
			n += 2;
			continue;
		}
		if (json_is_true(json_object_get(d, "alive")) &&
		    json_object_get(d, "error") == NULL)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%lld+ ",
			    (long long)json_integer_value(json_object_get(d,
			    "domid")));
		else if (json_is_false(json_object_get(d, "alive")) &&
		    strcmp(json_string_value(json_object_get(d, "error")) ?: "",
		    "ECONNREFUSED") == 0)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%lld- ",
			    (long long)json_integer_value(json_object_get(d,
			    "domid")));
		else
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "?? ");
	}
	if (n > 0)
		buf[n - 1] = '\0';
	json_array_clear(out);
	return buf;
}

static const char *
round_now(void)
{
	return round_(1);
}

/* A round (forced when kick) must report exactly want. */
static void
expect_round(int kick, const char *want, const char *what)
{
	const char	*got = round_(kick);

	ok(strcmp(got, want) == 0, "%s (%s)", what, got);
}

static void
sock_path(struct sockaddr_un *sun, const char *name)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s", dir, name);
}

/* A socket file named name: listening (fd returned) or left refusing. */
static int
make_socket(const char *name, int listening, int backlog)
{
	struct sockaddr_un	sun;
	int			fd;

	sock_path(&sun, name);
	unlink(sun.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, backlog) == -1) {
		ok(0, "socket %s: %s", sun.sun_path, strerror(errno));
		return -1;
	}
	if (!listening) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
qemu_up(unsigned int domid)
{
	char	name[32];

	snprintf(name, sizeof(name), "qmp-libxl-%u", domid);
	if (live[domid] > 0)
		close(live[domid]);
	live[domid] = make_socket(name, 1, 4);
}

/* What a killed QEMU leaves: the file, with no listener behind it. */
static void
qemu_killed(unsigned int domid)
{
	char	name[32];

	snprintf(name, sizeof(name), "qmp-libxl-%u", domid);
	if (live[domid] > 0) {
		close(live[domid]);
		live[domid] = 0;
	} else
		make_socket(name, 0, 4);
}

static void
rm_file(const char *name)
{
	char	path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

static void
test_names(void)
{
	static const struct {
		const char	*name;
		int		 ok;
		uint32_t	 domid;
	} cases[] = {
		{ "qmp-libxl-1", 1, 1 },
		{ "qmp-libxl-3", 1, 3 },
		{ "qmp-libxl-32751", 1, 32751 },
		{ "qmp-libxl-32752", 0, 0 },	/* DOMID_FIRST_RESERVED */
		{ "qmp-libxl-65535", 0, 0 },
		{ "qmp-libxl-0", 0, 0 },	/* dom0 has no device model here */
		{ "qmp-libxl-03", 0, 0 },
		{ "qmp-libxl-", 0, 0 },
		{ "qmp-libxl-+3", 0, 0 },
		{ "qmp-libxl--3", 0, 0 },
		{ "qmp-libxl- 3", 0, 0 },
		{ "qmp-libxl-3 ", 0, 0 },
		{ "qmp-libxl-3.pid", 0, 0 },
		{ "qmp-libxl-0x3", 0, 0 },
		{ "qmp-libxl-99999999999999999999999", 0, 0 },
		{ "qmp-libxl-000000000000000000001", 0, 0 },
		{ "qmp-libxenstat-3", 0, 0 },
		{ "Qmp-libxl-3", 0, 0 },
		{ "xqmp-libxl-3", 0, 0 },
		{ "qmp-libxl3", 0, 0 },
		{ "", 0, 0 },
	};
	uint32_t	domid;
	size_t		i;
	int		good = 1, rc;

	for (i = 0; i < nitems(cases); i++) {
		domid = 0;
		rc = dm_socket_domid(cases[i].name, &domid);
		if ((rc == 0) != cases[i].ok ||
		    (cases[i].ok && domid != cases[i].domid)) {
			printf("# '%s': rc %d, domid %u\n", cases[i].name, rc,
			    domid);
			good = 0;
		}
	}
	ok(good, "socket names: qmp-libxl-<1..32751> in strict decimal only "
	    "(%zu cases: no 0, no leading zero, no sign or spaces, no "
	    "suffix, nothing reserved, not qmp-libxenstat)", nitems(cases));
}

static void
test_probe(void)
{
	struct sockaddr_un	sun;
	int			fd, c1;

	fd = make_socket("qmp-libxl-4", 1, 4);
	ok(dm_probe(dir, 4) == 1, "a listening socket is alive");
	close(fd);
	ok(dm_probe(dir, 4) == 0, "the same file once its listener is "
	    "closed (a killed QEMU) is refused");
	ok(dm_probe(dir, 9) == -ENOENT, "no file: ENOENT, no verdict");

	/* libxl holds the monitor and the backlog is full: still alive. */
	fd = make_socket("qmp-libxl-4", 1, 0);
	sock_path(&sun, "qmp-libxl-4");
	c1 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	(void)connect(c1, (struct sockaddr *)&sun, sizeof(sun));
	ok(dm_probe(dir, 4) == 1 && dm_probe(dir, 4) == 1, "a live listener "
	    "whose backlog is full (EAGAIN) is alive");
	close(c1);
	close(fd);
	rm_file("qmp-libxl-4");
	ok(dm_probe_path_ok(dir) == 0, "a short QMP directory fits a socket "
	    "address");
}

static void
test_args(void)
{
	static const char *bad[] = {
		"{}",
		"{\"interval_ms\":99}",
		"{\"interval_ms\":1}",
		"{\"interval_ms\":-1}",
		"{\"interval_ms\":60001}",
		"{\"interval_ms\":9007199254740991}",
		"{\"interval_ms\":\"1000\"}",
		"{\"interval_ms\":1000.5}",
		"{\"interval_ms\":null}",
		"{\"interval_ms\":1000,\"domid\":3}",
	};
	char		line[256], longdir[160];
	size_t		i;
	int		good = 1;
	const char	*code;

	session(dir);
	for (i = 0; i < nitems(bad); i++) {
		snprintf(line, sizeof(line), "{\"v\":1,\"id\":2,"
		    "\"op\":\"dm.poll\",\"args\":%s}", bad[i]);
		if (strcmp((code = call(line)), "EINVAL") != 0) {
			printf("# %s: %s\n", bad[i], code);
			good = 0;
		}
	}
	ok(good, "dm.poll refuses a missing, out-of-range, non-integer or "
	    "extra argument with EINVAL (%zu cases)", nitems(bad));
	ok(dm_timeout(&s) == -1, "the refused requests left probing off");
	ok(strcmp(poll_ms(100), "") == 0 && strcmp(poll_ms(60000), "") == 0 &&
	    strcmp(poll_ms(0), "") == 0, "100, 60000 and 0 (off) are "
	    "accepted");
	ok(dm_timeout(&s) == -1 && strcmp(round_now(), "") == 0, "off: no "
	    "timer, no round");

	/* A directory whose path leaves no room for the socket name. */
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	session(longdir);
	ok(strcmp(poll_ms(1000), "ENAMETOOLONG") == 0 && dm_timeout(&s) == -1,
	    "a QMP directory too long for a socket address is ENAMETOOLONG");
	ok(strcmp(poll_ms(0), "") == 0, "turning it off needs no path");

	session("/nonexistent/xendeck-test-dm");
	ok(strcmp(poll_ms(100), "") == 0 && strcmp(round_now(), "") == 0,
	    "a missing QMP directory: no sockets, no events");
	ok(dm_timeout(&s) >= 0 && dm_timeout(&s) <= 100, "the next round is "
	    "due within the interval (%d ms)", dm_timeout(&s));
}

static void
test_rounds(void)
{
	const char	*r;
	int		 fd;

	session(dir);
	qemu_up(4);
	qemu_killed(5);
	qemu_up(12);
	/* Things that are not a device model's socket. */
	fd = make_socket("qmp-libxl-07", 1, 4);	/* a leading zero */
	close(make_socket("qmp-libxenstat-4", 1, 4));
	{
		char a[128], b[128];

		snprintf(a, sizeof(a), "%s/qmp-libxl-4", dir);
		snprintf(b, sizeof(b), "%s/qmp-libxl-8", dir);
		ok(symlink(a, b) == 0, "a symlink qmp-libxl-8 to a live "
		    "socket");
		snprintf(b, sizeof(b), "%s/qmp-libxl-9", dir);
		close(open(b, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
		snprintf(b, sizeof(b), "%s/qmp-libxl-10", dir);
		mkdir(b, 0700);
	}

	ok(strcmp(poll_ms(1000), "") == 0 && json_array_size(out) == 0,
	    "dm.poll {interval_ms: 1000}: the reply, no event before the "
	    "first round");
	r = round_(0);
	ok(strcmp(r, "4+ 5- 12+") == 0, "the first round is due at once and "
	    "reports every socket once, by domid: live ones alive, the one "
	    "a killed QEMU left refused with ECONNREFUSED; a regular file, a "
	    "directory, a symlink and other names are ignored (%s)", r);
	ok(strcmp(round_(0), "") == 0, "the next round is not due before "
	    "the interval");
	ok(dm_timeout(&s) > 0 && dm_timeout(&s) <= 1000, "the timer says "
	    "when (%d ms)", dm_timeout(&s));
	expect_round(1, "", "a round where nothing "
	    "changed sends nothing");

	qemu_killed(4);
	expect_round(1, "4-", "QEMU 4 killed: its file "
	    "stays, the next round reports it refused");
	expect_round(1, "", "and only once");
	rm_file("qmp-libxl-5");
	qemu_up(5);
	expect_round(1, "5+", "a new QEMU 5 on the same "
	    "path: alive again");
	rm_file("qmp-libxl-4");
	expect_round(1, "", "the file of 4 removed (the "
	    "domain destroyed): forgotten without an event");
	qemu_killed(4);
	expect_round(1, "4-", "4's file back, refused: a "
	    "first sighting again");
	close(live[12]);
	live[12] = 0;
	rm_file("qmp-libxl-12");
	qemu_up(12);
	expect_round(1, "", "12 replaced by a new live "
	    "QEMU between two rounds: no change to report");

	ok(strcmp(poll_ms(500), "") == 0, "dm.poll again");
	expect_round(0, "4- 5+ 12+", "starts a new baseline: every socket "
	    "reported again, at once");
	ok(strcmp(poll_ms(0), "") == 0, "dm.poll 0");
	qemu_killed(5);
	expect_round(1, "", "while off nothing is probed");
	ok(dm_timeout(&s) == -1, "and there is no timer");
	ok(strcmp(poll_ms(100), "") == 0, "dm.poll on again");
	expect_round(0, "4- 5- 12+", "the current state as the new baseline");
	close(fd);
}

static void
test_bound(void)
{
	char		 name[32];
	const char	*r;
	size_t		 n = 0;
	unsigned int	 d;

	session(dir);
	for (d = 100; d < 100 + MAX_DM_SOCKETS + 6; d++) {
		snprintf(name, sizeof(name), "qmp-libxl-%u", d);
		make_socket(name, 0, 1);
	}
	ok(strcmp(poll_ms(100), "") == 0, "dm.poll with %d sockets waiting",
	    MAX_DM_SOCKETS + 6 + 3);
	r = round_(0);
	for (const char *p = r; *p != '\0'; p++)
		if (*p == '-' || *p == '+')
			n++;
	/* 4, 5 and 12 from the rounds test are there too. */
	ok(n == MAX_DM_SOCKETS && strchr(r, '?') == NULL &&
	    strncmp(r, "4- 5- 12+ 100- ", 15) == 0 &&
	    strcmp(r + strlen(r) - 6, " 1120-") == 0, "at most %d sockets "
	    "probed in one round: the lowest domids (%zu reported, the last "
	    "%s)", MAX_DM_SOCKETS, n, strrchr(r, ' ') ? strrchr(r, ' ') + 1 : r);
	expect_round(1, "", "the next round probes the "
	    "same ones: nothing new");
	snprintf(name, sizeof(name), "qmp-libxl-%u", 100);
	rm_file(name);
	expect_round(1, "1121-", "one of them gone: the "
	    "next lowest is probed, a first sighting");
}

int
main(void)
{
	char	cmd[128];

	out = json_array();
	snprintf(dir, sizeof(dir), "/tmp/xendeck-test-dm.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return tap_done();
	}
	test_names();
	test_probe();
	test_args();
	test_rounds();
	test_bound();
	session_free(&s);
	json_decref(out);
	/* Only our own mkdtemp directory. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
