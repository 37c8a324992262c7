/*
 * ops-xenstore.c: xenstore through libxenstore, and nothing else.
 *
 * Every path is syntax-checked and matched against the read or write
 * allowlist (util.c) before a libxenstore call sees it.  Watches carry
 * the value read after the event arrived, or null when the node is gone:
 * a watch event itself says only that something under the path may have
 * changed.  The special watches @introduceDomain and @releaseDomain say
 * not even which domain, so each one triggers a rescan that compares
 * the introduced domids with the last known set and reports the
 * difference as xs.introduce / xs.release events.
 *
 * Caller tokens are prefixed with "u:" on the wire to xenstored, and the
 * special watches use "#" tokens a caller cannot spell, so the two never
 * collide.  Transactions are opened and ended by the caller (so an EAGAIN
 * conflict reaches it, as libxl's retry loop expects) and only ids this
 * session opened are accepted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "dispatch.h"
#include "log.h"
#include "ops.h"
#include "pendset.h"
#include "proto.h"
#include "util.h"

#define TOKEN_INTRO	"#introduce"
#define TOKEN_RELEASE	"#release"

struct xwatch {
	char	*path;
	char	*token;		/* the caller's token, without "u:" */
};

struct xsctx {
	struct xs_handle	*h;
	struct xwatch		 w[MAX_WATCHES];
	size_t			 nw;
	xs_transaction_t	 tx[MAX_TX];
	size_t			 ntx;
	int			 domains;	/* special watches set */
	unsigned char		 introduced[MAX_DOMID / 8 + 1];
	struct pendset		 pend;		/* taken, not yet delivered */
	int			 rescan_due;	/* domain events were dropped */
};

static int	xs_get(struct session *, struct op_error *);
static int	get_tx(struct xsctx *, json_int_t, int, xs_transaction_t *,
		    struct op_error *);
static int	check_read(const char *, struct op_error *);
static int	check_write(const char *, struct op_error *);
static json_t	*value_json(const char *, unsigned int);
static void	 scan_tree(struct session *, const char *, const char *);
static json_t	*rescan_domains(struct session *, int);
static int	 xs_errno(void);

void
xsops_init(struct session *s)
{
	s->xs = xcalloc(1, sizeof(*s->xs));
	pendset_init(&s->xs->pend, MAX_PENDING, MAX_PENDING_BYTES);
}

void
xsops_free(struct session *s)
{
	size_t	i;

	if (s->xs == NULL)
		return;
	for (i = 0; i < s->xs->nw; i++) {
		free(s->xs->w[i].path);
		free(s->xs->w[i].token);
	}
	if (s->xs->h != NULL)
		xs_close(s->xs->h);
	pendset_free(&s->xs->pend);
	free(s->xs);
	s->xs = NULL;
}

/* libxenstore leaves errno at 0 on some failures; never report success. */
static int
xs_errno(void)
{
	return errno != 0 ? errno : EIO;
}

static int
xs_get(struct session *s, struct op_error *e)
{
	unsigned long	flags = XS_UNWATCH_FILTER;

	if (s->xs->h != NULL)
		return 0;
	/*
	 * With a socket override the caller runs unelevated against a
	 * test or simulated xenstored: never fall back to the kernel
	 * device.  main.c has put the path into XENSTORED_PATH.
	 */
	if (s->cfg->xs_socket != NULL)
		flags |= XS_OPEN_SOCKETONLY;
	errno = 0;
	s->xs->h = xs_open(flags);
	if (s->xs->h == NULL)
		return op_fail(e, xs_errno(), "cannot connect to xenstore: %s",
		    strerror(xs_errno()));
	return 0;
}

static int
check_read(const char *path, struct op_error *e)
{
	const char	*why;

	if ((why = xs_path_check(path)) != NULL)
		return op_fail(e, EINVAL, "bad xenstore path: %s", why);
	if (!xs_path_readable(path))
		return op_fail(e, EPERM,
		    "path is outside the readable prefixes");
	return 0;
}

