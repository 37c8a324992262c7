/*
 * outbuf.h: the helper's stdout as a byte queue.  Lines are appended
 * whole and written with non-blocking writes when the pipe has room, so
 * a host that reads slowly never blocks the helper: the helper keeps
 * taking watch events from libxenstore (into its bounded pending set)
 * instead of letting libxenstore's list grow.  The queue itself has no
 * hard limit; its producers check outbuf_len() against OUT_HIGH/OUT_LOW
 * (proto.h) and hold back what can wait.
 */
#ifndef OUTBUF_H
#define OUTBUF_H

#include <stddef.h>

struct outchunk;

struct outbuf {
	struct outchunk	*head, *tail;
	size_t		 len;		/* bytes queued, not yet written */
};

void	outbuf_init(struct outbuf *);
void	outbuf_free(struct outbuf *);
/* Queue line (without '\n') and a '\n'. */
void	outbuf_line(struct outbuf *, const char *, size_t);
/* Bytes queued and not yet written. */
size_t	outbuf_len(const struct outbuf *);
/*
 * Write as much as fd takes now (fd is non-blocking): 0 when written or
 * when fd is full (EAGAIN), or -errno.
 */
int	outbuf_flush(struct outbuf *, int);

#endif /* OUTBUF_H */
