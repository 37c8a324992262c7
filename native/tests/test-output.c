/*
 * test-output.c: what keeps the helper's memory bounded when the host
 * reads slowly.  The pending set of watch events (pendset.c): one entry
 * per (path, token), first-seen order, bounded in entries and bytes, an
 * overflow clears it and counts what was lost.  The output queue
 * (outbuf.c): whole lines, partial non-blocking writes, EAGAIN is not an
 * error, a closed reader is.  And the pump (ops-xenstore.c) with the
 * fake libxenstore: while the output is held, events are taken but not
 * delivered; when it has room they come out once each, in order, with
 * the value read then; an overflow comes out first as xs.overflow.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dispatch.h"
#include "fake-xenstore.h"
#include "outbuf.h"
#include "ops.h"
#include "pendset.h"
#include "proto.h"
#include "tap.h"

static int
pop_is(struct pendset *ps, const char *path, const char *token)
{
	const char	*p, *t;
	void		*e;
	int		 m;

	if ((e = pendset_pop(ps, &p, &t)) == NULL) {
		fprintf(stderr, "# expected %s %s, the set is empty\n", path,
		    token);
		return 0;
	}
	m = strcmp(p, path) == 0 && strcmp(t, token) == 0;
	if (!m)
		fprintf(stderr, "# expected %s %s, got %s %s\n", path, token,
		    p, t);
	free(e);
	return m;
}

static void
test_pendset_dedupe_order(void)
{
	struct pendset	ps;
	const char	*p, *t;

	pendset_init(&ps, 100, 1 << 20);
	ok(pendset_add(&ps, "/a", "x") == PEND_ADDED, "a new (path, token) "
	    "is added");
	ok(pendset_add(&ps, "/b", "x") == PEND_ADDED &&
	    pendset_add(&ps, "/a", "y") == PEND_ADDED,
	    "the same path with another token is another entry");
	ok(pendset_add(&ps, "/a", "x") == PEND_MERGED &&
	    pendset_add(&ps, "/b", "x") == PEND_MERGED && ps.n == 3 &&
	    ps.merged == 2, "a pending (path, token) again is merged");
	ok(pendset_add(&ps, "/a", "x") == PEND_MERGED && ps.merged == 3,
	    "and again");
	/* "/a" + "bx" and "/ab" + "x" must not be taken for each other. */
	ok(pendset_add(&ps, "/ab", "x") == PEND_ADDED &&
	    pendset_add(&ps, "/a", "bx") == PEND_ADDED && ps.n == 5,
	    "path and token are compared apart");
	ok(pendset_entry_merged(ps.head) == 2, "the entry counts the events "
	    "folded into it");
	ok(pop_is(&ps, "/a", "x") && pop_is(&ps, "/b", "x") &&
	    pop_is(&ps, "/a", "y") && pop_is(&ps, "/ab", "x") &&
	    pop_is(&ps, "/a", "bx"), "taken in first-seen order, merged "
	    "events at their first place");
	ok(pendset_pop(&ps, &p, &t) == NULL && ps.n == 0 && ps.bytes == 0,
	    "then the set is empty");
	ok(pendset_add(&ps, "/a", "x") == PEND_ADDED,
	    "a taken entry can be pending again");
	ok(pendset_take_dropped(&ps) == 0, "nothing was dropped");
	pendset_free(&ps);
}

static void
test_pendset_many(void)
{
	struct pendset	ps;
	char		path[64];
	int		i, order = 1, merged = 1;

	/* More entries than buckets: long chains still find their own. */
	pendset_init(&ps, 5000, 1 << 24);
	for (i = 0; i < 5000; i++) {
		snprintf(path, sizeof(path), "/local/domain/%d/data/k", i);
		if (pendset_add(&ps, path, "u:t") != PEND_ADDED)
			order = 0;
	}
	for (i = 4999; i >= 0; i -= 7) {
		snprintf(path, sizeof(path), "/local/domain/%d/data/k", i);
		if (pendset_add(&ps, path, "u:t") != PEND_MERGED)
			merged = 0;
	}
	ok(order && merged && ps.n == 5000, "5000 distinct entries, then "
	    "repeats of them merged");
	for (i = 0; i < 5000 && order; i++) {
		snprintf(path, sizeof(path), "/local/domain/%d/data/k", i);
		order = pop_is(&ps, path, "u:t");
	}
	ok(order && ps.n == 0, "and taken back in first-seen order");
	pendset_free(&ps);
}

