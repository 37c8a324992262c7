import { describe, expect, it } from 'vitest';
import { parseXlLogLine } from './xl-log.ts';

// Line shapes as xl 4.17's monitor writes them to /var/log/xen/xl-<name>.log (tools/xl/xl_vmcontrol.c).
describe('parseXlLogLine', () => {
  it('reads the on_* decision with its reason code', () => {
    expect(parseXlLogLine('Action for shutdown reason code 1 is restart')).toEqual({ kind: 'action', code: 1, reason: 'reboot', action: 'restart' });
    expect(parseXlLogLine('Action for shutdown reason code 3 is coredump-destroy\n')).toEqual({ kind: 'action', code: 3, reason: 'crash', action: 'coredump-destroy' });
    expect(parseXlLogLine('Action for shutdown reason code 4 is rename-restart')).toMatchObject({ reason: 'watchdog', action: 'rename-restart' });
    expect(parseXlLogLine('Action for shutdown reason code 5 is soft-reset')).toMatchObject({ reason: 'soft_reset', action: 'soft-reset' });
    expect(parseXlLogLine('Action for shutdown reason code 0 is preserve')).toMatchObject({ reason: 'poweroff', action: 'preserve' });
  });

  it('rejects an action name xl does not have', () => {
    expect(parseXlLogLine('Action for shutdown reason code 1 is explode')).toBeNull();
  });

  it('reads the unknown-reason fallback as a destroy', () => {
    expect(parseXlLogLine('Unknown shutdown reason code 9. Destroying domain.')).toEqual({ kind: 'action', code: 9, reason: undefined, action: 'destroy', unknownReason: true });
  });

  it('reads the monitor\'s shutdown line and checks the hex copy of the code', () => {
    expect(parseXlLogLine('Domain 12 has shut down, reason code 3 0x3')).toEqual({ kind: 'shutdown', domid: 12, code: 3, reason: 'crash' });
    expect(parseXlLogLine('Domain 12 has shut down, reason code 5 0x5')).toMatchObject({ reason: 'soft_reset' });
    expect(parseXlLogLine('Domain 12 has shut down, reason code 3 0x4')).toBeNull();
  });

  it('reads the destroy, reboot, exit and destroyed lines', () => {
    expect(parseXlLogLine('Domain 7 needs to be cleaned up: destroying the domain')).toEqual({ kind: 'destroying', domid: 7 });
    expect(parseXlLogLine('Done. Rebooting now')).toEqual({ kind: 'rebooting' });
    expect(parseXlLogLine('Done. Exiting now\r\n')).toEqual({ kind: 'exiting' });
    expect(parseXlLogLine('Domain 7 has been destroyed.')).toEqual({ kind: 'destroyed', domid: 7 });
  });

  it('reads suspend, preserve, core dumps and the waiting line', () => {
    expect(parseXlLogLine('Domain has suspended.')).toEqual({ kind: 'suspended' });
    expect(parseXlLogLine('Preserving domain 7 web with suffix-20261121T1812Z')).toEqual({ kind: 'preserving', domid: 7, name: 'web', suffix: '-20261121T1812Z' });
    expect(parseXlLogLine('dumping core to /var/lib/xen/dump/web')).toEqual({ kind: 'coredump', file: '/var/lib/xen/dump/web' });
    expect(parseXlLogLine('core dump failed (rc=-3).')).toEqual({ kind: 'coredump-failed', rc: -3 });
    expect(parseXlLogLine('Waiting for domain web (domid 8) to die [pid 4242]')).toEqual({ kind: 'waiting', name: 'web', domid: 8, pid: 4242 });
  });

  it('reads libxl soft-reset failures that land in the same log', () => {
    expect(parseXlLogLine('libxl: error: libxl_create.c:2135:domain_soft_reset_cb: Domain 5:destruction of domain failed.')).toEqual({
      kind: 'soft-reset-failed',
      domid: 5,
      message: 'destruction of domain failed.',
    });
    expect(parseXlLogLine('libxl: error: libxl_create.c:2210:do_domain_soft_reset: Domain 5:failed to read console/tty.')).toMatchObject({ kind: 'soft-reset-failed' });
    expect(parseXlLogLine('libxl: error: libxl_dm.c:2210:libxl__spawn_local_dm: Domain 5:device model failed')).toBeNull();
  });

  it('is anchored: prefixes, suffixes and look-alikes are not decisions', () => {
    expect(parseXlLogLine('guest says: Done. Rebooting now')).toBeNull();
    expect(parseXlLogLine('Action for shutdown reason code 1 is restart, maybe')).toBeNull();
    expect(parseXlLogLine(' Domain 7 has been destroyed.')).toBeNull();
    expect(parseXlLogLine('Domain 7 has been destroyed')).toBeNull();
    expect(parseXlLogLine('')).toBeNull();
    expect(parseXlLogLine('Parsing config from /etc/xen/web.cfg')).toBeNull();
  });
});
