/*
 * proc.c: the only place the helper starts another program.  It uses
 * execve() with an argv the caller has already checked against the xl
 * allowlist and a fixed environment: there is no shell anywhere, so
 * metacharacters in arguments mean nothing.  The child gets stdin from
 * /dev/null and no fds but its three standard ones.  On timeout it
 * gets SIGTERM, then SIGKILL two seconds later; only the child's own
 * pid is signalled, because xl create leaves a monitor daemon behind
 * that must live on.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "proto.h"
#include "util.h"

#define KILL_GRACE_MS	2000

struct stream {
	int	 fd;
	char	*buf;
	size_t	 len;
	int	 truncated;
	char	 line[MAX_LOG_LINE];
	size_t	 linelen;
};

static void
stream_add(struct stream *st, const char *data, size_t n,
    const struct proc_hooks *h, int lines)
{
	size_t	i, room;

	room = MAX_XL_OUTPUT - st->len;
	if (n > room) {
		st->truncated = 1;
		memcpy(st->buf + st->len, data, room);
		st->len += room;
	} else {
		memcpy(st->buf + st->len, data, n);
		st->len += n;
	}
	if (!lines || h == NULL || h->line == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (data[i] == '\n' || st->linelen == sizeof(st->line)) {
			h->line(h->arg, st->line, st->linelen);
			st->linelen = 0;
			if (data[i] == '\n')
				continue;
		}
		st->line[st->linelen++] = data[i];
	}
}

int
proc_run(const char *path, char *const argv[], char *const envp[],
    int timeout_ms, const struct proc_hooks *h, struct proc_result *res)
{
	struct stream	 st[2];
	struct pollfd	 pfd[3];
	char		 buf[8192];
	int		 outp[2], errp[2], i, nfd, status, pumpfd, term_sent = 0;
	int64_t		 deadline, kill_at = 0, now;
	pid_t		 pid;
	ssize_t		 n;

	memset(res, 0, sizeof(*res));
	memset(st, 0, sizeof(st));
	if (pipe2(outp, O_CLOEXEC) == -1)
		return -errno;
	if (pipe2(errp, O_CLOEXEC) == -1) {
		i = errno;
		close(outp[0]);
		close(outp[1]);
		return -i;
	}
	if ((pid = fork()) == -1) {
		i = errno;
		close(outp[0]);
		close(outp[1]);
		close(errp[0]);
		close(errp[1]);
		return -i;
	}
	if (pid == 0) {
		int devnull;

		/* Only async-signal-safe calls from here to execve. */
		devnull = open("/dev/null", O_RDONLY);
		if (devnull == -1 || dup2(devnull, 0) == -1 ||
		    dup2(outp[1], 1) == -1 || dup2(errp[1], 2) == -1)
			_exit(126);
		if (close_range(3, ~0U, 0) == -1) {
			for (i = 3; i < 1024; i++)
				close(i);
		}
		signal(SIGPIPE, SIG_DFL);
		execve(path, argv, envp);
		_exit(127);
	}
	close(outp[1]);
	close(errp[1]);
	st[0].fd = outp[0];
	st[1].fd = errp[0];
	st[0].buf = xmalloc(MAX_XL_OUTPUT + 1);
	st[1].buf = xmalloc(MAX_XL_OUTPUT + 1);
	deadline = now_ms() + timeout_ms;

	while (st[0].fd != -1 || st[1].fd != -1) {
		nfd = 0;
		for (i = 0; i < 2; i++) {
			if (st[i].fd == -1)
				continue;
			pfd[nfd].fd = st[i].fd;
			pfd[nfd].events = POLLIN;
			pfd[nfd].revents = 0;
			nfd++;
		}
		pumpfd = h != NULL && h->pump_fd != NULL ?
		    h->pump_fd(h->arg) : -1;
		if (pumpfd != -1) {
			pfd[nfd].fd = pumpfd;
			pfd[nfd].events = POLLIN;
			pfd[nfd].revents = 0;
			nfd++;
		}
		now = now_ms();
		if (!term_sent && now >= deadline) {
			res->timed_out = 1;
			kill(pid, SIGTERM);
			term_sent = 1;
			kill_at = now + KILL_GRACE_MS;
		} else if (term_sent && kill_at != 0 && now >= kill_at) {
			kill(pid, SIGKILL);
			kill_at = 0;
		}
		if (poll(pfd, (nfds_t)nfd, 100) == -1 && errno != EINTR)
			fatal("poll");
		for (i = 0; i < nfd; i++) {
			int s;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (pfd[i].fd == pumpfd) {
				h->pump(h->arg);
				continue;
			}
			s = pfd[i].fd == st[0].fd ? 0 : 1;
			n = read_retry(st[s].fd, buf, sizeof(buf));
			if (n <= 0) {
				close(st[s].fd);
				st[s].fd = -1;
				continue;
			}
			stream_add(&st[s], buf, (size_t)n, h, s == 1);
		}
	}
	/* A last stderr line without '\n'. */
	if (st[1].linelen > 0 && h != NULL && h->line != NULL)
		h->line(h->arg, st[1].line, st[1].linelen);
	/* The pipes closed; the child may still be running (fd handed on). */
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r == -1 && errno != EINTR)
			fatal("waitpid");
		now = now_ms();
		if (!term_sent && now >= deadline) {
			res->timed_out = 1;
			kill(pid, SIGTERM);
			term_sent = 1;
			kill_at = now + KILL_GRACE_MS;
		} else if (term_sent && kill_at != 0 && now >= kill_at) {
			kill(pid, SIGKILL);
			kill_at = 0;
		}
		poll(NULL, 0, 10);
	}
	if (WIFEXITED(status)) {
		res->exited = 1;
		res->status = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status))
		res->signal = WTERMSIG(status);
	st[0].buf[st[0].len] = '\0';
	st[1].buf[st[1].len] = '\0';
	res->out = st[0].buf;
	res->outlen = st[0].len;
	res->out_truncated = st[0].truncated;
	res->err = st[1].buf;
	res->errlen = st[1].len;
	res->err_truncated = st[1].truncated;
	return 0;
}

void
proc_result_free(struct proc_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}
