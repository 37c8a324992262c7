/*
 * proc.h: run a program (xl) without a shell: a fixed argv and envp,
 * stdin from /dev/null, stdout and stderr captured with caps, stderr
 * lines streamed to a callback, a timeout, and other event sources kept
 * flowing while it runs.
 */
#ifndef PROC_H
#define PROC_H

#include <stddef.h>

struct proc_hooks {
	void	*arg;
	/* A complete stderr line (no '\n'); may be NULL. */
	void	(*line)(void *, const char *, size_t);
	/* An fd to watch while waiting, and what to call when it is readable. */
	int	(*pump_fd)(void *);
	void	(*pump)(void *);
};

struct proc_result {
	int	 exited;	/* exited normally: status is valid */
	int	 status;
	int	 signal;	/* killed by this signal */
	int	 timed_out;
	char	*out;		/* NUL-terminated, at most MAX_XL_OUTPUT */
	size_t	 outlen;
	int	 out_truncated;
	char	*err;
	size_t	 errlen;
	int	 err_truncated;
};

/* 0 when the program ran (whatever its status), or -errno. */
int	proc_run(const char *, char *const [], char *const [], int,
	    const struct proc_hooks *, struct proc_result *);
void	proc_result_free(struct proc_result *);

#endif /* PROC_H */
