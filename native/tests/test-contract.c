/*
 * test-contract.c: the golden exchanges in the test/contract .jsonl files fed
 * through dispatch() with the fake libxenstore (G23).  Each file is one
 * session on a fresh fixture store; each line is a case:
 *
 *   {"name": "...", "send": <request>, "recv": [<lines>]}
 *
 * "send" is dumped compactly as one line; "sendRaw" (a string) or
 * "sendHex" (bytes in hex) give the exact line, and "sendLong" (N) a line
 * of N 'x' bytes fed through the line framing.  In "send", the string
 * "$TMP" stands for the case's scratch directory (media files, logs).
 * "fake" plays the rest of the host before sending: {"set": {path:
 * value}} and {"rm": path} as another xenstore client, {"introduce":
 * domid} and {"release": domid} as the hypervisor, {"conflict": true}
 * (the next commit fails with EAGAIN), {"log": {file: text}} appends to
 * a log, {"file": name} creates a media file, {"setHex": {path: hex}}
 * writes raw bytes, {"socket": {"domid": N, "alive": bool}} leaves a
 * device model's QMP socket file in the scratch directory (a listening
 * one, or one whose QEMU is gone: bound, then closed, so connect() is
 * refused), {"unlink": name} removes a file from it.  After each case a
 * dm.poll round runs at once when polling is on.  "closes": true marks
 * the case after which the helper ends the session (a state error); it
 * must be the file's last.  "recv" is every line the helper prints for
 * the case, replies and events, in order.  The session has the fake
 * libxenstore, the scripted QEMU monitor of fake-qmp.c for domain 3 and
 * the xl double tests/fake-xl.sh, with the xl list output of DOMAINS_V
 * below.  The TypeScript client checks the same files against its zod
 * schemas, so the two sides cannot drift.
 *
 * usage: test-contract [--record] CONTRACT_DIR FAKE_XL [FILE]
 *        test-contract --seeds OUT_DIR CONTRACT_DIR
 * --seeds writes each case's request bytes to a file in OUT_DIR: the
 * seed corpus of the fuzz targets.
 */
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

#include <jansson.h>

#include "dispatch.h"
#include "fake-qmp.h"
#include "fake-xenstore.h"
#include "json-line.h"
#include "ops.h"
#include "proto.h"
#include "tap.h"

#define DOMAINS_V \
    "Name                                        ID   Mem VCPUs\tState\t" \
    "Time(s)   UUID                            Reason-Code\tSecurity Label\n" \
    "Domain-0                                     0  4096     4     r-----" \
    "     123.4 00000000-0000-0000-0000-000000000000        -          -\n" \
    "vm3                                          3  2048     2     -b----" \
    "      12.0 6a3b1c2d-0000-4000-8000-000000000003        -          -\n"

static json_t	*captured;
static int	 bad_lines;
static char	 tmp[64];
static const char *fake_xl;

static void
capture(void *arg, const char *line, size_t len)
{
	json_t	*j;

	if (memchr(line, '\n', len) != NULL)
		bad_lines++;
	j = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (j == NULL) {
		bad_lines++;
		j = json_stringn(line, len);
	}
	json_array_append_new(captured, j);
}

static unsigned char *
unhex(const char *hex, size_t *len)
{
	size_t		 n = strlen(hex) / 2, i;
	unsigned char	*out = malloc(n + 1);
	unsigned int	 b;

	for (i = 0; i < n; i++) {
		sscanf(hex + 2 * i, "%2x", &b);
		out[i] = (unsigned char)b;
	}
	*len = n;
	return out;
}

static void
append(const char *name, const char *text)
{
	char	path[256];
	int	fd;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd == -1 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		ok(0, "write %s", path);
	if (fd != -1)
		close(fd);
}

/*
 * A QMP socket file at <tmp>/qmp-libxl-<domid>: listening (kept open
 * until the process ends, never accepting), or bound and closed, which
 * is what a killed QEMU leaves behind.
 */
static void
qmp_socket(unsigned int domid, int alive)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/qmp-libxl-%u", tmp,
	    domid);
	unlink(sun.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 4) == -1)
		ok(0, "socket %s", sun.sun_path);
	if (!alive && fd != -1)
		close(fd);
}

