import { describe, expect, it } from 'vitest';
import { createActor, type SnapshotFrom } from 'xstate';
import { createTestModel, getShortestPaths } from 'xstate/graph';
import { cdromMachine } from './cdrom.machine.ts';
import type { CdromEvent } from './cdrom.types.ts';
import { UUID } from './cdrom.test-support.ts';

const ISO = '/isos/tools.iso';
const LOCKED = "Device 'ide-5632' is locked and force was not specified, wait for tray to open and try again";
const input = { uuid: UUID, domid: 5, devid: 5632, vdev: 'hdc' };

/** A fixed alphabet: requests at 1000 (40 s timeout at 41000), retries due at 1100. */
const EVENTS: CdromEvent[] = [
  { type: 'cd.request', ts: 1000, seq: 1, cmd: 'c1', user: 'u', op: 'cd-insert', vdev: 'hdc', path: ISO, stubdom: false },
  { type: 'cd.request', ts: 1000, seq: 1, cmd: 'c2', user: 'u', op: 'cd-force-eject', vdev: 'hdc', stubdom: false },
  { type: 'cd.qmp', ts: 1000, seq: 2, command: 'eject', ok: true },
  { type: 'cd.qmp', ts: 1000, seq: 2, command: 'eject', ok: false, error: { class: 'GenericError', desc: LOCKED } },
  { type: 'cd.qmp', ts: 1000, seq: 2, command: 'query-version', ok: false, error: { class: 'CommandNotFound', desc: 'x' } },
  { type: 'cd.params', ts: 1000, seq: 3, fromStubdom: false, where: 'backend', value: '' },
  { type: 'cd.qmp', ts: 1000, seq: 4, command: 'blockdev-change-medium', ok: true },
  { type: 'cd.qmp', ts: 1000, seq: 4, command: 'blockdev-change-medium', ok: false, error: { class: 'GenericError', desc: 'no fd' } },
  { type: 'clock.tick', ts: 1100, seq: 5 },
  { type: 'clock.tick', ts: 41_000, seq: 6 },
  { type: 'cd.tray', ts: 1000, seq: 7, open: true },
  { type: 'cd.device', ts: 1000, seq: 8, domid: 9, fromStubdom: false, stubdom: false, vdev: 'hdc', params: `aio:${ISO}` },
  { type: 'cd.step', ts: 1000, seq: 9, step: 'done', rc: -3, line: 'libxl: debug: libxl_disk.c:1476:cdrom_insert_done: Domain 5:rc=-3' },
];

/** The traversal also offers bare `{type}` events for types outside the alphabet; records always carry ts and seq. */
const filterEvents = (_s: unknown, e: { type: string }) => 'ts' in e;

type Snap = SnapshotFrom<typeof cdromMachine>;
/** Abstract state: the value and the few context fields that change what can happen next. */
const serializeState = (s: Snap) =>
  JSON.stringify([s.value, s.context.attempts, s.context.mediaPath ?? null, s.context.op?.path ?? null, s.context.forceEjectOffered]);

const STATES = ['empty', 'inserted', 'ejecting', 'inserting', 'locked', 'retrying', 'failed'] as const;

describe('cdrom model: every state is reachable', () => {
  const paths = getShortestPaths(cdromMachine, { events: EVENTS, input, serializeState, filterEvents });
  const reached = new Set(paths.map((p) => String(p.state.value)));

  it.each(STATES)('reaches %s', (state) => {
    expect(reached.has(state)).toBe(true);
  });

  it('never rests in the transient resync state', () => {
    expect(reached.has('resync')).toBe(false);
  });
});

describe('cdrom model: paths replayed on a live actor, with per-state assertions', () => {
  const model = createTestModel(cdromMachine, { events: EVENTS, input, serializeState, filterEvents });
  const paths = model.getShortestPaths();

  it('has paths to test', () => {
    expect(paths.length).toBeGreaterThan(STATES.length);
  });

  it.each(paths.map((p, i) => [i, String(p.state.value), p.steps.length, p] as const))(
    'path %i to %s (%i steps) holds on a live actor',
    async (_i, _to, _n, path) => {
      const actor = createActor(cdromMachine, { input });
      actor.start();
      const ctx = () => actor.getSnapshot().context;
      await path.test({
        events: Object.fromEntries(
          [...new Set(EVENTS.map((e) => e.type))].map((t) => [t, ({ event }: { event: CdromEvent }) => actor.send(event)]),
        ),
        states: {
          empty: (s) => {
            expect(actor.getSnapshot().value).toBe(s.value);
            expect(ctx().mediaPath).toBeUndefined();
            expect(ctx().deadline).toBeUndefined();
          },
          inserted: (s) => {
            expect(actor.getSnapshot().value).toBe(s.value);
            expect(ctx().mediaPath ?? ctx().op?.path).toBeDefined();
            expect(ctx().deadline).toBeUndefined();
          },
          ejecting: (s) => {
            expect(actor.getSnapshot().value).toBe(s.value);
            expect(ctx().deadline).toBe(ctx().op?.opDeadline);
          },
          inserting: (s) => {
            expect(actor.getSnapshot().value).toBe(s.value);
            expect(ctx().op?.retryAt).toBeUndefined();
            expect(ctx().deadline).toBe(ctx().op?.opDeadline);
          },
          retrying: (s) => {
            expect(actor.getSnapshot().value).toBe(s.value);
            expect(ctx().attempts).toBeGreaterThan(0);
            expect(ctx().attempts).toBeLessThanOrEqual(10);
            expect(ctx().deadline).toBe(Math.min(ctx().op!.opDeadline, ctx().op!.retryAt!));
          },
          locked: (s) => {
            expect(actor.getSnapshot().value).toBe(s.value);
            expect(ctx().forceEjectOffered).toBe(true);
            expect(ctx().deadline).toBeUndefined();
          },
          failed: (s) => {
            expect(actor.getSnapshot().value).toBe(s.value);
            expect(ctx().lastError).toBeTruthy();
            expect(ctx().deadline).toBeUndefined();
          },
        },
      });
    },
  );
});
