/*
 * dispatch.c: the op table and the checks made before any handler runs.
 *
 * The table below is the helper's security policy: an op that is not
 * in it does not exist (ENOSYS), and its flags say what the session
 * must have done first.  Every request is an object with exactly the
 * keys v, id, op and args; anything else is refused with an error reply
 * that echoes the id when it could be read.  Bad input never ends the
 * process once the session is established: the helper answers and reads
 * the next line.  Until hello has succeeded, though, every error is a
 * state error (the peer is not a client of this protocol version): the
 * error reply goes out and the session closes (s->closing, main.c exits
 * with fatalx), as OpenSSH's monitor does on a state violation.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "json-line.h"
#include "log.h"
#include "ops.h"
#include "proto.h"
#include "util.h"

static int	op_hello(struct session *, json_t *, json_t **,
		    struct op_error *);
static int	op_ping(struct session *, json_t *, json_t **,
		    struct op_error *);
static json_t	*handle_request(struct session *, json_t *);
static json_t	*handle_checked(struct session *, json_t *);
static json_t	*error_reply(json_t *, int, const char *, json_t *);
static void	 emit_json(struct session *, json_t *);

static const struct op ops[] = {
	{ "hello",		op_hello,		OPF_ONCE },
	{ "ping",		op_ping,		OPF_NEED_HELLO },
	{ "xs.read",		op_xs_read,		OPF_NEED_HELLO },
	{ "xs.write",		op_xs_write,		OPF_NEED_HELLO },
	{ "xs.mkdir",		op_xs_mkdir,		OPF_NEED_HELLO },
	{ "xs.rm",		op_xs_rm,		OPF_NEED_HELLO },
	{ "xs.directory",	op_xs_directory,	OPF_NEED_HELLO },
	{ "xs.get_perms",	op_xs_get_perms,	OPF_NEED_HELLO },
	{ "xs.set_perms",	op_xs_set_perms,	OPF_NEED_HELLO },
	{ "xs.watch",		op_xs_watch,		OPF_NEED_HELLO },
	{ "xs.unwatch",		op_xs_unwatch,		OPF_NEED_HELLO },
	{ "xs.tx.start",	op_xs_tx_start,		OPF_NEED_HELLO },
	{ "xs.tx.end",		op_xs_tx_end,		OPF_NEED_HELLO },
	{ "xs.watch_domains",	op_xs_watch_domains,	OPF_NEED_HELLO },
	{ "xs.unwatch_domains",	op_xs_unwatch_domains,	OPF_NEED_HELLO },
	{ "dominfo",		op_dominfo,		OPF_NEED_HELLO },
	{ "dominfo.poll",	op_dominfo_poll,	OPF_NEED_HELLO },
	{ "qmp",		op_qmp,		OPF_NEED_HELLO | OPF_TAKES_FD },
	{ "xl",			op_xl,			OPF_NEED_HELLO },
	{ "log.follow",		op_log_follow,		OPF_NEED_HELLO },
	{ "log.unfollow",	op_log_unfollow,	OPF_NEED_HELLO },
	{ "dm.poll",		op_dm_poll,		OPF_NEED_HELLO },
};

const struct op *
dispatch_ops(size_t *n)
{
	*n = nitems(ops);
	return ops;
}

void
session_init(struct session *s, const struct config *cfg, emit_fn emit,
    void *arg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->emit = emit;
	s->emit_arg = arg;
	s->deferred = json_array();
	if (s->deferred == NULL)
		fatalx("json_array");
	xsops_init(s);
	dominfo_init(s);
	logtail_init(s);
	dm_init(s);
}

void
session_free(struct session *s)
{
	dm_free(s);
	logtail_free(s);
	dominfo_free(s);
	xsops_free(s);
	json_decref(s->deferred);
	s->deferred = NULL;
}

int
op_fail(struct op_error *e, int err, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -err;
}

static void
emit_json(struct session *s, json_t *j)
{
	char	*line;
	size_t	 len;

	line = jl_dump(j, &len);
	s->emit(s->emit_arg, line, len);
	free(line);
}

int
session_output_held(struct session *s)
{
	size_t	n;

	if (s->backlog == NULL)
		return 0;
	n = s->backlog(s->emit_arg);
	if (n >= OUT_HIGH)
		s->held = 1;
	else if (n <= OUT_LOW)
		s->held = 0;
	return s->held;
}

void
session_flush(struct session *s)
{
	size_t	 i;
	json_t	*ev;

	json_array_foreach(s->deferred, i, ev)
		emit_json(s, ev);
	json_array_clear(s->deferred);
}

void
session_event(struct session *s, const char *name, json_t *data, int flags)
{
	json_t	*ev;

	ev = json_pack("{s:s, s:o}", "event", name, "data", data);
	if (ev == NULL)
		fatalx("json_pack event");
	if (!s->in_dispatch && json_array_size(s->deferred) > 0)
		session_flush(s);
	/*
	 * Keep order: once something is deferred, later events queue
	 * behind it, so an initial scan is never overtaken by a watch
	 * event that fired after it.
	 */
	if (s->in_dispatch && ((flags & EV_DEFER) ||
	    (!(flags & EV_NOW) && json_array_size(s->deferred) > 0))) {
		if (json_array_append_new(s->deferred, ev) == -1)
			fatalx("json_array_append");
		return;
	}
	emit_json(s, ev);
	json_decref(ev);
}

