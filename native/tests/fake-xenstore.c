/*
 * fake-xenstore.c: an in-memory stand-in for libxenstore, linked in
 * place of -lxenstore by the unit tests and fuzz targets (G22).  It keeps
 * a flat list of nodes with values and permissions, fires watches on
 * writes and removals the way xenstored does (the node, its ancestors'
 * watches, the initial fire on registration), and queues events for
 * xs_check_watch.  Behaviour that matters to the helper follows C
 * xenstored 4.17: missing parents are created empty, RM of a missing
 * node under an existing parent succeeds, unknown unwatch is ENOENT.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenstore.h>

#include "fake-xenstore.h"

#define MAXN	4096
#define MAXW	256
#define MAXQ	4096

struct node {
	char	*path;
	char	*value;
	unsigned int len;
	struct xs_permissions perms[8];
	unsigned int nperms;
};
struct fwatch {
	char	*path;
	char	*token;
};

static struct node	nodes[MAXN];
static size_t		nnodes;
static struct fwatch	watches[MAXW];
static size_t		nwatches;
static char		*queue[MAXQ][2];
static size_t		qhead, qlen;
static unsigned char	introduced[4096];
static int		conflict_next, open_errno, next_tx = 1;
static int		handle_dummy;

static struct node *
find(const char *path)
{
	size_t	i;

	for (i = 0; i < nnodes; i++)
		if (strcmp(nodes[i].path, path) == 0)
			return &nodes[i];
	return NULL;
}

static void
enqueue(const char *path, const char *token)
{
	size_t	slot;

	if (qlen == MAXQ)
		return;
	slot = (qhead + qlen) % MAXQ;
	queue[slot][0] = strdup(path);
	queue[slot][1] = strdup(token);
	qlen++;
}

bool
xs_path_is_subpath(const char *parent, const char *child)
{
	size_t	n = strlen(parent);

	if (strncmp(parent, child, n) != 0)
		return false;
	return child[n] == '\0' || child[n] == '/' || strcmp(parent, "/") == 0;
}

static void
fire(const char *path)
{
	size_t	i;

	for (i = 0; i < nwatches; i++)
		if (xs_path_is_subpath(watches[i].path, path))
			enqueue(path, watches[i].token);
}

static struct node *
create(const char *path)
{
	struct node	*n;
	char		*parent, *slash;

	if ((n = find(path)) != NULL)
		return n;
	if (strcmp(path, "/") != 0) {
		parent = strdup(path);
		slash = strrchr(parent, '/');
		if (slash == parent)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (create(parent) == NULL) {
			free(parent);
			return NULL;
		}
		free(parent);
	}
	if (nnodes == MAXN)
		return NULL;	/* as xenstored's quota: ENOSPC */
	n = &nodes[nnodes++];
	memset(n, 0, sizeof(*n));
	n->path = strdup(path);
	n->value = strdup("");
	n->nperms = 1;
	n->perms[0].id = 0;
	n->perms[0].perms = XS_PERM_NONE;
	return n;
}

void
fake_xs_reset(void)
{
	size_t	i;

	for (i = 0; i < nnodes; i++) {
		free(nodes[i].path);
		free(nodes[i].value);
	}
	nnodes = 0;
	for (i = 0; i < nwatches; i++) {
		free(watches[i].path);
		free(watches[i].token);
	}
	nwatches = 0;
	while (qlen > 0) {
		free(queue[qhead][0]);
		free(queue[qhead][1]);
		qhead = (qhead + 1) % MAXQ;
		qlen--;
	}
	memset(introduced, 0, sizeof(introduced));
	conflict_next = open_errno = 0;
	next_tx = 1;
	create("/");
}

void
fake_xs_set(const char *path, const char *value)
{
	xs_write((struct xs_handle *)&handle_dummy, XBT_NULL, path, value,
	    (unsigned int)strlen(value));
}

void
fake_xs_rm(const char *path)
{
	xs_rm((struct xs_handle *)&handle_dummy, XBT_NULL, path);
}

