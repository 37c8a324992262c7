import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { createTestModel, getShortestPaths } from 'xstate/graph';
import { pvUnplugMachine } from './pvunplug.machine.ts';
import type { PvUnplugEvent } from './pvunplug.types.ts';
import { emulatedDisk, emulatedNic } from './unplug-effect.ts';

const UUID = '6f1c0d9e-0000-4000-8000-0000000000aa';
const input = { uuid: UUID, domid: 7 };

const events: PvUnplugEvent[] = [
  { type: 'pv.device', device: emulatedDisk('hda', false, 768)!, ts: 1, seq: 1 },
  { type: 'pv.device', device: emulatedNic(0), ts: 1, seq: 1 },
  { type: 'pv.magic', value: 0x49d2, ts: 2, seq: 2 },
  { type: 'pv.magic', value: 0xd249, ts: 2, seq: 2 },
  { type: 'pv.version', value: 1, ts: 3, seq: 3 },
  { type: 'pv.product', value: 1, ts: 4, seq: 4 },
  { type: 'pv.build', value: 1234, ts: 5, seq: 5 },
  { type: 'pv.blacklisted', ts: 6, seq: 6 },
  { type: 'pv.mask', value: 3, ts: 7, seq: 7 },
  { type: 'pv.log', text: 'XENBUS|Started', ts: 8, seq: 8 },
  { type: 'pv.reset', domid: 7, ts: 9, seq: 9 },
  { type: 'pv.build.ignored', value: 12, ts: 10, seq: 10 },
  { type: 'pv.unplug', what: 'nics', ts: 11, seq: 11 },
  { type: 'pv.log.dropped', count: 2, bytes: 20, ts: 12, seq: 12 },
  { type: 'pv.throttled', ts: 13, seq: 13 },
  { type: 'pv.device.removed', kind: 'nic', ts: 14, seq: 14 },
  { type: 'pv.device.deleted', device: 'nic0', ts: 15, seq: 15 },
  { type: 'pv.driver.key', key: 'drivers/0', value: 'x', ts: 16, seq: 16 },
  { type: 'pv.profile', profile: 'upstream', ts: 17, seq: 17 },
];

const serializeState = (s: { value: unknown; context: { blacklisted: boolean; mask?: number } }) =>
  JSON.stringify([s.value, s.context.blacklisted, s.context.mask ?? null]);

describe('pvUnplug model', () => {
  const paths = getShortestPaths(pvUnplugMachine, { events, input, serializeState } as any);
  const reached = new Set(paths.map((p) => String(p.state.value)));

  it.each(['emulated', 'probed', 'blacklisted', 'unplugged'])('reaches %s', (state) => {
    expect(reached.has(state)).toBe(true);
  });

  it('every shortest path replays to the same state on a fresh actor', () => {
    for (const p of paths) {
      const actor = createActor(pvUnplugMachine, { input }).start();
      for (const step of p.steps) actor.send(step.event);
      expect(actor.getSnapshot().value).toEqual(p.state.value);
      actor.stop();
    }
  });

  it('test model paths hold the per-state invariants', async () => {
    const model = createTestModel(pvUnplugMachine, { events, input, serializeState } as any);
    const testPaths = model.getShortestPaths();
    expect(testPaths.length).toBeGreaterThan(3);
    for (const path of testPaths) {
      await path.test({
        states: {
          emulated: (s: any) => {
            expect(s.context.mask).toBeUndefined();
            expect(s.context.blacklisted).toBe(false);
          },
          probed: (s: any) => {
            expect(s.context.blacklisted).toBe(false);
            expect(s.context.mask).toBeUndefined();
            expect(s.context.since).toBeDefined();
          },
          blacklisted: (s: any) => {
            expect(s.context.blacklisted).toBe(true);
            expect(s.context.mask).toBeUndefined();
          },
          unplugged: (s: any) => {
            expect(s.context.mask).toBeGreaterThan(0);
            for (const d of s.context.disappeared) expect(d.kind).not.toBe('cdrom');
          },
        },
      });
    }
  });
});
