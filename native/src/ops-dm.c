/*
 * ops-dm.c: is each device model (QEMU in dom0) still there, seen
 * without QMP and without libxl's lock.
 *
 * libxl starts QEMU with its monitor listening on
 * <qmp-dir>/qmp-libxl-<domid>.  QEMU never removes that file: when it is
 * killed (or exits), the file stays behind and connect() to it fails
 * with ECONNREFUSED, while a live QEMU accepts the connection even when
 * libxl holds the monitor (the connection waits in the listen backlog;
 * with the backlog full a non-blocking connect fails with EAGAIN, which
 * is just as alive).  libxl removes the file when it destroys the
 * domain.  So with dm.poll set, every interval the helper lists the
 * qmp-libxl-<domid> sockets, connects to each without blocking, closes
 * at once (never reading or writing: QEMU accepts, greets a closed peer
 * and carries on), and sends dm.status when a verdict changed:
 *
 *   - the first sighting of a socket is always reported (alive or not),
 *     so the host has its baseline; dm.poll starts a new baseline;
 *   - then only a change: alive -> refused, refused -> alive;
 *   - a socket file that disappears is forgotten without an event (the
 *     domain's destruction is seen through xenstore and dominfo); if it
 *     comes back, that is a first sighting again;
 *   - a connect error other than ECONNREFUSED (and ENOENT, the file
 *     going away meanwhile) is no verdict: the last one stands.
 *
 * At most MAX_DM_SOCKETS sockets are probed per round, those of the
 * lowest domids (the same ones every round); anything in the
 * directory that is not a socket named qmp-libxl-<1..32751> (decimal,
 * no leading zero) is ignored, symlinks included.  No shell, no child
 * process, nothing that can block the poll loop.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dispatch.h"
#include "log.h"
#include "ops.h"
#include "proto.h"
#include "util.h"

#define DM_PREFIX	"qmp-libxl-"

struct dm_sock {
	uint32_t	domid;
	int		alive;
};

struct dm_state {
	struct ticker	 tick;
	struct dm_sock	*known;		/* sorted by domid */
	size_t		 nknown;
	int		 warned_over;	/* "too many sockets" said once */
};

void
dm_init(struct session *s)
{
	s->dm = xcalloc(1, sizeof(*s->dm));
	s->dm->known = xreallocarray(NULL, MAX_DM_SOCKETS,
	    sizeof(*s->dm->known));
}

void
dm_free(struct session *s)
{
	if (s->dm == NULL)
		return;
	free(s->dm->known);
	free(s->dm);
	s->dm = NULL;
}

int
dm_socket_domid(const char *name, uint32_t *domid)
{
	uint64_t	v;

	if (strncmp(name, DM_PREFIX, strlen(DM_PREFIX)) != 0)
		return -EINVAL;
	name += strlen(DM_PREFIX);
	/* At most five digits: parse_uint bounds the value, this the work. */
	if (strlen(name) > 5 || parse_uint(name, MAX_DOMID - 1, &v) != 0 ||
	    v == 0)
		return -EINVAL;
	*domid = (uint32_t)v;
	return 0;
}

int
dm_probe(const char *dir, uint32_t domid)
{
	struct sockaddr_un	sun;
	int			fd, n, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/" DM_PREFIX "%u",
	    dir, domid);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		rc = 1;
	else if (errno == EINPROGRESS || errno == EAGAIN)
		rc = 1;		/* accepting, the backlog is just busy */
	else if (errno == ECONNREFUSED)
		rc = 0;
	else
		rc = -errno;
	close(fd);
	return rc;
}

int
op_dm_poll(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	json_error_t	jerr;
	json_int_t	ms;
	int		rc;

	if (json_unpack_ex(args, &jerr, 0, "{s:I !}", "interval_ms",
	    &ms) == -1)
		return op_fail(e, EINVAL, "dm.poll: %s", jerr.text);
	if (ms != 0 && (ms < DM_POLL_MIN_MS || ms > DM_POLL_MAX_MS))
		return op_fail(e, EINVAL, "'interval_ms' must be 0 (off) or "
		    "in [%d, %d]", DM_POLL_MIN_MS, DM_POLL_MAX_MS);
	/* The longest name must fit a unix socket address. */
	if (ms != 0 && (rc = dm_probe_path_ok(s->cfg->qmp_dir)) < 0)
		return op_fail(e, -rc, "the QMP directory's path is too long "
		    "for a unix socket address");
	ticker_set(&s->dm->tick, (int)ms);	/* the first round at the next tick */
	s->dm->nknown = 0;	/* a new baseline: every socket reported */
	s->dm->warned_over = 0;
	return 0;
}