static void
test_pendset_overflow(void)
{
	struct pendset	ps;
	char		path[32];
	int		i;

	pendset_init(&ps, 4, 1 << 20);
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "/k%d", i);
		pendset_add(&ps, path, "t");
	}
	ok(pendset_add(&ps, "/k0", "t") == PEND_MERGED,
	    "a full set still merges a pending event");
	ok(pendset_add(&ps, "/k4", "t") == PEND_OVERFLOW && ps.n == 0,
	    "a new event that does not fit clears the set");
	ok(pendset_add(&ps, "/k5", "t") == PEND_ADDED &&
	    pendset_add(&ps, "/k0", "t") == PEND_ADDED && ps.n == 2,
	    "events after the overflow are kept (/k0 is new again)");
	ok(pendset_take_dropped(&ps) == 5 && pendset_take_dropped(&ps) == 0,
	    "the four cleared and the one that did not fit are counted "
	    "dropped, once");
	ok(pop_is(&ps, "/k5", "t") && pop_is(&ps, "/k0", "t"),
	    "the kept ones in order");
	pendset_free(&ps);

	/* The byte bound: each entry costs its strings and a header. */
	pendset_init(&ps, 1000, 400);
	for (i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "/node/%03d", i);
		if (pendset_add(&ps, path, "token") == PEND_OVERFLOW)
			break;
	}
	ok(i > 1 && i < 10 && ps.n == 0 && pendset_take_dropped(&ps) ==
	    (uint64_t)i + 1, "the byte bound overflows too (at entry %d)", i);
	pendset_add(&ps, "/x", "t");
	pendset_clear(&ps);
	ok(ps.n == 0 && ps.bytes == 0 && pendset_take_dropped(&ps) == 1,
	    "pendset_clear counts what it drops");
	pendset_free(&ps);
}

static void
test_outbuf(void)
{
	struct outbuf	ob;
	char		line[100000], back[300000];
	int		p[2], full = 0, rc;
	size_t		i, n = 0, queued;
	ssize_t		r;

	outbuf_init(&ob);
	ok(outbuf_len(&ob) == 0, "an empty queue");
	for (i = 0; i < sizeof(line); i++)
		line[i] = (char)('a' + i % 26);
	outbuf_line(&ob, "{}", 2);
	outbuf_line(&ob, line, sizeof(line));
	outbuf_line(&ob, "[]", 2);
	queued = 3 + sizeof(line) + 1 + 3;
	ok(outbuf_len(&ob) == queued, "lines are queued with their newline "
	    "(%zu bytes)", outbuf_len(&ob));
	if (pipe2(p, O_NONBLOCK) == -1) {
		ok(0, "pipe");
		return;
	}
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096);
	rc = outbuf_flush(&ob, p[1]);
	ok(rc == 0 && outbuf_len(&ob) > 0 && outbuf_len(&ob) < queued,
	    "a full pipe takes part of it: no error, the rest stays queued "
	    "(%zu left)", outbuf_len(&ob));
	/* Read and flush in turns until everything went through. */
	while (n < sizeof(back) && (outbuf_len(&ob) > 0 || !full)) {
		r = read(p[0], back + n, sizeof(back) - n);
		if (r > 0)
			n += (size_t)r;
		else if (outbuf_len(&ob) == 0)
			full = 1;
		if (outbuf_flush(&ob, p[1]) != 0)
			break;
	}
	ok(n == queued && memcmp(back, "{}\n", 3) == 0 &&
	    memcmp(back + 3, line, sizeof(line)) == 0 &&
	    memcmp(back + 3 + sizeof(line), "\n[]\n", 4) == 0,
	    "the reader gets the bytes whole and in order (%zu)", n);
	outbuf_line(&ob, "{}", 2);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);	/* as the helper does */
	ok(outbuf_flush(&ob, p[1]) == -EPIPE, "a reader that went away is "
	    "an error (EPIPE)");
	close(p[1]);
	outbuf_free(&ob);
}

