/*
 * fuzz-qmp.c: libFuzzer target for what QEMU sends (qmp_parse) and for
 * the QMP command allowlist (qmp_check_command) applied to whatever the
 * input parses to.  A parsed message must have the fields its kind
 * promises.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qmp-proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qmp_msg	 m;
	json_t		*j;
	const char	*ex;

	if (qmp_parse((const char *)data, size, &m) == 0) {
		if (m.root == NULL)
			abort();
		if (m.kind == QMP_ERROR && (m.err_class == NULL ||
		    m.err_desc == NULL))
			abort();
		if (m.kind == QMP_EVENT && m.event == NULL)
			abort();
		if (m.kind == QMP_RETURN && m.ret == NULL)
			abort();
		qmp_msg_free(&m);
	} else if (m.root != NULL)
		abort();

	/* The same bytes as a command the caller wants sent. */
	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (j != NULL) {
		ex = json_string_value(json_object_get(j, "execute"));
		if (ex != NULL) {
			(void)qmp_check_command(ex,
			    json_object_get(j, "arguments"), 0);
			(void)qmp_check_command(ex,
			    json_object_get(j, "arguments"), 1);
		}
		json_decref(j);
	}
	return 0;
}
