import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { stateString } from '../host/binding.ts';
import { xenbusMachine } from './xenbus.machine.ts';
import { initialXenbusContext } from './xenbus.logic.ts';
import type { Side, XenbusContext, XenbusEvent } from './xenbus.types.ts';

const UUID = '6f1c0000-0000-4000-8000-000000000001';

function device(kind = 'vbd', devid = 51712, domid = 3) {
  const actor = createActor(xenbusMachine, { input: { uuid: UUID, domid, kind, devid } }).start();
  let seq = 0;
  const send = (e: XenbusEvent) => actor.send(e);
  return {
    actor,
    ctx: (): XenbusContext => actor.getSnapshot().context,
    state: () => stateString(actor.getSnapshot().value),
    link: () => (actor.getSnapshot().value as Record<string, string>).link,
    w(side: Side, key: string, value: string, ts: number, bekind = kind === 'vbd' ? 'vbd' : kind, d = domid) {
      seq += 1;
      send({ type: 'xenbus.write', ts, seq, domid: d, side, key, value, ...(side === 'backend' ? { backendKind: bekind, backendDomid: 0 } : {}) });
    },
    rm(side: Side, key: string, ts: number, d = domid) {
      seq += 1;
      send({ type: 'xenbus.rm', ts, seq, domid: d, side, key });
    },
    tick(ts: number) {
      seq += 1;
      send({ type: 'clock.tick', ts, seq });
    },
  };
}

/** libxl's transaction: both directories at state 1, online=1. */
function created(d: ReturnType<typeof device>, ts = 1000, bekind?: string) {
  d.w('frontend', 'state', '1', ts);
  d.w('backend', 'state', '1', ts, bekind);
  d.w('backend', 'online', '1', ts, bekind);
}

describe('xenbus device: XenbusState by name', () => {
  it('names frontend and backend states and reaches connected on a normal vbd connect (reference 2.4)', () => {
    const d = device();
    created(d);
    expect(d.state()).toBe('backend.Initialising,frontend.Initialising,link.waiting');
    d.w('backend', 'state', '2', 1100);
    d.w('backend', 'hotplug-status', 'connected', 1200);
    d.w('frontend', 'state', '3', 1300);
    d.w('backend', 'state', '4', 1400);
    d.w('frontend', 'state', '4', 1500);
    expect(d.state()).toBe('backend.Connected,frontend.Connected,link.connected');
    expect(d.ctx().deadline).toBeUndefined();
  });

  it('tolerates skipped states: a frontend going 1 → 4 directly (watches coalesce)', () => {
    const d = device('vbd', 768);
    created(d, 1000, 'qdisk');
    d.w('backend', 'state', '4', 1100, 'qdisk');
    d.w('frontend', 'state', '4', 1200);
    expect(d.state()).toBe('backend.Connected,frontend.Connected,link.connected');
  });

  it.each(['9', 'banana', '-1', '', '4x'])('reads the state value %j as Unknown and records it in context', (raw) => {
    const d = device();
    created(d);
    d.w('frontend', 'state', raw, 1100);
    expect(d.state()).toContain('frontend.Unknown');
    expect(d.ctx().lastUnknown).toEqual({ side: 'frontend', value: raw, seq: 4 });
  });

  it('reads a missing state node as Unknown', () => {
    const d = device();
    created(d);
    d.rm('frontend', 'state', 1100);
    expect(d.state()).toContain('frontend.Unknown');
    expect(d.link()).toBe('waiting');
  });
});