static json_t *
error_reply(json_t *id, int err, const char *msg, json_t *detail)
{
	json_t	*e, *r;

	e = json_pack("{s:s, s:s}", "code", errno_name(err), "message",
	    msg != NULL && *msg != '\0' ? msg : strerror(err));
	if (e == NULL)
		fatalx("json_pack error");
	if (detail != NULL && json_object_set_new(e, "detail", detail) == -1)
		fatalx("json_object_set");
	r = json_pack("{s:O?, s:b, s:o}", "id", id, "ok", 0, "error", e);
	if (r == NULL)
		fatalx("json_pack reply");
	return r;
}

static json_t *
handle_request(struct session *s, json_t *req)
{
	struct op_error	 e;
	const struct op	*op = NULL;
	json_t		*jid, *jv, *jop, *args, *val, *result = NULL, *r;
	json_t		*id = NULL;
	const char	*key, *name;
	json_int_t	 v;
	size_t		 i;
	int		 rc;

	if (!json_is_object(req))
		return error_reply(NULL, EINVAL,
		    "a request must be a JSON object", NULL);

	/* Read the id first, so later errors can echo it. */
	jid = json_object_get(req, "id");
	if (jid == NULL)
		return error_reply(NULL, EINVAL, "missing key 'id'", NULL);
	if (!json_is_integer(jid) || json_integer_value(jid) < 0 ||
	    json_integer_value(jid) > MAX_ID)
		return error_reply(NULL, EINVAL,
		    "'id' must be an integer in [0, 2^53-1]", NULL);
	id = jid;

	json_object_foreach(req, key, val) {
		if (strcmp(key, "v") != 0 && strcmp(key, "id") != 0 &&
		    strcmp(key, "op") != 0 && strcmp(key, "args") != 0) {
			snprintf(e.msg, sizeof(e.msg),
			    "unknown key '%.64s' in request", key);
			return error_reply(id, EINVAL, e.msg, NULL);
		}
	}
	jv = json_object_get(req, "v");
	if (jv == NULL || !json_is_integer(jv))
		return error_reply(id, EINVAL,
		    "'v' must be the protocol version (an integer)", NULL);
	v = json_integer_value(jv);
	if (v != PROTOCOL_VERSION) {
		snprintf(e.msg, sizeof(e.msg),
		    "protocol version %lld is not supported (this helper "
		    "speaks %d)", (long long)v, PROTOCOL_VERSION);
		return error_reply(id, EPROTONOSUPPORT, e.msg, NULL);
	}
	jop = json_object_get(req, "op");
	if (jop == NULL || !json_is_string(jop))
		return error_reply(id, EINVAL, "'op' must be a string", NULL);
	name = json_string_value(jop);
	for (i = 0; i < nitems(ops); i++) {
		if (strcmp(ops[i].name, name) == 0) {
			op = &ops[i];
			break;
		}
	}
	if (op == NULL) {
		snprintf(e.msg, sizeof(e.msg), "unknown op '%.64s'", name);
		return error_reply(id, ENOSYS, e.msg, NULL);
	}
	args = json_object_get(req, "args");
	if (args != NULL && !json_is_object(args))
		return error_reply(id, EINVAL, "'args' must be an object",
		    NULL);

	if ((op->flags & OPF_NEED_HELLO) && !s->hello) {
		s->closing = "an op came before hello";
		return error_reply(id, EPROTO,
		    "state error: 'hello' must come first", NULL);
	}
	if ((op->flags & OPF_ONCE) && s->hello) {
		s->closing = "a second hello";
		return error_reply(id, EPROTO,
		    "state error: 'hello' was already accepted", NULL);
	}

	if (args == NULL)
		args = json_object();
	else
		json_incref(args);
	memset(&e, 0, sizeof(e));
	s->cur_id = id;
	rc = op->fn(s, args, &result, &e);
	s->cur_id = NULL;
	json_decref(args);
	if (rc < 0) {
		json_decref(result);
		if (rc == INT_MIN || -rc <= 0)
			fatalx("handler %s returned %d", op->name, rc);
		return error_reply(id, -rc, e.msg, e.detail);
	}
	if (rc > 0)
		fatalx("handler %s returned %d", op->name, rc);
	json_decref(e.detail);
	if (result == NULL)
		result = json_object();
	r = json_pack("{s:O, s:b, s:o}", "id", id, "ok", 1, "result", result);
	if (r == NULL)
		fatalx("json_pack reply");
	return r;
}

