/**
 * xenbus device machine: one actor per PV device (vbd, vif, console, vkbd, vfb, 9pfs, ...),
 * keyed `xenbus:<uuid>:<kind>/<devid>` on the frontend domain's uuid.
 *
 * Three parallel regions:
 * - `frontend`: the frontend's XenbusState by name (`Unknown` … `Reconfigured`);
 * - `backend`:  the backend's XenbusState by name;
 * - `link`:     `waiting` (handshake in progress), `connected` (both sides Connected),
 *               `closing` (a side is Closing/Closed), `stalled` (a side waits past libxl's
 *               timeout: 10 s to InitWait, 40 s for hotplug-status, 10 s to Closed on removal),
 *               `failed` (hotplug-status=error|busy, or a side closed before ever connecting),
 *               `removed` (both `state` nodes gone).
 * Printed with stateString(): `backend.InitWait,frontend.Initialising,link.waiting`.
 *
 * Invariants:
 * - The state value is a function of the context: each region's guards ask what the
 *   context will be after the event (`nextXenbusContext`), and only the `link` region's
 *   transitions carry the one assign (`applyEvent`), so the context is reduced once.
 * - A missing or unparsable `state` is Unknown; an unparsable value is kept in
 *   `context.lastUnknown`, never thrown. Skipped states (1 → 4) are fine.
 * - `context.deadline` is set only while a libxl wait is in progress; `clock.tick` at or
 *   past it moves the link to `stalled`.
 * - `removed` is not final: a write under the same id re-creates the device afresh.
 */
import { setup, assign } from 'xstate';
import { nextXenbusContext, initialXenbusContext, linkOf } from './xenbus.logic.ts';
import { LINK_STATES, XENBUS_STATE_NAMES } from './xenbus.types.ts';
import type { LinkState, XenbusContext, XenbusEvent, XenbusInput } from './xenbus.types.ts';

const EVENTS = ['xenbus.write', 'xenbus.rm', 'clock.tick'] as const;

function sideRegion(guard: 'isNextFrontendState' | 'isNextBackendState') {
  const transitions = XENBUS_STATE_NAMES.map((name, state) => ({
    guard: { type: guard, params: { state } },
    target: `.${name}`,
  }));
  return {
    initial: 'Unknown' as const,
    states: Object.fromEntries(XENBUS_STATE_NAMES.map((n) => [n, {}])),
    on: Object.fromEntries(EVENTS.map((t) => [t, transitions])),
  };
}

function linkRegion() {
  const transitions = LINK_STATES.map((link) => ({
    guard: { type: 'isNextLink' as const, params: { link } },
    target: `.${link}`,
    actions: 'applyEvent' as const,
  }));
  return {
    initial: 'waiting' as const,
    states: Object.fromEntries(LINK_STATES.map((n) => [n, {}])),
    on: Object.fromEntries(EVENTS.map((t) => [t, transitions])),
  };
}

export const xenbusMachine = setup({
  types: {
    context: {} as XenbusContext,
    events: {} as XenbusEvent,
    input: {} as XenbusInput,
  },
  actions: {
    /** Why: the single place the context changes, so all regions agree on one reduction. */
    applyEvent: assign(({ context, event }) => nextXenbusContext(context, event)),
  },
  guards: {
    isNextFrontendState: ({ context, event }, params: { state: number }) =>
      nextXenbusContext(context, event).frontend.state === params.state,
    isNextBackendState: ({ context, event }, params: { state: number }) =>
      nextXenbusContext(context, event).backend.state === params.state,
    isNextLink: ({ context, event }, params: { link: LinkState }) =>
      linkOf(nextXenbusContext(context, event)) === params.link,
  },
}).createMachine({
  id: 'xenbus',
  type: 'parallel',
  context: ({ input }) => initialXenbusContext(input),
  states: {
    frontend: sideRegion('isNextFrontendState'),
    backend: sideRegion('isNextBackendState'),
    link: linkRegion(),
  } as any,
});
