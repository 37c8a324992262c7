/*
 * it-dm.c: integration test of dm.poll against a real QEMU 7.2
 * (shared/fixtures/real-qemu) whose monitor socket sits where libxl puts
 * it, <qmp-dir>/qmp-libxl-<domid>.  The test starts its own QEMU (it
 * kills it), so the shared one of it-qmp is never touched: dm.poll
 * reports it alive, the probes leave it able to greet a QMP client,
 * SIGKILL leaves its socket file behind and the next rounds report it
 * refused, a QEMU started again on the same path is alive again, and
 * with probing off nothing is reported.  A socket left by an earlier
 * QEMU (bound, then closed) and the fixture's own files beside the
 * socket (.pid, .log) are in the directory too.
 *
 * usage: it-dm HELPER FIXTURES DIR    (DIR: a fresh directory)
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "helper-client.h"
#include "tap.h"

#define DOMID	9
#define DEAD	11
#define T	8000

static struct hc	 hc;
static char		 runsh[512], sockpath[512], deadpath[512];

static long long
ms_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* run.sh start|stop on our socket (no shell); the QEMU pid, else 0. */
static pid_t
fixture(char *cmd)
{
	char	 line[1024], *p, *av[4];
	FILE	*f;
	pid_t	 pid = 0, child;
	int	 fds[2], status;

	if (pipe(fds) == -1)
		return 0;
	av[0] = runsh;
	av[1] = cmd;
	av[2] = sockpath;
	av[3] = NULL;
	if ((child = fork()) == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execv(runsh, av);
		_exit(127);
	}
	close(fds[1]);
	if (child == -1 || (f = fdopen(fds[0], "r")) == NULL) {
		close(fds[0]);
		return 0;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "QEMU_PID=", 9) == 0)
			pid = (pid_t)strtol(line + 9, &p, 10);
		else if (strncmp(line, "QMP_SOCKET=", 11) != 0)
			printf("# run.sh: %s", line);
	}
	fclose(f);
	waitpid(child, &status, 0);
	return pid;
}

static void
set_sun(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, strnlen(path, sizeof(sun->sun_path) - 1));
}

static int
unix_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			s;

	set_sun(&sun, path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s == -1 || connect(s, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (s != -1)
			close(s);
		return -1;
	}
	return s;
}

/* A QMP client is greeted: QEMU survived the probes and serves. */
static int
greeted(void)
{
	struct pollfd	pfd;
	char		buf[512];
	ssize_t		n;
	int		s, g = 0;

	if ((s = unix_connect(sockpath)) == -1)
		return 0;
	pfd.fd = s;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 5000) == 1 && (n = read(s, buf, sizeof(buf) - 1)) >
	    0) {
		buf[n] = '\0';
		g = strstr(buf, "\"QMP\"") != NULL;
	}
	close(s);
	return g;
}

/* The next dm.status for domid, or NULL. */
static json_t *
status_of(int domid, int timeout_ms)
{
	char	d[16];

	snprintf(d, sizeof(d), "%d", domid);
	return hc_wait_event(&hc, "dm.status", "domid", d, timeout_ms);
}

static int
is_alive(json_t *ev)
{
	json_t	*d = json_object_get(ev, "data");

	return ev != NULL && json_is_true(json_object_get(d, "alive")) &&
	    json_object_get(d, "error") == NULL;
}

static int
is_refused(json_t *ev)
{
	json_t	*d = json_object_get(ev, "data");

	return ev != NULL && json_is_false(json_object_get(d, "alive")) &&
	    strcmp(json_string_value(json_object_get(d, "error")) ?: "",
	    "ECONNREFUSED") == 0;
}

static const char *
poll_code(int ms)
{
	static char	 code[32];
	json_t		*r;

	r = hc_call(&hc, "dm.poll", json_pack("{s:i}", "interval_ms", ms), T);
	snprintf(code, sizeof(code), "%s", hc_code(r));
	json_decref(r);
	return code;
}

