/*
 * it-flood.c: the helper's memory stays bounded when the host reads its
 * stdout slowly while a guest floods a watched subtree.  Against the real
 * xenstored fixture: the test starts the helper, watches /xendeck/flood,
 * stops reading the helper's stdout and floods xenstore with pipelined
 * XS_WRITE requests on a socket of its own (libxenstore's xs_write waits
 * for each reply: far too slow for a flood), sampling the helper's VmRSS
 * from /proc as it goes.  Then it reads again: the helper answers a
 * request, and the stream holds every written node's latest value, or,
 * when the flood had more distinct nodes than the helper keeps pending,
 * an xs.overflow event followed by normal events.  Last, a host that
 * sends requests and reads nothing: the helper stops reading them once
 * its queued replies pass OUT_HARD, and answers every one afterwards.
 *
 * usage: it-flood HELPER SOCKET [RSS_BOUND_KIB]
 * RSS_BOUND_KIB 0 (the ASan build, whose allocator keeps freed memory in
 * quarantine) reports the figures without asserting a bound.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <xen/io/xs_wire.h>

#include "helper-client.h"
#include "tap.h"

#define T		5000	/* ms to wait for a reply */
#define DRAIN_MS	60000	/* ms to wait for the backlog to come out */
#define ROOT		"/xendeck/flood"
#define KEYS		1000	/* distinct nodes of the deduplicating flood */
#define WRITES		300000	/* writes of the deduplicating flood */
#define FILL		5000	/* large writes that fill the output buffer */
#define FILL_VALUE	1000	/* bytes in each of them */
#define DISTINCT	70000	/* distinct nodes after them: over the bound */
#define WINDOW		128	/* XS_WRITE requests in flight */

static struct hc	 hc;
static int		 xsfd;
static uint32_t		 req_id;
static long		 rss_max_kib;

static long long
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* VmRSS of the helper in KiB, or -1. */
static long
rss_kib(void)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 v = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)hc.pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

static void
sample(void)
{
	long	v = rss_kib();

	if (v > rss_max_kib)
		rss_max_kib = v;
}

