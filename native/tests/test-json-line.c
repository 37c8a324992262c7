/*
 * test-json-line.c: framing of the request stream (lines split across
 * reads, several per read, CRLF, the MAX_LINE bound enforced without
 * buffering) and the strict parse of one line (duplicate keys, invalid
 * UTF-8, NUL escapes, trailing data) and its compact print.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-line.h"
#include "proto.h"
#include "tap.h"
#include "util.h"

#define FEED(lb, text, g)	linebuf_feed((lb), (text), strlen(text), \
				    collect, (g))

struct got {
	char	 lines[16][64];
	size_t	 lens[16];
	int	 n;
	int	 toolong;
	size_t	 biggest;
};

static void
collect(void *arg, const char *line, size_t len, int toolong)
{
	struct got	*g = arg;

	if (toolong) {
		g->toolong++;
		return;
	}
	if (len > g->biggest)
		g->biggest = len;
	if (g->n < 16) {
		snprintf(g->lines[g->n], sizeof(g->lines[0]), "%.*s",
		    (int)(len < 63 ? len : 63), line);
		g->lens[g->n] = len;
	}
	g->n++;
}

static void
test_framing(void)
{
	struct linebuf	 lb;
	struct got	 g;
	char		*big, *bufbefore;
	size_t		 i;

	memset(&g, 0, sizeof(g));
	linebuf_init(&lb);
	FEED(&lb, "{\"a\":1}\n", &g);
	ok(g.n == 1 && strcmp(g.lines[0], "{\"a\":1}") == 0,
	    "one line in one read");
	FEED(&lb, "{\"b\":", &g);
	ok(g.n == 1, "half a line is held");
	FEED(&lb, "2}\n{\"c\":3}\n{\"d\"", &g);
	ok(g.n == 3 && strcmp(g.lines[1], "{\"b\":2}") == 0 &&
	    strcmp(g.lines[2], "{\"c\":3}") == 0,
	    "a line split across reads, and two lines in one read");
	FEED(&lb, ":4}\r\n", &g);
	ok(g.n == 4 && strcmp(g.lines[3], "{\"d\":4}") == 0 && g.lens[3] == 7,
	    "CRLF ends a line without the CR");
	FEED(&lb, "\n", &g);
	ok(g.n == 5 && g.lens[4] == 0, "an empty line is passed on as empty");
	linebuf_free(&lb);

	/* Exactly MAX_LINE bytes is allowed; one more is not. */
	memset(&g, 0, sizeof(g));
	linebuf_init(&lb);
	big = malloc(MAX_LINE + 2);
	memset(big, 'x', MAX_LINE + 1);
	big[MAX_LINE] = '\n';
	linebuf_feed(&lb, big, MAX_LINE + 1, collect, &g);
	ok(g.n == 1 && g.toolong == 0 && g.biggest == MAX_LINE,
	    "a line of exactly MAX_LINE bytes is delivered");
	memset(big, 'x', MAX_LINE + 1);
	big[MAX_LINE + 1] = '\n';
	linebuf_feed(&lb, big, MAX_LINE + 2, collect, &g);
	ok(g.n == 1 && g.toolong == 1, "MAX_LINE + 1 bytes is reported "
	    "too long, once");
	FEED(&lb, "{\"after\":1}\n", &g);
	ok(g.n == 2 && strcmp(g.lines[1], "{\"after\":1}") == 0,
	    "the next line is read normally");
	free(big);
	linebuf_free(&lb);

	/*
	 * A huge line streamed in small reads: reported once, as soon as
	 * it passes the limit, and never buffered (the buffer is not
	 * replaced and nothing longer than MAX_LINE is ever delivered).
	 */
	memset(&g, 0, sizeof(g));
	linebuf_init(&lb);
	bufbefore = lb.buf;
	big = malloc(4096);
	memset(big, 'y', 4096);
	for (i = 0; i < 64; i++) {
		linebuf_feed(&lb, big, 4096, collect, &g);
		if (i == 15)
			ok(g.toolong == 0, "still within the limit after "
			    "64 KiB");
		if (i == 16)
			ok(g.toolong == 1, "reported as soon as it passes "
			    "the limit, before its end");
	}
	ok(lb.buf == bufbefore && lb.len <= MAX_LINE && lb.discarding,
	    "256 KiB without a newline: the buffer never grew");
	FEED(&lb, "tail\n{\"ok\":1}\n", &g);
	ok(g.toolong == 1 && g.n == 1 && strcmp(g.lines[0], "{\"ok\":1}") == 0,
	    "the rest of the long line is dropped, the next line is read");
	free(big);
	linebuf_free(&lb);
}

static void
test_parse(void)
{
	static const struct {
		const char	*line;
		int		 err;
		const char	*what;
	} bad[] = {
		{ "{\"a\":1,\"a\":2}", -EBADMSG, "duplicate keys" },
		{ "{\"a\":{\"b\":1,\"b\":1}}", -EBADMSG,
		    "duplicate keys in a nested object" },
		{ "{\"a\":\"\xc3\x28\"}", -EILSEQ, "invalid UTF-8 in a string" },
		{ "{\"\xff\":1}", -EILSEQ, "invalid UTF-8 in a key" },
		{ "{\"a\":\"x\\u0000y\"}", -EBADMSG, "a NUL escape" },
		{ "{\"a\":1} {\"b\":2}", -EBADMSG, "trailing data" },
		{ "{\"a\":1", -EBADMSG, "truncated JSON" },
		{ "not json", -EBADMSG, "not JSON" },
		{ "", -EBADMSG, "nothing" },
		{ "{\"a\":\"\\ud800\"}", -EBADMSG, "a lone surrogate escape" },
	};
	char	 msg[256];
	json_t	*j;
	size_t	 i, len;
	int	 err;
	const char	*s;
	char	*d;

	for (i = 0; i < nitems(bad); i++) {
		msg[0] = '\0';
		j = jl_parse(bad[i].line, strlen(bad[i].line), &err, msg,
		    sizeof(msg));
		ok(j == NULL && err == bad[i].err && msg[0] != '\0',
		    "jl_parse refuses %s (%s)", bad[i].what, msg);
		json_decref(j);
	}
	ok(strstr((jl_parse("{\"k\":1,\"k\":1}", 13, &err, msg, sizeof(msg)),
	    msg), "duplicate") != NULL, "the duplicate-key reason says so");
	s = "{\"v\":1,\"id\":7,\"op\":\"xs.read\",\"args\":"
	    "{\"path\":\"/local\"}}";
	j = jl_parse(s, strlen(s), &err, msg, sizeof(msg));
	ok(j != NULL && err == 0 && json_integer_value(json_object_get(j,
	    "id")) == 7, "jl_parse reads a request");
	json_decref(j);
	j = jl_parse("[1,2]xx", 5, &err, msg, sizeof(msg));
	ok(j != NULL && json_array_size(j) == 2, "jl_parse reads exactly "
	    "len bytes");
	json_decref(j);

	j = json_pack("{s:s}", "v", "line\nbreak \xe2\x82\xac");
	d = jl_dump(j, &len);
	ok(strchr(d, '\n') == NULL && len == strlen(d) &&
	    strcmp(d, "{\"v\":\"line\\nbreak \xe2\x82\xac\"}") == 0,
	    "jl_dump is compact, one line, UTF-8 kept, newline escaped");
	free(d);
	json_decref(j);
}

int
main(void)
{
	test_framing();
	test_parse();
	return tap_done();
}
