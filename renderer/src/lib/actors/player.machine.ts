/**
 * The replay player: whether the UI shows live state or history, and whether
 * history is playing.
 *
 * States: `live` (the UI follows the host) and `history` with `paused` and
 * `playing`. Invariants: playing only happens in history; leaving history
 * always stops playing; speed survives mode changes.
 */
import { assign, setup } from 'xstate';

export interface PlayerContext {
  /** Records per 200 ms tick multiplier: 1, 2, 5, 10, 50. */
  speed: number;
}

export type PlayerEvent =
  | { type: 'player.open' }
  | { type: 'player.close' }
  | { type: 'player.play' }
  | { type: 'player.pause' }
  | { type: 'player.end' }
  | { type: 'player.speed'; speed: number };

export const STEP_MS = 200;
export const SPEEDS = [1, 2, 5, 10, 50] as const;

export const playerMachine = setup({
  types: { context: {} as PlayerContext, events: {} as PlayerEvent, input: {} as { speed?: number } | undefined },
  actions: {
    /** Move the cursor one record forward: the app provides it (the replay worker does the work). */
    advance: () => {
      throw new Error('player: action advance not provided');
    },
    /** Remember the speed a person chose. */
    setSpeed: assign({ speed: ({ event }) => (event.type === 'player.speed' && event.speed > 0 ? event.speed : 1) }),
  },
  delays: {
    /** Time between two steps while playing: faster speeds step more often. */
    stepDelay: ({ context }) => Math.max(4, Math.round(STEP_MS / context.speed)),
  },
}).createMachine({
  id: 'player',
  initial: 'live',
  context: ({ input }) => ({ speed: input?.speed ?? 1 }),
  on: { 'player.speed': { actions: 'setSpeed' } },
  states: {
    live: { on: { 'player.open': 'history' } },
    history: {
      initial: 'paused',
      on: { 'player.close': 'live' },
      states: {
        paused: { on: { 'player.play': 'playing' } },
        playing: {
          after: { stepDelay: { target: 'playing', reenter: true, actions: 'advance' } },
          on: { 'player.pause': 'paused', 'player.end': 'paused' },
        },
      },
    },
  },
});
