/*
 * fake-qmp.h: a scripted QEMU monitor on a unix socket, for the unit and
 * contract tests (G22's fake QMP peer).  It answers as QEMU 7.2 did in
 * shared/fixtures/real-qemu's transcript, with fixed timestamps so golden
 * output is stable.
 */
#ifndef FAKE_QMP_H
#define FAKE_QMP_H

#include <sys/types.h>

/*
 * Serve QMP at path in a child process until fake_qmp_stop().  Each
 * connection gets the greeting, then:
 *   qmp_capabilities, query-status, query-fdsets  -> a return
 *   eject                  -> DEVICE_TRAY_MOVED open, then {}
 *   blockdev-change-medium -> DEVICE_TRAY_MOVED closed, then {}
 *   add-fd                 -> {fd: 12, fdset-id} if one read-only fd came,
 *                             else GenericError
 *   remove-fd              -> GenericError "... 'fdset-id:N' not found"
 *   query-version          -> no answer at all (a hung QEMU)
 *   anything else          -> CommandNotFound
 * Returns the child's pid, or -1.
 */
pid_t	fake_qmp_start(const char *);
void	fake_qmp_stop(pid_t);

#endif /* FAKE_QMP_H */
