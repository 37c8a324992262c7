import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { stateString } from '../host/binding.ts';
import { ninepfsMachine } from './ninepfs.machine.ts';
import { initialNinepfsContext, KEY_GRACE_MS } from './ninepfs.logic.ts';
import { checkHostPath, uintFromString, UNOBSERVED_CLOSE } from './ninepfs.rules.ts';
import type { NinepfsContext, Side } from './ninepfs.types.ts';

const UUID = '9f000000-0000-4000-8000-000000000009';

function device() {
  const actor = createActor(ninepfsMachine, { input: { uuid: UUID, domid: 5, devid: 0 } }).start();
  let seq = 0;
  const d = {
    actor,
    ctx: (): NinepfsContext => actor.getSnapshot().context,
    state: () => stateString(actor.getSnapshot().value),
    w(side: Side, key: string, value: string) {
      seq += 1;
      actor.send({ type: 'ninepfs.write', ts: 1000 + seq, seq, domid: 5, side, key, value, ...(side === 'backend' ? { backendDomid: 0 } : {}) });
      return d;
    },
    /** The record clock moves on by `ms` (the router sends clock.tick once a deadline has passed). */
    tick(ms = KEY_GRACE_MS) {
      seq += 1;
      actor.send({ type: 'clock.tick', ts: 1000 + seq + ms, seq });
      return d;
    },
    rm(side: Side, key: string) {
      seq += 1;
      actor.send({ type: 'ninepfs.rm', ts: 1000 + seq, seq, domid: 5, side, key });
      return d;
    },
    /** libxl's transaction for a xen_9pfsd device. */
    toolstack(securityModel: string | null = 'none', path: string | null = '/srv/share') {
      d.w('frontend', 'state', '1').w('frontend', 'tag', 'share');
      d.w('backend', 'state', '1');
      if (securityModel !== null) d.w('backend', 'security_model', securityModel);
      if (path !== null) d.w('backend', 'path', path);
      return d;
    },
    /** What xen-9pfsd writes when it accepts the device. */
    publish(maxRings = '4') {
      return d.w('backend', 'versions', '1').w('backend', 'max-rings', maxRings).w('backend', 'max-ring-page-order', '9').w('backend', 'state', '2');
    },
    /** A frontend's keys, then Initialised. */
    frontend(keys: Record<string, string>) {
      for (const [k, v] of Object.entries(keys)) d.w('frontend', k, v);
      return d.w('frontend', 'state', '3');
    },
  };
  return d;
}

const GOOD = { version: '1', 'num-rings': '2', 'event-channel-0': '17', 'ring-ref0': '8', 'event-channel-1': '18', 'ring-ref1': '9' };

describe('ninepfs: device probe (new_device)', () => {
  it('rejects security_model other than none (seed 001)', () => {
    const d = device().toolstack('mapped-xattr');
    expect(d.state()).toBe('daemon.refused,observed.complied');
    expect(d.ctx().closeReason).toBe('security_model "mapped-xattr" is not none');
    expect(d.ctx().failedBy).toBe('probe');
  });

  it('rejects a missing security_model once the backend acts (seed 001)', () => {
    const d = device().toolstack(null).publish();
    expect(d.ctx().expect).toBe('probing'); // it may still be observed: keys of one transaction come one by one
    d.tick();
    expect(d.ctx().expect).toBe('refused');
    expect(d.ctx().closeReason).toBe('security_model missing');
    expect(d.ctx().verdict).toBe('deviated');
  });

  it('refuses a host path that is not absolute (seed 001)', () => {
    const d = device().toolstack('none', 'srv/share');
    expect(d.ctx().expect).toBe('refused');
    expect(d.ctx().closeReason).toBe('host path "srv/share" is not absolute');
  });

  it('refuses a host path containing // (seed 001)', () => {
    expect(device().toolstack('none', '/srv//share').ctx().closeReason).toBe('host path "/srv//share" contains //');
  });

  it('refuses a host path with a trailing /, so / itself is refused (seed 001)', () => {
    expect(device().toolstack('none', '/srv/share/').ctx().closeReason).toBe('host path "/srv/share/" ends with /');
    expect(checkHostPath('/')).toBe('host path "/" ends with /');
    expect(checkHostPath('/srv/share')).toBeUndefined();
  });

  it('judges a backend that publishes a refused device as deviated (seed 001)', () => {
    const d = device().toolstack('passthrough').publish();
    expect(d.state()).toBe('daemon.refused,observed.deviated');
    expect(d.ctx().deviation).toBe('backend published although xen-9pfsd must refuse: security_model "passthrough" is not none');
  });
});