void
fake_xs_fixture(void)
{
	fake_xs_reset();
	fake_xs_set("/local/domain/0/name", "Domain-0");
	fake_xs_set("/local/domain/0/domid", "0");
	fake_xs_set("/local/domain/3/name", "vm3");
	fake_xs_set("/local/domain/3/vm",
	    "/vm/6a3b1c2d-0000-4000-8000-000000000003");
	fake_xs_set("/vm/6a3b1c2d-0000-4000-8000-000000000003/name", "vm3");
	introduced[0] = 1;
	introduced[3] = 1;
}

void
fake_xs_introduce(unsigned int domid, int on)
{
	size_t	i;

	if (domid >= sizeof(introduced))
		return;
	introduced[domid] = (unsigned char)on;
	for (i = 0; i < nwatches; i++)
		if (strcmp(watches[i].path, on ? "@introduceDomain" :
		    "@releaseDomain") == 0)
			enqueue(watches[i].path, watches[i].token);
}

void
fake_xs_conflict_next(void)
{
	conflict_next = 1;
}

void
fake_xs_open_errno(int e)
{
	open_errno = e;
}

struct xs_handle *
xs_open(unsigned long flags)
{
	if (open_errno != 0) {
		errno = open_errno;
		return NULL;
	}
	if (nnodes == 0)
		fake_xs_reset();
	return (struct xs_handle *)&handle_dummy;
}

void
xs_close(struct xs_handle *h)
{
}

void *
xs_read(struct xs_handle *h, xs_transaction_t t, const char *path,
    unsigned int *len)
{
	struct node	*n = find(path);
	char		*v;

	if (n == NULL) {
		errno = ENOENT;
		return NULL;
	}
	v = malloc(n->len + 1);
	memcpy(v, n->value, n->len);
	v[n->len] = '\0';
	*len = n->len;
	return v;
}

bool
xs_write(struct xs_handle *h, xs_transaction_t t, const char *path,
    const void *data, unsigned int len)
{
	struct node	*n = create(path);

	if (n == NULL) {
		errno = ENOSPC;
		return false;
	}
	free(n->value);
	n->value = malloc(len + 1);
	memcpy(n->value, data, len);
	n->value[len] = '\0';
	n->len = len;
	fire(path);
	return true;
}

bool
xs_mkdir(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	if (find(path) == NULL) {
		if (create(path) == NULL) {
			errno = ENOSPC;
			return false;
		}
		fire(path);
	}
	return true;
}

bool
xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	char	*parent, *slash;
	size_t	 i;
	int	 had;

	if (find(path) == NULL) {
		parent = strdup(path);
		slash = strrchr(parent, '/');
		if (slash != NULL && slash != parent)
			*slash = '\0';
		else if (slash != NULL)
			slash[1] = '\0';
		had = find(parent) != NULL;
		free(parent);
		if (!had) {
			errno = ENOENT;
			return false;
		}
		return true;
	}
	for (i = 0; i < nnodes; ) {
		if (xs_path_is_subpath(path, nodes[i].path)) {
			free(nodes[i].path);
			free(nodes[i].value);
			nodes[i] = nodes[--nnodes];
		} else
			i++;
	}
	fire(path);
	for (i = 0; i < nwatches; i++)
		if (xs_path_is_subpath(path, watches[i].path) &&
		    strcmp(path, watches[i].path) != 0)
			enqueue(watches[i].path, watches[i].token);
	return true;
}

char **
xs_directory(struct xs_handle *h, xs_transaction_t t, const char *path,
    unsigned int *num)
{
	size_t	 i, plen = strlen(path), total = 0, n = 0;
	char	**out, *p;

	if (find(path) == NULL) {
		errno = ENOENT;
		return NULL;
	}
	for (i = 0; i < nnodes; i++) {
		const char *c = nodes[i].path;

		if (strncmp(c, path, plen) == 0 && c[plen] == '/' &&
		    strchr(c + plen + 1, '/') == NULL && c[plen + 1] != '\0') {
			n++;
			total += strlen(c + plen + 1) + 1;
		}
	}
	out = malloc((n + 1) * sizeof(char *) + total);
	p = (char *)(out + n + 1);
	n = 0;
	for (i = 0; i < nnodes; i++) {
		const char *c = nodes[i].path;

		if (strncmp(c, path, plen) == 0 && c[plen] == '/' &&
		    strchr(c + plen + 1, '/') == NULL && c[plen + 1] != '\0') {
			out[n++] = p;
			strcpy(p, c + plen + 1);
			p += strlen(p) + 1;
		}
	}
	/* Sort for stable golden output. */
	for (i = 1; i < n; i++) {
		size_t j = i;

		while (j > 0 && strcmp(out[j - 1], out[j]) > 0) {
			char *tmp = out[j];

			out[j] = out[j - 1];
			out[j - 1] = tmp;
			j--;
		}
	}
	out[n] = NULL;
	*num = (unsigned int)n;
	return out;
}

