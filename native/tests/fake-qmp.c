/*
 * fake-qmp.c: a scripted QEMU monitor (see fake-qmp.h).  It receives
 * with fd_recv(), so the helper's SCM_RIGHTS path is exercised on both
 * ends, and checks that a passed fd is read-only as QEMU requires for a
 * read-only CD-ROM drive.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "fake-qmp.h"
#include "fdpass.h"
#include "util.h"

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, " \
	"\"minor\": 2, \"major\": 7}, \"package\": \"Debian " \
	"1:7.2+dfsg-7+deb12u18+b3\"}, \"capabilities\": [\"oob\"]}}\r\n"
#define TRAY(open) "{\"timestamp\": {\"seconds\": 1795279534, " \
	"\"microseconds\": 682774}, \"event\": \"DEVICE_TRAY_MOVED\", " \
	"\"data\": {\"device\": \"ide-5632\", \"tray-open\": " open ", " \
	"\"id\": \"ide-5632\"}}\r\n"

static void
say(int s, const char *text)
{
	(void)write_all(s, text, strlen(text));
}

static void
answer(int s, json_t *cmd, int fd)
{
	const char	*ex;
	char		 buf[512];
	json_int_t	 set;
	int		 fl;

	ex = json_string_value(json_object_get(cmd, "execute"));
	if (ex == NULL)
		ex = "";
	set = json_integer_value(json_object_get(json_object_get(cmd,
	    "arguments"), "fdset-id"));
	if (strcmp(ex, "qmp_capabilities") == 0)
		say(s, "{\"return\": {}}\r\n");
	else if (strcmp(ex, "query-status") == 0)
		say(s, "{\"return\": {\"status\": \"running\", \"singlestep\": "
		    "false, \"running\": true}}\r\n");
	else if (strcmp(ex, "query-fdsets") == 0)
		say(s, "{\"return\": []}\r\n");
	else if (strcmp(ex, "eject") == 0) {
		say(s, TRAY("true"));
		say(s, "{\"return\": {}}\r\n");
	} else if (strcmp(ex, "blockdev-change-medium") == 0) {
		say(s, TRAY("false"));
		say(s, "{\"return\": {}}\r\n");
	} else if (strcmp(ex, "add-fd") == 0) {
		if (fd == -1)
			say(s, "{\"error\": {\"class\": \"GenericError\", "
			    "\"desc\": \"No file descriptor supplied via "
			    "SCM_RIGHTS\"}}\r\n");
		else if ((fl = fcntl(fd, F_GETFL)) == -1 ||
		    (fl & O_ACCMODE) != O_RDONLY)
			say(s, "{\"error\": {\"class\": \"GenericError\", "
			    "\"desc\": \"fake: the fd is not read-only\"}}\r\n");
		else {
			snprintf(buf, sizeof(buf), "{\"return\": {\"fd\": 12, "
			    "\"fdset-id\": %lld}}\r\n", (long long)set);
			say(s, buf);
		}
	} else if (strcmp(ex, "remove-fd") == 0) {
		snprintf(buf, sizeof(buf), "{\"error\": {\"class\": "
		    "\"GenericError\", \"desc\": \"File descriptor named "
		    "'fdset-id:%lld' not found\"}}\r\n", (long long)set);
		say(s, buf);
	} else if (strcmp(ex, "query-version") == 0)
		;	/* hung */
	else {
		snprintf(buf, sizeof(buf), "{\"error\": {\"class\": "
		    "\"CommandNotFound\", \"desc\": \"The command %.64s has "
		    "not been found\"}}\r\n", ex);
		say(s, buf);
	}
}

static void
serve(int s)
{
	char	 buf[65536], *nl;
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd, pending = -1;
	json_t	*cmd;

	say(s, GREETING);
	for (;;) {
		n = fd_recv(s, buf + len, sizeof(buf) - len - 1, &fd);
		if (n <= 0)
			break;
		if (fd != -1) {
			if (pending != -1)
				close(pending);
			pending = fd;
		}
		len += (size_t)n;
		while ((nl = memchr(buf, '\n', len)) != NULL) {
			cmd = json_loadb(buf, (size_t)(nl - buf), 0, NULL);
			answer(s, cmd, pending);
			json_decref(cmd);
			if (pending != -1)
				close(pending);
			pending = -1;
			len -= (size_t)(nl - buf) + 1;
			memmove(buf, nl + 1, len);
		}
	}
	if (pending != -1)
		close(pending);
}

pid_t
fake_qmp_start(const char *path)
{
	struct sockaddr_un	 sun;
	pid_t			 pid;
	int			 l, c;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, path, strlen(path));
	unlink(path);
	if ((l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (bind(l, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(l, 4) == -1) {
		close(l);
		return -1;
	}
	if ((pid = fork()) == -1) {
		close(l);
		return -1;
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		for (;;) {
			if ((c = accept4(l, NULL, NULL, SOCK_CLOEXEC)) == -1) {
				if (errno == EINTR)
					continue;
				_exit(1);
			}
			serve(c);
			close(c);
		}
	}
	close(l);
	return pid;
}

void
fake_qmp_stop(pid_t pid)
{
	int	status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
}