static int
check_write(const char *path, struct op_error *e)
{
	const char	*why;

	if ((why = xs_path_check(path)) != NULL)
		return op_fail(e, EINVAL, "bad xenstore path: %s", why);
	if (!xs_path_writable(path))
		return op_fail(e, EPERM,
		    "path is outside the writable allowlist");
	return 0;
}

static int
get_tx(struct xsctx *x, json_int_t jtx, int given, xs_transaction_t *t,
    struct op_error *e)
{
	size_t	i;

	*t = XBT_NULL;
	if (!given)
		return 0;
	for (i = 0; i < x->ntx; i++) {
		if ((json_int_t)x->tx[i] == jtx) {
			*t = x->tx[i];
			return 0;
		}
	}
	return op_fail(e, ENOENT, "no open transaction %lld", (long long)jtx);
}

/* A value as JSON: a string, or NULL when it is not valid UTF-8. */
static json_t *
value_json(const char *v, unsigned int len)
{
	json_t	*j;

	if (!utf8_valid(v, len))
		return NULL;
	if ((j = json_stringn(v, len)) == NULL)
		fatalx("json_stringn");
	return j;
}

/* Common unpack for ops taking {path, tx?}. */
static int
unpack_path_tx(const char *op, json_t *args, const char **path,
    json_int_t *jtx, int *has_tx, struct op_error *e)
{
	json_error_t	 jerr;
	json_t		*txv = NULL;

	if (json_unpack_ex(args, &jerr, 0, "{s:s, s?o !}", "path", path,
	    "tx", &txv) == -1)
		return op_fail(e, EINVAL, "%s: %s", op, jerr.text);
	*has_tx = txv != NULL;
	if (txv != NULL) {
		if (!json_is_integer(txv) || json_integer_value(txv) < 0)
			return op_fail(e, EINVAL,
			    "%s: 'tx' must be a transaction id", op);
		*jtx = json_integer_value(txv);
	}
	return 0;
}

int
op_xs_read(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	const char		*path;
	json_int_t		 jtx = 0;
	xs_transaction_t	 t;
	unsigned int		 len;
	char			*v;
	json_t			*jv;
	int			 has_tx, rc;

	if ((rc = unpack_path_tx("xs.read", args, &path, &jtx, &has_tx,
	    e)) < 0)
		return rc;
	if ((rc = check_read(path, e)) < 0 || (rc = xs_get(s, e)) < 0 ||
	    (rc = get_tx(s->xs, jtx, has_tx, &t, e)) < 0)
		return rc;
	errno = 0;
	if ((v = xs_read(s->xs->h, t, path, &len)) == NULL)
		return op_fail(e, xs_errno(), "read %s: %s", path,
		    strerror(xs_errno()));
	jv = value_json(v, len);
	free(v);
	if (jv == NULL)
		return op_fail(e, EILSEQ, "value of %s is not valid UTF-8",
		    path);
	*result = json_pack("{s:o}", "value", jv);
	return 0;
}

int
op_xs_write(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	json_error_t		 jerr;
	const char		*path, *value;
	size_t			 vlen;
	json_t			*txv = NULL;
	xs_transaction_t	 t = XBT_NULL;
	int			 rc;

	if (json_unpack_ex(args, &jerr, 0, "{s:s, s:s%, s?o !}", "path",
	    &path, "value", &value, &vlen, "tx", &txv) == -1)
		return op_fail(e, EINVAL, "xs.write: %s", jerr.text);
	if (vlen > MAX_XS_VALUE)
		return op_fail(e, E2BIG, "value longer than %d bytes",
		    MAX_XS_VALUE);
	if (txv != NULL && !json_is_integer(txv))
		return op_fail(e, EINVAL, "'tx' must be a transaction id");
	if ((rc = check_write(path, e)) < 0 || (rc = xs_get(s, e)) < 0)
		return rc;
	if (txv != NULL && (rc = get_tx(s->xs, json_integer_value(txv), 1,
	    &t, e)) < 0)
		return rc;
	errno = 0;
	if (!xs_write(s->xs->h, t, path, value, (unsigned int)vlen))
		return op_fail(e, xs_errno(), "write %s: %s", path,
		    strerror(xs_errno()));
	return 0;
}

