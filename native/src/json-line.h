/*
 * json-line.h: framing of the request stream into lines, and the JSON
 * parse and print of one line.  No syscalls: the caller reads and
 * writes; this only splits, bounds and converts.
 */
#ifndef JSON_LINE_H
#define JSON_LINE_H

#include <stddef.h>
#include <jansson.h>

/* Called for every complete line; toolong is set (line NULL) once per over-long line. */
typedef void	(*line_cb)(void *, const char *, size_t, int);

struct linebuf {
	char	*buf;		/* MAX_LINE + 1 bytes */
	size_t	 len;
	int	 discarding;	/* inside a line that went over MAX_LINE */
};

void	 linebuf_init(struct linebuf *);
void	 linebuf_free(struct linebuf *);
/* Split data into lines; an over-long line is reported, never buffered. */
void	 linebuf_feed(struct linebuf *, const char *, size_t, line_cb, void *);

/*
 * Parse one line as JSON: duplicate keys, invalid UTF-8, NUL escapes
 * and trailing data are rejected.  On failure returns NULL, sets *err
 * to -EBADMSG or -EILSEQ and writes a reason into msg.
 */
json_t	*jl_parse(const char *, size_t, int *, char *, size_t);
/* Compact one-line JSON text (no newline); caller frees. */
char	*jl_dump(const json_t *, size_t *);

#endif /* JSON_LINE_H */
