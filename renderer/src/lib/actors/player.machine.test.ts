import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { playerMachine, STEP_MS } from './player.machine.ts';

function start(speed = 1) {
  const clock = new SimulatedClock();
  let steps = 0;
  const actor = createActor(playerMachine.provide({ actions: { advance: () => void steps++ } }), { clock, input: { speed } });
  actor.start();
  return { actor, clock, steps: () => steps };
}

describe('replay player', () => {
  it('starts live; opening history pauses there', () => {
    const { actor } = start();
    expect(actor.getSnapshot().value).toBe('live');
    actor.send({ type: 'player.play' });
    expect(actor.getSnapshot().value).toBe('live');
    actor.send({ type: 'player.open' });
    expect(actor.getSnapshot().value).toEqual({ history: 'paused' });
  });

  it('while playing, advances once per step delay, faster with speed', () => {
    const { actor, clock, steps } = start();
    actor.send({ type: 'player.open' });
    actor.send({ type: 'player.play' });
    for (let i = 0; i < 3; i++) clock.increment(STEP_MS);
    expect(steps()).toBe(3);
    clock.increment(STEP_MS - 1);
    expect(steps()).toBe(3);
    actor.send({ type: 'player.speed', speed: 10 });
    actor.send({ type: 'player.pause' });
    actor.send({ type: 'player.play' });
    clock.increment(1);
    for (let i = 0; i < 10; i++) clock.increment(STEP_MS / 10);
    expect(steps()).toBe(3 + 10);
    expect(actor.getSnapshot().context.speed).toBe(10);
  });

  it('pausing, reaching the end or going back to live stops the steps', () => {
    const { actor, clock, steps } = start();
    actor.send({ type: 'player.open' });
    actor.send({ type: 'player.play' });
    actor.send({ type: 'player.end' });
    clock.increment(STEP_MS * 5);
    expect(steps()).toBe(0);
    expect(actor.getSnapshot().value).toEqual({ history: 'paused' });
    actor.send({ type: 'player.play' });
    actor.send({ type: 'player.close' });
    clock.increment(STEP_MS * 5);
    expect(steps()).toBe(0);
    expect(actor.getSnapshot().value).toBe('live');
  });

  it('a speed of zero or less falls back to 1', () => {
    const { actor } = start();
    actor.send({ type: 'player.speed', speed: 0 });
    expect(actor.getSnapshot().context.speed).toBe(1);
  });
});
