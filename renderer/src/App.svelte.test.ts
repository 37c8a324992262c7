/**
 * Wiring of the whole app against a typed fake host (STYLE.md G10): the
 * page connects through the Electron bridge shape, records the host pushes
 * are stored and shown in the overview, and a command from the domain view
 * reaches the host with the right arguments after its confirmation.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import type { Bridge } from '../../electron/shared/api-client.std.ts';
import { db } from './lib/db/db.ts';
import { FAKE_STATUS, FakeApi } from './lib/testing/fake-api.ts';
import { goldenRecords } from './lib/testing/bundles.ts';
import App from './App.svelte';

let fake: FakeApi;

beforeEach(async () => {
  fake = new FakeApi();
  const api = fake.api as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const bridge = {
    connect: (...a: unknown[]) => api.connect(...a),
    ack: (...a: unknown[]) => api.ack(...a),
    command: (...a: unknown[]) => api.command(...a),
    status: (...a: unknown[]) => api.status(...a),
    view: (...a: unknown[]) => api.view(...a),
    storeStatus: (...a: unknown[]) => api.storeStatus(...a),
    on: (name: never, fn: never) => fake.api.on(name, fn),
  } as unknown as Bridge;
  (globalThis as { xendeck?: Bridge }).xendeck = bridge;
  await db.open();
});
afterEach(async () => {
  cleanup();
  delete (globalThis as { xendeck?: Bridge }).xendeck;
  db.close();
  await db.delete();
});

describe('App against a fake host', () => {
  it('connects, stores what the host pushes, and shows the domains live', async () => {
    render(App);
    await waitFor(() => expect(fake.callsOf('connect')).toHaveLength(1));
    expect(screen.getByTestId('link-state').textContent).toContain('Live');
    fake.push('records', { records: goldenRecords('soft-reset') });
    const open = await screen.findByRole('button', { name: 'Open kx' }, { timeout: 5000 });
    const row = open.closest('tr')!;
    expect(row.getAttribute('data-state')).toBe('running');
    expect(row.textContent).toContain('soft-reset ×1');
    await waitFor(() => expect(fake.callsOf('ack').at(-1)).toEqual([{ seq: 74 }]));
  });

  it('storage full: the store pauses with a visible reason and tells the host; Try again resumes and the banner goes', async () => {
    let full = false;
    const refuse = () => {
      if (full) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    db.events.hook('creating', refuse);
    try {
      const recs = goldenRecords('soft-reset');
      const connect = fake.api.connect;
      // The host re-sends everything after the store's tail on connect (its outbox keeps unacked records).
      fake.api.connect = async (a) => {
        if (a.tail.seq > 0) fake.push('records', { records: recs.slice(a.tail.seq) });
        return connect(a);
      };
      render(App);
      await waitFor(() => expect(fake.callsOf('connect')).toHaveLength(1));
      fake.push('records', { records: recs.slice(0, 40) });
      await waitFor(() => expect(fake.callsOf('ack').at(-1)).toEqual([{ seq: 40 }]));
      full = true;
      fake.push('records', { records: recs.slice(40) });
      const alert = await screen.findByTestId('recording-store', {}, { timeout: 5000 });
      expect(alert.textContent).toContain("Recording paused: storage is full — the browser's storage quota for Xendeck is used up");
      expect(screen.getByTestId('recording-state').textContent).toBe('Recording paused: storage full');
      await waitFor(() => expect(fake.callsOf('storeStatus')).toHaveLength(1));
      expect(await db.events.count()).toBe(40);
      full = false;
      await fireEvent.click(screen.getByRole('button', { name: 'Try again now' }));
      await waitFor(() => expect(screen.queryByTestId('recording-store')).toBeNull());
      await waitFor(() => expect(fake.callsOf('ack').at(-1)).toEqual([{ seq: recs.length }]));
      expect(screen.queryByTestId('recording-state')).toBeNull();
      await waitFor(() => expect(fake.callsOf('storeStatus').map((c) => (c[0] as { state: string }).state)).toEqual(['full', 'ok']));
      expect(await db.events.count()).toBe(recs.length);
    } finally {
      db.events.hook('creating').unsubscribe(refuse);
    }
  });

  it('a host under pressure shows it in the header and as a banner', async () => {
    render(App);
    await waitFor(() => expect(fake.callsOf('connect')).toHaveLength(1));
    fake.push('status', { ...FAKE_STATUS, recordingState: 'shedding', recordingReason: 'outbox-high', pending: 9000, capRecords: 10_000 });
    expect((await screen.findByTestId('recording-state')).textContent).toBe('Recording under pressure');
    expect(screen.getByTestId('recording-host').textContent).toContain('guest data is being summarised (9,000 pending of 10,000)');
    fake.push('status', { ...FAKE_STATUS, recordingState: 'paused', recordingReason: 'outbox-full', pending: 10_000, capRecords: 10_000 });
    await waitFor(() => expect(screen.getByTestId('recording-state').textContent).toBe('Recording paused: outbox full'));
    expect(screen.getByRole('alert').textContent).toContain('Recording paused: the store is not keeping up');
    fake.push('status', { ...FAKE_STATUS, recordingState: 'normal' });
    await waitFor(() => expect(screen.queryByTestId('recording-state')).toBeNull());
  });

  it('a destructive action asks first, then sends the command and shows its result', async () => {
    fake.commandHandler = () => ({ cmd: 'c9', ok: false, error: 'xl: domain is busy' });
    render(App);
    await waitFor(() => expect(fake.callsOf('connect')).toHaveLength(1));
    fake.push('records', { records: goldenRecords('soft-reset') });
    await fireEvent.click(await screen.findByRole('button', { name: 'Open kx' }, { timeout: 5000 }));
    await fireEvent.click(await screen.findByRole('button', { name: 'Destroy' }));
    expect(fake.callsOf('command')).toEqual([]);
    const confirm = screen.getAllByRole('button', { name: 'Destroy', hidden: true }).find((b) => b.closest('dialog'))!;
    expect(confirm.closest('dialog')!.textContent).toContain('kills the domain at once');
    await fireEvent.click(confirm);
    await waitFor(() => expect(fake.callsOf('command')).toEqual([[{ op: 'destroy', domain: 'kx' }]]));
    expect((await screen.findByText(/failed: xl: domain is busy/)).textContent).toContain('failed');
  });
});