static void
apply_fake(json_t *fake)
{
	json_t		*v;
	const char	*k;

	json_object_foreach(json_object_get(fake, "set"), k, v)
		fake_xs_set(k, json_string_value(v));
	json_object_foreach(json_object_get(fake, "setHex"), k, v) {
		size_t		 n;
		unsigned char	*b = unhex(json_string_value(v), &n);

		b[n] = '\0';
		fake_xs_set(k, (char *)b);
		free(b);
	}
	if ((v = json_object_get(fake, "rm")) != NULL)
		fake_xs_rm(json_string_value(v));
	json_object_foreach(json_object_get(fake, "log"), k, v)
		append(k, json_string_value(v));
	if ((v = json_object_get(fake, "file")) != NULL)
		append(json_string_value(v), "an ISO image\n");
	if ((v = json_object_get(fake, "introduce")) != NULL)
		fake_xs_introduce((unsigned int)json_integer_value(v), 1);
	if ((v = json_object_get(fake, "release")) != NULL)
		fake_xs_introduce((unsigned int)json_integer_value(v), 0);
	if (json_is_true(json_object_get(fake, "conflict")))
		fake_xs_conflict_next();
	if ((v = json_object_get(fake, "socket")) != NULL)
		qmp_socket((unsigned int)json_integer_value(json_object_get(v,
		    "domid")), json_is_true(json_object_get(v, "alive")));
	if ((v = json_object_get(fake, "unlink")) != NULL) {
		char path[256];

		snprintf(path, sizeof(path), "%s/%s", tmp,
		    json_string_value(v));
		if (unlink(path) == -1)
			ok(0, "unlink %s", path);
	}
}


/* The request text with every "$TMP" replaced by the scratch dir. */
static char *
subst(const char *text)
{
	const char	*p;
	char		*out, *o;
	size_t		 n = 0;

	for (p = text; (p = strstr(p, "$TMP")) != NULL; p += 4)
		n++;
	o = out = malloc(strlen(text) + n * strlen(tmp) + 1);
	while ((p = strstr(text, "$TMP")) != NULL) {
		memcpy(o, text, (size_t)(p - text));
		o += p - text;
		memcpy(o, tmp, strlen(tmp));
		o += strlen(tmp);
		text = p + 4;
	}
	strcpy(o, text);
	return out;
}

static void
on_line(void *arg, const char *line, size_t len, int toolong)
{
	struct session	*s = arg;

	if (toolong)
		dispatch_toolong(s);
	else
		dispatch_line(s, line, len);
}

/* A scratch dir with the xl double, its list output and the QMP peer. */
static pid_t
setup_host(void)
{
	char	 path[256], sock[256];
	FILE	*in, *out;
	int	 c;

	snprintf(tmp, sizeof(tmp), "/tmp/xendeck-contract.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/xl", tmp);
	if ((in = fopen(fake_xl, "r")) == NULL ||
	    (out = fopen(path, "w")) == NULL)
		return -1;
	while ((c = fgetc(in)) != EOF)
		fputc(c, out);
	fclose(in);
	fclose(out);
	chmod(path, 0755);
	append("domains-v", DOMAINS_V);
	snprintf(sock, sizeof(sock), "%s/qmp-libxl-3", tmp);
	return fake_qmp_start(sock);
}

static void
teardown_host(pid_t peer)
{
	char	cmd[128];

	fake_qmp_stop(peer);
	/* Only our own mkdtemp directory. */
	if (strncmp(tmp, "/tmp/xendeck-contract.", 22) == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "# could not remove %s\n", tmp);
	}
}

static void
run_file(const char *dir, const char *file, int record)
{
	struct config	 cfg;
	struct session	 s;
	char		 path[1024], *line = NULL, *text;
	size_t		 cap = 0, len;
	ssize_t		 n;
	FILE		*f;
	json_t		*c, *v;
	int		 lineno = 0;
	char		 xl[128];
	pid_t		 peer;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((f = fopen(path, "r")) == NULL) {
		ok(0, "%s: %s", file, strerror(errno));
		return;
	}
	if ((peer = setup_host()) <= 0) {
		ok(0, "%s: scratch host", file);
		fclose(f);
		return;
	}
	snprintf(xl, sizeof(xl), "%s/xl", tmp);
	memset(&cfg, 0, sizeof(cfg));
	cfg.qmp_dir = tmp;
	cfg.xl = xl;
	cfg.log_dir = tmp;
	cfg.lock_dir = tmp;
	cfg.xl_config_dir = "/etc/xen";
	fake_xs_fixture();
	session_init(&s, &cfg, capture, NULL);
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (n <= 1)
			continue;
		c = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
		if (c == NULL) {
			ok(0, "%s:%d is not JSON", file, lineno);
			continue;
		}
		captured = json_array();
		bad_lines = 0;
		if ((v = json_object_get(c, "fake")) != NULL)
			apply_fake(v);
		if (s.closing != NULL) {
			ok(0, "%s:%d: the session was closed by an earlier "
			    "case; start a new file", file, lineno);
			json_decref(captured);
			json_decref(c);
			continue;
		}
		if ((v = json_object_get(c, "send")) != NULL) {
			char *raw = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

			text = subst(raw);
			free(raw);
			dispatch_line(&s, text, strlen(text));
			free(text);
		} else if ((v = json_object_get(c, "sendRaw")) != NULL) {
			dispatch_line(&s, json_string_value(v),
			    json_string_length(v));
		} else if ((v = json_object_get(c, "sendHex")) != NULL) {
			unsigned char *b = unhex(json_string_value(v), &len);

			dispatch_line(&s, (char *)b, len);
			free(b);
		} else if ((v = json_object_get(c, "sendLong")) != NULL) {
			struct linebuf lb;

			len = (size_t)json_integer_value(v);
			text = malloc(len + 1);
			memset(text, 'x', len);
			text[len] = '\n';
			linebuf_init(&lb);
			linebuf_feed(&lb, text, len + 1, on_line, &s);
			linebuf_free(&lb);
			free(text);
		}
		xsops_pump(&s);
		logtail_tick(&s);
		dm_kick(&s);
		dm_tick(&s);
		if (record) {
			json_object_set(c, "recv", captured);
			text = json_dumps(c, JSON_COMPACT);
			printf("%s\n", text);
			free(text);
		} else {
			json_t *want = json_object_get(c, "recv");
			int closes = json_is_true(json_object_get(c,
			    "closes"));

			if (!ok(want != NULL && json_equal(want, captured) &&
			    bad_lines == 0 && closes == (s.closing != NULL),
			    "%s: %s", file,
			    json_string_value(json_object_get(c, "name")) ?:
			    "(unnamed)")) {
				char *a = json_dumps(captured, JSON_COMPACT);
				char *b = json_dumps(want, JSON_COMPACT);

				printf("#  got: %s\n# want: %s\n", a, b);
				free(a);
				free(b);
			}
		}
		json_decref(captured);
		json_decref(c);
	}
	free(line);
	fclose(f);
	session_free(&s);
	teardown_host(peer);
}

