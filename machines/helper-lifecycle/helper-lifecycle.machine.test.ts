import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { helperLifecycleMachine } from './helper-lifecycle.machine.ts';
import type { HelperLifecycleEvent } from './helper-lifecycle.types.ts';

type Ev = HelperLifecycleEvent extends infer E ? (E extends { type: infer T } ? { type: T } & Omit<E, 'ts' | 'seq' | 'type'> : never) : never;

function run(input: Parameters<typeof createActor<typeof helperLifecycleMachine>>[1] extends infer O ? (O extends { input?: infer I } ? I : never) : never, events: [number, Ev][]) {
  const a = createActor(helperLifecycleMachine, { input }).start();
  events.forEach(([ts, e], i) => a.send({ ...e, ts, seq: i + 1 } as HelperLifecycleEvent));
  return a.getSnapshot();
}

describe('helper lifecycle', () => {
  it('starts, comes up and stays up', () => {
    const s = run({}, [
      [0, { type: 'helper.start' }],
      [10, { type: 'helper.ready' }],
    ]);
    expect(s.value).toBe('up');
    expect(s.context.deadline).toBe(10 + 30_000);
  });

  it('restarts after the backoff delay when the helper dies', () => {
    const input = { delaysMs: [100, 400], maxAttempts: 3 };
    let s = run(input, [
      [0, { type: 'helper.start' }],
      [10, { type: 'helper.ready' }],
      [50, { type: 'helper.exited', reason: 'the helper was ended by SIGKILL' }],
    ]);
    expect(s.value).toBe('backoff');
    expect(s.context.deadline).toBe(150);
    expect(s.context.downSince).toBe(50);
    expect(s.context.lastExit).toBe('the helper was ended by SIGKILL');
    s = run(input, [
      [0, { type: 'helper.start' }],
      [10, { type: 'helper.ready' }],
      [50, { type: 'helper.exited', reason: 'x' }],
      [149, { type: 'clock.tick' }],
    ]);
    expect(s.value).toBe('backoff');
    s = run(input, [
      [0, { type: 'helper.start' }],
      [10, { type: 'helper.ready' }],
      [50, { type: 'helper.exited', reason: 'x' }],
      [150, { type: 'clock.tick' }],
    ]);
    expect(s.value).toBe('starting');
    expect(s.context.deadline).toBeUndefined();
    expect(s.context.downSince).toBe(50);
  });

  it('backs off longer on each death in a row, holding at the last delay', () => {
    const input = { delaysMs: [100, 400], maxAttempts: 5 };
    const s = run(input, [
      [0, { type: 'helper.start' }],
      [1, { type: 'helper.exited', reason: 'a' }], // deadline 101
      [101, { type: 'clock.tick' }],
      [102, { type: 'helper.exited', reason: 'b' }], // deadline 502
      [502, { type: 'clock.tick' }],
      [503, { type: 'helper.exited', reason: 'c' }], // deadline 903 (held at 400)
    ]);
    expect(s.value).toBe('backoff');
    expect(s.context.attempts).toBe(3);
    expect(s.context.deadline).toBe(903);
  });

  it('gives up after maxAttempts deaths in a row and starts again only when asked', () => {
    const input = { delaysMs: [10], maxAttempts: 2 };
    const evs: [number, Ev][] = [
      [0, { type: 'helper.start' }],
      [1, { type: 'helper.exited', reason: 'a' }],
      [11, { type: 'clock.tick' }],
      [12, { type: 'helper.exited', reason: 'b' }],
      [22, { type: 'clock.tick' }],
      [23, { type: 'helper.exited', reason: 'cannot connect to xenstore' }],
    ];
    let s = run(input, evs);
    expect(s.value).toBe('failed');
    expect(s.context.lastExit).toBe('cannot connect to xenstore');
    expect(s.context.deadline).toBeUndefined();
    s = run(input, [...evs, [100, { type: 'clock.tick' }]]);
    expect(s.value).toBe('failed');
    s = run(input, [...evs, [100, { type: 'helper.start' }]]);
    expect(s.value).toBe('starting');
    expect(s.context.attempts).toBe(0);
  });

  it('forgets earlier deaths once the helper has stayed up for stableMs', () => {
    const input = { delaysMs: [10], maxAttempts: 1, stableMs: 1000 };
    const s = run(input, [
      [0, { type: 'helper.start' }],
      [1, { type: 'helper.exited', reason: 'a' }],
      [11, { type: 'clock.tick' }],
      [12, { type: 'helper.ready' }],
      [1012, { type: 'clock.tick' }],
      [2000, { type: 'helper.exited', reason: 'b' }],
    ]);
    // Without the reset this second death would exceed maxAttempts = 1.
    expect(s.value).toBe('backoff');
    expect(s.context.attempts).toBe(1);
    expect(s.context.restarts).toBe(2);
  });

  it('a death soon after hello still counts towards giving up', () => {
    const input = { delaysMs: [10], maxAttempts: 1, stableMs: 1000 };
    const s = run(input, [
      [0, { type: 'helper.start' }],
      [1, { type: 'helper.ready' }],
      [2, { type: 'helper.exited', reason: 'a' }],
      [12, { type: 'clock.tick' }],
      [13, { type: 'helper.ready' }],
      [14, { type: 'helper.exited', reason: 'b' }],
    ]);
    expect(s.value).toBe('failed');
  });

  it('stops from any state and clears its deadline', () => {
    for (const pre of [[], [[1, { type: 'helper.exited', reason: 'a' }]]] as [number, Ev][][]) {
      const s = run({}, [[0, { type: 'helper.start' }], ...pre, [5, { type: 'helper.stop' }]]);
      expect(s.value).toBe('stopped');
      expect(s.context.deadline).toBeUndefined();
    }
  });
});
