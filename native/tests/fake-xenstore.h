/*
 * fake-xenstore.h: controls for the link-time libxenstore fake used by
 * the unit tests, the contract test and the fuzz targets.
 */
#ifndef FAKE_XENSTORE_H
#define FAKE_XENSTORE_H

/* Empty the store, watches, queue and domain set. */
void	fake_xs_reset(void);
/* The contract fixture: dom0 and vm3 as documented in test/contract. */
void	fake_xs_fixture(void);
/* Write a node as another client would (watches fire). */
void	fake_xs_set(const char *, const char *);
/* Remove a node as another client would (watches fire). */
void	fake_xs_rm(const char *);
/* Mark a domain introduced or not, and fire the special watch. */
void	fake_xs_introduce(unsigned int, int);
/* The next transaction commit fails with EAGAIN. */
void	fake_xs_conflict_next(void);
/* xs_open fails with this errno (0: succeeds). */
void	fake_xs_open_errno(int);

#endif /* FAKE_XENSTORE_H */
