/*
 * qmp-proto.h: QMP messages as data.  Classifies a line from QEMU
 * (greeting, return, error, event) and checks a command the caller
 * wants sent against the QMP allowlist.  Pure functions: fuzzed.
 */
#ifndef QMP_PROTO_H
#define QMP_PROTO_H

#include <stddef.h>
#include <jansson.h>

enum qmp_kind {
	QMP_GREETING,
	QMP_RETURN,
	QMP_ERROR,
	QMP_EVENT,
};

struct qmp_msg {
	enum qmp_kind	 kind;
	json_t		*root;		/* owns everything below */
	json_t		*ret;		/* QMP_RETURN: the "return" value */
	const char	*err_class;	/* QMP_ERROR */
	const char	*err_desc;
	const char	*event;		/* QMP_EVENT */
	json_t		*data;		/* QMP_EVENT: may be NULL */
	json_t		*timestamp;	/* QMP_EVENT: may be NULL */
	json_t		*version;	/* QMP_GREETING: QMP.version, may be NULL */
};

/* Parse one line from QEMU; 0, or -EBADMSG if it is none of the kinds. */
int	 qmp_parse(const char *, size_t, struct qmp_msg *);
void	 qmp_msg_free(struct qmp_msg *);

/*
 * May the caller send this command with these arguments?  has_file says
 * whether an fd will be attached.  NULL if allowed, else the reason.
 */
const char *qmp_check_command(const char *, json_t *, int);

#endif /* QMP_PROTO_H */