/* The pump with the fake libxenstore and a backlog the test sets. */
static json_t		*lines;
static size_t		 backlog;

static void
capture(void *arg, const char *line, size_t len)
{
	json_array_append_new(lines, json_loadb(line, len, 0, NULL));
}

static size_t
get_backlog(void *arg)
{
	return backlog;
}

static const char *
ev_str(size_t i, const char *key)
{
	json_t	*ev = json_array_get(lines, i);

	return json_string_value(json_object_get(json_object_get(ev, "data"),
	    key)) ?: json_string_value(json_object_get(ev, "event")) ?: "";
}

static json_int_t
ev_int(size_t i, const char *key)
{
	json_t	*ev = json_array_get(lines, i);

	return json_integer_value(json_object_get(json_object_get(ev, "data"),
	    key));
}

static void
test_pump_held(void)
{
	static const char	 hello[] = "{\"v\":1,\"id\":0,\"op\":\"hello\","
	    "\"args\":{\"version\":1}}";
	static const char	 watch[] = "{\"v\":1,\"id\":1,\"op\":\"xs.watch\","
	    "\"args\":{\"path\":\"/local/domain/3\",\"token\":\"d3\"}}";
	struct config		 cfg;
	struct session		 s;
	char			 v[16];
	int			 i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.qmp_dir = cfg.xl = cfg.log_dir = cfg.lock_dir = "/nonexistent";
	lines = json_array();
	fake_xs_fixture();
	session_init(&s, &cfg, capture, NULL);
	s.backlog = get_backlog;
	dispatch_line(&s, hello, strlen(hello));
	dispatch_line(&s, watch, strlen(watch));
	xsops_pump(&s);		/* the watch's initial fire */
	json_array_clear(lines);

	backlog = OUT_HIGH;
	for (i = 0; i < 100; i++) {
		snprintf(v, sizeof(v), "%d", i);
		fake_xs_set("/local/domain/3/data/a", v);
		fake_xs_set("/local/domain/3/data/b", v);
	}
	xsops_pump(&s);
	ok(json_array_size(lines) == 0 && xsops_pending(&s),
	    "output over OUT_HIGH: events are taken, none is written");
	backlog = OUT_LOW + 1;
	xsops_pump(&s);
	ok(json_array_size(lines) == 0, "still held until the backlog is "
	    "down to OUT_LOW");
	backlog = OUT_LOW;
	fake_xs_set("/local/domain/3/data/a", "last");
	xsops_pump(&s);
	ok(json_array_size(lines) == 2 &&
	    strcmp(ev_str(0, "path"), "/local/domain/3/data/a") == 0 &&
	    strcmp(ev_str(0, "value"), "last") == 0 &&
	    strcmp(ev_str(1, "path"), "/local/domain/3/data/b") == 0 &&
	    strcmp(ev_str(1, "value"), "99") == 0 && !xsops_pending(&s),
	    "room again: 201 writes come out as one event per node, "
	    "first-seen order, the value read now");
	ok(ev_int(0, "merged") == 100 && ev_int(1, "merged") == 99,
	    "each event says how many identical ones were folded into it");
	fake_xs_set("/local/domain/3/data/a", "once");
	xsops_pump(&s);
	ok(json_array_size(lines) == 3 &&
	    json_object_get(json_object_get(json_array_get(lines, 2), "data"),
	    "merged") == NULL, "an event folded with none has no merged");
	session_free(&s);
	json_decref(lines);
	backlog = 0;
}

int
main(void)
{
	test_pendset_dedupe_order();
	test_pendset_many();
	test_pendset_overflow();
	test_outbuf();
	test_pump_held();
	return tap_done();
}
