/**
 * The simulated QMP endpoint's socket file, with each listener (the python
 * fd bridge when python3 is there, Node's own otherwise): a client that
 * connects and leaves at once (a liveness probe, as the helper's dm.poll
 * does) disturbs nothing; QEMU's exit (`stop({ leaveSocket: true })`) leaves
 * the file behind refusing connections, as a killed QEMU's does; a plain
 * stop removes it; a device model started again on the path keeps its own.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DeviceModel } from './dm.ts';
import { nodeListener, QmpEndpoint, type QmpListener } from './qmp-server.ts';
import { fdBridgeListener, findPython } from './fd-bridge.ts';
import { connectResult } from './test-support.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qmp-server-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const bridge = fdBridgeListener(findPython());
const listeners: [string, QmpListener][] = [['node', nodeListener], ...(bridge ? [['fd bridge', bridge] as [string, QmpListener]] : [])];

const endpoint = (sock: string, listener: QmpListener) =>
  new QmpEndpoint(sock, new DeviceModel({ version: { major: 7, minor: 2, micro: 22 }, pkg: 'sim', drives: [{ id: 'ide-5632', cdrom: true }] }), { now: () => Date.now(), listener });


/** A whole session: greeting, capabilities, query-status; the lines QEMU sent. */
const session = (p: string) =>
  new Promise<string[]>((resolve, reject) => {
    const c = net.connect(p);
    let buf = '';
    const lines: string[] = [];
    c.setEncoding('utf8');
    c.on('error', reject);
    c.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, i).trim());
        buf = buf.slice(i + 1);
        if (lines.length === 1) c.write('{"execute":"qmp_capabilities"}\n');
        if (lines.length === 2) c.write('{"execute":"query-status"}\n');
        if (lines.length === 3) {
          c.destroy();
          resolve(lines);
        }
      }
    });
  });

/** A session, connecting again while the listen backlog is full (EAGAIN), for at most 10 s. */
async function sessionWhenRoom(p: string): Promise<string[]> {
  const end = Date.now() + 10_000;
  for (;;) {
    try {
      return await session(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe.each(listeners)('QMP endpoint socket file (%s listener)', (name, listener) => {
  const sock = path.join(dir, `qmp-libxl-${name === 'node' ? 1 : 2}`);

  it('clients that connect and leave at once disturb nothing: a session afterwards is served', async () => {
    const ep = endpoint(sock, listener);
    await ep.start();
    try {
      // Accepted, or the listen backlog full (EAGAIN): alive either way, never refused.
      for (let round = 0; round < 5; round++) {
        const probes = await Promise.all(Array.from({ length: 10 }, () => connectResult(sock)));
        expect(probes.filter((r) => r !== 'connected' && r !== 'EAGAIN')).toEqual([]);
      }
      // The probes may still fill the listen backlog for a moment (a loaded machine): like a client, try again on EAGAIN.
      const lines = await sessionWhenRoom(sock);
      expect(JSON.parse(lines[0])).toHaveProperty('QMP');
      expect(JSON.parse(lines[2])).toMatchObject({ return: { status: 'running' } });
    } finally {
      await ep.stop();
    }
    expect(fs.existsSync(sock)).toBe(false);
  });

  it("QEMU's exit leaves the socket file, refusing connections; no other file is left", async () => {
    const ep = endpoint(sock, listener);
    await ep.start();
    await ep.stop({ leaveSocket: true });
    expect(fs.lstatSync(sock).isSocket()).toBe(true);
    expect(await connectResult(sock)).toBe('ECONNREFUSED');
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    fs.rmSync(sock);
  });

  it('a device model started again on the same path keeps its socket', async () => {
    const old = endpoint(sock, listener);
    await old.start();
    const stopping = old.stop({ leaveSocket: true });
    const again = endpoint(sock, listener);
    await again.start();
    await stopping;
    try {
      expect(JSON.parse((await session(sock))[0])).toHaveProperty('QMP');
    } finally {
      await again.stop();
    }
  });
});
