/*
 * fuzz-dispatch.c: libFuzzer target for the request path: line framing,
 * the strict JSON parse, the op table and session checks, every op's
 * argument validation, dm.poll rounds (on a missing directory) and the
 * xenstore ops (against the fake libxenstore, reset for each input).  The
 * helper runs as if elevated, with the invoking user "nobody": any file
 * an input names is opened with nobody's rights, and the QMP, lock, log
 * and xl paths do not exist, so no input reaches a real system
 * resource.  The first line of each input is preceded by a good hello
 * half of the time, so both the state rules and the established session
 * are explored.  The output counts as backed up (over OUT_HIGH) after
 * each line of odd length, so watch events go through the pending set
 * and come out when a line of even length follows (or at the end).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "fake-xenstore.h"
#include "json-line.h"
#include "ops.h"
#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t	emitted;
static size_t	backlog;

static size_t
get_backlog(void *arg)
{
	return backlog;
}

static void
sink(void *arg, const char *line, size_t len)
{
	/* Every reply must be one line of valid JSON. */
	json_t	*j;

	if (memchr(line, '\n', len) != NULL)
		abort();
	if ((j = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		abort();
	json_decref(j);
	emitted++;
}

static void
on_line(void *arg, const char *line, size_t len, int toolong)
{
	struct session	*s = arg;

	if (s->closing != NULL)
		return;
	if (toolong)
		dispatch_toolong(s);
	else
		dispatch_line(s, line, len);
	backlog = (len & 1) ? OUT_HIGH : 0;
	xsops_pump(s);
	/* A dm.poll round when probing is on (the QMP directory is absent). */
	dm_kick(s);
	dm_tick(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	 hello[] = "{\"v\":1,\"id\":0,\"op\":\"hello\","
	    "\"args\":{\"version\":1}}\n";
	struct config		 cfg;
	struct session		 s;
	struct linebuf		 lb;

	memset(&cfg, 0, sizeof(cfg));
	cfg.qmp_dir = "/nonexistent/xendeck-fuzz/qmp";
	cfg.xl = "/nonexistent/xendeck-fuzz/xl";
	cfg.log_dir = "/nonexistent/xendeck-fuzz/log";
	cfg.lock_dir = "/nonexistent/xendeck-fuzz/lock";
	cfg.xl_config_dir = "/etc/xen";
	cfg.elevated = 1;
	cfg.user_uid = 65534;
	cfg.user_gid = 65534;
	fake_xs_fixture();
	session_init(&s, &cfg, sink, NULL);
	s.backlog = get_backlog;
	backlog = 0;
	linebuf_init(&lb);
	if (size > 0 && (data[0] & 1))
		linebuf_feed(&lb, hello, sizeof(hello) - 1, on_line, &s);
	linebuf_feed(&lb, (const char *)data, size, on_line, &s);
	/* The last line may lack its newline. */
	if (s.closing == NULL && !lb.discarding && lb.len > 0)
		linebuf_feed(&lb, "\n", 1, on_line, &s);
	/* The host reads again: what is pending comes out. */
	backlog = 0;
	if (s.closing == NULL)
		xsops_pump(&s);
	linebuf_free(&lb);
	session_free(&s);
	return 0;
}
