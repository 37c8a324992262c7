import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createActor } from 'xstate';
import { ioreqMachine } from './ioreq.machine.ts';
import { ioreqModel } from './ioreq.rules.ts';
import type { IoreqEvent, IoreqOpName, IoreqRequest, IoreqResult } from './ioreq.types.ts';
import { IOREQ_RESULTS } from './ioreq.types.ts';

const opArb = fc.constantFrom<IoreqOpName>('create', 'create', 'map', 'unmap', 'enable', 'disable', 'destroy', 'info', 'get_param', 'set_param');

const reqArb: fc.Arbitrary<IoreqRequest> = fc.record({
  caller: fc.constantFrom(0, 0, 0, 5),
  op: opArb,
  id: fc.integer({ min: 0, max: 8 }),
  range: fc.record({ type: fc.constantFrom('port' as const, 'mmio' as const, 'pci' as const), start: fc.integer({ min: 0, max: 40 }), end: fc.integer({ min: 0, max: 40 }) }),
  param: fc.constantFrom(13, 26, 5),
});

function replay(events: IoreqEvent[]) {
  const actor = createActor(ioreqMachine, { input: { uuid: 'u', domid: 3, xen: '4.17' } }).start();
  for (const e of events) actor.send(e);
  const snap = actor.getPersistedSnapshot();
  actor.stop();
  return snap;
}

/** Reports with any result (a real hypervisor, a buggy one, a helper that missed things). */
const anyEventsArb = fc.array(
  fc.oneof(
    { weight: 9, arbitrary: fc.tuple(reqArb, fc.constantFrom<IoreqResult>(...IOREQ_RESULTS)).map(([r, result]) => ({ kind: 'op' as const, r, result })) },
    { weight: 1, arbitrary: fc.constantFrom(3, 4).map((domid) => ({ kind: 'reset' as const, domid })) },
  ),
  { maxLength: 60 },
);

function toEvents(xs: Array<{ kind: 'op'; r: IoreqRequest; result: IoreqResult } | { kind: 'reset'; domid: number }>): IoreqEvent[] {
  return xs.map((x, i) =>
    x.kind === 'reset'
      ? { type: 'ioreq.reset', domid: x.domid, ts: i * 10, seq: i + 1 }
      : { type: 'ioreq.op', op: { domid: 3, ...x.r, result: x.result }, ts: i * 10, seq: i + 1 },
  );
}

describe('ioreq replay determinism and agreement with the rules', () => {
  it('property: replaying any prefix twice from scratch gives identical snapshots', () => {
    fc.assert(
      fc.property(anyEventsArb, fc.nat(), (xs, cut) => {
        const events = toEvents(xs).slice(0, cut % (xs.length + 1));
        expect(replay(events)).toEqual(replay(events));
      }),
      { numRuns: 200 },
    );
  });

  it('property: whatever is reported, at most 8 servers are in use and the state follows the count', () => {
    fc.assert(
      fc.property(anyEventsArb, (xs) => {
        const actor = createActor(ioreqMachine, { input: { uuid: 'u', domid: 3 } }).start();
        for (const e of toEvents(xs)) {
          actor.send(e);
          const s = actor.getSnapshot();
          const n = s.context.inUse;
          expect(n).toBeLessThanOrEqual(8);
          expect(n).toBe(s.context.slots.filter((x) => x !== null).length + s.context.hidden);
          if (n === 0) expect(s.value).toBe('idle');
          else if (n < 8) expect(s.value).toBe('servers');
          else expect(s.matches('exhausted')).toBe(true);
        }
        actor.stop();
      }),
      { numRuns: 200 },
    );
  });

  it('property: reports produced by the rules (as the simulator does) never raise a mismatch', () => {
    fc.assert(
      fc.property(fc.constantFrom('4.11', '4.12', '4.13.5', '4.14', '4.17.7'), fc.array(reqArb, { maxLength: 60 }), (xen, reqs) => {
        const model = ioreqModel(xen);
        let state = model.empty();
        const actor = createActor(ioreqMachine, { input: { uuid: 'u', domid: 3, xen } }).start();
        reqs.forEach((r, i) => {
          const req = r.op === 'create' ? { caller: r.caller, op: r.op } : r;
          const out = model.step(state, req, i + 1);
          state = out.state;
          const reported = out.id !== undefined ? { ...req, id: out.id } : req;
          actor.send({ type: 'ioreq.op', op: { domid: 3, ...reported, result: out.result }, ts: i, seq: i + 1 });
        });
        const s = actor.getSnapshot();
        expect(s.context.mismatches).toEqual([]);
        expect(s.context.slots).toEqual(state.slots);
        actor.stop();
      }),
      { numRuns: 200 },
    );
  });
});