/*
 * A write-side op that takes only a path (and an optional transaction):
 * mkdir and rm share their checks and differ only in the libxenstore call.
 */
static int
path_op(struct session *s, json_t *args, struct op_error *e, const char *op,
    const char *verb, bool (*fn)(struct xs_handle *, xs_transaction_t,
    const char *))
{
	const char		*path;
	json_int_t		 jtx = 0;
	xs_transaction_t	 t;
	int			 has_tx, rc;

	if ((rc = unpack_path_tx(op, args, &path, &jtx, &has_tx, e)) < 0)
		return rc;
	if ((rc = check_write(path, e)) < 0 || (rc = xs_get(s, e)) < 0 ||
	    (rc = get_tx(s->xs, jtx, has_tx, &t, e)) < 0)
		return rc;
	errno = 0;
	if (!fn(s->xs->h, t, path))
		return op_fail(e, xs_errno(), "%s %s: %s", verb, path,
		    strerror(xs_errno()));
	return 0;
}

int
op_xs_mkdir(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	return path_op(s, args, e, "xs.mkdir", "mkdir", xs_mkdir);
}

int
op_xs_rm(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	return path_op(s, args, e, "xs.rm", "rm", xs_rm);
}

int
op_xs_directory(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	const char		*path;
	json_int_t		 jtx = 0;
	xs_transaction_t	 t;
	unsigned int		 n, i;
	char			**ents;
	json_t			*arr;
	int			 has_tx, rc;

	if ((rc = unpack_path_tx("xs.directory", args, &path, &jtx,
	    &has_tx, e)) < 0)
		return rc;
	if ((rc = check_read(path, e)) < 0 || (rc = xs_get(s, e)) < 0 ||
	    (rc = get_tx(s->xs, jtx, has_tx, &t, e)) < 0)
		return rc;
	errno = 0;
	if ((ents = xs_directory(s->xs->h, t, path, &n)) == NULL)
		return op_fail(e, xs_errno(), "directory %s: %s", path,
		    strerror(xs_errno()));
	if ((arr = json_array()) == NULL)
		fatalx("json_array");
	for (i = 0; i < n; i++) {
		/* Node names are path components: checked charset, ASCII. */
		json_t *name = value_json(ents[i], strlen(ents[i]));

		if (name == NULL)
			continue;
		json_array_append_new(arr, name);
	}
	free(ents);
	*result = json_pack("{s:o}", "entries", arr);
	return 0;
}

int
op_xs_get_perms(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	const char		*path;
	json_int_t		 jtx = 0;
	xs_transaction_t	 t;
	struct xs_permissions	*p;
	unsigned int		 n, i;
	json_t			*arr;
	char			 buf[32];
	int			 has_tx, rc;

	if ((rc = unpack_path_tx("xs.get_perms", args, &path, &jtx,
	    &has_tx, e)) < 0)
		return rc;
	if ((rc = check_read(path, e)) < 0 || (rc = xs_get(s, e)) < 0 ||
	    (rc = get_tx(s->xs, jtx, has_tx, &t, e)) < 0)
		return rc;
	errno = 0;
	if ((p = xs_get_permissions(s->xs->h, t, path, &n)) == NULL)
		return op_fail(e, xs_errno(), "get_perms %s: %s", path,
		    strerror(xs_errno()));
	if ((arr = json_array()) == NULL)
		fatalx("json_array");
	for (i = 0; i < n; i++) {
		char c;

		switch (p[i].perms & (XS_PERM_READ | XS_PERM_WRITE)) {
		case XS_PERM_READ:
			c = 'r';
			break;
		case XS_PERM_WRITE:
			c = 'w';
			break;
		case XS_PERM_READ | XS_PERM_WRITE:
			c = 'b';
			break;
		default:
			c = 'n';
			break;
		}
		snprintf(buf, sizeof(buf), "%c%u", c, p[i].id);
		json_array_append_new(arr, json_string(buf));
	}
	free(p);
	*result = json_pack("{s:o}", "perms", arr);
	return 0;
}

