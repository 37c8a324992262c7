/*
 * fdpass.h: sending and receiving one fd with SCM_RIGHTS.
 */
#ifndef FDPASS_H
#define FDPASS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Send buf on a stream socket with fd attached to its first byte.
 * Loops on EINTR and short writes.  0 or -errno.
 */
int	fd_send(int, int, const void *, size_t);
/*
 * Receive up to len bytes and at most one fd (opened O_CLOEXEC); *fd
 * is -1 if none came.  Anything but exactly one SCM_RIGHTS fd in the
 * control data is refused (-EBADMSG) and closed.  Bytes or -errno.
 */
ssize_t	fd_recv(int, void *, size_t, int *);

#endif /* FDPASS_H */