describe('ninepfs: backend publication', () => {
  it('expects versions=1, max-rings=4, max-ring-page-order=9 then InitWait (seed 001)', () => {
    const d = device().toolstack();
    expect(d.state()).toBe('daemon.published,observed.pending');
    d.publish();
    expect(d.state()).toBe('daemon.published,observed.complied');
  });

  it('judges InitWait with max-rings other than 4 as deviated (seed 001)', () => {
    const d = device().toolstack().publish('8');
    expect(d.state()).toBe('daemon.published,observed.deviated');
    expect(d.ctx().deviation).toBe('InitWait with max-rings=8 (xen-9pfsd writes 4)');
  });

  it('judges a backend Connected before the frontend is Initialised as deviated (seed 001)', () => {
    const d = device().toolstack().publish().w('backend', 'state', '4');
    // The frontend's Initialised may only be late to our observations: the verdict waits for it.
    expect(d.ctx().verdict).toBe('pending');
    expect(d.ctx().awaiting).toBe('frontend-keys');
    d.tick();
    expect(d.ctx().verdict).toBe('deviated');
  });

  it('a backend Connected whose frontend keys are observed within the wait complied', () => {
    const d = device().toolstack().publish().w('backend', 'state', '4');
    for (const [k, v] of Object.entries(GOOD)) d.w('frontend', k, v);
    expect(d.ctx().expect).toBe('connected');
    expect(d.ctx().verdict).toBe('complied');
  });
});

describe('ninepfs: frontend Initialised (connect_device)', () => {
  it('connects when every frontend check passes (seed 001)', () => {
    const d = device().toolstack().publish().frontend(GOOD);
    expect(d.state()).toBe('daemon.connected,observed.pending');
    d.w('backend', 'state', '4');
    expect(d.state()).toBe('daemon.connected,observed.complied');
    expect(d.ctx().closeReason).toBeUndefined();
  });

  it.each([
    ['2', 'version "2" is not 1'],
    [undefined, 'version missing is not 1'],
  ])('requires version 1, closing the backend otherwise (seed 001) — version %s', (version, reason) => {
    const keys: Record<string, string> = { ...GOOD };
    if (version === undefined) delete keys.version;
    else keys.version = version;
    const d = device().toolstack().publish().frontend(keys);
    if (version === undefined) d.tick();
    expect(d.ctx().expect).toBe('closed');
    expect(d.ctx().closeReason).toBe(reason);
    expect(d.ctx().failedBy).toBe('validation');
  });

  it.each([
    ['0', 'num-rings 0 out of 1..4'],
    ['5', 'num-rings 5 out of 1..4'],
    ['2x', 'num-rings 2x out of 1..4'],
  ])('requires 1 ≤ num-rings ≤ 4 (seed 001) — num-rings %s', (rings, reason) => {
    const d = device().toolstack().publish().frontend({ ...GOOD, 'num-rings': rings });
    expect(d.state()).toBe('daemon.closed,observed.pending');
    expect(d.ctx().closeReason).toBe(reason);
    d.w('backend', 'state', '6');
    expect(d.state()).toBe('daemon.closed,observed.complied');
  });

  it('accepts num-rings 4 with four rings (seed 001)', () => {
    const keys: Record<string, string> = { version: '1', 'num-rings': '4' };
    for (let i = 0; i < 4; i++) Object.assign(keys, { [`event-channel-${i}`]: String(10 + i), [`ring-ref${i}`]: String(20 + i) });
    expect(device().toolstack().publish().frontend(keys).ctx().expect).toBe('connected');
  });

  it('requires every event-channel-N (with a dash) non-zero (seed 001)', () => {
    const d = device().toolstack().publish().frontend({ ...GOOD, 'event-channel-1': '0' });
    expect(d.ctx().closeReason).toBe('event-channel-1 "0" is not a non-zero port');
    const { ['event-channel-0']: _dropped, ...rest } = GOOD;
    const e = device().toolstack().publish().frontend({ ...rest, 'event-channel0': '17' }).tick();
    expect(e.ctx().closeReason).toBe('event-channel-0 missing is not a non-zero port');
  });

  it('requires every ring-refN (without a dash) non-zero (seed 001)', () => {
    const d = device().toolstack().publish().frontend({ ...GOOD, 'ring-ref0': '0' });
    expect(d.ctx().closeReason).toBe('ring-ref0 "0" is not a non-zero grant');
    const { ['ring-ref1']: _dropped, ...rest } = GOOD;
    const e = device().toolstack().publish().frontend({ ...rest, 'ring-ref-1': '9' }).tick();
    expect(e.ctx().closeReason).toBe('ring-ref1 missing is not a non-zero grant');
  });

  it.each([
    ['0', 'ring order 0 out of 1..9'],
    ['10', 'ring order 10 out of 1..9'],
    ['9', undefined],
    ['1', undefined],
  ])('requires the ring order in 1..9 when the frontend shows it (seed 001) — order %s', (order, reason) => {
    const d = device().toolstack().publish().frontend({ ...GOOD, 'ring-page-order': order });
    expect(d.ctx().closeReason).toBe(reason);
    expect(d.ctx().expect).toBe(reason ? 'closed' : 'connected');
  });

  it('checks in xen-9pfsd order: version before num-rings before ring keys (seed 001)', () => {
    const d = device().toolstack().publish().frontend({ version: '3', 'num-rings': '9', 'event-channel-0': '0' });
    expect(d.ctx().closeReason).toBe('version "3" is not 1');
  });

  it('judges a backend that connects despite a failed check as deviated (seed 001)', () => {
    const d = device().toolstack().publish().frontend({ ...GOOD, 'num-rings': '5' }).w('backend', 'state', '4');
    expect(d.state()).toBe('daemon.closed,observed.deviated');
    expect(d.ctx().deviation).toBe('backend Connected although num-rings 5 out of 1..4');
  });

  it('explains a backend Closed after a valid Initialised as a check Xendeck cannot observe (seed 001)', () => {
    const d = device().toolstack().publish().frontend(GOOD).w('backend', 'state', '6');
    // libxl's removal (online=0) may be observed after the close: it is waited for first.
    expect(d.ctx().awaiting).toBe('removal');
    d.tick();
    expect(d.state()).toBe('daemon.closed,observed.complied');
    expect(d.ctx().closeReason).toBe(UNOBSERVED_CLOSE);
    expect(d.ctx().failedBy).toBe('unobserved');
  });

  it('a backend Closed followed by libxl removal evidence (online=0) is a removal, not a failure', () => {
    const d = device().toolstack().publish().frontend(GOOD).w('backend', 'state', '6').w('backend', 'online', '0');
    d.tick();
    expect(d.ctx().failedBy).toBeUndefined();
    expect(d.ctx().awaiting).toBeUndefined();
  });

  it('ignores a repeated frontend state, as xen-9pfsd compares with its own copy (seed 001)', () => {
    const d = device().toolstack().publish().frontend({ ...GOOD, 'num-rings': '5' });
    const seq = d.ctx().expectSeq;
    d.w('frontend', 'num-rings', '2').w('frontend', 'state', '3');
    expect(d.ctx().expect).toBe('closed');
    expect(d.ctx().expectSeq).toBe(seq);
  });
});

