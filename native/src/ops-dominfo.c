/*
 * ops-dominfo.c: hypervisor domain state (running, blocked, paused,
 * shutdown with its reason, dying) for every domain, read through
 * `xl list -v` (falling back to plain `xl list`, which lacks the uuid).
 * Pause and unpause fire no xenstore watch, so the caller sets a poll
 * interval; @releaseDomain (shutdown, death) also triggers a read.  A
 * dominfo event is sent only when the list changed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "log.h"
#include "ops.h"
#include "proc.h"
#include "proto.h"
#include "util.h"

#define DOMINFO_TIMEOUT_MS	10000
#define MAX_DOMAINS		1024

struct dominfo_state {
	struct ticker	 tick;
	json_t		*last;
};

static const char *
reason_name(unsigned long code)
{
	static const char *names[] = { "poweroff", "reboot", "suspend",
	    "crash", "watchdog", "soft_reset" };

	return code < nitems(names) ? names[code] : "unknown";
}

static int
uuid_ok(const char *u)
{
	size_t	i;

	if (strlen(u) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (u[i] != '-')
				return 0;
		} else if (!((u[i] >= '0' && u[i] <= '9') ||
		    (u[i] >= 'a' && u[i] <= 'f') ||
		    (u[i] >= 'A' && u[i] <= 'F')))
			return 0;
	}
	return 1;
}

/* Append src to dst (size bytes), truncating. */
static void
strlcat_(char *dst, const char *src, size_t size)
{
	size_t	len = strlen(dst);

	if (len + 1 >= size)
		return;
	snprintf(dst + len, size - len, "%s", src);
}

/* One line of `xl list [-v]`; NULL if it is not a domain line. */
static json_t *
parse_line(char *line, int verbose)
{
	char		*tok[64], *save = NULL, *t, *name, *state;
	char		 namebuf[256];
	size_t		 n = 0, need = verbose ? 9 : 6, i, base;
	uint64_t	 domid;
	unsigned long	 code;
	json_t		*d;
	const char	*reason = NULL;

	for (t = strtok_r(line, " \t", &save); t != NULL && n < nitems(tok);
	    t = strtok_r(NULL, " \t", &save))
		tok[n++] = t;
	if (n < need)
		return NULL;
	base = n - need + 1;	/* index of the id column */
	if (parse_uint(tok[base], MAX_DOMID - 1, &domid) != 0)
		return NULL;
	state = tok[base + 3];
	if (strlen(state) != 6 ||
	    (state[0] != 'r' && state[0] != '-') ||
	    (state[1] != 'b' && state[1] != '-') ||
	    (state[2] != 'p' && state[2] != '-') ||
	    (state[3] != 's' && state[3] != '-') ||
	    strchr("-rscwS?", state[4]) == NULL ||
	    (state[5] != 'd' && state[5] != '-'))
		return NULL;
	/* The name is everything before the id column, spaces squeezed. */
	name = namebuf;
	namebuf[0] = '\0';
	for (i = 0; i < base; i++) {
		if (i > 0)
			strlcat_(namebuf, " ", sizeof(namebuf));
		strlcat_(namebuf, tok[i], sizeof(namebuf));
	}
	if (state[3] == 's') {
		const char *letters = "-rscwS";
		const char *p = strchr(letters, state[4]);

		reason = p != NULL ? reason_name((unsigned long)(p - letters)) :
		    "unknown";
	}
	d = json_pack("{s:I, s:s%, s:b, s:b, s:b, s:b, s:b}",
	    "domid", (json_int_t)domid, "name", name, strlen(name),
	    "running", state[0] == 'r', "blocked", state[1] == 'b',
	    "paused", state[2] == 'p', "shutdown", state[3] == 's',
	    "dying", state[5] == 'd');
	if (d == NULL)
		return NULL;	/* a name that is not UTF-8 */
	if (verbose) {
		const char *uuid = tok[base + 5], *rc = tok[base + 6];
		char *end;

		if (uuid_ok(uuid))
			json_object_set_new(d, "uuid", json_string(uuid));
		if (state[3] == 's' && strcmp(rc, "-") != 0) {
			code = strtoul(rc, &end, 16);
			if (*end == '\0')
				reason = reason_name(code);
		}
	}
	if (reason != NULL)
		json_object_set_new(d, "reason", json_string(reason));
	return d;
}