describe('xenbus device: libxl timeouts on the record clock', () => {
  it('stalls when the backend does not reach InitWait within 10 s (LIBXL_INIT_TIMEOUT)', () => {
    const d = device();
    created(d, 1000);
    expect(d.ctx().deadline).toBe(11_000);
    d.tick(10_999);
    expect(d.link()).toBe('waiting');
    d.tick(11_000);
    expect(d.link()).toBe('stalled');
    expect(d.ctx().stall).toMatchObject({ side: 'backend', phase: 'initwait', deadline: 11_000 });
    expect(d.ctx().deadline).toBeUndefined();
  });

  it('stalls when the hotplug script writes no hotplug-status within 40 s of InitWait (LIBXL_HOTPLUG_TIMEOUT)', () => {
    const d = device('vif', 0);
    created(d, 1000, 'vif');
    d.w('backend', 'hotplug-status', '', 1000, 'vif');
    d.w('backend', 'state', '2', 2000, 'vif');
    expect(d.ctx().phase).toBe('hotplug');
    expect(d.ctx().deadline).toBe(42_000);
    d.tick(42_000);
    expect(d.link()).toBe('stalled');
    expect(d.ctx().stall?.phase).toBe('hotplug');
  });

  it('stalls when the backend does not reach Closed within 10 s of removal (LIBXL_DESTROY_TIMEOUT)', () => {
    const d = device();
    created(d);
    d.w('backend', 'state', '4', 1100);
    d.w('frontend', 'state', '4', 1200);
    d.w('backend', 'hotplug-status', 'connected', 1150);
    d.w('backend', 'online', '0', 5000);
    d.w('backend', 'state', '5', 5000);
    expect(d.ctx().phase).toBe('close');
    expect(d.ctx().deadline).toBe(15_000);
    d.tick(15_000);
    expect(d.link()).toBe('stalled');
    expect(d.ctx().stall?.phase).toBe('close');
  });

  it('skips the InitWait and hotplug waits for QEMU-served backends (qdisk, vfb, vkbd, qusb, 9pfs)', () => {
    for (const bekind of ['qdisk', 'vfb', 'vkbd', 'qusb', '9pfs']) {
      const d = device(bekind === 'qdisk' ? 'vbd' : bekind === 'qusb' ? 'vusb' : bekind, 0);
      created(d, 1000, bekind);
      expect(d.ctx().deadline).toBeUndefined();
    }
  });

  it('leaves stalled when the waited-for state arrives late', () => {
    const d = device();
    created(d, 1000);
    d.tick(11_000);
    d.w('backend', 'state', '2', 12_000);
    expect(d.link()).toBe('waiting');
    expect(d.ctx().stall).toBeUndefined();
    expect(d.ctx().phase).toBe('hotplug');
  });
});