struct xs_permissions *
xs_get_permissions(struct xs_handle *h, xs_transaction_t t,
    const char *path, unsigned int *num)
{
	struct node		*n = find(path);
	struct xs_permissions	*p;

	if (n == NULL) {
		errno = ENOENT;
		return NULL;
	}
	p = malloc(n->nperms * sizeof(*p));
	memcpy(p, n->perms, n->nperms * sizeof(*p));
	*num = n->nperms;
	return p;
}

bool
xs_set_permissions(struct xs_handle *h, xs_transaction_t t,
    const char *path, struct xs_permissions *perms, unsigned int num)
{
	struct node	*n = find(path);

	if (n == NULL) {
		errno = ENOENT;
		return false;
	}
	if (num > 8) {
		errno = E2BIG;
		return false;
	}
	memcpy(n->perms, perms, num * sizeof(*perms));
	n->nperms = num;
	fire(path);
	return true;
}

bool
xs_watch(struct xs_handle *h, const char *path, const char *token)
{
	size_t	i;

	for (i = 0; i < nwatches; i++)
		if (strcmp(watches[i].path, path) == 0 &&
		    strcmp(watches[i].token, token) == 0) {
			errno = EEXIST;
			return false;
		}
	if (nwatches == MAXW) {
		errno = E2BIG;
		return false;
	}
	watches[nwatches].path = strdup(path);
	watches[nwatches].token = strdup(token);
	nwatches++;
	enqueue(path, token);	/* the initial fire */
	return true;
}

bool
xs_unwatch(struct xs_handle *h, const char *path, const char *token)
{
	size_t	i, j;

	for (i = 0; i < nwatches; i++) {
		if (strcmp(watches[i].path, path) == 0 &&
		    strcmp(watches[i].token, token) == 0) {
			free(watches[i].path);
			free(watches[i].token);
			watches[i] = watches[--nwatches];
			/* XS_UNWATCH_FILTER: drop its queued events. */
			for (j = 0; j < qlen; j++) {
				size_t s = (qhead + j) % MAXQ;

				if (queue[s][1] != NULL &&
				    strcmp(queue[s][1], token) == 0) {
					free(queue[s][1]);
					queue[s][1] = NULL;
				}
			}
			return true;
		}
	}
	errno = ENOENT;
	return false;
}

int
xs_fileno(struct xs_handle *h)
{
	/* Never polled in unit tests: they pump the queue directly. */
	return -1;
}

char **
xs_check_watch(struct xs_handle *h)
{
	char	**v;
	size_t	  a, b;

	while (qlen > 0) {
		char *p = queue[qhead][0], *t = queue[qhead][1];

		qhead = (qhead + 1) % MAXQ;
		qlen--;
		if (t == NULL) {
			free(p);
			continue;
		}
		a = strlen(p) + 1;
		b = strlen(t) + 1;
		v = malloc(2 * sizeof(char *) + a + b);
		v[0] = (char *)(v + 2);
		v[1] = v[0] + a;
		memcpy(v[0], p, a);
		memcpy(v[1], t, b);
		free(p);
		free(t);
		return v;
	}
	errno = EAGAIN;
	return NULL;
}

xs_transaction_t
xs_transaction_start(struct xs_handle *h)
{
	return (xs_transaction_t)next_tx++;
}

bool
xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool abort_)
{
	if (conflict_next && !abort_) {
		conflict_next = 0;
		errno = EAGAIN;
		return false;
	}
	return true;
}

bool
xs_is_domain_introduced(struct xs_handle *h, unsigned int domid)
{
	return domid < sizeof(introduced) && introduced[domid];
}
