import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { createTestModel, getShortestPaths } from 'xstate/graph';
import { ioreqMachine } from './ioreq.machine.ts';
import type { IoreqEvent } from './ioreq.types.ts';

const input = { uuid: 'u', domid: 3 };

/** Creates with explicit ids so that paths of different lengths fill distinct slots. */
const events = (s: { context: { slots: Array<unknown | null> } }): IoreqEvent[] => {
  const free = s.context.slots.findIndex((x) => x === null);
  const used = s.context.slots.findIndex((x) => x !== null);
  const out: IoreqEvent[] = [
    { type: 'ioreq.op', op: { domid: 3, caller: 0, op: 'create', id: free < 0 ? undefined : free, result: free < 0 ? 'ENOSPC' : 'ok' }, ts: 1, seq: 1 },
    { type: 'ioreq.reset', domid: 3, ts: 2, seq: 2 },
  ];
  if (used >= 0) {
    out.push({ type: 'ioreq.op', op: { domid: 3, caller: 0, op: 'destroy', id: used, result: 'ok' }, ts: 3, seq: 3 });
    out.push({ type: 'ioreq.op', op: { domid: 3, caller: 0, op: 'enable', id: used, result: 'ok' }, ts: 4, seq: 4 });
  }
  return out;
};

/** Coarse on purpose: the summary state and the count (per-slot detail would explode the graph). */
const serializeState = (s: any) => JSON.stringify([s.value, s.context.inUse, s.context.refusals > 0]);

describe('ioreq model', () => {
  const paths = getShortestPaths(ioreqMachine, { events, input, serializeState } as any);
  const reached = new Set(paths.map((p) => JSON.stringify(p.state.value)));

  it.each(['"idle"', '"servers"', '{"exhausted":"full"}', '{"exhausted":"refused"}'])('reaches %s', (v) => {
    expect(reached.has(v)).toBe(true);
  });

  it('every shortest path replays to the same state on a fresh actor', () => {
    for (const p of paths) {
      const actor = createActor(ioreqMachine, { input }).start();
      for (const step of p.steps) actor.send(step.event);
      expect(actor.getSnapshot().value).toEqual(p.state.value);
      actor.stop();
    }
  });

  it('test model paths hold the per-state invariants', async () => {
    const model = createTestModel(ioreqMachine, { events, input, serializeState } as any);
    const testPaths = model.getShortestPaths();
    const visited = new Set(testPaths.flatMap((p) => [p.state, ...p.steps.map((st) => st.state)].map((x) => JSON.stringify(x.value))));
    expect(visited.size).toBe(4);
    for (const path of testPaths) {
      await path.test({
        states: {
          idle: (s: any) => expect(s.context.inUse).toBe(0),
          servers: (s: any) => {
            expect(s.context.inUse).toBeGreaterThan(0);
            expect(s.context.inUse).toBeLessThan(8);
          },
          'exhausted.full': (s: any) => {
            expect(s.context.inUse).toBe(8);
            expect(s.context.fullSince).toBeDefined();
          },
          'exhausted.refused': (s: any) => {
            expect(s.context.inUse).toBe(8);
            expect(s.context.refusals).toBeGreaterThan(0);
          },
        },
      });
    }
  });
});
