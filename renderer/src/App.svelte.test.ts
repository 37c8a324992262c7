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
import { FakeApi } from './lib/testing/fake-api.ts';
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