/* Each case's request as one file, for the fuzzers' seed corpus. */
static int
write_seeds(const char *out, const char *dir, const char *file)
{
	char	 path[1024], *line = NULL, *text = NULL;
	size_t	 cap = 0, len = 0;
	FILE	*f, *o;
	json_t	*c, *v;
	int	 n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		if ((c = json_loads(line, 0, NULL)) == NULL)
			continue;
		text = NULL;
		if ((v = json_object_get(c, "send")) != NULL) {
			char *raw = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

			text = subst(raw);
			free(raw);
			len = strlen(text);
		} else if ((v = json_object_get(c, "sendRaw")) != NULL) {
			text = strdup(json_string_value(v));
			len = strlen(text);
		} else if ((v = json_object_get(c, "sendHex")) != NULL)
			text = (char *)unhex(json_string_value(v), &len);
		if (text != NULL) {
			snprintf(path, sizeof(path), "%s/%s-%d", out, file,
			    ++n);
			if ((o = fopen(path, "w")) != NULL) {
				fwrite(text, 1, len, o);
				fputc('\n', o);
				fclose(o);
			}
			free(text);
		}
		json_decref(c);
	}
	free(line);
	fclose(f);
	return n;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
	struct dirent	*d;
	DIR		*dp;
	char		*names[256];
	size_t		 n = 0, i;
	int		 record = 0;
	const char	*dir;

	if (argc == 4 && strcmp(argv[1], "--seeds") == 0) {
		snprintf(tmp, sizeof(tmp), "/nonexistent");
		if ((dp = opendir(argv[3])) == NULL)
			return 1;
		while ((d = readdir(dp)) != NULL) {
			size_t l = strlen(d->d_name);

			if (l > 6 && strcmp(d->d_name + l - 6, ".jsonl") == 0)
				n += (size_t)write_seeds(argv[2], argv[3],
				    d->d_name);
		}
		closedir(dp);
		return n > 0 ? 0 : 1;
	}
	if (argc > 1 && strcmp(argv[1], "--record") == 0) {
		record = 1;
		argc--;
		argv++;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: test-contract [--record] CONTRACT_DIR "
		    "FAKE_XL [FILE]\n");
		return 2;
	}
	dir = argv[1];
	fake_xl = argv[2];
	if ((dp = opendir(dir)) == NULL) {
		ok(0, "open %s", dir);
		return tap_done();
	}
	while ((d = readdir(dp)) != NULL && n < 256) {
		size_t l = strlen(d->d_name);

		if (l > 6 && strcmp(d->d_name + l - 6, ".jsonl") == 0)
			names[n++] = strdup(d->d_name);
	}
	closedir(dp);
	qsort(names, n, sizeof(names[0]), cmp);
	if (argc > 3) {
		run_file(dir, argv[3], record);
		return record ? 0 : tap_done();
	}
	for (i = 0; i < n; i++) {
		run_file(dir, names[i], record);
		free(names[i]);
	}
	if (record)
		return 0;
	ok(n >= 4, "found %zu contract files", n);
	return tap_done();
}