int
op_xs_set_perms(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	json_error_t		 jerr;
	const char		*path;
	json_t			*jperms, *txv = NULL, *el;
	struct xs_permissions	*p;
	xs_transaction_t	 t = XBT_NULL;
	size_t			 n, i;
	uint64_t		 id;
	int			 rc;

	if (json_unpack_ex(args, &jerr, 0, "{s:s, s:o, s?o !}", "path",
	    &path, "perms", &jperms, "tx", &txv) == -1)
		return op_fail(e, EINVAL, "xs.set_perms: %s", jerr.text);
	if (!json_is_array(jperms) || (n = json_array_size(jperms)) == 0 ||
	    n > MAX_PERMS)
		return op_fail(e, EINVAL,
		    "'perms' must be a list of 1 to %d entries", MAX_PERMS);
	if (txv != NULL && !json_is_integer(txv))
		return op_fail(e, EINVAL, "'tx' must be a transaction id");
	if ((rc = check_write(path, e)) < 0)
		return rc;
	p = xcalloc(n, sizeof(*p));
	json_array_foreach(jperms, i, el) {
		const char *str = json_string_value(el);

		if (str == NULL || str[0] == '\0' ||
		    parse_uint(str + 1, MAX_DOMID - 1, &id) != 0) {
			free(p);
			return op_fail(e, EINVAL,
			    "perms[%zu] must look like n0, r5, w5 or b5", i);
		}
		switch (str[0]) {
		case 'n':
			p[i].perms = XS_PERM_NONE;
			break;
		case 'r':
			p[i].perms = XS_PERM_READ;
			break;
		case 'w':
			p[i].perms = XS_PERM_WRITE;
			break;
		case 'b':
			p[i].perms = XS_PERM_READ | XS_PERM_WRITE;
			break;
		default:
			free(p);
			return op_fail(e, EINVAL,
			    "perms[%zu] must start with n, r, w or b", i);
		}
		p[i].id = (unsigned int)id;
	}
	if ((rc = xs_get(s, e)) < 0 || (txv != NULL && (rc = get_tx(s->xs,
	    json_integer_value(txv), 1, &t, e)) < 0)) {
		free(p);
		return rc;
	}
	errno = 0;
	if (!xs_set_permissions(s->xs->h, t, path, p, (unsigned int)n)) {
		rc = xs_errno();
		free(p);
		return op_fail(e, rc, "set_perms %s: %s", path, strerror(rc));
	}
	free(p);
	return 0;
}

/*
 * Report every node under root (root included), depth first, as
 * deferred xs.watch events with "scan": true, then one xs.scan event.
 * The watch is already registered, so a change made during the scan
 * also arrives as an ordinary watch event afterwards: nothing is lost,
 * at worst a value is reported twice.
 */
