/*
 * dispatch.h: the session (one per helper process) and the request
 * dispatcher.  dispatch_line() takes one framed line, checks it against
 * the op table and the session state, runs the handler and emits exactly
 * one reply line (one array line for a batch), then any events the
 * handlers deferred until after that reply.
 */
#ifndef DISPATCH_H
#define DISPATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

struct xsctx;
struct dominfo_state;
struct logtail_state;
struct dm_state;

/* Paths and identity fixed at start-up (main.c). */
struct config {
	const char	*xs_socket;	/* NULL: libxenstore's default */
	const char	*qmp_dir;
	const char	*xl;
	const char	*log_dir;
	const char	*lock_dir;
	const char	*xl_config_dir;
	int		 elevated;	/* started via pkexec or setuid */
	uid_t		 user_uid;	/* whose rights open files for add-fd */
	gid_t		 user_gid;
};

/* Writes one complete protocol line (without '\n'). */
typedef void	(*emit_fn)(void *, const char *, size_t);
/* Bytes emitted and not yet taken by the host. */
typedef size_t	(*backlog_fn)(void *);

struct session {
	const struct config	*cfg;
	int			 hello;
	/*
	 * Set once the session is over: a state error (anything but a
	 * good hello first, a second hello).  The reply has been written;
	 * the caller must stop reading and exit (fatalx), never dispatch
	 * again.  A static string.
	 */
	const char		*closing;
	emit_fn			 emit;
	void			*emit_arg;
	backlog_fn		 backlog;	/* NULL: output never backs up */
	int			 held;		/* see session_output_held */
	json_t			*deferred;	/* events held until the reply is out */
	int			 in_dispatch;
	json_t			*cur_id;	/* id of the request being handled */
	struct xsctx		*xs;
	struct dominfo_state	*di;
	struct logtail_state	*lt;
	struct dm_state		*dm;
};

/* A handler's error detail; code comes from the returned -errno. */
struct op_error {
	char	 msg[512];
	json_t	*detail;	/* optional, stolen into error.detail */
};

typedef int	(*op_fn)(struct session *, json_t *, json_t **,
		    struct op_error *);

struct op {
	const char	*name;
	op_fn		 fn;
	int		 flags;
};

#define EV_DEFER	0x01	/* after the current reply (initial scans) */
#define EV_NOW		0x02	/* at once, even before the reply (progress) */

void	 session_init(struct session *, const struct config *, emit_fn,
	    void *);
void	 session_free(struct session *);
/*
 * Handle one request line (object or batch array).  Check s->closing
 * afterwards.
 */
void	 dispatch_line(struct session *, const char *, size_t);
/* Answer a line that went over MAX_LINE. */
void	 dispatch_toolong(struct session *);
/* Emit {"event":name,"data":data}; steals data. */
void	 session_event(struct session *, const char *, json_t *, int);
/*
 * Is the output backed up?  True from OUT_HIGH bytes of backlog until it
 * is down to OUT_LOW: watch events wait (pending set), timed sources
 * pause.  Replies and the events a request causes are never held.
 */
int	 session_output_held(struct session *);
/* Write out deferred events. */
void	 session_flush(struct session *);
/* Format an error message into e; returns -err for handlers to return. */
int	 op_fail(struct op_error *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* The op table, for hello's list of ops and for tests. */
const struct op	*dispatch_ops(size_t *);

#endif /* DISPATCH_H */
