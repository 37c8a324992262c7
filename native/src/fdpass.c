/*
 * fdpass.c: SCM_RIGHTS, in one file (as OpenSSH's monitor_fdpass.c).
 * QEMU's monitor takes the fd attached to the bytes of the command that
 * uses it, as libxl sends it: the fd rides on the first sendmsg(), the
 * rest of the command follows with plain writes.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "proto.h"
#include "util.h"

int
fd_send(int sock, int fd, const void *buf, size_t len)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
	} cmsgbuf;
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 rc;

	if (len == 0)
		return -EINVAL;
	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	for (;;) {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			pfd.fd = sock;
			pfd.events = POLLOUT;
			(void)poll(&pfd, 1, 1000);
			continue;
		}
		break;
	}
	if (n == -1)
		return -errno;
	if ((size_t)n < len) {
		/* The fd went with the first bytes; the rest is plain data. */
		while ((size_t)n < len) {
			rc = write_all(sock, (const char *)buf + n,
			    len - (size_t)n);
			if (rc == -EAGAIN) {
				pfd.fd = sock;
				pfd.events = POLLOUT;
				(void)poll(&pfd, 1, 1000);
				continue;
			}
			if (rc < 0)
				return rc;
			break;
		}
	}
	return 0;
}

ssize_t
fd_recv(int sock, void *buf, size_t len, int *fd)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * (MAX_FDS + 4))];
	} cmsgbuf;
	ssize_t		 n;
	size_t		 nfds, i;
	int		 got[MAX_FDS + 4], bad = 0;

	*fd = -1;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -errno;
	if (msg.msg_flags & MSG_CTRUNC)
		bad = 1;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS ||
		    cmsg->cmsg_len < CMSG_LEN(0)) {
			bad = 1;
			continue;
		}
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfds > nitems(got))
			nfds = nitems(got);
		memcpy(got, CMSG_DATA(cmsg), nfds * sizeof(int));
		for (i = 0; i < nfds; i++) {
			if (*fd == -1 && i == 0 && !bad)
				*fd = got[i];
			else {
				bad = 1;
				close(got[i]);
			}
		}
	}
	if (bad) {
		if (*fd != -1)
			close(*fd);
		*fd = -1;
		return -EBADMSG;
	}
	return n;
}
