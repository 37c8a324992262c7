import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createActor } from 'xstate';
import { domainMachine } from './domain.machine.ts';
import type { DomainEvent } from './domain.types.ts';
import { parseXlLogLine, type XlDecision } from './xl-log.ts';
import type { ShutdownReason } from '../events/record.ts';

const UUID = '6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f';
const REASONS: ShutdownReason[] = ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'];
const XL_LINES = [
  'Action for shutdown reason code 1 is restart',
  'Action for shutdown reason code 3 is coredump-restart',
  'Action for shutdown reason code 5 is soft-reset',
  'Domain 5 has shut down, reason code 3 0x3',
  'Domain 6 has been destroyed.',
  'Done. Rebooting now',
  'Domain has suspended.',
];
const DECISIONS = XL_LINES.map((l) => parseXlLogLine(l)).filter((d): d is XlDecision => d !== null);

const domid = fc.constantFrom(5, 6, 7);
type Bare = Record<string, unknown> & { type: string };

/** Any event the router can deliver, about a few domids (old, current, new). */
const bareEvent: fc.Arbitrary<Bare> = fc.oneof(
  domid.map((d) => ({ type: 'domain.introduce', domid: d })),
  domid.map((d) => ({ type: 'domain.vm', domid: d })),
  fc.record({ type: fc.constant('domain.name' as const), domid, name: fc.constantFrom('web', 'db') }),
  fc.record({ type: fc.constant('domain.type' as const), domid, domainType: fc.constantFrom('pv', 'pvh', 'hvm') }),
  fc.record({ type: fc.constant('domain.stubdom' as const), domid, stubdomId: fc.constantFrom(8, 9) }),
  fc.record({ type: fc.constant('domain.shutdown.request' as const), domid, request: fc.constantFrom('poweroff', 'reboot', 'suspend', 'halt') }),
  domid.map((d) => ({ type: 'domain.shutdown.ack', domid: d })),
  fc.record({
    type: fc.constant('domain.info' as const),
    domid,
    running: fc.boolean(),
    blocked: fc.boolean(),
    paused: fc.boolean(),
    shutdown: fc.boolean(),
    dying: fc.boolean(),
    reason: fc.constantFrom(...REASONS),
  }),
  domid.map((d) => ({ type: 'domain.release', domid: d })),
  domid.map((d) => ({ type: 'domain.removed', domid: d })),
  fc.constantFrom(...DECISIONS).map((decision) => ({ type: 'domain.xl', decision })),
  fc.constant({ type: 'clock.tick' }),
);

function stamp(events: Bare[]): DomainEvent[] {
  return events.map((e, i) => ({ ...e, ts: 1_000 + i * 10, seq: i + 1 }) as DomainEvent);
}

function replay(events: DomainEvent[]) {
  const actor = createActor(domainMachine, { input: { uuid: UUID, domid: 5 } });
  actor.start();
  for (const e of events) actor.send(e);
  const out = { persisted: actor.getPersistedSnapshot(), status: actor.getSnapshot().status };
  actor.stop();
  return out;
}

describe('domain replay is deterministic', () => {
  it('replaying any prefix of a random event sequence twice from scratch gives identical snapshots', () => {
    fc.assert(
      fc.property(fc.array(bareEvent, { maxLength: 40 }), fc.nat(), (bare, cut) => {
        const events = stamp(bare);
        const prefix = events.slice(0, bare.length === 0 ? 0 : cut % (bare.length + 1));
        const a = replay(prefix);
        const b = replay(prefix);
        expect(a.status).toBe('active');
        expect(b.persisted).toEqual(a.persisted);
      }),
      { numRuns: 200 },
    );
  });

  it('a persisted snapshot restored mid-way continues exactly as an uninterrupted replay', () => {
    fc.assert(
      fc.property(fc.array(bareEvent, { maxLength: 30 }), fc.nat(), (bare, cut) => {
        const events = stamp(bare);
        const k = bare.length === 0 ? 0 : cut % (bare.length + 1);
        const first = createActor(domainMachine, { input: { uuid: UUID, domid: 5 } });
        first.start();
        for (const e of events.slice(0, k)) first.send(e);
        const saved = JSON.parse(JSON.stringify(first.getPersistedSnapshot()));
        const resumed = createActor(domainMachine, { snapshot: saved, input: { uuid: UUID, domid: 5 } });
        resumed.start();
        for (const e of events.slice(k)) resumed.send(e);
        expect(resumed.getPersistedSnapshot()).toEqual(replay(events).persisted);
      }),
      { numRuns: 200 },
    );
  });
});