static void
scan_tree(struct session *s, const char *root, const char *token)
{
	char		**stack, *path, *v, **ents;
	size_t		  sp = 0, cap = 64, nodes = 0;
	unsigned int	  len, n, i;
	int		  truncated = 0;
	json_t		 *jv;

	stack = xreallocarray(NULL, cap, sizeof(*stack));
	stack[sp++] = xstrdup(root);
	while (sp > 0) {
		path = stack[--sp];
		if (nodes >= MAX_SCAN_NODES) {
			truncated = 1;
			free(path);
			continue;
		}
		errno = 0;
		v = xs_read(s->xs->h, XBT_NULL, path, &len);
		if (v == NULL) {
			/* Gone since its parent was listed, or not there. */
			free(path);
			continue;
		}
		jv = value_json(v, len);
		free(v);
		nodes++;
		session_event(s, "xs.watch", json_pack("{s:s, s:s, s:o?, s:b}",
		    "path", path, "token", token, "value", jv, "scan", 1),
		    EV_DEFER);
		ents = xs_directory(s->xs->h, XBT_NULL, path, &n);
		/* Push in reverse so children come out in listed order. */
		for (i = n; ents != NULL && i > 0; i--) {
			char *child;

			if (strcmp(path, "/") == 0)
				xasprintf(&child, "/%s", ents[i - 1]);
			else
				xasprintf(&child, "%s/%s", path, ents[i - 1]);
			if (strlen(child) > MAX_XS_PATH) {
				free(child);
				continue;
			}
			if (sp == cap) {
				cap *= 2;
				stack = xreallocarray(stack, cap,
				    sizeof(*stack));
			}
			stack[sp++] = child;
		}
		free(ents);
		free(path);
	}
	free(stack);
	session_event(s, "xs.scan", json_pack("{s:s, s:s, s:I, s:b}",
	    "path", root, "token", token, "nodes", (json_int_t)nodes,
	    "truncated", truncated), EV_DEFER);
}

int
op_xs_watch(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	json_error_t	 jerr;
	const char	*path, *token;
	char		*wtok;
	int		 scan = 0, rc;
	size_t		 i;

	if (json_unpack_ex(args, &jerr, 0, "{s:s, s:s, s?b !}", "path",
	    &path, "token", &token, "scan", &scan) == -1)
		return op_fail(e, EINVAL, "xs.watch: %s", jerr.text);
	if (!token_ok(token))
		return op_fail(e, EINVAL,
		    "token must be 1 to %d of [A-Za-z0-9._:-]", MAX_TOKEN);
	if ((rc = check_read(path, e)) < 0 || (rc = xs_get(s, e)) < 0)
		return rc;
	for (i = 0; i < s->xs->nw; i++)
		if (strcmp(s->xs->w[i].path, path) == 0 &&
		    strcmp(s->xs->w[i].token, token) == 0)
			return op_fail(e, EEXIST,
			    "already watching %s with this token", path);
	if (s->xs->nw == MAX_WATCHES)
		return op_fail(e, ENOSPC, "at most %d watches", MAX_WATCHES);
	xasprintf(&wtok, "u:%s", token);
	errno = 0;
	if (!xs_watch(s->xs->h, path, wtok)) {
		rc = xs_errno();
		free(wtok);
		return op_fail(e, rc, "watch %s: %s", path, strerror(rc));
	}
	free(wtok);
	s->xs->w[s->xs->nw].path = xstrdup(path);
	s->xs->w[s->xs->nw].token = xstrdup(token);
	s->xs->nw++;
	if (scan)
		scan_tree(s, path, token);
	return 0;
}

int
op_xs_unwatch(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	json_error_t	 jerr;
	const char	*path, *token;
	char		*wtok;
	size_t		 i;
	int		 rc;

	if (json_unpack_ex(args, &jerr, 0, "{s:s, s:s !}", "path", &path,
	    "token", &token) == -1)
		return op_fail(e, EINVAL, "xs.unwatch: %s", jerr.text);
	if ((rc = check_read(path, e)) < 0 || !token_ok(token))
		return rc < 0 ? rc : op_fail(e, EINVAL, "bad token");
	for (i = 0; i < s->xs->nw; i++)
		if (strcmp(s->xs->w[i].path, path) == 0 &&
		    strcmp(s->xs->w[i].token, token) == 0)
			break;
	if (i == s->xs->nw)
		return op_fail(e, ENOENT, "no watch on %s with this token",
		    path);
	if ((rc = xs_get(s, e)) < 0)
		return rc;
	xasprintf(&wtok, "u:%s", token);
	errno = 0;
	if (!xs_unwatch(s->xs->h, path, wtok))
		log_warn("xs_unwatch %s", path);
	free(wtok);
	free(s->xs->w[i].path);
	free(s->xs->w[i].token);
	s->xs->w[i] = s->xs->w[--s->xs->nw];
	return 0;
}

