import { describe, expect, it } from 'vitest';
import { createTestModel, getShortestPaths } from 'xstate/graph';
import { createActor, type SnapshotFrom } from 'xstate';
import { domainMachine } from './domain.machine.ts';
import type { DomainEvent } from './domain.types.ts';
import { stateString } from '../host/binding.ts';
import { parseXlLogLine } from './xl-log.ts';

const UUID = '6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f';
const input = { uuid: UUID, domid: 5, name: 'web' };
const T = { ts: 1, seq: 1 };

const info = (domid: number, f: Partial<Record<'running' | 'blocked' | 'paused' | 'shutdown' | 'dying', boolean>>, reason?: DomainEvent & { type: 'domain.info' } extends infer I ? (I extends { reason?: infer R } ? R : never) : never): DomainEvent => ({
  type: 'domain.info',
  domid,
  running: false,
  blocked: false,
  paused: false,
  shutdown: false,
  dying: false,
  ...f,
  ...(reason ? { reason } : {}),
  ...T,
});

const destroyed = parseXlLogLine('Domain 5 has been destroyed.');
if (!destroyed) throw new Error('xl line shape changed');

/** A small alphabet that reaches every state (pv type lets the refused soft reset be reached). */
const EVENTS: DomainEvent[] = [
  { type: 'domain.introduce', domid: 5, ...T },
  { type: 'domain.introduce', domid: 6, ...T },
  { type: 'domain.vm', domid: 5, ...T },
  info(5, { blocked: true }),
  info(5, { paused: true }),
  info(5, { dying: true }),
  ...(['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'] as const).map((r) => info(5, { shutdown: true }, r)),
  { type: 'domain.shutdown.request', domid: 5, request: 'reboot', ...T },
  { type: 'domain.shutdown.ack', domid: 5, ...T },
  { type: 'domain.release', domid: 5, ...T },
  { type: 'domain.removed', domid: 5, ...T },
  { type: 'domain.type', domid: 5, domainType: 'pv', ...T },
  { type: 'domain.xl', decision: destroyed, ...T },
];

const ALL_STATES = [
  'creating',
  'running',
  'paused',
  'shuttingDown',
  'shutdown.poweroff',
  'shutdown.reboot',
  'shutdown.suspend',
  'shutdown.crash',
  'shutdown.watchdog',
  'shutdown.soft_reset',
  'softResetting',
  'dying',
  'gone',
];

const options = {
  events: EVENTS,
  input,
  // The state value alone (and the type, which gates soft reset) identifies a node; counters would make the graph infinite.
  serializeState: (s: SnapshotFrom<typeof domainMachine>) => `${stateString(s.value)}|${s.context.type ?? '-'}|${s.context.domid}`,
};

describe('domain model', () => {
  const paths = getShortestPaths(domainMachine, options);
  const reached = [...new Set(paths.map((p) => stateString(p.state.value)))].sort();

  it('reaches every state of the contract, and no other', () => {
    expect(reached).toEqual([...ALL_STATES].sort());
  });

  it.each(ALL_STATES)('state %s is reachable by replaying its shortest path', (target) => {
    const path = paths.find((p) => stateString(p.state.value) === target);
    expect(path).toBeDefined();
    const actor = createActor(domainMachine, { input });
    actor.start();
    for (const step of path!.steps) actor.send(step.event);
    expect(stateString(actor.getSnapshot().value)).toBe(target);
  });

  const model = createTestModel(domainMachine, options);
  const modelPaths = model.getShortestPaths();

  /** Per-state invariants, checked on every state of every path. */
  const check: Record<string, (s: SnapshotFrom<typeof domainMachine>) => void> = {
    creating: (s) => expect(s.context.uuid).toBe(UUID),
    running: (s) => expect(s.context.restartPending).toBe(false),
    paused: (s) => expect(s.context.domid).toBeDefined(),
    shuttingDown: (s) => expect(s.context.shutdownRequest).toBe('reboot'),
    'shutdown.poweroff': (s) => expect(s.context.lastShutdownReason).toBe('poweroff'),
    'shutdown.reboot': (s) => expect(s.context.lastShutdownReason).toBe('reboot'),
    'shutdown.suspend': (s) => expect(s.context.lastShutdownReason).toBe('suspend'),
    'shutdown.crash': (s) => expect(s.context.lastShutdownReason).toBe('crash'),
    'shutdown.watchdog': (s) => expect(s.context.lastShutdownReason).toBe('watchdog'),
    'shutdown.soft_reset': (s) => expect(s.context).toMatchObject({ lastShutdownReason: 'soft_reset', softResetRefused: true, type: 'pv' }),
    softResetting: (s) => {
      expect(s.context.lastShutdownReason).toBe('soft_reset');
      expect(s.context.type).not.toBe('pv');
    },
    dying: (s) => expect(s.context.domid).toBeDefined(),
    gone: (s) => expect(s.context.uuid).toBe(UUID),
  };

  it.each(modelPaths.map((p) => [p.description, p] as const))('%s', async (_d, path) => {
    const seen: string[] = [];
    await path.test({
      states: Object.fromEntries(
        Object.entries(check).map(([k, fn]) => [
          k,
          (s: SnapshotFrom<typeof domainMachine>) => {
            seen.push(k);
            fn(s);
          },
        ]),
      ),
    });
    expect(seen.length).toBeGreaterThan(0);
  });
});
