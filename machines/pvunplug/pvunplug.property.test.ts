import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createActor } from 'xstate';
import { pvUnplugMachine } from './pvunplug.machine.ts';
import type { PvUnplugEvent } from './pvunplug.types.ts';
import { emulatedDisk, emulatedNic } from './unplug-effect.ts';

type Body = PvUnplugEvent extends infer E ? (E extends PvUnplugEvent ? Omit<E, 'ts' | 'seq'> : never) : never;

const bodyArb: fc.Arbitrary<Body> = fc.oneof(
  fc.constantFrom(0x49d2, 0xd249, 0x1234).map((value) => ({ type: 'pv.magic' as const, value })),
  fc.constantFrom(0, 1).map((value) => ({ type: 'pv.version' as const, value })),
  fc.integer({ min: 0, max: 5 }).map((value) => ({ type: 'pv.product' as const, value })),
  fc.integer({ min: 0, max: 5000 }).map((value) => ({ type: 'pv.build' as const, value })),
  fc.integer({ min: 0, max: 5000 }).map((value) => ({ type: 'pv.build.ignored' as const, value })),
  fc.constant({ type: 'pv.blacklisted' as const }),
  fc.integer({ min: 0, max: 15 }).map((value) => ({ type: 'pv.mask' as const, value })),
  fc.constantFrom('disks' as const, 'nics' as const).map((what) => ({ type: 'pv.unplug' as const, what })),
  fc.string({ maxLength: 3000 }).map((text) => ({ type: 'pv.log' as const, text })),
  fc.constantFrom('hda', 'hdb', 'hdc', 'xvda', 'sda', 'nvme0').map((vdev) => ({
    type: 'pv.device' as const,
    device: emulatedDisk(vdev, vdev === 'hdc')!,
  })),
  fc.integer({ min: 0, max: 2 }).map((n) => ({ type: 'pv.device' as const, device: emulatedNic(n) })),
  fc.constantFrom(7, 9).map((domid) => ({ type: 'pv.reset' as const, domid })),
  fc.constantFrom('seed' as const, 'upstream' as const).map((profile) => ({ type: 'pv.profile' as const, profile })),
);

const stepsArb = fc.array(fc.tuple(bodyArb, fc.integer({ min: 0, max: 3000 })), { maxLength: 40 });

function replay(steps: Array<[Body, number]>) {
  const actor = createActor(pvUnplugMachine, { input: { uuid: 'u', domid: 7 } }).start();
  let ts = 0;
  steps.forEach(([body, dt], i) => {
    ts += dt;
    actor.send({ ...body, ts, seq: i + 1 } as PvUnplugEvent);
  });
  const snap = actor.getPersistedSnapshot();
  actor.stop();
  return snap;
}

describe('pvUnplug replay determinism', () => {
  it('property: replaying any prefix twice from scratch gives identical snapshots', () => {
    fc.assert(
      fc.property(stepsArb, fc.nat(), (steps, cut) => {
        const prefix = steps.slice(0, steps.length === 0 ? 0 : cut % (steps.length + 1));
        expect(replay(prefix)).toEqual(replay(prefix));
      }),
      { numRuns: 150 },
    );
  });

  it('property: the mask only grows until a reset, and CD-ROMs never disappear', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const actor = createActor(pvUnplugMachine, { input: { uuid: 'u', domid: 7 } }).start();
        let prev = 0;
        steps.forEach(([body, dt], i) => {
          actor.send({ ...body, ts: i * 10 + dt, seq: i + 1 } as PvUnplugEvent);
          const c = actor.getSnapshot().context;
          const mask = c.mask ?? 0;
          if (body.type !== 'pv.reset') expect(mask & prev).toBe(prev);
          expect(c.disappeared.some((d) => d.kind === 'cdrom')).toBe(false);
          prev = mask;
        });
        actor.stop();
      }),
      { numRuns: 150 },
    );
  });
});
