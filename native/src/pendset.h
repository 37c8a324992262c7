/*
 * pendset.h: the watch events the helper holds while the host reads its
 * stdout slowly.  A watch event carries no value (the value is read when
 * the event is delivered), so identical pending events are one: the set
 * keeps each (path, token) once, in first-seen order.  It is bounded in
 * entries and in bytes; an event that does not fit clears the set and
 * is counted as dropped together with everything the set held, and the
 * caller reports the gap (xs.overflow) before the events kept after it.
 */
#ifndef PENDSET_H
#define PENDSET_H

#include <stddef.h>
#include <stdint.h>

struct pendent;

struct pendset {
	struct pendent	**bucket;	/* hash chains */
	size_t		  nbucket;	/* a power of two */
	struct pendent	 *head, *tail;	/* first-seen order */
	size_t		  n, bytes;
	size_t		  max_n, max_bytes;
	uint64_t	  dropped;	/* since the last pendset_take_dropped */
	uint64_t	  merged;	/* events folded into a pending one */
};

#define PEND_ADDED	0
#define PEND_MERGED	1	/* already pending: nothing more to do */
#define PEND_OVERFLOW	2	/* did not fit: the set was cleared */

void	 pendset_init(struct pendset *, size_t, size_t);
void	 pendset_free(struct pendset *);
/* Add (path, token); PEND_ADDED, PEND_MERGED or PEND_OVERFLOW. */
int	 pendset_add(struct pendset *, const char *, const char *);
/*
 * Take the oldest entry: sets path and token and returns the entry, which
 * holds them until the caller frees it with free(); NULL when empty.
 */
void	*pendset_pop(struct pendset *, const char **, const char **);
/* How many identical events were folded into an entry pendset_pop returned. */
uint64_t pendset_entry_merged(const void *);
/* Drop everything pending and count it (e.g. the connection was lost). */
void	 pendset_clear(struct pendset *);
/* Events dropped since the last call; resets the count. */
uint64_t pendset_take_dropped(struct pendset *);

#endif /* PENDSET_H */
