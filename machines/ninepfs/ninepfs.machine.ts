/**
 * ninepfs machine: a 9pfs device served by xen-9pfsd (backend kind `xen_9pfs`), keyed
 * `ninepfs:<uuid>:9pfs/<devid>`. It runs beside the device's xenbus actor: xenbus tracks the
 * XenbusStates, libxl's waits and stalls; ninepfs models what xen-9pfsd must do (seed 001)
 * and judges whether the observed backend did it.
 *
 * Two parallel regions:
 * - `daemon` (the expected verdict): `probing` (backend keys not yet complete), `refused`
 *   (security_model or host path rejected: the backend must stay Initialising), `published`
 *   (versions=1, max-rings=4, max-ring-page-order=9, then InitWait), `connected` (frontend
 *   Initialised passed every check: backend Connected), `closing` (frontend Closing),
 *   `closed` (a check failed, frontend Closed, or the frontend state vanished: backend Closed),
 *   `removed` (backend directory gone);
 * - `observed` (the backend against it): `pending`, `complied`, `deviated`.
 * Printed with stateString(): `daemon.closed,observed.complied`.
 *
 * Invariants:
 * - The state value is a function of the context; only the `observed` region's transitions
 *   carry the one assign (`applyEvent`), every guard asks `nextNinepfsContext`.
 * - `closeReason` says why the backend must be (or stay) closed; `failedBy` is set only for
 *   xen-9pfsd's own checks (probe, validation, or a close Xendeck cannot explain).
 * - No deadlines: libxl's InitWait wait belongs to the xenbus actor.
 * - `removed` is not final: a write under the same id re-creates the device afresh.
 */
import { setup, assign } from 'xstate';
import { initialNinepfsContext, nextNinepfsContext } from './ninepfs.logic.ts';
import { DAEMON_STATES, VERDICTS } from './ninepfs.types.ts';
import type { DaemonState, NinepfsContext, NinepfsEvent, NinepfsInput, Verdict } from './ninepfs.types.ts';

const EVENTS = ['ninepfs.write', 'ninepfs.rm', 'clock.tick'] as const;

function daemonRegion() {
  const transitions = DAEMON_STATES.map((state) => ({
    guard: { type: 'isNextDaemon' as const, params: { state } },
    target: `.${state}`,
  }));
  return {
    initial: 'probing' as const,
    states: Object.fromEntries(DAEMON_STATES.map((n) => [n, {}])),
    on: Object.fromEntries(EVENTS.map((t) => [t, transitions])),
  };
}

function observedRegion() {
  const transitions = VERDICTS.map((verdict) => ({
    guard: { type: 'isNextVerdict' as const, params: { verdict } },
    target: `.${verdict}`,
    actions: 'applyEvent' as const,
  }));
  return {
    initial: 'pending' as const,
    states: Object.fromEntries(VERDICTS.map((n) => [n, {}])),
    on: Object.fromEntries(EVENTS.map((t) => [t, transitions])),
  };
}

export const ninepfsMachine = setup({
  types: {
    context: {} as NinepfsContext,
    events: {} as NinepfsEvent,
    input: {} as NinepfsInput,
  },
  actions: {
    /** Why: the single place the context changes, so both regions agree on one reduction. */
    applyEvent: assign(({ context, event }) => nextNinepfsContext(context, event)),
  },
  guards: {
    isNextDaemon: ({ context, event }, params: { state: DaemonState }) =>
      nextNinepfsContext(context, event).expect === params.state,
    isNextVerdict: ({ context, event }, params: { verdict: Verdict }) =>
      nextNinepfsContext(context, event).verdict === params.verdict,
  },
}).createMachine({
  id: 'ninepfs',
  type: 'parallel',
  context: ({ input }) => initialNinepfsContext(input),
  states: {
    daemon: daemonRegion(),
    observed: observedRegion(),
  } as any,
});
