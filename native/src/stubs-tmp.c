#include <errno.h>
#include "dispatch.h"
#include "ops.h"
int op_dominfo(struct session *s, json_t *a, json_t **r, struct op_error *e) { return op_fail(e, ENOSYS, "todo"); }
int op_dominfo_poll(struct session *s, json_t *a, json_t **r, struct op_error *e) { return op_fail(e, ENOSYS, "todo"); }
void dominfo_init(struct session *s) {}
void dominfo_free(struct session *s) {}
int dominfo_timeout(struct session *s) { return -1; }
void dominfo_tick(struct session *s) {}
void dominfo_kick(struct session *s) {}
int op_qmp(struct session *s, json_t *a, json_t **r, struct op_error *e) { return op_fail(e, ENOSYS, "todo"); }
int op_xl(struct session *s, json_t *a, json_t **r, struct op_error *e) { return op_fail(e, ENOSYS, "todo"); }
int op_log_follow(struct session *s, json_t *a, json_t **r, struct op_error *e) { return op_fail(e, ENOSYS, "todo"); }
int op_log_unfollow(struct session *s, json_t *a, json_t **r, struct op_error *e) { return op_fail(e, ENOSYS, "todo"); }
void logtail_init(struct session *s) {}
void logtail_free(struct session *s) {}
int logtail_timeout(struct session *s) { return -1; }
void logtail_tick(struct session *s) {}