int
op_xs_tx_start(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	json_error_t		jerr;
	xs_transaction_t	t;
	int			rc;

	if (json_unpack_ex(args, &jerr, 0, "{!}") == -1)
		return op_fail(e, EINVAL, "xs.tx.start: %s", jerr.text);
	if (s->xs->ntx == MAX_TX)
		return op_fail(e, ENOSPC, "at most %d open transactions",
		    MAX_TX);
	if ((rc = xs_get(s, e)) < 0)
		return rc;
	errno = 0;
	if ((t = xs_transaction_start(s->xs->h)) == XBT_NULL)
		return op_fail(e, xs_errno(), "transaction start: %s",
		    strerror(xs_errno()));
	s->xs->tx[s->xs->ntx++] = t;
	*result = json_pack("{s:I}", "tx", (json_int_t)t);
	return 0;
}

int
op_xs_tx_end(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	json_error_t		jerr;
	json_int_t		jtx;
	xs_transaction_t	t;
	int			commit, rc;
	size_t			i;

	if (json_unpack_ex(args, &jerr, 0, "{s:I, s:b !}", "tx", &jtx,
	    "commit", &commit) == -1)
		return op_fail(e, EINVAL, "xs.tx.end: %s", jerr.text);
	if ((rc = get_tx(s->xs, jtx, 1, &t, e)) < 0)
		return rc;
	/* The transaction is over whatever xenstored answers. */
	for (i = 0; i < s->xs->ntx; i++)
		if (s->xs->tx[i] == t)
			s->xs->tx[i] = s->xs->tx[--s->xs->ntx];
	errno = 0;
	if (!xs_transaction_end(s->xs->h, t, !commit)) {
		rc = xs_errno();
		if (rc == EAGAIN)
			return op_fail(e, EAGAIN,
			    "transaction conflict: nothing was applied; "
			    "start again");
		return op_fail(e, rc, "transaction end: %s", strerror(rc));
	}
	return 0;
}

/*
 * Which domids are introduced now?  Candidates are the children of
 * /local/domain (libxl writes a domain's home before introducing it)
 * plus every domid known to be introduced.  Emits the differences as
 * events when emit is set; returns the new set as a sorted array.
 */
static json_t *
rescan_domains(struct session *s, int emit)
{
	unsigned char	 now[sizeof(s->xs->introduced)];
	unsigned char	 cand[sizeof(s->xs->introduced)];
	char		**ents;
	unsigned int	 n, i;
	uint64_t	 id;
	json_t		*arr;

	memcpy(cand, s->xs->introduced, sizeof(cand));
	memset(now, 0, sizeof(now));
	ents = xs_directory(s->xs->h, XBT_NULL, "/local/domain", &n);
	for (i = 0; ents != NULL && i < n; i++)
		if (parse_uint(ents[i], MAX_DOMID - 1, &id) == 0)
			cand[id / 8] |= 1 << (id % 8);
	free(ents);
	if ((arr = json_array()) == NULL)
		fatalx("json_array");
	for (id = 0; id < MAX_DOMID; id++) {
		int was, is;

		if (!(cand[id / 8] & (1 << (id % 8))))
			continue;
		is = xs_is_domain_introduced(s->xs->h, (unsigned int)id);
		was = (s->xs->introduced[id / 8] >> (id % 8)) & 1;
		if (is) {
			now[id / 8] |= 1 << (id % 8);
			json_array_append_new(arr,
			    json_integer((json_int_t)id));
		}
		if (emit && is && !was)
			session_event(s, "xs.introduce", json_pack("{s:I}",
			    "domid", (json_int_t)id), 0);
		if (emit && !is && was)
			session_event(s, "xs.release", json_pack("{s:I}",
			    "domid", (json_int_t)id), 0);
	}
	memcpy(s->xs->introduced, now, sizeof(now));
	return arr;
}

