/**
 * ioreq: the ioreq servers of one HVM domain (seed 002, reference section 6),
 * learned from the simulator's and the helper's `ioreq.op` reports (dom0 cannot
 * list them).
 *
 * States (a per-domain summary; each server's own state, `created | enabled |
 * disabled | destroyed`, is in `context.slots[id].state` and `context.destroyed`):
 * - `idle`              no server in use.
 * - `servers`           1 to 7 servers in use (`context.inUse`).
 * - `exhausted.full`    all 8 slots in use: the next create will be refused.
 * - `exhausted.refused` a create was answered ENOSPC (incident `ioreq-exhausted`).
 *
 * Invariants:
 * - inUse = named servers + hidden ≤ 8; the state follows inUse (0 idle, 8 exhausted).
 * - every report is compared with `ioreqModel(xen)`; a certain expectation that
 *   differs from the observed result is kept in `mismatches`; the observed result
 *   is what is applied (the machine judges what it sees).
 * - `ioreq.reset` (a new domain instance) empties the slots: Xen destroys every
 *   server with the domain and on soft reset.
 * No timers: the machine never waits, so it keeps no deadline.
 */
import { assign, assertEvent, setup } from 'xstate';
import type { IoreqContext, IoreqEvent, IoreqInput, IoreqMismatch, IoreqServer } from './ioreq.types.ts';
import { MAX_IOREQ_SERVERS } from './ioreq.types.ts';
import { ioreqModel } from './ioreq.rules.ts';

const DESTROYED_KEEP = 16;
const MISMATCHES_KEEP = 32;

function keepLast<T>(xs: T[], n: number): T[] {
  return xs.length > n ? xs.slice(xs.length - n) : xs;
}

function countInUse(slots: Array<IoreqServer | null>, hidden: number): number {
  return slots.filter((s) => s !== null).length + hidden;
}

export function initialIoreqContext(input: IoreqInput): IoreqContext {
  return {
    uuid: input.uuid,
    domid: input.domid,
    xen: input.xen ?? '4.17',
    slots: Array.from({ length: MAX_IOREQ_SERVERS }, () => null),
    hidden: 0,
    inUse: 0,
    destroyed: [],
    mismatches: [],
    mismatchCount: 0,
    refusals: 0,
    fullSince: undefined,
    lastOp: undefined,
  };
}

export const ioreqMachine = setup({
  types: {
    context: {} as IoreqContext,
    events: {} as IoreqEvent,
    input: {} as IoreqInput,
  },
  guards: {
    isCreateRefused: ({ event }) => event.type === 'ioreq.op' && event.op.op === 'create' && event.op.result === 'ENOSPC',
    hasNoServers: ({ context }) => context.inUse === 0,
    hasServers: ({ context }) => context.inUse > 0,
    isFull: ({ context }) => context.inUse >= MAX_IOREQ_SERVERS,
    hasFreeSlot: ({ context }) => context.inUse < MAX_IOREQ_SERVERS,
  },
  actions: {
    /** Why: compare the report with the rules, then apply what was observed (the hypervisor is the truth). */
    applyOp: assign(({ context, event }) => {
      assertEvent(event, 'ioreq.op');
      const op = event.op;
      const xen = op.xen ?? context.xen;
      const model = ioreqModel(xen);
      const state = { slots: context.slots, hidden: context.hidden };
      const expected = model.expect(state, op);
      let mismatches = context.mismatches;
      let mismatchCount = context.mismatchCount;
      const idDiffers = op.op === 'create' && op.result === 'ok' && op.id !== undefined && expected.id !== undefined && op.id !== expected.id;
      if (expected.certain && (expected.result !== op.result || idDiffers)) {
        const m: IoreqMismatch = { seq: event.seq, op: op.op, observed: op.result, expected: expected.result };
        if (op.id !== undefined) m.id = op.id;
        mismatches = keepLast([...mismatches, m], MISMATCHES_KEEP);
        mismatchCount += 1;
      }
      const applied = model.apply(state, op, op.result, event.seq);
      const inUse = countInUse(applied.state.slots, applied.state.hidden);
      const destroyed = applied.destroyed ? keepLast([...context.destroyed, applied.destroyed], DESTROYED_KEEP) : context.destroyed;
      const lastOp: IoreqContext['lastOp'] = { seq: event.seq, op: op.op, result: op.result };
      const id = op.op === 'create' && op.id === undefined ? expected.id : op.id;
      if (id !== undefined) lastOp.id = id;
      return {
        xen,
        domid: op.domid,
        slots: applied.state.slots,
        hidden: applied.state.hidden,
        inUse,
        destroyed,
        mismatches,
        mismatchCount,
        refusals: context.refusals + (op.op === 'create' && op.result === 'ENOSPC' ? 1 : 0),
        fullSince: inUse >= MAX_IOREQ_SERVERS ? (context.fullSince ?? event.seq) : undefined,
        lastOp,
      };
    }),
    /** Why: a new domain instance has no servers; the old ones were destroyed with it. */
    resetServers: assign(({ context, event }) => {
      assertEvent(event, 'ioreq.reset');
      const gone = context.slots.filter((s): s is IoreqServer => s !== null).map((s) => ({ ...s, state: 'destroyed' as const }));
      return {
        domid: event.domid,
        slots: Array.from({ length: MAX_IOREQ_SERVERS }, () => null),
        hidden: 0,
        inUse: 0,
        fullSince: undefined,
        destroyed: keepLast([...context.destroyed, ...gone], DESTROYED_KEEP),
      };
    }),
  },
}).createMachine({
  id: 'ioreq',
  context: ({ input }) => initialIoreqContext(input),
  initial: 'idle',
  on: {
    'ioreq.reset': { target: '.idle', actions: 'resetServers' },
  },
  states: {
    idle: {
      always: [
        { guard: 'isFull', target: 'exhausted' },
        { guard: 'hasServers', target: 'servers' },
      ],
      on: {
        'ioreq.op': [{ guard: 'isCreateRefused', target: '#ioreq.exhausted.refused', actions: 'applyOp' }, { actions: 'applyOp' }],
      },
    },
    servers: {
      always: [
        { guard: 'isFull', target: 'exhausted' },
        { guard: 'hasNoServers', target: 'idle' },
      ],
      on: {
        'ioreq.op': [{ guard: 'isCreateRefused', target: '#ioreq.exhausted.refused', actions: 'applyOp' }, { actions: 'applyOp' }],
      },
    },
    exhausted: {
      initial: 'full',
      always: { guard: 'hasFreeSlot', target: 'servers' },
      states: {
        full: {
          on: {
            'ioreq.op': [{ guard: 'isCreateRefused', target: 'refused', actions: 'applyOp' }, { actions: 'applyOp' }],
          },
        },
        refused: {
          on: {
            'ioreq.op': { actions: 'applyOp' },
          },
        },
      },
    },
  },
});
