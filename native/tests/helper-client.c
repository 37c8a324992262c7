/*
 * helper-client.c: a minimal client for the helper's JSON-lines
 * protocol, for tests and the benchmark.  Replies are matched by id;
 * events that arrive meanwhile are queued in hc->events.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helper-client.h"

static long long
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
hc_start(struct hc *hc, char *const argv[])
{
	int	in[2], out[2];

	memset(hc, 0, sizeof(*hc));
	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	hc->pid = fork();
	if (hc->pid == -1)
		return -1;
	if (hc->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	hc->to = in[1];
	hc->from = out[0];
	hc->cap = 1 << 20;
	hc->buf = malloc(hc->cap);
	hc->events = json_array();
	hc->next_id = 1;
	return 0;
}

int
hc_stop(struct hc *hc)
{
	int	status;

	if (hc->to != -1)
		close(hc->to);
	hc->to = -1;
	if (waitpid(hc->pid, &status, 0) == -1)
		return -1;
	close(hc->from);
	free(hc->buf);
	json_decref(hc->events);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int
hc_send_raw(struct hc *hc, const char *line, size_t len)
{
	char	*b = malloc(len + 1);
	size_t	 off = 0;
	ssize_t	 n;

	memcpy(b, line, len);
	b[len] = '\n';
	while (off < len + 1) {
		n = write(hc->to, b + off, len + 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(b);
			return -1;
		}
		off += (size_t)n;
	}
	free(b);
	return 0;
}

json_t *
hc_recv(struct hc *hc, int timeout_ms)
{
	long long	 deadline = mono_ms() + timeout_ms;
	struct pollfd	 pfd;
	char		*nl;
	json_t		*j;
	ssize_t		 n;
	size_t		 linelen;

	for (;;) {
		nl = memchr(hc->buf, '\n', hc->len);
		if (nl != NULL) {
			linelen = (size_t)(nl - hc->buf);
			j = json_loadb(hc->buf, linelen, 0, NULL);
			if (j == NULL)
				fprintf(stderr, "# helper printed non-JSON: "
				    "%.*s\n", (int)linelen, hc->buf);
			memmove(hc->buf, nl + 1, hc->len - linelen - 1);
			hc->len -= linelen + 1;
			if (j != NULL)
				return j;
			continue;
		}
		if (mono_ms() >= deadline)
			return NULL;
		pfd.fd = hc->from;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(deadline - mono_ms())) <= 0)
			continue;
		if (hc->len == hc->cap) {
			hc->cap *= 2;
			hc->buf = realloc(hc->buf, hc->cap);
		}
		n = read(hc->from, hc->buf + hc->len, hc->cap - hc->len);
		if (n <= 0)
			return NULL;
		hc->len += (size_t)n;
	}
}

json_t *
hc_call(struct hc *hc, const char *op, json_t *args, int timeout_ms)
{
	long long	 id = hc->next_id++;
	json_t		*req, *r;
	char		*line;

	req = json_pack("{s:i, s:I, s:s, s:o}", "v", 1, "id", id, "op", op,
	    "args", args != NULL ? args : json_object());
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	hc_send_raw(hc, line, strlen(line));
	free(line);
	for (;;) {
		if ((r = hc_recv(hc, timeout_ms)) == NULL)
			return NULL;
		if (json_object_get(r, "event") != NULL) {
			json_array_append_new(hc->events, r);
			continue;
		}
		if (json_integer_value(json_object_get(r, "id")) == id)
			return r;
		json_decref(r);
	}
}

static int
event_matches(json_t *ev, const char *name, const char *key, const char *val)
{
	json_t	*d, *v;
	char	*s;
	int	 m;

	if (strcmp(json_string_value(json_object_get(ev, "event")) ?: "",
	    name) != 0)
		return 0;
	if (key == NULL)
		return 1;
	d = json_object_get(ev, "data");
	v = json_object_get(d, key);
	if (v == NULL)
		return 0;
	if (json_is_string(v))
		return strcmp(json_string_value(v), val) == 0;
	s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	m = strcmp(s, val) == 0;
	free(s);
	return m;
}

json_t *
hc_wait_event(struct hc *hc, const char *name, const char *key,
    const char *val, int timeout_ms)
{
	long long	 deadline = mono_ms() + timeout_ms;
	size_t		 i;
	json_t		*ev;

	json_array_foreach(hc->events, i, ev) {
		if (event_matches(ev, name, key, val)) {
			json_incref(ev);
			json_array_remove(hc->events, i);
			return ev;
		}
	}
	while (mono_ms() < deadline) {
		ev = hc_recv(hc, (int)(deadline - mono_ms()));
		if (ev == NULL)
			return NULL;
		if (event_matches(ev, name, key, val))
			return ev;
		if (json_object_get(ev, "event") != NULL)
			json_array_append_new(hc->events, ev);
		else
			json_decref(ev);
	}
	return NULL;
}

const char *
hc_code(json_t *reply)
{
	json_t	*e;

	if (reply == NULL)
		return "(no reply)";
	if (json_is_true(json_object_get(reply, "ok")))
		return "";
	e = json_object_get(reply, "error");
	return json_string_value(json_object_get(e, "code")) ?: "(bad)";
}