static int
xs_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
read_full(int fd, void *p, size_t n)
{
	size_t	off = 0;
	ssize_t	r;

	while (off < n) {
		r = read(fd, (char *)p + off, n - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

/* Read one reply; -1 on an error reply or a broken connection. */
static int
read_reply(void)
{
	struct xsd_sockmsg	m;
	char			body[XENSTORE_PAYLOAD_MAX + 1];

	if (read_full(xsfd, &m, sizeof(m)) == -1 ||
	    m.len > XENSTORE_PAYLOAD_MAX || read_full(xsfd, body, m.len) == -1)
		return -1;
	if (m.type == XS_ERROR) {
		body[m.len] = '\0';
		fprintf(stderr, "# xenstored: %s\n", body);
		return -1;
	}
	return 0;
}

static int
send_msg(uint32_t type, const char *path, const char *value, size_t vlen)
{
	struct xsd_sockmsg	 m;
	char			 buf[sizeof(m) + XENSTORE_PAYLOAD_MAX];
	size_t			 plen = strlen(path) + 1, off = 0;
	ssize_t			 r;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.req_id = ++req_id;
	m.len = (uint32_t)(plen + vlen);
	memcpy(buf, &m, sizeof(m));
	memcpy(buf + sizeof(m), path, plen);
	memcpy(buf + sizeof(m) + plen, value, vlen);
	while (off < sizeof(m) + m.len) {
		r = write(xsfd, buf + off, sizeof(m) + m.len - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

/*
 * A flood of pipelined writes, WINDOW in flight; the helper's RSS is
 * sampled every 1000 writes.  Returns writes/s, or -1.
 */
static double
flood(size_t n, void (*gen)(size_t, char *, size_t, char *, size_t *))
{
	char		 path[128], value[FILL_VALUE + 1];
	size_t		 i, inflight = 0, vlen;
	long long	 t0 = mono_ms(), dt;

	for (i = 0; i < n; i++) {
		gen(i, path, sizeof(path), value, &vlen);
		if (send_msg(XS_WRITE, path, value, vlen) == -1)
			return -1;
		if (++inflight == WINDOW) {
			while (inflight > WINDOW / 2) {
				if (read_reply() == -1)
					return -1;
				inflight--;
			}
		}
		if (i % 1000 == 0)
			sample();
	}
	while (inflight > 0) {
		if (read_reply() == -1)
			return -1;
		inflight--;
	}
	dt = mono_ms() - t0;
	return (double)n * 1000.0 / (double)(dt > 0 ? dt : 1);
}

/* FILL large values: 5 MB of events, more than the helper's output buffer. */
static void
gen_fill(size_t i, char *path, size_t plen, char *value, size_t *vlen)
{
	snprintf(path, plen, ROOT "/big/d%zu/k%zu", i / 250, i % 250);
	memset(value, 'x', FILL_VALUE);
	*vlen = FILL_VALUE;
}

/* FILL, then WRITES times over KEYS nodes: the value is the write's number. */
static void
gen_dedupe(size_t i, char *path, size_t plen, char *value, size_t *vlen)
{
	if (i < FILL) {
		gen_fill(i, path, plen, value, vlen);
		return;
	}
	i -= FILL;
	snprintf(path, plen, ROOT "/a/k%zu", i % KEYS);
	*vlen = (size_t)snprintf(value, 32, "%zu", i);
}

/* FILL, then DISTINCT nodes written once each. */
static void
gen_distinct(size_t i, char *path, size_t plen, char *value, size_t *vlen)
{
	if (i < FILL)
		gen_fill(i, path, plen, value, vlen);
	else {
		/* 250 a directory: xenstored rewrites a parent per child. */
		snprintf(path, plen, ROOT "/b/d%zu/k%zu", (i - FILL) / 250,
		    (i - FILL) % 250);
		*vlen = (size_t)snprintf(value, 32, "%zu", i);
	}
}

/*
 * Let the helper keep working a moment without a reader (it is draining
 * libxenstore), sampling; 1 s in 50 ms steps.
 */
static void
settle(void)
{
	int	i;

	for (i = 0; i < 20; i++) {
		usleep(50000);
		sample();
	}
}

static int
is_event(json_t *j, const char *name)
{
	return strcmp(json_string_value(json_object_get(j, "event")) ?: "",
	    name) == 0;
}

/* The events queued while waiting for a reply, then the stream, in order. */
static json_t *
next_event(int timeout_ms)
{
	json_t	*ev;

	if (json_array_size(hc.events) > 0) {
		ev = json_array_get(hc.events, 0);
		json_incref(ev);
		json_array_remove(hc.events, 0);
		return ev;
	}
	for (;;) {
		if ((ev = hc_recv(&hc, timeout_ms)) == NULL)
			return NULL;
		if (json_object_get(ev, "event") != NULL)
			return ev;
		json_decref(ev);
	}
}

static json_t *
call(const char *op, json_t *args)
{
	return hc_call(&hc, op, args, T);
}

static int
is_ok(json_t *r)
{
	int	ok = r != NULL && json_is_true(json_object_get(r, "ok"));

	json_decref(r);
	return ok;
}

static void
report(const char *what, long bound, long before, double rate)
{
	printf("# %s: %.0f writes/s; helper VmRSS %ld KiB before, "
	    "%ld KiB at most during the flood\n", what, rate, before,
	    rss_max_kib);
	if (bound > 0)
		ok(rss_max_kib > 0 && rss_max_kib < bound, "%s: the helper's "
		    "VmRSS stays under %ld KiB (at most %ld KiB)", what, bound,
		    rss_max_kib);
}

/*
 * Phase 1: large values fill the output buffer, then 300,000 writes over
 * 1,000 nodes.  Every node's last event must carry the last value written
 * to it, and no overflow may happen.
 */
static void
test_dedupe(long bound)
{
	static long	 last[KEYS];
	json_t		*ev, *d;
	const char	*p, *v;
	long		 before;
	size_t		 i, events = 0, matched = 0;
	int		 overflow = 0, marker = 0;
	double		 rate;
	long long	 deadline;

	for (i = 0; i < KEYS; i++)
		last[i] = -1;
	rss_max_kib = 0;
	before = rss_kib();
	rate = flood(FILL + WRITES, gen_dedupe);
	ok(rate > 0, "flood of %d large writes, then %d over %d nodes, nobody "
	    "reading the helper", FILL, WRITES, KEYS);
	settle();
	report("deduplicating flood", bound, before, rate);
	if (send_msg(XS_WRITE, ROOT "/a-end", "done", 4) == -1 ||
	    read_reply() == -1)
		ok(0, "write the marker node");
	ok(is_ok(call("ping", NULL)), "reading again: the helper answers "
	    "a request");
	/* The marker was written last: its event comes after the others. */
	deadline = mono_ms() + DRAIN_MS;
	while (!marker && mono_ms() < deadline) {
		if ((ev = next_event(T)) == NULL)
			break;
		if (is_event(ev, "xs.overflow"))
			overflow = 1;
		d = json_object_get(ev, "data");
		p = json_string_value(json_object_get(d, "path"));
		v = json_string_value(json_object_get(d, "value"));
		if (is_event(ev, "xs.watch") && p != NULL &&
		    strcmp(p, ROOT "/a-end") == 0)
			marker = 1;
		else if (is_event(ev, "xs.watch") && p != NULL && v != NULL &&
		    strncmp(p, ROOT "/a/k", strlen(ROOT "/a/k")) == 0) {
			size_t	k = strtoul(p + strlen(ROOT "/a/k"), NULL, 10);

			events++;
			if (k < KEYS)
				last[k] = strtol(v, NULL, 10);
		}
		json_decref(ev);
	}
	for (i = 0; i < KEYS; i++)
		if (last[i] == (long)(WRITES - KEYS + i))
			matched++;
	printf("# %zu events for the %d nodes came out for %d writes\n",
	    events, KEYS, WRITES);
	ok(marker, "a node written after the flood is reported");
	ok(matched == KEYS, "every node's latest value came out (%zu of %d)",
	    matched, KEYS);
	ok(!overflow, "no xs.overflow: %d distinct nodes fit the pending "
	    "set", KEYS);
}

/*
 * Phase 2: large values fill the output buffer, then 70,000 distinct
 * nodes: more than the helper keeps pending.  Expect xs.overflow, then
 * normal events, and a node written after the flood is reported.
 */
static void
test_overflow(long bound)
{
	json_t		*ev, *d;
	const char	*p;
	long		 before;
	long long	 deadline;
	json_int_t	 dropped = 0;
	int		 overflow = 0, after = 0, marker = 0, order = 1;
	double		 rate;

	rss_max_kib = 0;
	before = rss_kib();
	rate = flood(FILL + DISTINCT, gen_distinct);
	ok(rate > 0, "flood of %d large and %d distinct writes, nobody "
	    "reading the helper", FILL, DISTINCT);
	settle();
	report("distinct-node flood", bound, before, rate);
	if (send_msg(XS_WRITE, ROOT "/end", "done", 4) == -1 ||
	    read_reply() == -1)
		ok(0, "write the marker node");
	ok(is_ok(call("ping", NULL)), "reading again: the helper answers "
	    "a request");
	deadline = mono_ms() + DRAIN_MS;
	while (!marker && mono_ms() < deadline) {
		if ((ev = next_event(T)) == NULL)
			break;
		d = json_object_get(ev, "data");
		if (is_event(ev, "xs.overflow")) {
			if (overflow)
				order = 0;	/* one per overflow episode */
			overflow = 1;
			dropped = json_integer_value(json_object_get(d,
			    "dropped"));
		} else if (is_event(ev, "xs.watch")) {
			p = json_string_value(json_object_get(d, "path"));
			if (overflow)
				after++;
			if (p != NULL && strcmp(p, ROOT "/end") == 0)
				marker = 1;
		}
		json_decref(ev);
	}
	printf("# xs.overflow dropped %lld; %d events after it\n",
	    (long long)dropped, after);
	ok(overflow && dropped > 0, "an xs.overflow event reports the "
	    "dropped events (%lld)", (long long)dropped);
	ok(order && after > 0, "normal xs.watch events follow it");
	ok(marker, "a node written after the flood is reported");
	ok(is_ok(call("ping", NULL)), "and the helper still answers");
}

/*
 * Phase 3: a host that sends requests and reads nothing.  Replies are
 * never dropped, but past OUT_HARD (16 MiB) queued the helper stops
 * reading requests: the host's writes then fill the stdin pipe (EAGAIN
 * here).  Reading again, every request sent gets its reply.
 */
static void
test_requests(long bound)
{
	char		 value[4001], *line, *p;
	size_t		 sent = 0, len, i, replies = 0;
	long		 before;
	json_t		*r;
	int		 blocked = 0, ids_ok = 1, flags, tries;
	ssize_t		 n;

	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	if (send_msg(XS_WRITE, ROOT "/big4k", value, sizeof(value) - 1) ==
	    -1 || read_reply() == -1)
		ok(0, "write a 4000-byte node");
	rss_max_kib = 0;
	before = rss_kib();
	/*
	 * Batches of 32 reads of 4000 bytes each: ~130 KB of replies for a
	 * line under PIPE_BUF, which a non-blocking write takes whole or
	 * not at all.
	 */
	len = 0;
	line = malloc(PIPE_BUF);
	for (i = 0; i < 32; i++)
		len += (size_t)sprintf(line + len, "%s{\"v\":1,\"id\":%zu,"
		    "\"op\":\"xs.read\",\"args\":{\"path\":\"" ROOT "/big4k\"}}",
		    i == 0 ? "[" : ",", 1000000 + i);
	len += (size_t)sprintf(line + len, "]\n");
	flags = fcntl(hc.to, F_GETFL);
	fcntl(hc.to, F_SETFL, flags | O_NONBLOCK);
	/* Up to 500 MB of replies: far past the bound unless reading stops. */
	while (!blocked && sent < 4000) {
		for (tries = 0; tries < 10; tries++) {
			if ((n = write(hc.to, line, len)) == (ssize_t)len)
				break;
			/* Full: give the helper time to read. */
			usleep(50000);
			sample();
		}
		if (tries == 10)
			blocked = 1;
		else
			sent++;
		sample();
	}
	fcntl(hc.to, F_SETFL, flags);
	free(line);
	printf("# %zu batches of 32 requests sent before the helper stopped "
	    "reading; VmRSS %ld KiB before, %ld KiB at most\n", sent,
	    before, rss_max_kib);
	ok(blocked, "a host that never reads: the helper stops reading its "
	    "requests (after %zu batches)", sent);
	if (bound > 0)
		ok(rss_max_kib > 0 && rss_max_kib < 2 * bound, "and its VmRSS "
		    "stays under %ld KiB (at most %ld KiB)", 2 * bound,
		    rss_max_kib);
	/* Every batch sent is answered, in order, nothing dropped. */
	for (i = 0; i < sent; i++) {
		do {
			r = hc_recv(&hc, T);
		} while (r != NULL && json_object_get(r, "event") != NULL &&
		    (json_decref(r), 1));
		if (r == NULL)
			break;
		if (!json_is_array(r) || json_array_size(r) != 32 ||
		    json_integer_value(json_object_get(json_array_get(r, 31),
		    "id")) != 1000031 || (p = (char *)json_string_value(
		    json_object_get(json_object_get(json_array_get(r, 0),
		    "result"), "value"))) == NULL || strlen(p) != 4000)
			ids_ok = 0;
		replies++;
		json_decref(r);
	}
	ok(replies == sent && ids_ok, "reading again: every batch sent is "
	    "answered (%zu of %zu)", replies, sent);
	ok(is_ok(call("ping", NULL)), "and the helper answers a new request");
}

int
main(int argc, char **argv)
{
	char	*hargv[4];
	long	 bound;
	int	 status;

	if (argc < 3) {
		fprintf(stderr, "usage: it-flood HELPER SOCKET "
		    "[RSS_BOUND_KIB]\n");
		return 2;
	}
	bound = argc > 3 ? strtol(argv[3], NULL, 10) : 0;
	if ((xsfd = xs_connect(argv[2])) == -1) {
		perror("connect xenstored");
		return 1;
	}
	/* A clean subtree: the plain and the ASan helper share the daemon. */
	if (send_msg(XS_RM, ROOT, "", 0) == -1 || read_reply() == -1)
		fprintf(stderr, "# " ROOT " was not there\n");
	hargv[0] = argv[1];
	hargv[1] = "--xenstore-socket";
	hargv[2] = argv[2];
	hargv[3] = NULL;
	if (hc_start(&hc, hargv) == -1) {
		perror("start helper");
		return 1;
	}
	ok(is_ok(call("hello", json_pack("{s:i}", "version", 1))), "hello");
	ok(is_ok(call("xs.watch", json_pack("{s:s, s:s}", "path", ROOT,
	    "token", "flood"))), "xs.watch " ROOT);
	test_dedupe(bound);
	test_overflow(bound);
	test_requests(bound);
	status = hc_stop(&hc);
	ok(status == 0, "the helper exits 0 on EOF (status %d)", status);
	if (send_msg(XS_RM, ROOT, "", 0) == -1 || read_reply() == -1)
		fprintf(stderr, "# cannot remove " ROOT "\n");
	close(xsfd);
	return tap_done();
}
