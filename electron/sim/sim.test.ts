import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startSimulator, type Simulator } from './sim.ts';
import { parseScenario } from './scenarios/schema.ts';
import { connectResult } from './qmp/test-support.ts';

const pexec = promisify(execFile);
let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});


const xs = (s: Simulator, tool: string, ...args: string[]) => pexec(tool, args, { env: { ...process.env, XENSTORED_PATH: s.xenstoreSocket }, encoding: 'utf8' });

describe('startSimulator', () => {
  it('serves the helper override paths and real xenstore clients see the domains', async () => {
    const scenario = parseScenario({
      format: 'xendeck-scenario',
      version: 1,
      name: 'inline',
      domains: [{ name: 'g', type: 'pv', boot_ms: 50 }],
      steps: [{ at: 400, fault: 'helper-kill' }],
    });
    const kills: unknown[] = [];
    sim = await startSimulator({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'sim-')), scenario, speed: 20 });
    sim.events.on('fault', (f) => kills.push(f));
    for (const p of [sim.xenstoreSocket, sim.xlPath, sim.qmpDir, sim.logDir, sim.lockDir]) expect(fs.existsSync(p), p).toBe(true);
    expect((await xs(sim, 'xenstore-read', '/local/domain/1/name')).stdout).toBe('g\n');
    expect((await xs(sim, 'xenstore-read', '/local/domain/0/name')).stdout).toBe('Domain-0\n');
    await sim.done;
    expect(kills).toEqual([{ at: 400, fault: 'helper-kill' }]);
    expect(fs.readFileSync(path.join(sim.logDir, 'xendeck-sim.log'), 'utf8')).toContain('autostart g: exit 0');
  });

  it('xenstored-restart drops connections and serves the same store again on the same socket', async () => {
    const scenario = parseScenario({
      format: 'xendeck-scenario',
      version: 1,
      name: 'restart',
      domains: [{ name: 'g', type: 'pv', boot_ms: 50 }],
      steps: [{ at: 300, fault: 'xenstored-restart' }],
    });
    sim = await startSimulator({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'sim-')), scenario, speed: 20 });
    await sim.done;
    expect((await xs(sim, 'xenstore-read', '/local/domain/1/name')).stdout).toBe('g\n');
  });

  it('qemu-kill takes QEMU away: its QMP socket file stays and refuses connections, xl cd-insert fails; guest-flood writes at its rate', async () => {
    const scenario = parseScenario({
      format: 'xendeck-scenario',
      version: 1,
      name: 'kill',
      domains: [
        { name: 'h', type: 'hvm', boot_ms: 50, disks: [{ vdev: 'hdc', cdrom: true }] },
        { name: 'p', type: 'pv', boot_ms: 50 },
      ],
      steps: [
        { at: 100, fault: 'guest-flood', domain: 'p', path: 'data/counter', rate: 10, ms: 1000 },
        { at: 200, fault: 'qemu-kill', domain: 'h' },
      ],
      end: 1500,
    });
    sim = await startSimulator({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'sim-')), scenario, speed: 10 });
    const seen: unknown[] = [];
    sim.events.on('observation', (r) => seen.push(r));
    await sim.done;
    // As a killed QEMU's: the socket file is left behind, with nothing listening.
    const sock = path.join(sim.qmpDir, 'qmp-libxl-1');
    expect(fs.lstatSync(sock).isSocket()).toBe(true);
    expect(await connectResult(sock)).toBe('ECONNREFUSED');
    expect(fs.readdirSync(sim.qmpDir).filter((f) => f.includes('dead'))).toEqual([]);
    // QEMU's exit destroys its ioreq server, reported as an ioreq.op observation.
    expect(seen).toContainEqual({ src: 'sim', type: 'ioreq.op', domid: 1, data: { domid: 1, caller: 0, op: 'destroy', id: 0, result: 'ok', xen: '4.17.7' } });
    const r = await sim.xl(['cd-insert', 'h', 'hdc', '/var/lib/isos/tools.iso']);
    expect(r.code).toBe(1);
    // Destroying the domain removes the file, as libxl__qmp_cleanup does.
    expect((await sim.xl(['destroy', 'h'])).code).toBe(0);
    expect(fs.existsSync(sock)).toBe(false);
    const n = Number(sim.store.as(0).read('/local/domain/2/data/counter'));
    expect(n).toBeGreaterThanOrEqual(8);
    expect(n).toBeLessThanOrEqual(11);
  });
});