int
dm_probe_path_ok(const char *dir)
{
	struct sockaddr_un	sun;

	if (strlen(dir) + 1 + strlen(DM_PREFIX "32751") >=
	    sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int
dm_timeout(struct session *s)
{
	return ticker_timeout(&s->dm->tick);
}

void
dm_kick(struct session *s)
{
	ticker_kick(&s->dm->tick);
}

static int
cmp_domid(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static const struct dm_sock *
find_known(struct dm_state *st, uint32_t domid)
{
	struct dm_sock	key = { .domid = domid };

	return bsearch(&key, st->known, st->nknown, sizeof(*st->known),
	    cmp_domid);
}

/*
 * The sockets named qmp-libxl-<domid> in dir, sorted; how many, at most
 * MAX_DM_SOCKETS: the lowest domids, so the same ones every round.  out
 * has room for every domid (the strict names bound the listing).
 */
static size_t
list_sockets(struct dm_state *st, const char *dir, uint32_t *out)
{
	struct dirent	*de;
	struct stat	 sb;
	DIR		*d;
	uint32_t	 domid;
	size_t		 n = 0;

	if ((d = opendir(dir)) == NULL) {
		log_debug("dm.poll: %s: %s", dir, strerror(errno));
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (dm_socket_domid(de->d_name, &domid) != 0)
			continue;
		if (de->d_type != DT_SOCK) {
			if (de->d_type != DT_UNKNOWN)
				continue;
			if (fstatat(dirfd(d), de->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISSOCK(sb.st_mode))
				continue;
		}
		if (n == MAX_DOMID)
			break;		/* cannot happen: names are unique */
		out[n++] = domid;
	}
	closedir(d);
	qsort(out, n, sizeof(*out), cmp_domid);
	if (n > MAX_DM_SOCKETS) {
		if (!st->warned_over)
			log_warnx("dm.poll: %zu QMP sockets in %s; only the "
			    "%d lowest domids are probed", n, dir,
			    MAX_DM_SOCKETS);
		st->warned_over = 1;
		n = MAX_DM_SOCKETS;
	}
	return n;
}

void
dm_tick(struct session *s)
{
	struct dm_state		*st = s->dm;
	const struct dm_sock	*was;
	struct dm_sock		*now;
	uint32_t		*domids;
	size_t			 n, i, m = 0;
	json_t			*ev;
	int			 rc;

	if (!ticker_due(&st->tick))
		return;
	domids = xreallocarray(NULL, MAX_DOMID, sizeof(*domids));
	now = xreallocarray(NULL, MAX_DM_SOCKETS, sizeof(*now));
	n = list_sockets(st, s->cfg->qmp_dir, domids);
	for (i = 0; i < n; i++) {
		was = find_known(st, domids[i]);
		rc = dm_probe(s->cfg->qmp_dir, domids[i]);
		if (rc == -ENOENT || rc == -ENOTDIR)
			continue;	/* gone meanwhile: forgotten */
		if (rc < 0) {
			/* No verdict: the last one stands. */
			log_debug("dm.poll: qmp-libxl-%u: %s", domids[i],
			    strerror(-rc));
			if (was != NULL)
				now[m++] = *was;
			continue;
		}
		now[m].domid = domids[i];
		now[m].alive = rc;
		m++;
		if (was != NULL && was->alive == rc)
			continue;
		if (rc)
			ev = json_pack("{s:I, s:b}", "domid",
			    (json_int_t)domids[i], "alive", 1);
		else
			ev = json_pack("{s:I, s:b, s:s}", "domid",
			    (json_int_t)domids[i], "alive", 0, "error",
			    errno_name(ECONNREFUSED));
		if (ev == NULL)
			fatalx("json_pack dm.status");
		session_event(s, "dm.status", ev, 0);
	}
	memcpy(st->known, now, m * sizeof(*now));
	st->nknown = m;
	free(now);
	free(domids);
	/* From the end of the round: a slow directory never piles rounds up. */
	st->tick.next = now_ms() + st->tick.interval;
}