describe('ninepfs: frontend state changes (frontend_changed)', () => {
  it('closes the backend (Closing) when the frontend is Closing (seed 001)', () => {
    const d = device().toolstack().publish().frontend(GOOD).w('backend', 'state', '4').w('frontend', 'state', '5');
    expect(d.state()).toBe('daemon.closing,observed.pending');
    d.w('backend', 'state', '5');
    expect(d.state()).toBe('daemon.closing,observed.complied');
    expect(d.ctx().failedBy).toBeUndefined();
  });

  it('closes the backend (Closed) when the frontend is Closed (seed 001)', () => {
    const d = device().toolstack().publish().frontend(GOOD).w('backend', 'state', '4').w('frontend', 'state', '6').w('backend', 'state', '6');
    expect(d.state()).toBe('daemon.closed,observed.complied');
    expect(d.ctx().closeReason).toBe('frontend Closed');
  });

  it.each(['banana', '9', '4x', '-1'])('reads an unknown state string %j as Unknown and does nothing (seed 001)', (raw) => {
    const d = device().toolstack().publish().w('frontend', 'state', raw);
    expect(d.ctx().expect).toBe('published');
    expect(d.ctx().daemonFrontendState).toBe(0);
    expect(d.ctx().lastUnknown?.value).toBe(raw);
  });

  it('closes the backend when the frontend state vanishes (seed 001)', () => {
    const d = device().toolstack().publish().frontend(GOOD).w('backend', 'state', '4').rm('frontend', 'state');
    expect(d.ctx().expect).toBe('closed');
    expect(d.ctx().closeReason).toBe('frontend state vanished');
    const e = device().toolstack().publish().rm('frontend', '');
    expect(e.ctx().expect).toBe('closed');
  });

  it('processes a frontend already Initialised when the device is probed (the initial watch fires)', () => {
    const d = device();
    d.w('frontend', 'state', '1');
    for (const [k, v] of Object.entries(GOOD)) d.w('frontend', k, v);
    d.w('frontend', 'state', '3').w('backend', 'security_model', 'none').w('backend', 'path', '/srv/share');
    expect(d.ctx().expect).toBe('connected');
  });

  it('does not blame the backend for libxl writing Closing on removal', () => {
    const d = device().toolstack().publish().frontend(GOOD).w('backend', 'state', '4').w('backend', 'online', '0').w('backend', 'state', '5');
    expect(d.state()).toBe('daemon.connected,observed.complied');
    const r = device().toolstack('mapped').w('backend', 'state', '5');
    expect(r.state()).toBe('daemon.refused,observed.complied');
  });

  it('keeps the device when only the backend state key is removed (xen-9pfsd scans directories)', () => {
    const d = device().toolstack().publish().rm('backend', 'state');
    expect(d.ctx().expect).toBe('published');
  });

  it('is removed when the backend directory goes, and re-created afresh under the same id', () => {
    const d = device().toolstack().publish().frontend(GOOD).w('backend', 'state', '4').rm('backend', '');
    expect(d.state()).toBe('daemon.removed,observed.complied');
    d.toolstack('none', '/srv/other');
    expect(d.state()).toBe('daemon.published,observed.pending');
    expect(d.ctx().daemonFrontendState).toBe(1);
  });

  it('can start mid-flow from a resolved state', () => {
    const context: NinepfsContext = {
      ...initialNinepfsContext({ uuid: UUID, domid: 5, devid: 0 }),
      be: { state: '2', versions: '1', 'max-rings': '4', 'max-ring-page-order': '9', security_model: 'none', path: '/p' },
      beSeen: true, fe: { ...GOOD, state: '1' }, feSeen: true, expect: 'published', daemonFrontendState: 1, verdict: 'complied',
    };
    const snap = ninepfsMachine.resolveState({ value: { daemon: 'published', observed: 'complied' }, context });
    const actor = createActor(ninepfsMachine, { snapshot: snap, input: { uuid: UUID, domid: 5, devid: 0 } }).start();
    actor.send({ type: 'ninepfs.write', ts: 1, seq: 50, domid: 5, side: 'frontend', key: 'state', value: '3' });
    expect(stateString(actor.getSnapshot().value)).toBe('daemon.connected,observed.pending');
  });
});

