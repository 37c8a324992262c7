/*
 * qmp-proto.c: what a QMP line means, and which QMP commands Xendeck may
 * send.  Xendeck acts through xl; QMP is for what xl has no verb for:
 * point queries, a forced eject of a locked tray, and the CD-ROM media
 * change steps (add-fd, blockdev-change-medium by /dev/fdset/N,
 * remove-fd) that libxl itself performs.  A filename argument must be
 * a /dev/fdset/N name: QEMU (root in dom0) never opens a path the caller
 * chose; files come only as fds the helper opened with the user's rights.
 */
#include <errno.h>
#include <string.h>

#include "proto.h"
#include "qmp-proto.h"
#include "util.h"

static const struct qmpcmd {
	const char	*name;
	const char	*keys[6];	/* allowed argument keys */
	int		 file;		/* 1: needs a passed fd; 0: refuses one */
} qmpcmds[] = {
	{ "query-status",		{ NULL }, 0 },
	{ "query-block",		{ NULL }, 0 },
	{ "query-version",		{ NULL }, 0 },
	{ "query-fdsets",		{ NULL }, 0 },
	{ "eject",			{ "id", "device", "force", NULL }, 0 },
	{ "blockdev-open-tray",		{ "id", "device", "force", NULL }, 0 },
	{ "blockdev-close-tray",	{ "id", "device", NULL }, 0 },
	{ "blockdev-change-medium",	{ "id", "device", "filename", "format",
					  "read-only-mode", "force" }, 0 },
	{ "add-fd",			{ "fdset-id", "opaque", NULL }, 1 },
	{ "remove-fd",			{ "fdset-id", "fd", NULL }, 0 },
};

int
qmp_parse(const char *line, size_t len, struct qmp_msg *m)
{
	json_t	*r, *v;

	memset(m, 0, sizeof(*m));
	r = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (r == NULL || !json_is_object(r))
		goto bad;
	m->root = r;
	if ((v = json_object_get(r, "QMP")) != NULL) {
		if (!json_is_object(v))
			goto bad;
		m->kind = QMP_GREETING;
		m->version = json_object_get(v, "version");
		return 0;
	}
	if ((v = json_object_get(r, "return")) != NULL) {
		m->kind = QMP_RETURN;
		m->ret = v;
		return 0;
	}
	if ((v = json_object_get(r, "error")) != NULL) {
		if (!json_is_object(v))
			goto bad;
		m->kind = QMP_ERROR;
		m->err_class = json_string_value(json_object_get(v, "class"));
		m->err_desc = json_string_value(json_object_get(v, "desc"));
		if (m->err_class == NULL)
			m->err_class = "GenericError";
		if (m->err_desc == NULL)
			m->err_desc = "";
		return 0;
	}
	if ((v = json_object_get(r, "event")) != NULL) {
		if (!json_is_string(v))
			goto bad;
		m->kind = QMP_EVENT;
		m->event = json_string_value(v);
		m->data = json_object_get(r, "data");
		m->timestamp = json_object_get(r, "timestamp");
		return 0;
	}
bad:
	json_decref(r);
	memset(m, 0, sizeof(*m));
	return -EBADMSG;
}

void
qmp_msg_free(struct qmp_msg *m)
{
	json_decref(m->root);
	memset(m, 0, sizeof(*m));
}

static int
fdset_name_ok(const char *s)
{
	uint64_t	v;

	if (strncmp(s, "/dev/fdset/", 11) != 0)
		return 0;
	return parse_uint(s + 11, 65535, &v) == 0;
}

static int
qdev_id_ok(const char *s)
{
	size_t	i, len = strlen(s);

	if (len == 0 || len > 64)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.'))
			return 0;
	}
	return 1;
}

const char *
qmp_check_command(const char *name, json_t *args, int has_file)
{
	const struct qmpcmd	*c = NULL;
	const char		*key;
	json_t			*val;
	size_t			 i;
	int			 allowed;

	for (i = 0; i < nitems(qmpcmds); i++)
		if (strcmp(qmpcmds[i].name, name) == 0)
			c = &qmpcmds[i];
	if (c == NULL)
		return "QMP command not allowed";
	if (c->file && !has_file)
		return "this command needs 'file'";
	if (!c->file && has_file)
		return "this command takes no 'file'";
	if (args == NULL)
		return NULL;
	if (!json_is_object(args))
		return "'arguments' must be an object";
	json_object_foreach(args, key, val) {
		allowed = 0;
		for (i = 0; i < nitems(c->keys) && c->keys[i] != NULL; i++)
			if (strcmp(c->keys[i], key) == 0)
				allowed = 1;
		if (!allowed)
			return "argument not allowed for this QMP command";
		if (strcmp(key, "id") == 0 || strcmp(key, "device") == 0) {
			if (!json_is_string(val) ||
			    !qdev_id_ok(json_string_value(val)))
				return "bad device id";
		} else if (strcmp(key, "filename") == 0) {
			if (!json_is_string(val) ||
			    !fdset_name_ok(json_string_value(val)))
				return "filename must be /dev/fdset/N";
		} else if (strcmp(key, "format") == 0) {
			const char *f = json_string_value(val);

			if (f == NULL || (strcmp(f, "raw") != 0 &&
			    strcmp(f, "qcow2") != 0 && strcmp(f, "qcow") != 0 &&
			    strcmp(f, "vpc") != 0 && strcmp(f, "qed") != 0 &&
			    strcmp(f, "host_device") != 0))
				return "format not allowed";
		} else if (strcmp(key, "read-only-mode") == 0) {
			const char *f = json_string_value(val);

			if (f == NULL || (strcmp(f, "retain") != 0 &&
			    strcmp(f, "read-only") != 0))
				return "read-only-mode must be retain or "
				    "read-only";
		} else if (strcmp(key, "force") == 0) {
			if (!json_is_boolean(val))
				return "force must be a boolean";
		} else if (strcmp(key, "fdset-id") == 0 ||
		    strcmp(key, "fd") == 0) {
			if (!json_is_integer(val) ||
			    json_integer_value(val) < 0 ||
			    json_integer_value(val) > 65535)
				return "fd numbers must be in [0, 65535]";
		} else if (strcmp(key, "opaque") == 0) {
			if (!json_is_string(val) ||
			    strlen(json_string_value(val)) > MAX_FILE_PATH + 32)
				return "opaque must be a short string";
		}
	}
	return NULL;
}