int
op_xs_watch_domains(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	json_error_t	jerr;
	int		rc;

	if (json_unpack_ex(args, &jerr, 0, "{!}") == -1)
		return op_fail(e, EINVAL, "xs.watch_domains: %s", jerr.text);
	if ((rc = xs_get(s, e)) < 0)
		return rc;
	if (s->xs->domains)
		return op_fail(e, EEXIST, "already watching domains");
	errno = 0;
	if (!xs_watch(s->xs->h, "@introduceDomain", TOKEN_INTRO))
		return op_fail(e, xs_errno(), "watch @introduceDomain: %s",
		    strerror(xs_errno()));
	if (!xs_watch(s->xs->h, "@releaseDomain", TOKEN_RELEASE)) {
		rc = xs_errno();
		xs_unwatch(s->xs->h, "@introduceDomain", TOKEN_INTRO);
		return op_fail(e, rc, "watch @releaseDomain: %s",
		    strerror(rc));
	}
	s->xs->domains = 1;
	memset(s->xs->introduced, 0, sizeof(s->xs->introduced));
	*result = json_pack("{s:o}", "domids", rescan_domains(s, 0));
	return 0;
}

int
op_xs_unwatch_domains(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	json_error_t	jerr;

	if (json_unpack_ex(args, &jerr, 0, "{!}") == -1)
		return op_fail(e, EINVAL, "xs.unwatch_domains: %s",
		    jerr.text);
	if (!s->xs->domains)
		return op_fail(e, ENOENT, "not watching domains");
	xs_unwatch(s->xs->h, "@introduceDomain", TOKEN_INTRO);
	xs_unwatch(s->xs->h, "@releaseDomain", TOKEN_RELEASE);
	s->xs->domains = 0;
	return 0;
}

int
xsops_fd(struct session *s)
{
	if (s->xs->h == NULL || (s->xs->nw == 0 && !s->xs->domains))
		return -1;
	return xs_fileno(s->xs->h);
}

static void
deliver(struct session *s, const char *path, const char *wtok, uint64_t merged)
{
	unsigned int	 len;
	size_t		 i;
	char		*v;
	json_t		*data, *jv;
	int		 err;

	if (strcmp(wtok, TOKEN_INTRO) == 0 || strcmp(wtok, TOKEN_RELEASE) == 0) {
		if (!s->xs->domains)
			return;
		json_decref(rescan_domains(s, 1));
		if (strcmp(wtok, TOKEN_RELEASE) == 0)
			dominfo_kick(s);
		return;
	}
	if (strncmp(wtok, "u:", 2) != 0)
		return;
	for (i = 0; i < s->xs->nw; i++)
		if (strcmp(s->xs->w[i].token, wtok + 2) == 0 &&
		    xs_path_is_subpath(s->xs->w[i].path, path))
			break;
	if (i == s->xs->nw)
		return;		/* unwatched meanwhile */
	errno = 0;
	v = xs_read(s->xs->h, XBT_NULL, path, &len);
	err = v == NULL ? xs_errno() : 0;
	jv = v != NULL ? value_json(v, len) : NULL;
	data = json_pack("{s:s, s:s, s:o?}", "path", path, "token", wtok + 2,
	    "value", jv);
	if (data == NULL)
		fatalx("json_pack watch");
	if (v != NULL && jv == NULL)
		json_object_set_new(data, "error", json_string("EILSEQ"));
	else if (v == NULL && err != ENOENT)
		json_object_set_new(data, "error",
		    json_string(errno_name(err)));
	free(v);
	/* Identical events folded into this one: the host counts them (a guest writing the same node again and again). */
	if (merged > 0)
		json_object_set_new(data, "merged", json_integer((json_int_t)merged));
	session_event(s, "xs.watch", data, 0);
}

