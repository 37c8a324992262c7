/*
 * json-line.c: the only place request bytes become JSON.  A line longer
 * than MAX_LINE is dropped as it streams past (the buffer never grows),
 * and jansson parses with duplicate keys rejected, so a second "path"
 * cannot smuggle a value past a check that read the first one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-line.h"
#include "log.h"
#include "proto.h"
#include "util.h"

void
linebuf_init(struct linebuf *lb)
{
	lb->buf = xmalloc(MAX_LINE + 1);
	lb->len = 0;
	lb->discarding = 0;
}

void
linebuf_free(struct linebuf *lb)
{
	free(lb->buf);
	lb->buf = NULL;
	lb->len = 0;
}

void
linebuf_feed(struct linebuf *lb, const char *data, size_t n, line_cb cb,
    void *arg)
{
	const char	*nl;
	size_t		 take;

	while (n > 0) {
		nl = memchr(data, '\n', n);
		take = nl != NULL ? (size_t)(nl - data) : n;
		if (lb->discarding) {
			/* Drop the rest of an over-long line. */
			if (nl != NULL)
				lb->discarding = 0;
		} else if (lb->len + take > MAX_LINE) {
			lb->len = 0;
			cb(arg, NULL, 0, 1);
			if (nl == NULL)
				lb->discarding = 1;
		} else {
			memcpy(lb->buf + lb->len, data, take);
			lb->len += take;
			if (nl != NULL) {
				size_t len = lb->len;

				/* Tolerate CRLF from line-oriented tools. */
				if (len > 0 && lb->buf[len - 1] == '\r')
					len--;
				lb->buf[len] = '\0';
				lb->len = 0;
				cb(arg, lb->buf, len, 0);
			}
		}
		if (nl == NULL)
			return;
		take++;
		data += take;
		n -= take;
	}
}

json_t *
jl_parse(const char *line, size_t len, int *err, char *msg, size_t msglen)
{
	json_error_t	 jerr;
	json_t		*j;

	j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j != NULL) {
		*err = 0;
		return j;
	}
	switch (json_error_code(&jerr)) {
	case json_error_invalid_utf8:
		*err = -EILSEQ;
		snprintf(msg, msglen, "invalid UTF-8 at byte %d",
		    jerr.position);
		break;
	case json_error_duplicate_key:
		*err = -EBADMSG;
		snprintf(msg, msglen, "duplicate key: %s", jerr.text);
		break;
	default:
		*err = -EBADMSG;
		snprintf(msg, msglen, "invalid JSON at byte %d: %s",
		    jerr.position, jerr.text);
		break;
	}
	return NULL;
}

char *
jl_dump(const json_t *j, size_t *len)
{
	char	*s;

	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s == NULL)
		fatalx("json_dumps failed");
	*len = strlen(s);
	return s;
}
