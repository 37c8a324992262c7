/**
 * The helper client against the real xendeck-helper, pointed at the simulated
 * host: replies parsed by the protocol schemas, events from a scan and a live
 * watch, the helper's own errors as HelperRequestError, xl through the
 * simulator's xl, and every pending request rejected when the helper is killed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator, type Simulator } from '../../electron/sim/sim.ts';
import { HelperClient, HelperRequestError, spawnHelper } from '../../electron/host/helper-client.ts';
import type { HelperEvent } from '../../electron/shared/helper-protocol.std.ts';
import { until } from '../../electron/host/test-support.ts';
import { ensureHelper } from './support.ts';

let dir: string;
let sim: Simulator;
let helper: string;
beforeAll(async () => {
  helper = ensureHelper();
  dir = mkdtempSync(join(tmpdir(), 'xendeck-client-'));
  sim = await startSimulator({ dir: join(dir, 'sim') });
});
afterAll(async () => {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

function start(): HelperClient {
  const proc = spawnHelper({ helperPath: helper, elevate: false, overrides: { xenstoreSocket: sim.xenstoreSocket, qmpDir: sim.qmpDir, xlPath: sim.xlPath, logDir: sim.logDir, lockDir: sim.lockDir } });
  return new HelperClient(proc, { timeoutMs: 10_000 });
}

describe('helper client, real helper', () => {
  it('speaks the protocol: hello, reads, errors, a scan and a live watch, xl', async () => {
    const c = start();
    const events: HelperEvent[] = [];
    c.onEvent((e) => events.push(e));
    const hello = await c.request('hello', { version: 1 });
    expect(hello).toMatchObject({ version: 1, elevated: false });
    expect(hello.ops).toContain('xs.watch');
    expect(await c.request('xs.read', { path: '/local/domain/0/name' })).toEqual({ value: 'Domain-0' });
    const e = await c.request('xs.read', { path: '/local/domain/0/nope' }).catch((x) => x);
    expect(e).toBeInstanceOf(HelperRequestError);
    expect(e.code).toBe('ENOENT');
    await c.request('xs.watch', { path: '/local/domain/0', token: 'd0', scan: true });
    await until(() => events.some((x) => x.event === 'xs.scan'), 'the end of the scan');
    expect(events.filter((x) => x.event === 'xs.watch' && x.data.scan).map((x) => (x.data as { path: string }).path)).toContain('/local/domain/0/name');
    sim.store.as(0).write('/local/domain/0/data/probe', 'x');
    await until(() => events.some((x) => x.event === 'xs.watch' && x.data.path === '/local/domain/0/data/probe' && x.data.value === 'x'), 'the live watch event');
    const xl = await c.request('xl', { argv: ['list'] });
    expect(xl.status).toBe(0);
    expect(xl.stdout).toContain('Domain-0');
    expect(c.malformedCount).toBe(0);
    await c.close();
  });

  it('rejects what is pending at once when the helper is killed', async () => {
    const c = start();
    await c.request('hello', { version: 1 });
    // xl runs the simulator's xl (a Node process), which takes a moment: kill the helper meanwhile.
    const pending = c.request('xl', { argv: ['list', '-l'] }).catch((x) => x);
    c.proc.kill('SIGKILL');
    const e = await pending;
    expect(e).toBeInstanceOf(HelperRequestError);
    expect(e.code).toBe('EHELPERDIED');
    expect(e.message).toContain('SIGKILL');
    expect(c.alive).toBe(false);
  });
});
