/*
 * ops-xl.c: the toolstack op.  The caller names an xl subcommand and
 * its arguments; the helper runs xl only if the subcommand is in the
 * table below and every argument passes the check its slot names
 * (domain, vdev, media path, config path, disk spec).  Options are the
 * listed single letters only, and come before the positional
 * arguments.  xl runs through proc.c: no shell, fixed environment,
 * timeout, stderr lines (xl -v's steps) streamed as xl.line events
 * while it runs, and the exit status, stdout and stderr in the reply.
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

/*
 * Positional slots: D domain, V vdev, M media path, C config file,
 * S disk spec, T trigger name; lower case marks the last slot optional.
 */
static const struct xlcmd {
	const char	*name;
	const char	*opts;
	const char	*slots;
} xlcmds[] = {
	{ "create",		"pq",	"C" },
	{ "shutdown",		"wF",	"D" },
	{ "reboot",		"wF",	"D" },
	{ "destroy",		"",	"D" },
	{ "pause",		"",	"D" },
	{ "unpause",		"",	"D" },
	{ "cd-insert",		"",	"DVM" },
	{ "cd-eject",		"",	"DV" },
	{ "block-attach",	"",	"DS" },
	{ "block-detach",	"f",	"DV" },
	{ "block-list",		"",	"D" },
	{ "network-list",	"",	"D" },
	{ "list",		"lv",	"d" },
	{ "vcpu-list",		"",	"d" },
	{ "uptime",		"",	"d" },
	{ "info",		"",	"" },
	{ "domid",		"",	"D" },
	{ "domname",		"",	"D" },
	{ "trigger",		"",	"DT" },
};

static const char *
check_disk_spec(const char *spec)
{
	static const char *keys[] = { "target", "format", "vdev", "access",
	    "devtype", "backend", "backendtype" };
	char		*copy, *item, *save = NULL, *eq;
	const char	*why = NULL;
	size_t		 i;
	int		 has_target = 0, has_vdev = 0;

	copy = xstrdup(spec);
	for (item = strtok_r(copy, ",", &save); item != NULL && why == NULL;
	    item = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(item, '=')) == NULL) {
			why = "disk spec items must be key=value";
			break;
		}
		*eq++ = '\0';
		for (i = 0; i < nitems(keys); i++)
			if (strcmp(item, keys[i]) == 0)
				break;
		if (i == nitems(keys)) {
			why = "disk spec key not allowed";
			break;
		}
		if (strcmp(item, "target") == 0) {
			has_target = 1;
			why = file_path_check(eq);
		} else if (strcmp(item, "vdev") == 0) {
			has_vdev = 1;
			if (!vdev_ok(eq))
				why = "bad vdev in disk spec";
		} else if (strcmp(item, "backend") == 0) {
			if (!domain_ref_ok(eq))
				why = "bad backend domain in disk spec";
		} else if (!domain_name_ok(eq))
			why = "bad value in disk spec";
	}
	free(copy);
	if (why == NULL && (!has_target || !has_vdev))
		why = "disk spec needs target= and vdev=";
	return why;
}

static const char *
check_slot(const struct config *cfg, char slot, const char *arg)
{
	const char	*why;
	size_t		 n;

	switch (slot) {
	case 'D':
		return domain_ref_ok(arg) ? NULL :
		    "not a domain name or domid";
	case 'V':
		return vdev_ok(arg) ? NULL : "not a virtual device name";
	case 'M':
		return file_path_check(arg);
	case 'C':
		if ((why = file_path_check(arg)) != NULL)
			return why;
		if (cfg->xl_config_dir != NULL) {
			n = strlen(cfg->xl_config_dir);
			if (strncmp(arg, cfg->xl_config_dir, n) != 0 ||
			    arg[n] != '/')
				return "config files must be under the xl "
				    "config directory";
		}
		return NULL;
	case 'S':
		return check_disk_spec(arg);
	case 'T':
		if (strcmp(arg, "power") == 0 || strcmp(arg, "reset") == 0 ||
		    strcmp(arg, "sleep") == 0 || strcmp(arg, "nmi") == 0 ||
		    strcmp(arg, "s3resume") == 0)
			return NULL;
		return "not an xl trigger";
	}
	return "internal: unknown slot";
}

const char *
xl_argv_check(const struct config *cfg, const char **argv, size_t argc)
{
	const struct xlcmd	*c = NULL;
	size_t			 i = 0, j, nslots, npos;
	const char		*why;

	if (argc == 0)
		return "empty argv";
	if (argc > MAX_XL_ARGS)
		return "too many arguments";
	for (j = 0; j < argc; j++)
		if (strlen(argv[j]) > MAX_XL_ARG || argv[j][0] == '\0')
			return "empty or over-long argument";
	/* Global options: only -v (verbose steps), up to three times. */
	while (i < argc && strcmp(argv[i], "-v") == 0 && i < 3)
		i++;
	if (i == argc)
		return "no subcommand";
	for (j = 0; j < nitems(xlcmds); j++)
		if (strcmp(xlcmds[j].name, argv[i]) == 0)
			c = &xlcmds[j];
	if (c == NULL)
		return "xl subcommand not allowed";
	i++;
	while (i < argc && argv[i][0] == '-') {
		if (strlen(argv[i]) != 2 || argv[i][1] == '\0' ||
		    strchr(c->opts, argv[i][1]) == NULL)
			return "option not allowed for this subcommand";
		i++;
	}
	nslots = strlen(c->slots);
	npos = argc - i;
	if (npos > nslots || (npos < nslots && !(nslots > 0 &&
	    npos == nslots - 1 && c->slots[nslots - 1] >= 'a')))
		return "wrong number of arguments for this subcommand";
	for (j = 0; j < npos; j++) {
		char slot = c->slots[j];

		if (slot >= 'a')
			slot = (char)(slot - 'a' + 'A');
		if ((why = check_slot(cfg, slot, argv[i + j])) != NULL)
			return why;
	}
	return NULL;
}

