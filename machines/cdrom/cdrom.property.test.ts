import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createActor } from 'xstate';
import { cdromMachine } from './cdrom.machine.ts';
import type { CdromEvent } from './cdrom.types.ts';
import { UUID, libxlLine } from './cdrom.test-support.ts';

const LOCKED = "Device 'ide-5632' is locked and force was not specified, wait for tray to open and try again";

/** Any event the router could deliver to a CD-ROM, without its stamp. */
const eventArb: fc.Arbitrary<Record<string, unknown> & { type: string }> = fc.oneof(
  fc.record({
    type: fc.constant('cd.request'),
    cmd: fc.constantFrom('c1', 'c2', 'c3'),
    user: fc.constant('alice'),
    op: fc.constantFrom('cd-insert', 'cd-eject', 'cd-force-eject'),
    vdev: fc.constantFrom('hdc', 'sdc'),
    path: fc.constantFrom('/isos/a.iso', '/isos/b.iso'),
    stubdom: fc.boolean(),
  }),
  fc.record({ type: fc.constant('cd.result'), cmd: fc.constantFrom('c1', 'c2', 'c3'), ok: fc.boolean(), error: fc.constantFrom('x', LOCKED) }),
  fc.record({
    type: fc.constant('cd.qmp'),
    command: fc.constantFrom('query-version', 'eject', 'query-fdsets', 'remove-fd', 'add-fd', 'blockdev-change-medium', 'query-status'),
    ok: fc.constant(true),
    ret: fc.constantFrom({}, { 'fdset-id': 0, fd: 25 }),
  }),
  fc.record({
    type: fc.constant('cd.qmp'),
    command: fc.constantFrom('query-version', 'eject', 'remove-fd', 'add-fd', 'blockdev-change-medium'),
    ok: fc.constant(false),
    error: fc.record({ class: fc.constantFrom('GenericError', 'CommandNotFound', 'DeviceNotFound'), desc: fc.constantFrom('x', LOCKED) }),
  }),
  fc.record({
    type: fc.constant('cd.params'),
    fromStubdom: fc.boolean(),
    where: fc.constantFrom('backend', 'libxl'),
    value: fc.constantFrom('', 'aio:/isos/a.iso', '/isos/b.iso'),
  }),
  fc.record({ type: fc.constant('cd.type'), fromStubdom: fc.boolean(), where: fc.constant('backend'), value: fc.constantFrom('phy', 'qdisk') }),
  fc.record({
    type: fc.constant('cd.device'),
    domid: fc.constantFrom(5, 7, 9),
    fromStubdom: fc.boolean(),
    stubdom: fc.boolean(),
    vdev: fc.constant('hdc'),
    params: fc.constantFrom('', 'aio:/isos/a.iso'),
  }),
  fc.record({ type: fc.constant('cd.detached'), domid: fc.constantFrom(5, 7), fromStubdom: fc.boolean() }),
  fc.record({ type: fc.constant('cd.tray'), open: fc.boolean() }),
  fc.constantFrom('lock_acquired', 'stubdom_ejected', 'ejected', 'addfd_cb', 'inserted', 'done').chain((fn) =>
    fc.record({
      type: fc.constant('cd.step'),
      step: fc.constant(
        ({ lock_acquired: 'lock-acquired', stubdom_ejected: 'stubdom-ejected', ejected: 'ejected', addfd_cb: 'addfd-cb', inserted: 'inserted', done: 'done' } as const)[fn],
      ),
      rc: fc.constantFrom(0, -28, -3),
      line: fc.constant(libxlLine(`cdrom_insert_${fn}`, 'rc=0')),
    }),
  ),
  fc.record({ type: fc.constant('clock.tick') }),
);

/** A stamped sequence: time moves forward by 0..50 s per record; ticks land on the actor's deadline when one is set. */
const sequenceArb = fc.array(fc.tuple(eventArb, fc.integer({ min: 0, max: 50_000 })), { maxLength: 60 });

function replay(seq: Array<[Record<string, unknown> & { type: string }, number]>, upTo: number) {
  const actor = createActor(cdromMachine, { input: { uuid: UUID, domid: 5, devid: 5632, vdev: 'hdc' } });
  actor.start();
  let ts = 1_000_000;
  seq.slice(0, upTo).forEach(([e, dt], i) => {
    ts += dt;
    if (e.type === 'clock.tick') {
      const d = actor.getSnapshot().context.deadline;
      if (d !== undefined) ts = Math.max(ts, d);
    }
    actor.send({ ...e, ts, seq: i + 1 } as CdromEvent);
  });
  const snap = actor.getPersistedSnapshot();
  actor.stop();
  return snap;
}

describe('cdrom property: replay is deterministic', () => {
  it('replaying any prefix of a random event sequence twice from scratch gives identical snapshots', () => {
    fc.assert(
      fc.property(sequenceArb, fc.nat(), (seq, cut) => {
        const upTo = seq.length === 0 ? 0 : cut % (seq.length + 1);
        expect(replay(seq, upTo)).toEqual(replay(seq, upTo));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the invariants on every prefix: deadline only while a change runs, attempts within 0..10', () => {
    fc.assert(
      fc.property(sequenceArb, (seq) => {
        for (let n = 0; n <= seq.length; n++) {
          const snap = replay(seq, n) as unknown as { value: string; context: { deadline?: number; attempts: number; forceEjectOffered: boolean } };
          const running = ['ejecting', 'inserting', 'retrying'].includes(snap.value);
          expect(snap.context.deadline !== undefined).toBe(running);
          expect(snap.context.attempts).toBeGreaterThanOrEqual(0);
          expect(snap.context.attempts).toBeLessThanOrEqual(10);
          if (snap.value === 'locked') expect(snap.context.forceEjectOffered).toBe(true);
          expect(['empty', 'inserted', 'ejecting', 'inserting', 'locked', 'retrying', 'failed']).toContain(snap.value);
        }
      }),
      { numRuns: 60 },
    );
  });
});
