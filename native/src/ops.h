/*
 * ops.h: the op handlers named in the dispatch table, and the hooks
 * the poll loop calls for the asynchronous sources (xenstore watches,
 * dominfo polling, log tails).
 */
#ifndef OPS_H
#define OPS_H

#include "dispatch.h"

struct proc_result;

/* ops-xenstore.c */
int	op_xs_read(struct session *, json_t *, json_t **, struct op_error *);
int	op_xs_write(struct session *, json_t *, json_t **, struct op_error *);
int	op_xs_mkdir(struct session *, json_t *, json_t **, struct op_error *);
int	op_xs_rm(struct session *, json_t *, json_t **, struct op_error *);
int	op_xs_directory(struct session *, json_t *, json_t **,
	    struct op_error *);
int	op_xs_get_perms(struct session *, json_t *, json_t **,
	    struct op_error *);
int	op_xs_set_perms(struct session *, json_t *, json_t **,
	    struct op_error *);
int	op_xs_watch(struct session *, json_t *, json_t **, struct op_error *);
int	op_xs_unwatch(struct session *, json_t *, json_t **,
	    struct op_error *);
int	op_xs_tx_start(struct session *, json_t *, json_t **,
	    struct op_error *);
int	op_xs_tx_end(struct session *, json_t *, json_t **,
	    struct op_error *);
int	op_xs_watch_domains(struct session *, json_t *, json_t **,
	    struct op_error *);
int	op_xs_unwatch_domains(struct session *, json_t *, json_t **,
	    struct op_error *);
void	xsops_init(struct session *);
void	xsops_free(struct session *);
/* The fd that becomes readable when watch events are queued, or -1. */
int	xsops_fd(struct session *);
/*
 * Take libxenstore's queued watch events into the pending set and deliver
 * from it while the output has room (session_output_held).
 */
void	xsops_pump(struct session *);
/* Watch events (or an overflow report) waiting for room in the output. */
int	xsops_pending(struct session *);

/* ops-dominfo.c */
int	op_dominfo(struct session *, json_t *, json_t **, struct op_error *);
int	op_dominfo_poll(struct session *, json_t *, json_t **,
	    struct op_error *);
void	dominfo_init(struct session *);
void	dominfo_free(struct session *);
/* Milliseconds until the next poll is due, or -1 if polling is off. */
int	dominfo_timeout(struct session *);
/* Poll if due; emits a dominfo event when the list changed. */
void	dominfo_tick(struct session *);
/* @releaseDomain fired: poll at the next tick. */
void	dominfo_kick(struct session *);
/* Parse `xl list -v` (or plain `xl list`) output into an array. */
json_t	*dominfo_parse(const char *, size_t, int);

/* ops-qmp.c */
int	op_qmp(struct session *, json_t *, json_t **, struct op_error *);

/* ops-xl.c */
int	op_xl(struct session *, json_t *, json_t **, struct op_error *);
/* Run xl (argv already checked); stream: stderr lines as xl.line events. */
int	xl_run(struct session *, const char **, size_t, int, int,
	    struct proc_result *);
/* Check an xl argv against the allowlist; NULL if allowed, else why. */
const char *xl_argv_check(const struct config *, const char **, size_t);

/* ops-log.c */
int	op_log_follow(struct session *, json_t *, json_t **,
	    struct op_error *);
int	op_log_unfollow(struct session *, json_t *, json_t **,
	    struct op_error *);
void	logtail_init(struct session *);
void	logtail_free(struct session *);
int	logtail_timeout(struct session *);
void	logtail_tick(struct session *);

/* ops-dm.c */
int	op_dm_poll(struct session *, json_t *, json_t **, struct op_error *);
void	dm_init(struct session *);
void	dm_free(struct session *);
/* Milliseconds until the next round is due, or -1 if polling is off. */
int	dm_timeout(struct session *);
/* Probe every QMP socket if due; dm.status events for what changed. */
void	dm_tick(struct session *);
/* Make the next round due at once (when polling is on). */
void	dm_kick(struct session *);
/* The domid of a name "qmp-libxl-<1..32751>" (strict decimal); 0 or -EINVAL. */
int	dm_socket_domid(const char *, uint32_t *);
/*
 * Non-blocking connect to <dir>/qmp-libxl-<domid>, closed at once: 1 when
 * it accepts (EINPROGRESS and EAGAIN included), 0 when refused, else -errno.
 */
int	dm_probe(const char *, uint32_t);
/* 0 if <dir>/qmp-libxl-32751 fits a unix socket address, else -ENAMETOOLONG. */
int	dm_probe_path_ok(const char *);

#endif /* OPS_H */
