/*
 * fuzz-json-line.c: libFuzzer target for the stream framing and the
 * strict JSON parse and print alone: bytes are fed in chunks of the
 * sizes the input's first byte picks, every line is parsed, and what
 * parses must print as one line that parses back to an equal value.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json-line.h"
#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
on_line(void *arg, const char *line, size_t len, int toolong)
{
	char	 msg[256], *out;
	size_t	 outlen;
	json_t	*j, *back;
	int	 err;

	if (toolong)
		return;
	if (len > MAX_LINE)
		abort();
	if ((j = jl_parse(line, len, &err, msg, sizeof(msg))) == NULL) {
		if (err >= 0 || msg[0] == '\0')
			abort();
		return;
	}
	out = jl_dump(j, &outlen);
	if (memchr(out, '\n', outlen) != NULL)
		abort();
	back = jl_parse(out, outlen, &err, msg, sizeof(msg));
	if (back == NULL || !json_equal(j, back))
		abort();
	json_decref(back);
	json_decref(j);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct linebuf	lb;
	size_t		chunk, off = 0, n;

	if (size == 0)
		return 0;
	chunk = (size_t)data[0] * 61 + 1;
	data++;
	size--;
	linebuf_init(&lb);
	while (off < size) {
		n = size - off < chunk ? size - off : chunk;
		linebuf_feed(&lb, (const char *)data + off, n, on_line, NULL);
		off += n;
	}
	linebuf_free(&lb);
	return 0;
}