json_t *
dominfo_parse(const char *text, size_t len, int verbose)
{
	char	*copy, *line, *save = NULL;
	json_t	*arr, *d;

	if ((arr = json_array()) == NULL)
		fatalx("json_array");
	copy = xstrndup(text, len);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "Name ", 5) == 0)
			continue;
		if (json_array_size(arr) == MAX_DOMAINS)
			break;
		if ((d = parse_line(line, verbose)) != NULL)
			json_array_append_new(arr, d);
	}
	free(copy);
	return arr;
}

/* Read the list now; 0 and *out, or -errno with e filled. */
static int
dominfo_read(struct session *s, json_t **out, struct op_error *e)
{
	static const char	*verbose[] = { "list", "-v" };
	static const char	*plain[] = { "list" };
	struct proc_result	 res;
	int			 rc, v = 1;

	rc = xl_run(s, verbose, 2, DOMINFO_TIMEOUT_MS, 0, &res);
	if (rc == 0 && !(res.exited && res.status == 0)) {
		proc_result_free(&res);
		v = 0;
		rc = xl_run(s, plain, 1, DOMINFO_TIMEOUT_MS, 0, &res);
	}
	if (rc < 0)
		return op_fail(e, -rc, "cannot run xl: %s", strerror(-rc));
	if (!res.exited || res.status != 0) {
		char *msg = utf8_sanitize(res.err, res.errlen < 200 ?
		    res.errlen : 200);

		rc = op_fail(e, EIO, "xl list failed (status %d): %s",
		    res.exited ? res.status : -1, msg);
		free(msg);
		proc_result_free(&res);
		return rc;
	}
	*out = dominfo_parse(res.out, res.outlen, v);
	proc_result_free(&res);
	return 0;
}

void
dominfo_init(struct session *s)
{
	s->di = xcalloc(1, sizeof(*s->di));
}

void
dominfo_free(struct session *s)
{
	if (s->di == NULL)
		return;
	json_decref(s->di->last);
	free(s->di);
	s->di = NULL;
}

int
op_dominfo(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	json_error_t	 jerr;
	json_t		*list;
	int		 rc;

	if (json_unpack_ex(args, &jerr, 0, "{!}") == -1)
		return op_fail(e, EINVAL, "dominfo: %s", jerr.text);
	if ((rc = dominfo_read(s, &list, e)) < 0)
		return rc;
	*result = json_pack("{s:o}", "domains", list);
	return 0;
}

int
op_dominfo_poll(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	json_error_t	jerr;
	json_int_t	ms;

	if (json_unpack_ex(args, &jerr, 0, "{s:I !}", "interval_ms",
	    &ms) == -1)
		return op_fail(e, EINVAL, "dominfo.poll: %s", jerr.text);
	if (ms != 0 && (ms < DOMINFO_POLL_MIN_MS || ms > DOMINFO_POLL_MAX_MS))
		return op_fail(e, EINVAL, "'interval_ms' must be 0 (off) or "
		    "in [%d, %d]", DOMINFO_POLL_MIN_MS, DOMINFO_POLL_MAX_MS);
	ticker_set(&s->di->tick, (int)ms);	/* first read at the next tick */
	json_decref(s->di->last);
	s->di->last = NULL;	/* so the first read is always reported */
	return 0;
}

int
dominfo_timeout(struct session *s)
{
	return ticker_timeout(&s->di->tick);
}

void
dominfo_kick(struct session *s)
{
	ticker_kick(&s->di->tick);
}

void
dominfo_tick(struct session *s)
{
	struct op_error	 e;
	json_t		*list = NULL;

	if (!ticker_due(&s->di->tick))
		return;
	s->di->tick.next = now_ms() + s->di->tick.interval;
	memset(&e, 0, sizeof(e));
	if (dominfo_read(s, &list, &e) < 0) {
		log_warnx("dominfo: %s", e.msg);
		return;
	}
	if (s->di->last != NULL && json_equal(s->di->last, list)) {
		json_decref(list);
		return;
	}
	json_decref(s->di->last);
	s->di->last = list;
	session_event(s, "dominfo", json_pack("{s:O}", "domains", list), 0);
}