describe('xenbus device: failure and removal', () => {
  it('fails on hotplug-status=error and keeps hotplug-error as the reason', () => {
    const d = device();
    created(d);
    d.w('backend', 'state', '2', 1100);
    d.w('backend', 'hotplug-error', 'losetup failed', 1200);
    d.w('backend', 'hotplug-status', 'error', 1200);
    expect(d.link()).toBe('failed');
    expect(d.ctx().failure).toEqual({ side: 'backend', reason: 'hotplug: losetup failed', seq: 6 });
    expect(d.ctx().deadline).toBeUndefined();
  });

  it('fails when the backend closes before connecting (closed by validation)', () => {
    const d = device('9pfs', 0);
    created(d, 1000, 'xen_9pfs');
    d.w('backend', 'state', '2', 1100, 'xen_9pfs');
    d.w('frontend', 'state', '3', 1200);
    d.w('backend', 'state', '6', 1300, 'xen_9pfs');
    expect(d.state()).toBe('backend.Closed,frontend.Initialised,link.failed');
    expect(d.ctx().failure?.reason).toBe('backend closed before connecting');
  });

  it('keeps security_model and path of xen-9pfsd backends for the incident split', () => {
    const d = device('9pfs', 0);
    created(d, 1000, 'xen_9pfs');
    d.w('backend', 'security_model', 'mapped', 1000, 'xen_9pfs');
    d.w('backend', 'path', '/srv', 1000, 'xen_9pfs');
    expect(d.ctx().backendConfig).toEqual({ security_model: 'mapped', path: '/srv' });
    const v = device('vbd', 1);
    created(v);
    v.w('backend', 'path', '/x', 1000);
    expect(v.ctx().backendConfig).toBeUndefined();
  });

  it('is not a failure when libxl closes a device that never connected (online=0)', () => {
    const d = device();
    created(d);
    d.w('backend', 'online', '0', 2000);
    d.w('backend', 'state', '6', 2100);
    expect(d.link()).toBe('closing');
  });

  it('is removed once both state nodes are removed (directory rm)', () => {
    const d = device();
    created(d);
    d.rm('frontend', '', 2000);
    expect(d.link()).toBe('waiting');
    d.rm('backend', '', 2000);
    expect(d.state()).toBe('backend.Unknown,frontend.Unknown,link.removed');
    expect(d.ctx().deadline).toBeUndefined();
  });

  it('is removed once both state keys are removed (key rm)', () => {
    const d = device();
    created(d);
    d.rm('backend', 'state', 2000);
    d.rm('frontend', 'state', 2000);
    expect(d.link()).toBe('removed');
  });

  it('works again when re-created under the same id after a soft reset', () => {
    const d = device();
    created(d);
    d.w('backend', 'state', '4', 1100);
    d.w('frontend', 'state', '4', 1200);
    d.rm('frontend', '', 3000);
    d.rm('backend', '', 3000);
    expect(d.link()).toBe('removed');
    created(d, 4000);
    expect(d.state()).toBe('backend.Initialising,frontend.Initialising,link.waiting');
    expect(d.ctx().everConnected).toBe(false);
    expect(d.ctx().created?.ts).toBe(4000);
    expect(d.ctx().deadline).toBe(14_000);
  });

  it('starts afresh when the uuid comes back with a new domid (reboot)', () => {
    const d = device();
    created(d);
    d.w('backend', 'state', '4', 1100);
    d.w('frontend', 'state', '4', 1200);
    d.w('frontend', 'state', '1', 9000, 'vbd', 7);
    expect(d.ctx().domid).toBe(7);
    expect(d.state()).toBe('backend.Unknown,frontend.Initialising,link.waiting');
    d.rm('backend', '', 9100, 3); // the old domain's leftovers are ignored
    expect(d.ctx().backend.seen).toBe(false);
  });

  it('applies prior keys carried by the creating event before the event itself', () => {
    const actor = createActor(xenbusMachine, { input: { uuid: UUID, domid: 3, kind: 'vbd', devid: 5632 } }).start();
    actor.send({
      type: 'xenbus.write', ts: 1000, seq: 1, domid: 3, side: 'frontend', key: 'backend-id', value: '0',
      prior: [{ side: 'backend', key: 'state', value: '2', backendKind: 'vbd', backendDomid: 0 }],
    });
    expect(stateString(actor.getSnapshot().value)).toBe('backend.InitWait,frontend.Unknown,link.waiting');
    expect(actor.getSnapshot().context.backendKind).toBe('vbd');
  });

  it('can start mid-flow from a resolved state', () => {
    const context = { ...initialXenbusContext({ uuid: UUID, domid: 3, kind: 'vbd', devid: 51712 }), backendKind: 'vbd',
      frontend: { state: 4, present: true, seen: true, gone: false }, backend: { state: 4, present: true, seen: true, gone: false }, everConnected: true };
    const snap = xenbusMachine.resolveState({ value: { frontend: 'Connected', backend: 'Connected', link: 'connected' }, context });
    const actor = createActor(xenbusMachine, { snapshot: snap, input: { uuid: UUID, domid: 3, kind: 'vbd', devid: 51712 } }).start();
    actor.send({ type: 'xenbus.write', ts: 1, seq: 1, domid: 3, side: 'frontend', key: 'state', value: '5' });
    expect(stateString(actor.getSnapshot().value)).toBe('backend.Connected,frontend.Closing,link.closing');
  });
});
