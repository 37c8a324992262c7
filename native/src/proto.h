/*
 * proto.h: the wire protocol between the Electron main process and
 * xendeck-helper, in numbers.  Everything the helper accepts is bounded
 * by one of these limits; PROTOCOL.md is the prose for the same facts.
 *
 * Bump PROTOCOL_VERSION if any message changes (a field added to a
 * reply counts; a new op does not, clients learn ops from hello).
 */
#ifndef PROTO_H
#define PROTO_H

#define PROTOCOL_VERSION	1
#define HELPER_NAME		"xendeck-helper"
#define HELPER_VERSION		"0.1.0"

#define MAX_LINE		65536	/* bytes in one request line, without '\n' */
#define MAX_BATCH		64	/* requests in one batched line */
#define MAX_ID			9007199254740991LL	/* 2^53 - 1: exact in JavaScript */
#define MAX_XS_PATH		3072	/* XENSTORE_ABS_PATH_MAX */
#define MAX_XS_VALUE		4096	/* XENSTORE_PAYLOAD_MAX */
#define MAX_TOKEN		64	/* bytes in a caller's watch token */
#define MAX_WATCHES		128	/* caller watches per session */
#define MAX_TX			8	/* open xenstore transactions per session */
#define MAX_PERMS		64	/* entries in one permission list */
#define MAX_SCAN_NODES		20000	/* nodes reported by one initial scan */
#define MAX_DOMID		32752	/* DOMID_FIRST_RESERVED (0x7ff0) */
#define MAX_FDS			1	/* fds passed with one QMP command */
#define MAX_QMP_LINE		(256 * 1024)	/* bytes in one line from QEMU */
#define MAX_QMP_COMMANDS	8	/* commands in one transient session */
#define MAX_QMP_EVENTS		64	/* events kept from one session */
#define QMP_TIMEOUT_MS		5000	/* default for one transient session */
#define QMP_TIMEOUT_MAX_MS	40000	/* libxl's own cd-insert budget */
#define MAX_XL_ARGS		16	/* argv entries after "xl" */
#define MAX_XL_ARG		1024	/* bytes in one argv entry */
#define MAX_XL_OUTPUT		(256 * 1024)	/* bytes kept of stdout and stderr each */
#define XL_TIMEOUT_MS		60000
#define XL_TIMEOUT_MAX_MS	300000
#define MAX_LOG_TAILS		32
#define MAX_LOG_LINE		4096	/* longer log lines are split */
#define LOG_POLL_MS		250
#define DOMINFO_POLL_MIN_MS	100
#define DOMINFO_POLL_MAX_MS	60000
#define DM_POLL_MIN_MS		100
#define DM_POLL_MAX_MS		60000
#define MAX_DM_SOCKETS		1024	/* QMP sockets probed per dm.poll round */
#define MAX_FILE_PATH		4096
/*
 * Output to a host that reads slowly (PROTOCOL.md "Backpressure"): over
 * OUT_HIGH bytes not yet written, watch events wait in the pending set
 * and the timed sources (dominfo, dm.poll, log tails) pause until the
 * backlog is down to OUT_LOW; over OUT_HARD, requests are not read.
 */
#define OUT_HIGH		(4 * 1024 * 1024)
#define OUT_LOW			(2 * 1024 * 1024)
#define OUT_HARD		(16 * 1024 * 1024)
#define MAX_PENDING		65536	/* distinct pending watch events */
#define MAX_PENDING_BYTES	(8 * 1024 * 1024)	/* and their size */

/* Compiled-in paths; overrides are honoured only when unelevated. */
#define DEFAULT_XENSTORE_SOCKET	"/var/run/xenstored/socket"
#define DEFAULT_QMP_DIR		"/var/run/xen"
#define DEFAULT_XL		"/usr/sbin/xl"
#define DEFAULT_LOG_DIR		"/var/log/xen"
#define DEFAULT_LOCK_DIR	"/var/lib/xen"
#define DEFAULT_XL_CONFIG_DIR	"/etc/xen"

/* Op flags: the dispatch table is the security policy. */
#define OPF_NEED_HELLO		0x01	/* refused before a successful hello */
#define OPF_ONCE		0x02	/* at most once per session */
#define OPF_TAKES_FD		0x04	/* may open a file and pass it on */

#endif /* PROTO_H */
