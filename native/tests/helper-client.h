/*
 * helper-client.h: drive a real xendeck-helper process over pipes, as
 * the Electron main process does.  Used by the integration tests and
 * bench-xs.
 */
#ifndef HELPER_CLIENT_H
#define HELPER_CLIENT_H

#include <sys/types.h>
#include <jansson.h>

struct hc {
	pid_t	 pid;
	int	 to;		/* helper's stdin */
	int	 from;		/* helper's stdout */
	char	*buf;
	size_t	 len, cap;
	json_t	*events;	/* events seen while waiting for replies */
	long long next_id;
};

/* Start the helper with argv (argv[0] is the binary); 0 or -1. */
int	 hc_start(struct hc *, char *const []);
/* Close stdin, wait for exit; returns the exit status or -1. */
int	 hc_stop(struct hc *);
/* Send a raw line (a '\n' is added). */
int	 hc_send_raw(struct hc *, const char *, size_t);
/* Next line from the helper as JSON, or NULL on timeout/EOF. */
json_t	*hc_recv(struct hc *, int);
/* Send {"v":1,"id":N,"op":op,"args":args} (steals args), return the reply. */
json_t	*hc_call(struct hc *, const char *, json_t *, int);
/* Wait for an event matching name (and, if given, data.key == value). */
json_t	*hc_wait_event(struct hc *, const char *, const char *, const char *,
	    int);
/* The error code of a reply, or "" when ok. */
const char *hc_code(json_t *);

#endif /* HELPER_CLIENT_H */