struct xlrun {
	struct session	*s;
	const char	*sub;
};

static void
on_stderr_line(void *arg, const char *line, size_t len)
{
	struct xlrun	*r = arg;
	char		*clean = utf8_sanitize(line, len);

	session_event(r->s, "xl.line", json_pack("{s:O?, s:s, s:s, s:s}",
	    "id", r->s->cur_id, "cmd", r->sub, "stream", "stderr", "line",
	    clean), EV_NOW);
	free(clean);
}

static int
pump_fd(void *arg)
{
	return xsops_fd(((struct xlrun *)arg)->s);
}

static void
pump(void *arg)
{
	xsops_pump(((struct xlrun *)arg)->s);
}

/* The environment xl and the simulator's xl see. */
static char **
xl_env(const struct config *cfg)
{
	char	**env = xcalloc(4, sizeof(*env));
	int	  n = 0;

	env[n++] = xstrdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	env[n++] = xstrdup("LC_ALL=C");
	if (cfg->xs_socket != NULL)
		xasprintf(&env[n++], "XENSTORED_PATH=%s", cfg->xs_socket);
	return env;
}

static void
free_env(char **env)
{
	size_t	i;

	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/* Run xl with args (already checked); also used by dominfo. */
int
xl_run(struct session *s, const char **args, size_t nargs, int timeout_ms,
    int stream, struct proc_result *res)
{
	struct proc_hooks	 h;
	struct xlrun		 r;
	char			**argv, **env;
	size_t			 i;
	int			 rc;

	argv = xcalloc(nargs + 2, sizeof(*argv));
	argv[0] = (char *)"xl";
	for (i = 0; i < nargs; i++)
		argv[i + 1] = (char *)args[i];
	env = xl_env(s->cfg);
	r.s = s;
	r.sub = args[0];
	for (i = 0; i < nargs && strcmp(args[i], "-v") == 0; i++)
		r.sub = args[i + 1];
	memset(&h, 0, sizeof(h));
	h.arg = &r;
	h.line = stream ? on_stderr_line : NULL;
	h.pump_fd = pump_fd;
	h.pump = pump;
	rc = proc_run(s->cfg->xl, argv, env, timeout_ms, &h, res);
	free(argv);
	free_env(env);
	return rc;
}

int
op_xl(struct session *s, json_t *args, json_t **result, struct op_error *e)
{
	json_error_t		 jerr;
	json_t			*jargv, *el, *out, *err;
	json_int_t		 timeout = XL_TIMEOUT_MS;
	struct proc_result	 res;
	const char		**argv, *why;
	char			*o, *x;
	size_t			 n, i;
	int			 rc;

	if (json_unpack_ex(args, &jerr, 0, "{s:o, s?I !}", "argv", &jargv,
	    "timeout_ms", &timeout) == -1)
		return op_fail(e, EINVAL, "xl: %s", jerr.text);
	if (!json_is_array(jargv) || (n = json_array_size(jargv)) == 0 ||
	    n > MAX_XL_ARGS)
		return op_fail(e, EINVAL, "'argv' must be a list of 1 to %d "
		    "strings", MAX_XL_ARGS);
	if (timeout < 1 || timeout > XL_TIMEOUT_MAX_MS)
		return op_fail(e, EINVAL, "'timeout_ms' must be in [1, %d]",
		    XL_TIMEOUT_MAX_MS);
	argv = xcalloc(n, sizeof(*argv));
	json_array_foreach(jargv, i, el) {
		if (!json_is_string(el)) {
			free(argv);
			return op_fail(e, EINVAL, "argv[%zu] is not a string",
			    i);
		}
		argv[i] = json_string_value(el);
	}
	if ((why = xl_argv_check(s->cfg, argv, n)) != NULL) {
		free(argv);
		return op_fail(e, EPERM, "xl argv refused: %s", why);
	}
	rc = xl_run(s, argv, n, (int)timeout, 1, &res);
	free(argv);
	if (rc < 0)
		return op_fail(e, -rc, "cannot run xl: %s", strerror(-rc));
	if (res.exited && res.status == 127 && res.outlen == 0 &&
	    res.errlen == 0) {
		proc_result_free(&res);
		return op_fail(e, ENOENT, "cannot execute %s", s->cfg->xl);
	}
	o = utf8_sanitize(res.out, res.outlen);
	x = utf8_sanitize(res.err, res.errlen);
	out = json_string(o);
	err = json_string(x);
	free(o);
	free(x);
	*result = json_pack("{s:o?, s:o?, s:b, s:o, s:o}",
	    "status", res.exited ? json_integer(res.status) : json_null(),
	    "signal", res.signal ? json_integer(res.signal) : json_null(),
	    "timed_out", res.timed_out, "stdout", out, "stderr", err);
	if (res.out_truncated)
		json_object_set_new(*result, "stdout_truncated", json_true());
	if (res.err_truncated)
		json_object_set_new(*result, "stderr_truncated", json_true());
	proc_result_free(&res);
	return 0;
}
