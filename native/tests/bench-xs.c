/*
 * bench-xs.c: xenstore reads per second through xendeck-helper, one
 * request per line and batched, against a C loop calling libxenstore
 * directly on the same server in the same run (DESIGN.md section 8).
 * The helper is driven over its pipes as the main process drives it:
 * each request line is written, each reply line read and parsed with
 * jansson, and its value checked.  The three measurements are
 * interleaved in rounds.  Prints one JSON object on stdout.
 *
 * usage: bench-xs HELPER SOCKET [SECONDS]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <xenstore.h>

#include "helper-client.h"

#define PATH	"/local/domain/0/name"
#define VALUE	"Domain-0"
#define BATCH	64
#define ROUNDS	5	/* interleaved rounds of each measurement */

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
value_ok(json_t *reply)
{
	const char	*v;

	v = json_string_value(json_object_get(json_object_get(reply,
	    "result"), "value"));
	return json_is_true(json_object_get(reply, "ok")) && v != NULL &&
	    strcmp(v, VALUE) == 0;
}

/* libxenstore directly: the baseline. */
static int
direct(double secs, long *reads, double *took)
{
	struct xs_handle	*h;
	unsigned int		 len;
	double			 t0;
	char			*v;
	long			 n = 0;

	if ((h = xs_open(XS_OPEN_SOCKETONLY)) == NULL)
		return -1;
	t0 = now_s();
	do {
		for (int i = 0; i < 100; i++) {
			if ((v = xs_read(h, XBT_NULL, PATH, &len)) == NULL ||
			    strcmp(v, VALUE) != 0) {
				free(v);
				xs_close(h);
				return -1;
			}
			free(v);
			n++;
		}
	} while (now_s() - t0 < secs);
	*took = now_s() - t0;
	*reads = n;
	xs_close(h);
	return 0;
}

/* Through the helper, batch requests per line (1: no batching). */
static int
helper(struct hc *hc, int batch, double secs, long *reads, double *took)
{
	char		*line, *p;
	double		 t0;
	json_t		*r;
	long		 n = 0, id = 1000;
	size_t		 i;

	line = malloc(128 * (size_t)batch + 2);
	t0 = now_s();
	do {
		p = line;
		if (batch > 1)
			*p++ = '[';
		for (i = 0; i < (size_t)batch; i++)
			p += sprintf(p, "%s{\"v\":1,\"id\":%ld,\"op\":"
			    "\"xs.read\",\"args\":{\"path\":\"" PATH "\"}}",
			    i > 0 ? "," : "", id++);
		if (batch > 1)
			*p++ = ']';
		*p = '\0';
		if (hc_send_raw(hc, line, (size_t)(p - line)) == -1 ||
		    (r = hc_recv(hc, 5000)) == NULL) {
			free(line);
			return -1;
		}
		if (batch > 1) {
			json_t *el;

			if (json_array_size(r) != (size_t)batch) {
				json_decref(r);
				free(line);
				return -1;
			}
			json_array_foreach(r, i, el)
				if (!value_ok(el)) {
					json_decref(r);
					free(line);
					return -1;
				}
		} else if (!value_ok(r)) {
			json_decref(r);
			free(line);
			return -1;
		}
		json_decref(r);
		n += batch;
	} while (now_s() - t0 < secs);
	*took = now_s() - t0;
	*reads = n;
	free(line);
	return 0;
}

int
main(int argc, char **argv)
{
	struct hc	 hc;
	char		*hargv[4];
	double		 secs = 2, t_direct, t_single, t_batch;
	double		 r_direct, r_single, r_batch;
	long		 n_direct, n_single, n_batch;
	json_t		*r, *out;
	char		*text;

	if (argc < 3) {
		fprintf(stderr, "usage: bench-xs HELPER SOCKET [SECONDS]\n");
		return 2;
	}
	if (argc > 3 && (secs = atof(argv[3])) <= 0)
		secs = 2;
	setenv("XENSTORED_PATH", argv[2], 1);
	hargv[0] = argv[1];
	hargv[1] = "--xenstore-socket";
	hargv[2] = argv[2];
	hargv[3] = NULL;
	if (hc_start(&hc, hargv) == -1) {
		perror("start helper");
		return 1;
	}
	r = hc_call(&hc, "hello", json_pack("{s:i}", "version", 1), 5000);
	if (!json_is_true(json_object_get(r, "ok"))) {
		fprintf(stderr, "bench-xs: hello failed\n");
		return 1;
	}
	json_decref(r);
	/* Warm up both paths (connection set-up, page faults). */
	if (helper(&hc, 1, 0.1, &n_single, &t_single) == -1 ||
	    direct(0.1, &n_direct, &t_direct) == -1) {
		fprintf(stderr, "bench-xs: a read failed\n");
		return 1;
	}
	/*
	 * Interleave the three in short rounds, so that load from other
	 * processes on a shared machine falls on all of them alike.
	 */
	n_direct = n_single = n_batch = 0;
	t_direct = t_single = t_batch = 0;
	for (int round = 0; round < ROUNDS; round++) {
		long	n;
		double	t;

		if (direct(secs / ROUNDS, &n, &t) == -1)
			goto fail;
		n_direct += n;
		t_direct += t;
		if (helper(&hc, 1, secs / ROUNDS, &n, &t) == -1)
			goto fail;
		n_single += n;
		t_single += t;
		if (helper(&hc, BATCH, secs / ROUNDS, &n, &t) == -1)
			goto fail;
		n_batch += n;
		t_batch += t;
	}
	if (hc_stop(&hc) != 0)
		fprintf(stderr, "bench-xs: the helper did not exit 0\n");
	r_direct = (double)n_direct / t_direct;
	r_single = (double)n_single / t_single;
	r_batch = (double)n_batch / t_batch;
	out = json_pack("{s:s, s:s, s:s, s:i, s:{s:I, s:f, s:f}, "
	    "s:{s:I, s:f, s:f}, s:{s:i, s:I, s:f, s:f}, s:f, s:f}",
	    "bench", "helper-xs-read",
	    "server", "xenstored (shared/fixtures/real-xenstored)",
	    "path", PATH, "rounds", ROUNDS,
	    "baseline_libxenstore", "reads", (json_int_t)n_direct,
	    "seconds", t_direct, "reads_per_s", r_direct,
	    "helper_single", "reads", (json_int_t)n_single,
	    "seconds", t_single, "reads_per_s", r_single,
	    "helper_batched", "batch", BATCH, "reads", (json_int_t)n_batch,
	    "seconds", t_batch, "reads_per_s", r_batch,
	    "ratio_single", r_single / r_direct,
	    "ratio_batched", r_batch / r_direct);
	text = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(6));
	printf("%s\n", text);
	free(text);
	json_decref(out);
	return 0;
fail:
	fprintf(stderr, "bench-xs: a read failed\n");
	return 1;
}
