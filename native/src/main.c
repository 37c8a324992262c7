/*
 * main.c: xendeck-helper's entry point: the command line, the privilege
 * phases, signal set-up and the poll() loop.  Nothing else lives here;
 * requests go to dispatch.c, asynchronous sources to their ops files.
 *
 * Security stance: this is the only part of Xendeck that runs as root.
 * It trusts nothing it reads from stdin (the main process may itself be
 * compromised), reads nothing from its environment except PKEXEC_UID,
 * and uses compiled-in paths unless it runs unelevated.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dispatch.h"
#include "json-line.h"
#include "log.h"
#include "ops.h"
#include "outbuf.h"
#include "proto.h"
#include "util.h"

static void	usage(void) __attribute__((noreturn));
static void	sanitize_fds(void);
static void	emit_stdout(void *, const char *, size_t);
static size_t	backlog_stdout(void *);
static void	flush_stdout(void);
static void	drain_stdout(void);
static void	on_line(void *, const char *, size_t, int);

/* What the host has not read yet (stdout is non-blocking). */
static struct outbuf	out;

static void
usage(void)
{
	fprintf(stderr, "usage: %s [--version] [--debug] "
	    "[--xenstore-socket PATH] [--qmp-dir DIR]\n"
	    "       [--xl PATH] [--log-dir DIR] [--lock-dir DIR]\n"
	    "Path options are honoured only when not elevated.\n",
	    HELPER_NAME);
	exit(2);
}

/*
 * Make sure fds 0-2 exist (so nothing we open lands on them) and close
 * everything else inherited from the parent.
 */
static void
sanitize_fds(void)
{
	int	fd;

	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
			if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) !=
			    fd)
				fatal("open /dev/null");
		}
	}
	if (close_range(3, ~0U, 0) == -1) {
		for (fd = 3; fd < 1024; fd++)
			(void)close(fd);
	}
}

/* Write what the pipe takes now; the host going away ends the helper. */
static void
flush_stdout(void)
{
	int	rc;

	if ((rc = outbuf_flush(&out, STDOUT_FILENO)) < 0) {
		/* The main process went away: same as EOF on stdin. */
		log_debug("stdout: %s; exiting", strerror(-rc));
		exit(0);
	}
}

static void
emit_stdout(void *arg, const char *line, size_t len)
{
	int	queued = outbuf_len(&out) > 0;

	outbuf_line(&out, line, len);
	/* Bytes already queued mean the pipe was full: POLLOUT will tell. */
	if (!queued)
		flush_stdout();
}

static size_t
backlog_stdout(void *arg)
{
	return outbuf_len(&out);
}

/*
 * Before exiting: give the host what is queued, waiting for room at most
 * a second at a time, so a host that stopped reading cannot keep the
 * helper alive.
 */
static void
drain_stdout(void)
{
	struct pollfd	pfd;
	int		rc;

	while (outbuf_len(&out) > 0) {
		flush_stdout();
		if (outbuf_len(&out) == 0)
			break;
		pfd.fd = STDOUT_FILENO;
		pfd.events = POLLOUT;
		rc = poll(&pfd, 1, 1000);
		if (rc == 0 || (rc == -1 && errno != EINTR))
			break;
	}
}

