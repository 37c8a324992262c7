/**
 * The simulated QMP endpoint against real QEMU 7.2 (shared/fixtures/real-qemu):
 * the same command sequence, fd passing included, must give the same lines,
 * ignoring timestamps, the package string and the guest's own SeaBIOS resets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeviceModel } from './dm.ts';
import { QmpEndpoint } from './qmp-server.ts';
import { fdBridgeListener, findPython } from './fd-bridge.ts';

const pexec = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = fileURLToPath(new URL('../../../../shared/fixtures/real-qemu/run.sh', import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qmp-cmp-'));
const realSock = path.join(dir, 'real.sock');
const simSock = path.join(dir, 'sim.sock');
const iso = path.join(dir, 'cd.iso');
const python = findPython();
let endpoint: QmpEndpoint | undefined;

const q = (o: unknown) => JSON.stringify(o);
const SCRIPT = [
  { send: q({ execute: 'query-status' }) },
  { send: q({ execute: 'qmp_capabilities' }) },
  { send: q({ execute: 'qmp_capabilities', id: 1 }) },
  { send: q({ execute: 'query-version', id: 'v' }) },
  { send: q({ execute: 'query-status' }) },
  { send: q({ execute: 'query-block' }) },
  { send: q({ execute: 'eject', arguments: { id: 'ide-5632' } }) },
  { send: q({ execute: 'eject', arguments: { id: 'ide-5632' } }) },
  { send: q({ execute: 'eject', arguments: { id: 'ide-9999' } }) },
  { send: q({ execute: 'eject', arguments: { device: 'ide-9999' } }) },
  { send: q({ execute: 'eject', arguments: { id: 'ide-5632', device: 'ide-5632' } }) },
  { send: q({ execute: 'eject', arguments: { id: 'ide-5632', bogus: 1 } }) },
  { send: q({ execute: 'add-fd', arguments: { 'fdset-id': 8002, opaque: 'hdc:cd.iso' } }), fd: iso, flags: 'r' },
  { send: q({ execute: 'add-fd', arguments: { 'fdset-id': 8002 } }) },
  { send: q({ execute: 'query-fdsets' }) },
  { send: q({ execute: 'blockdev-change-medium', arguments: { id: 'ide-5632', filename: '/dev/fdset/9999', format: 'raw' } }) },
  { send: q({ execute: 'blockdev-change-medium', arguments: { id: 'ide-5632', filename: '/dev/fdset/8002', format: 'raw' } }) },
  { send: q({ execute: 'query-block' }) },
  { send: q({ execute: 'remove-fd', arguments: { 'fdset-id': 8002 } }) },
  { send: q({ execute: 'query-fdsets' }) },
  { send: q({ execute: 'eject', arguments: { id: 'ide-5632' } }) },
  { send: q({ execute: 'query-fdsets' }) },
  { send: q({ execute: 'remove-fd', arguments: { 'fdset-id': 8002 } }) },
  { send: q({ execute: 'add-fd', arguments: { 'fdset-id': 8003 } }), fd: iso, flags: 'rw' },
  { send: q({ execute: 'blockdev-change-medium', arguments: { id: 'ide-5632', filename: '/dev/fdset/8003', format: 'raw' } }) },
  { send: q({ execute: 'remove-fd', arguments: { 'fdset-id': 8003 } }) },
  { send: q({ execute: 'add-fd', arguments: { opaque: 'auto' } }), fd: iso, flags: 'r' },
  { send: q({ execute: 'remove-fd', arguments: { 'fdset-id': 0 } }) },
  { send: '[1]' },
  { send: q({ arguments: {}, id: 5 }) },
  { send: q({ execute: 'no-such-command', id: 6 }) },
  { send: q({ execute: 'stop', id: 7 }) },
  { send: q({ execute: 'stop' }) },
  { send: q({ execute: 'query-status' }) },
  { send: q({ execute: 'cont', id: 'abc' }) },
  { send: q({ execute: 'system_reset' }) },
  { send: q({ execute: 'system_powerdown' }) },
  { send: q({ execute: 'quit' }), wait: 600 },
];

function normalise(out: string): string[] {
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/"timestamp": \{"seconds": \d+, "microseconds": \d+\}/, '"timestamp": T'))
    .map((l) => l.replace(/"package": "[^"]*"/, '"package": P'))
    .map((l) => l.replace(/"fd": \d+/g, '"fd": F'))
    .map((l) => l.replace(/"node-name": "#block\d+"/, '"node-name": N').replace(/"(virtual-size|actual-size)": \d+/g, '"$1": S'))
    .filter((l) => !/"event": "RESET", "data": \{"guest": true/.test(l));
}

async function transcript(sock: string): Promise<string[]> {
  const scriptFile = path.join(dir, 'script.json');
  fs.writeFileSync(scriptFile, JSON.stringify(SCRIPT));
  const r = await pexec(python!, [path.join(here, 'qmp-client.py'), sock, scriptFile], { encoding: 'utf8' });
  return normalise(r.stdout);
}

/** Starts the real-QEMU fixture; a loaded machine can miss its 10 s start window, so try three times. */
function startRealQemu(): void {
  let last: unknown;
  for (let i = 0; i < 3; i++) {
    try {
      execFileSync(FIXTURE, ['start', realSock], { stdio: ['ignore', 'ignore', 'pipe'] });
      return;
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

beforeAll(async () => {
  fs.writeFileSync(iso, Buffer.alloc(358400));
  startRealQemu();
  const dm = new DeviceModel({ version: { major: 7, minor: 2, micro: 22 }, pkg: 'sim', drives: [{ id: 'ide-5632', cdrom: true }] });
  endpoint = new QmpEndpoint(simSock, dm, { now: () => Date.now(), listener: fdBridgeListener(python) });
  await endpoint.start();
}, 60_000);

afterAll(async () => {
  await endpoint?.stop();
  execFileSync(FIXTURE, ['stop', realSock], { stdio: 'ignore' });
});

describe('QMP endpoint compared with real QEMU 7.2', () => {
  it('has python3 with socket.recv_fds for SCM_RIGHTS', () => {
    expect(python).toBeDefined();
  });

  it('answers the same command sequence, fd passing included, with the same lines and events', async () => {
    const real = await transcript(realSock);
    const sim = await transcript(simSock);
    expect(real.length).toBeGreaterThan(SCRIPT.length);
    expect(sim).toEqual(real);
  }, 60_000);

  it('serves one client at a time: a second client hears nothing until the first leaves, on both', async () => {
    startRealQemu();
    const sim2 = path.join(dir, 'sim2.sock');
    const second = new QmpEndpoint(sim2, new DeviceModel({ version: { major: 7, minor: 2, micro: 22 }, pkg: 'sim' }), { now: () => Date.now() });
    await second.start();
    for (const sock of [realSock, sim2]) {
      const a = net.connect(sock);
      const greetA = await new Promise<string>((resolve) => a.once('data', (d) => resolve(String(d))));
      expect(greetA).toContain('"QMP"');
      const b = net.connect(sock);
      let gotB = '';
      b.on('data', (d) => (gotB += String(d)));
      await new Promise((r) => setTimeout(r, 300));
      expect(gotB).toBe('');
      a.end();
      await new Promise((r) => setTimeout(r, 300));
      expect(gotB).toContain('"QMP"');
      b.end();
    }
    await second.stop();
  }, 30_000);
});