/*
 * One request, with the session rule on top: before a successful hello
 * any error closes the session, and once it is closing the remaining
 * requests of a batch are cancelled unread.
 */
static json_t *
handle_checked(struct session *s, json_t *req)
{
	json_t	*r, *id;

	if (s->closing != NULL) {
		id = json_is_object(req) ? json_object_get(req, "id") : NULL;
		if (!json_is_integer(id) || json_integer_value(id) < 0 ||
		    json_integer_value(id) > MAX_ID)
			id = NULL;
		return error_reply(id, ECANCELED, "not run: the session is "
		    "closing after a state error", NULL);
	}
	r = handle_request(s, req);
	if (!s->hello && s->closing == NULL)
		s->closing = "the first request was not a good hello";
	return r;
}

void
dispatch_line(struct session *s, const char *line, size_t len)
{
	char	 msg[256];
	json_t	*req, *reply, *el;
	size_t	 i, n;
	int	 err;

	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t')
			break;
	if (i == len)
		return;		/* blank lines are keep-alives */

	s->in_dispatch = 1;
	req = jl_parse(line, len, &err, msg, sizeof(msg));
	if (req == NULL) {
		reply = error_reply(NULL, -err, msg, NULL);
	} else if (json_is_array(req)) {
		n = json_array_size(req);
		if (n == 0)
			reply = error_reply(NULL, EINVAL, "empty batch", NULL);
		else if (n > MAX_BATCH) {
			snprintf(msg, sizeof(msg),
			    "a batch holds at most %d requests", MAX_BATCH);
			reply = error_reply(NULL, E2BIG, msg, NULL);
		} else {
			if ((reply = json_array()) == NULL)
				fatalx("json_array");
			json_array_foreach(req, i, el) {
				if (json_array_append_new(reply,
				    handle_checked(s, el)) == -1)
					fatalx("json_array_append");
			}
		}
	} else
		reply = handle_checked(s, req);
	if (!s->hello && s->closing == NULL)
		s->closing = "the first line was not a good hello";
	json_decref(req);
	emit_json(s, reply);
	json_decref(reply);
	s->in_dispatch = 0;
	session_flush(s);
}

void
dispatch_toolong(struct session *s)
{
	char	 msg[128];
	json_t	*reply;

	snprintf(msg, sizeof(msg), "line longer than %d bytes, discarded",
	    MAX_LINE);
	reply = error_reply(NULL, E2BIG, msg, NULL);
	emit_json(s, reply);
	json_decref(reply);
	if (!s->hello && s->closing == NULL)
		s->closing = "the first line was over-long";
}

static int
op_hello(struct session *s, json_t *args, json_t **result,
    struct op_error *e)
{
	json_error_t	 jerr;
	json_int_t	 version;
	json_t		*names;
	size_t		 i;

	if (json_unpack_ex(args, &jerr, 0, "{s:I !}", "version",
	    &version) == -1)
		return op_fail(e, EINVAL, "hello: %s", jerr.text);
	if (version != PROTOCOL_VERSION)
		return op_fail(e, EPROTONOSUPPORT,
		    "protocol version %lld is not supported (this helper "
		    "speaks %d)", (long long)version, PROTOCOL_VERSION);
	if ((names = json_array()) == NULL)
		fatalx("json_array");
	for (i = 0; i < nitems(ops); i++)
		json_array_append_new(names, json_string(ops[i].name));
	*result = json_pack("{s:i, s:s, s:b, s:o, s:{s:i, s:i}}",
	    "version", PROTOCOL_VERSION,
	    "helper", HELPER_NAME " " HELPER_VERSION,
	    "elevated", s->cfg->elevated,
	    "ops", names,
	    "limits", "max_line", MAX_LINE, "max_batch", MAX_BATCH);
	if (*result == NULL)
		fatalx("json_pack hello");
	s->hello = 1;
	return 0;
}

static int
op_ping(struct session *s, json_t *args, json_t **result, struct op_error *e)
{
	json_error_t	jerr;

	if (json_unpack_ex(args, &jerr, 0, "{!}") == -1)
		return op_fail(e, EINVAL, "ping: %s", jerr.text);
	return 0;
}