describe('ninepfs: uint_from_string', () => {
  it.each([
    [undefined, 0], ['', 0], ['7', 7], [' 7', 7], ['+7', 7], ['-0', 0], ['-1', 0], ['7x', 0], ['4294967295', 4294967295], ['4294967296', 0], ['0x10', 0],
  ] as const)('reads %j as %d with default 0', (s, n) => {
    expect(uintFromString(s, 0)).toBe(n);
  });
});

describe('keys observed after the state they came with (watches carry no value)', () => {
  it('waits for security_model and path when the daemon has already published, then judges them', () => {
    const d = device();
    d.w('frontend', 'state', '1').w('backend', 'state', '1');
    d.publish();
    expect(d.ctx().awaiting).toBe('backend-keys');
    expect(d.ctx().deadline).toBeGreaterThan(0);
    d.w('backend', 'security_model', 'none').w('backend', 'path', '/srv/share');
    expect(d.ctx().expect).toBe('published');
    expect(d.ctx().verdict).toBe('complied');
    expect(d.ctx().deadline).toBeUndefined();
  });

  it('waits for frontend keys observed after Initialised, then connects', () => {
    const d = device().toolstack().publish();
    d.w('frontend', 'state', '3');
    expect(d.ctx().awaiting).toBe('frontend-keys');
    for (const [k, v] of Object.entries(GOOD)) d.w('frontend', k, v);
    expect(d.ctx().expect).toBe('connected');
    expect(d.ctx().deadline).toBeUndefined();
  });

  it('a backend that closes while keys are awaited is judged with what was observed', () => {
    const d = device().toolstack().publish();
    d.w('frontend', 'state', '3').w('backend', 'state', '6');
    expect(d.ctx().expect).toBe('closed');
    expect(d.ctx().closeReason).toBe('version missing is not 1');
    expect(d.ctx().verdict).toBe('complied');
  });

  it('a bad value decides at once, without waiting for later keys', () => {
    const d = device().toolstack().publish();
    d.w('frontend', 'version', '2').w('frontend', 'state', '3');
    expect(d.ctx().awaiting).toBeUndefined();
    expect(d.ctx().closeReason).toBe('version "2" is not 1');
  });
});