static void
on_line(void *arg, const char *line, size_t len, int toolong)
{
	struct session	*s = arg;

	if (s->closing != NULL)
		return;		/* main() exits before reading more */
	if (toolong)
		dispatch_toolong(s);
	else
		dispatch_line(s, line, len);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "version",		no_argument,		NULL, 'V' },
		{ "debug",		no_argument,		NULL, 'd' },
		{ "xenstore-socket",	required_argument,	NULL, 's' },
		{ "qmp-dir",		required_argument,	NULL, 'q' },
		{ "xl",			required_argument,	NULL, 'x' },
		{ "log-dir",		required_argument,	NULL, 'l' },
		{ "lock-dir",		required_argument,	NULL, 'k' },
		{ "help",		no_argument,		NULL, 'h' },
		{ NULL,			0,			NULL, 0 }
	};
	struct config	 cfg;
	struct session	 s;
	struct linebuf	 lb;
	struct pollfd	 pfd[3];
	const char	*pkexec_uid, *why;
	char		*buf;
	uint64_t	 uid;
	int		 ch, debug = 0, overrides = 0, timeout, t, nfds;
	int		 ixs, iout, held, flags;
	ssize_t		 n;

	/*
	 * Privilege phase 1: who are we?  "Elevated" means started by
	 * pkexec (which sets PKEXEC_UID to the invoking user) or with a
	 * real id different from the effective one (setuid/setgid).
	 * Running as root from a root shell is not elevation: that is
	 * how tests run, and such a caller could do anything anyway.
	 */
	memset(&cfg, 0, sizeof(cfg));
	pkexec_uid = getenv("PKEXEC_UID");
	cfg.elevated = pkexec_uid != NULL || getuid() != geteuid() ||
	    getgid() != getegid();
	cfg.user_uid = getuid();
	cfg.user_gid = getgid();
	if (pkexec_uid != NULL) {
		if (parse_uint(pkexec_uid, UINT32_MAX - 1, &uid) != 0)
			fatalx("PKEXEC_UID is not a uid");
		cfg.user_uid = (uid_t)uid;
		/* The invoking user's primary group is not passed: use nobody's. */
		cfg.user_gid = 65534;
	}
	cfg.qmp_dir = DEFAULT_QMP_DIR;
	cfg.xl = DEFAULT_XL;
	cfg.log_dir = DEFAULT_LOG_DIR;
	cfg.lock_dir = DEFAULT_LOCK_DIR;
	cfg.xl_config_dir = DEFAULT_XL_CONFIG_DIR;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'V':
			printf("%s %s (protocol %d)\n", HELPER_NAME,
			    HELPER_VERSION, PROTOCOL_VERSION);
			return 0;
		case 'd':
			debug = 1;
			break;
		case 's':
		case 'q':
		case 'x':
		case 'l':
		case 'k':
			if ((why = file_path_check(optarg)) != NULL)
				fatalx("--%s %s: %s", ch == 's' ?
				    "xenstore-socket" : ch == 'q' ? "qmp-dir" :
				    ch == 'x' ? "xl" : ch == 'l' ? "log-dir" :
				    "lock-dir", optarg, why);
			overrides++;
			if (ch == 's')
				cfg.xs_socket = optarg;
			else if (ch == 'q')
				cfg.qmp_dir = optarg;
			else if (ch == 'x')
				cfg.xl = optarg;
			else if (ch == 'l')
				cfg.log_dir = optarg;
			else
				cfg.lock_dir = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init(debug);
	if (overrides > 0 && cfg.elevated) {
		/* Refuse rather than ignore: a silent fallback hides mistakes. */
		fprintf(stderr, "%s: path overrides are refused when "
		    "elevated\n", HELPER_NAME);
		return 2;
	}
	if (overrides > 0)
		cfg.xl_config_dir = NULL;	/* any absolute config path */

	/*
	 * Privilege phase 2: shed what was inherited.  Stray fds are
	 * closed, no exec'd program can gain privileges (xl needs the root
	 * we already have, nothing more), core dumps of an elevated helper
	 * are off, and the environment is emptied so that libxenstore and
	 * children see only what we set.  Supplementary groups inherited
	 * from the invoking context are dropped (root needs none of them).
	 * Capabilities are kept: xl, which we exec, needs the full
	 * toolstack privileges of root (privcmd, evtchn, gntdev, xenstore).
	 */
	sanitize_fds();
	if (cfg.elevated && geteuid() == 0 && setgroups(0, NULL) == -1)
		fatal("setgroups");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
	if (cfg.elevated && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_DUMPABLE)");
	umask(077);
	if (clearenv() != 0)
		fatalx("clearenv");
	if (cfg.xs_socket != NULL &&
	    setenv("XENSTORED_PATH", cfg.xs_socket, 1) == -1)
		fatal("setenv");
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatal("signal");
	/* A host that reads slowly must never block the helper. */
	if ((flags = fcntl(STDOUT_FILENO, F_GETFL)) == -1 ||
	    fcntl(STDOUT_FILENO, F_SETFL, flags | O_NONBLOCK) == -1)
		fatal("fcntl stdout");

	outbuf_init(&out);
	session_init(&s, &cfg, emit_stdout, NULL);
	s.backlog = backlog_stdout;
	linebuf_init(&lb);
	buf = xmalloc(MAX_LINE);
	log_debug("ready (elevated %d)", cfg.elevated);

	for (;;) {
		held = session_output_held(&s);
		nfds = 0;
		/* Past OUT_HARD even replies wait: requests are not read. */
		if (outbuf_len(&out) <= OUT_HARD) {
			pfd[nfds].fd = STDIN_FILENO;
			pfd[nfds].events = POLLIN;
			pfd[nfds++].revents = 0;
		}
		ixs = iout = -1;
		if ((pfd[nfds].fd = xsops_fd(&s)) != -1) {
			pfd[nfds].events = POLLIN;
			pfd[nfds].revents = 0;
			ixs = nfds++;
		}
		if (outbuf_len(&out) > 0) {
			pfd[nfds].fd = STDOUT_FILENO;
			pfd[nfds].events = POLLOUT;
			pfd[nfds].revents = 0;
			iout = nfds++;
		}
		/*
		 * While the output is held the timed sources wait: they
		 * report the state they find when they run again.
		 */
		timeout = -1;
		if (!held) {
			timeout = dominfo_timeout(&s);
			t = logtail_timeout(&s);
			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
			t = dm_timeout(&s);
			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
			if (xsops_pending(&s))
				timeout = 0;
		}
		if (poll(pfd, (nfds_t)nfds, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (iout != -1 && pfd[iout].revents != 0)
			flush_stdout();
		if (pfd[0].fd == STDIN_FILENO &&
		    (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = read_retry(STDIN_FILENO, buf, MAX_LINE);
			if (n == -1 && errno != EAGAIN)
				fatal("read stdin");
			if (n == 0)
				break;
			if (n > 0)
				linebuf_feed(&lb, buf, (size_t)n, on_line, &s);
			if (s.closing != NULL) {
				drain_stdout();
				fatalx("state error: %s", s.closing);
			}
		}
		/*
		 * Pumped on every wake-up, not only when the watch pipe is
		 * readable: when xenstored goes away, libxenstore's reader
		 * thread closes the connection without writing to the pipe,
		 * and only xs_check_watch tells (EINVAL), so xs.lost is sent
		 * at the next request or timer instead of never.  Pending
		 * events are delivered once the output has room again.
		 */
		if (ixs != -1 || xsops_pending(&s))
			xsops_pump(&s);
		if (session_output_held(&s))
			continue;
		dominfo_tick(&s);
		logtail_tick(&s);
		dm_tick(&s);
	}
	drain_stdout();
	log_debug("EOF on stdin; exiting");
	free(buf);
	linebuf_free(&lb);
	session_free(&s);
	outbuf_free(&out);
	return 0;
}
