/*
 * outbuf.c: the byte queue behind the helper's stdout; see outbuf.h.
 * A list of fixed-size chunks: memory in use is the backlog rounded up
 * to a chunk, and each chunk is freed as soon as the host has read it,
 * so a burst leaves no resident memory behind.
 */
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outbuf.h"
#include "util.h"

#define OUT_CHUNK	(64 * 1024 - 64)	/* bytes of data per chunk */
#define OUT_IOV		16			/* chunks per writev */

struct outchunk {
	struct outchunk	*next;
	size_t		 off;		/* first byte not yet written */
	size_t		 len;		/* bytes filled */
	char		 data[OUT_CHUNK];
};

void
outbuf_init(struct outbuf *ob)
{
	memset(ob, 0, sizeof(*ob));
}

void
outbuf_free(struct outbuf *ob)
{
	struct outchunk	*c, *next;

	for (c = ob->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	memset(ob, 0, sizeof(*ob));
}

size_t
outbuf_len(const struct outbuf *ob)
{
	return ob->len;
}

static void
append(struct outbuf *ob, const char *p, size_t n)
{
	struct outchunk	*c;
	size_t		 k;

	while (n > 0) {
		c = ob->tail;
		if (c == NULL || c->len == OUT_CHUNK) {
			c = xmalloc(sizeof(*c));
			c->next = NULL;
			c->off = c->len = 0;
			if (ob->tail != NULL)
				ob->tail->next = c;
			else
				ob->head = c;
			ob->tail = c;
		}
		k = OUT_CHUNK - c->len;
		if (k > n)
			k = n;
		memcpy(c->data + c->len, p, k);
		c->len += k;
		ob->len += k;
		p += k;
		n -= k;
	}
}

void
outbuf_line(struct outbuf *ob, const char *line, size_t len)
{
	append(ob, line, len);
	append(ob, "\n", 1);
}

int
outbuf_flush(struct outbuf *ob, int fd)
{
	struct iovec	 iov[OUT_IOV];
	struct outchunk	*c;
	ssize_t		 n;
	size_t		 k;
	int		 i;

	while (ob->len > 0) {
		for (i = 0, c = ob->head; c != NULL && i < OUT_IOV;
		    c = c->next, i++) {
			iov[i].iov_base = c->data + c->off;
			iov[i].iov_len = c->len - c->off;
		}
		n = writev(fd, iov, i);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n == -1)
			return -errno;
		if (n == 0)
			return -EIO;
		ob->len -= (size_t)n;
		while (n > 0) {
			c = ob->head;
			k = c->len - c->off;
			if ((size_t)n < k) {
				c->off += (size_t)n;
				break;
			}
			n -= (ssize_t)k;
			/* The tail is kept while it has room. */
			if (c == ob->tail && c->len < OUT_CHUNK) {
				c->off = c->len = 0;
				break;
			}
			ob->head = c->next;
			if (ob->head == NULL)
				ob->tail = NULL;
			free(c);
		}
	}
	return 0;
}