/* Any dm.status within ms?  (Waits the whole window when there is none.) */
static int
quiet_for(int ms)
{
	json_t	*ev = hc_wait_event(&hc, "dm.status", NULL, NULL, ms);

	if (ev != NULL) {
		char *t = json_dumps(ev, JSON_COMPACT);

		printf("# unexpected: %s\n", t);
		free(t);
		json_decref(ev);
		return 0;
	}
	return 1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un	 sun;
	struct stat		 sb;
	json_t			*r, *ev;
	char			*hargv[4];
	pid_t			 qemu;
	long long		 t0;
	int			 fd;

	if (argc != 4) {
		fprintf(stderr, "usage: it-dm HELPER FIXTURES DIR\n");
		return 2;
	}
	snprintf(runsh, sizeof(runsh), "%s/real-qemu/run.sh", argv[2]);
	snprintf(sockpath, sizeof(sockpath), "%s/qmp-libxl-%d", argv[3],
	    DOMID);
	snprintf(deadpath, sizeof(deadpath), "%s/qmp-libxl-%d", argv[3],
	    DEAD);
	qemu = fixture("start");
	if (!ok(qemu > 0, "a real QEMU with its monitor at qmp-libxl-%d",
	    DOMID))
		return tap_done();
	/* A socket an earlier QEMU left: bound, then closed. */
	set_sun(&sun, deadpath);
	unlink(deadpath);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok(fd != -1 && bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	    listen(fd, 1) == 0, "a socket file qmp-libxl-%d whose listener is "
	    "gone", DEAD);
	close(fd);

	hargv[0] = argv[1];
	hargv[1] = "--qmp-dir";
	hargv[2] = argv[3];
	hargv[3] = NULL;
	if (hc_start(&hc, hargv) == -1)
		return 1;
	r = hc_call(&hc, "hello", json_pack("{s:i}", "version", 1), T);
	ok(json_is_true(json_object_get(r, "ok")), "hello");
	json_decref(r);
	ok(strcmp(poll_code(99), "EINVAL") == 0, "dm.poll {interval_ms: 99} "
	    "is EINVAL");
	ok(strcmp(poll_code(100), "") == 0, "dm.poll {interval_ms: 100}");

	/* Events come in domid order: 9 before 11. */
	ev = status_of(DOMID, T);
	ok(is_alive(ev), "the first round: the live QEMU is reported alive");
	json_decref(ev);
	ev = status_of(DEAD, T);
	ok(is_refused(ev), "the left-over socket is reported refused "
	    "(ECONNREFUSED)");
	json_decref(ev);
	ok(quiet_for(700), "several rounds later nothing more: only changes "
	    "are reported (the .pid and .log files beside the socket are "
	    "ignored)");
	ok(greeted(), "after those probes QEMU still greets a QMP client");

	t0 = ms_now();
	kill(qemu, SIGKILL);
	ev = status_of(DOMID, 10000);
	ok(is_refused(ev), "QEMU killed with SIGKILL: dm.status alive false, "
	    "ECONNREFUSED, without any QMP");
	printf("# reported %lld ms after the kill (interval 100 ms)\n",
	    ms_now() - t0);
	json_decref(ev);
	ok(stat(sockpath, &sb) == 0 && S_ISSOCK(sb.st_mode), "the killed "
	    "QEMU's socket file is still there");
	ok(quiet_for(400), "and it is reported once");

	qemu = fixture("start");
	ok(qemu > 0, "a new QEMU on the same path");
	ev = status_of(DOMID, 10000);
	ok(is_alive(ev), "reported alive again");
	json_decref(ev);

	ok(strcmp(poll_code(0), "") == 0, "dm.poll {interval_ms: 0}");
	kill(qemu, SIGKILL);
	ok(quiet_for(500), "with probing off, the second kill is not "
	    "reported");
	ok(hc_stop(&hc) == 0, "the helper exits 0 on EOF");
	fixture("stop");
	unlink(deadpath);
	return tap_done();
}
