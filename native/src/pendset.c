/*
 * pendset.c: a bounded, deduplicating FIFO of (path, token) pairs; see
 * pendset.h.  Chained hashing (FNV-1a) for the lookups and a singly
 * linked list for the order; the oldest entry is unlinked from its chain
 * when it is taken.  Entries are one allocation each: the header, then
 * path and token, both NUL-terminated.
 */
#include <stdlib.h>
#include <string.h>

#include "pendset.h"
#include "util.h"

struct pendent {
	struct pendent	*next;		/* in first-seen order */
	struct pendent	*hnext;		/* in its hash chain */
	uint64_t	 hash;
	size_t		 plen;		/* strlen(path) */
	size_t		 size;		/* counted against max_bytes */
	uint64_t	 merged;	/* identical events folded into this one */
	char		 data[];	/* path '\0' token '\0' */
};

static uint64_t
hash_pair(const char *path, const char *token)
{
	uint64_t		 h = 14695981039346656037ULL;
	const unsigned char	*p;

	for (p = (const unsigned char *)path; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;	/* not a path byte */
	for (p = (const unsigned char *)token; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

void
pendset_init(struct pendset *ps, size_t max_n, size_t max_bytes)
{
	memset(ps, 0, sizeof(*ps));
	ps->max_n = max_n;
	ps->max_bytes = max_bytes;
	ps->nbucket = 64;
	while (ps->nbucket < max_n && ps->nbucket < (1U << 20))
		ps->nbucket *= 2;
	/* Allocated at the first add: most sessions never fall behind. */
	ps->bucket = NULL;
}

static void
release_all(struct pendset *ps)
{
	struct pendent	*e, *next;

	for (e = ps->head; e != NULL; e = next) {
		next = e->next;
		free(e);
	}
	ps->head = ps->tail = NULL;
	if (ps->bucket != NULL)
		memset(ps->bucket, 0, ps->nbucket * sizeof(*ps->bucket));
	ps->n = 0;
	ps->bytes = 0;
}

void
pendset_free(struct pendset *ps)
{
	release_all(ps);
	free(ps->bucket);
	ps->bucket = NULL;
}

void
pendset_clear(struct pendset *ps)
{
	ps->dropped += ps->n;
	release_all(ps);
}

int
pendset_add(struct pendset *ps, const char *path, const char *token)
{
	struct pendent	*e, **b;
	uint64_t	 h = hash_pair(path, token);
	size_t		 plen = strlen(path), tlen = strlen(token), size;

	if (ps->bucket == NULL)
		ps->bucket = xcalloc(ps->nbucket, sizeof(*ps->bucket));
	b = &ps->bucket[h & (ps->nbucket - 1)];
	for (e = *b; e != NULL; e = e->hnext) {
		if (e->hash == h && e->plen == plen &&
		    memcmp(e->data, path, plen) == 0 &&
		    strcmp(e->data + plen + 1, token) == 0) {
			ps->merged++;
			e->merged++;
			return PEND_MERGED;
		}
	}
	size = sizeof(*e) + plen + tlen + 2;
	if (ps->n >= ps->max_n || ps->bytes + size > ps->max_bytes) {
		/* The new event is lost with the others. */
		pendset_clear(ps);
		ps->dropped++;
		return PEND_OVERFLOW;
	}
	e = xmalloc(size);
	e->next = NULL;
	e->hash = h;
	e->plen = plen;
	e->size = size;
	e->merged = 0;
	memcpy(e->data, path, plen + 1);
	memcpy(e->data + plen + 1, token, tlen + 1);
	e->hnext = *b;
	*b = e;
	if (ps->tail != NULL)
		ps->tail->next = e;
	else
		ps->head = e;
	ps->tail = e;
	ps->n++;
	ps->bytes += size;
	return PEND_ADDED;
}

void *
pendset_pop(struct pendset *ps, const char **path, const char **token)
{
	struct pendent	*e = ps->head, **pp;

	if (e == NULL)
		return NULL;
	for (pp = &ps->bucket[e->hash & (ps->nbucket - 1)]; *pp != e;
	    pp = &(*pp)->hnext)
		;
	*pp = e->hnext;
	if ((ps->head = e->next) == NULL)
		ps->tail = NULL;
	ps->n--;
	ps->bytes -= e->size;
	*path = e->data;
	*token = e->data + e->plen + 1;
	return e;
}

uint64_t
pendset_entry_merged(const void *entry)
{
	return ((const struct pendent *)entry)->merged;
}

uint64_t
pendset_take_dropped(struct pendset *ps)
{
	uint64_t	d = ps->dropped;

	ps->dropped = 0;
	return d;
}