/* Watch events taken from libxenstore at once, at most. */
#define PUMP_TAKE	65536
/* Pending events delivered per wake-up, at most: requests are read between. */
#define PUMP_DELIVER	1024
/*
 * Deliveries between takes: each reads a value from xenstored, which a
 * flood slows down, and libxenstore's list grows meanwhile.
 */
#define PUMP_RETAKE	16

int
xsops_pending(struct session *s)
{
	return s->xs->pend.n > 0 || s->xs->pend.dropped > 0;
}

/*
 * Take the watch events libxenstore holds into the pending set; -1 when
 * the connection was lost (reported, and the context reset).
 */
static int
take(struct session *s)
{
	char	**vec;
	size_t	  n;
	int	  err;

	for (n = 0; n < PUMP_TAKE; n++) {
		errno = 0;
		vec = xs_check_watch(s->xs->h);
		if (vec == NULL) {
			if (errno == EAGAIN || errno == 0)
				break;
			/*
			 * The values cannot be read any more: the rescan
			 * after reconnecting reconciles.
			 */
			err = errno;
			log_warn("xenstore connection lost");
			session_event(s, "xs.lost", json_pack("{s:s}",
			    "error", errno_name(err)), 0);
			xsops_free(s);
			xsops_init(s);
			return -1;
		}
		if (pendset_add(&s->xs->pend, vec[XS_WATCH_PATH],
		    vec[XS_WATCH_TOKEN]) == PEND_OVERFLOW)
			s->xs->rescan_due = 1;
		free(vec);
	}
	return 0;
}

/*
 * Takes the watch events libxenstore holds into the pending set, then
 * delivers from it while the output has room, taking again every few
 * deliveries.  A watch carries no value (the value is read when the event
 * is delivered), so identical pending events say nothing more than one of
 * them: a (path, token) is pending once, at its first place.  A guest
 * rewriting one node thousands of times then costs a read per delivery,
 * not a read per write, and other domains' events behind it are read
 * promptly instead of after the whole backlog.  Events are taken even
 * while the host is not reading, so libxenstore's list (which has no
 * bound) stays short; the pending set is bounded (MAX_PENDING,
 * MAX_PENDING_BYTES), and when an event does not fit it is cleared and
 * the loss reported as xs.overflow, first, when there is room again
 * (with a rescan of the domain list, which needs no help from the host).
 */
void
xsops_pump(struct session *s)
{
	/*
	 * Static: the helper may exit inside deliver() (the main process went
	 * away), and the entry being delivered then stays reachable, not
	 * leaked.  Not re-entered: deliver() runs no pump.
	 */
	static void	*cur;
	const char	*path, *token;
	uint64_t	 dropped;
	size_t		 k;

	if (s->xs->h == NULL)
		return;
	for (k = 0; k < PUMP_DELIVER; k++) {
		if (k % PUMP_RETAKE == 0 && take(s) == -1)
			return;
		if (session_output_held(s))
			return;
		if ((dropped = pendset_take_dropped(&s->xs->pend)) > 0) {
			log_warnx("the host reads too slowly: %llu watch "
			    "events dropped", (unsigned long long)dropped);
			session_event(s, "xs.overflow", json_pack("{s:I}",
			    "dropped", (json_int_t)dropped), 0);
			if (s->xs->rescan_due && s->xs->domains) {
				json_decref(rescan_domains(s, 1));
				dominfo_kick(s);
			}
			s->xs->rescan_due = 0;
			continue;
		}
		if ((cur = pendset_pop(&s->xs->pend, &path, &token)) == NULL)
			return;
		deliver(s, path, token, pendset_entry_merged(cur));
		free(cur);
		cur = NULL;
	}
}
