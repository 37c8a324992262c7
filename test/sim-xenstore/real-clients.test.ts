/**
 * Real Xen clients cannot tell the simulated xenstore from xenstored 4.17:
 * Debian's xenstore-utils and python3-pyxs run the same commands against the
 * simulator and against the real daemon (../shared/fixtures/real-xenstored),
 * and every reply, error text and exit status must be the same.
 */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { XenstoreServer } from '../../electron/sim/xenstore/server.ts';
import { DEBIAN_PYTHON, type RealXenstored, type ToolResult, startReal, startSim, tmpSocketDir, xsTool } from './helpers.ts';

let real: RealXenstored;
let sim: XenstoreServer;
let dir: string;

beforeAll(async () => {
  dir = tmpSocketDir('xs-clients-');
  real = startReal(`${dir}/real.sock`);
  sim = await startSim(`${dir}/sim.sock`);
});

afterAll(async () => {
  real?.stop();
  await sim?.close();
});

/** Runs one tool against both servers; returns both results. */
async function both(tool: string, ...args: string[]): Promise<[ToolResult, ToolResult]> {
  return [await xsTool(real.socket, tool, args), await xsTool(sim.socketPath, tool, args)];
}

/** xenstore-watch -n N PATH while `act` runs; its output once it exits. */
function watchWhile(socket: string, n: number, path: string, act: () => Promise<unknown>): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/xenstore-watch', ['-n', String(n), path], { env: { ...process.env, XENSTORED_PATH: socket } });
    let out = '';
    let started = false;
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!started) {
        started = true;
        act().catch(reject);
      }
    });
    const t = setTimeout(() => p.kill(), 8000);
    p.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
  });
}

describe('xenstore-utils against the simulator and the real xenstored', () => {
  it('write, read (several keys), list, ls and ls -p give the same output', async () => {
    const [rw, sw] = await both('write', '/vu/a', 'hello', '/vu/b', 'two words');
    expect(sw).toEqual(rw);
    for (const [tool, ...args] of [
      ['read', '/vu/a', '/vu/b'],
      ['list', '/vu'],
      ['ls', '/vu'],
      ['ls', '-p', '/vu'],
      ['ls', '/local'],
    ]) {
      const [r, s] = await both(tool, ...args);
      expect(s, `${tool} ${args.join(' ')}`).toEqual(r);
    }
    const [r] = await both('read', '/vu/a', '/vu/b');
    expect(r.stdout).toBe('hello\ntwo words\n');
  });

  it('errors: reading a missing path, chmod to a domain that does not exist', async () => {
    const [r1, s1] = await both('read', '/vu/nope');
    expect(r1.stderr).toContain("couldn't read path /vu/nope");
    expect(s1).toEqual(r1);
    const [r2, s2] = await both('chmod', '/vu/a', 'n42');
    expect(r2.stderr).toContain('No such file or directory');
    expect(s2).toEqual(r2);
    const [r3, s3] = await both('rm', '/vu/x/y');
    expect(s3).toEqual(r3);
  });

  it('chmod then ls -p shows the same permissions; exists and rm agree', async () => {
    for (const [tool, ...args] of [
      ['chmod', '/vu/a', 'n0', 'r1'],
      ['ls', '-p', '/vu'],
      ['exists', '/vu/a'],
      ['exists', '/vu/nope'],
      ['rm', '/vu/b'],
      ['list', '/vu'],
      ['rm', '/vu/missing'],
    ]) {
      const [r, s] = await both(tool, ...args);
      expect(s, `${tool} ${args.join(' ')}`).toEqual(r);
    }
    const [ex] = await both('exists', '/vu/nope');
    expect(ex.code).toBe(1);
  });

  it('a directory too big for one reply is listed through DIRECTORY_PART by libxenstore', async () => {
    const args = Array.from({ length: 300 }, (_, i) => [`/vbig/child-with-a-long-name-${String(i).padStart(3, '0')}`, 'v']).flat();
    const [rw, sw] = await both('write', ...args);
    expect(sw).toEqual(rw);
    const [r, s] = await both('list', '/vbig');
    expect(r.stdout.split('\n')).toHaveLength(301);
    expect(s).toEqual(r);
    const [rl, sl] = await both('ls', '/vbig');
    expect(sl).toEqual(rl);
  });

  it('xenstore-watch sees the initial event, then one per change', async () => {
    const outs: string[] = [];
    for (const sock of [real.socket, sim.socketPath]) {
      outs.push(
        await watchWhile(sock, 3, '/vu/w', async () => {
          await xsTool(sock, 'write', ['/vu/w/x', '1']);
          await xsTool(sock, 'rm', ['/vu/w/x']);
        }),
      );
    }
    expect(outs[0]).toBe('/vu/w\n/vu/w/x\n/vu/w/x\n');
    expect(outs[1]).toBe(outs[0]);
  });

  it('xenstore-control (xen-utils 4.17, XS_CONTROL) prints the same quota settings and help', async () => {
    const control = (socket: string, args: string[]): Promise<ToolResult> =>
      new Promise((resolve) => {
        const env = { ...process.env, XENSTORED_PATH: socket, LD_LIBRARY_PATH: real.ldLibraryPath };
        execFile(`${real.xenLibexec}/xenstore-control`, args, { env, timeout: 10_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
        );
      });
    const r = await control(real.socket, ['quota']);
    const s = await control(sim.socketPath, ['quota']);
    expect(r.stdout).toContain('Quota settings:');
    expect(s).toEqual(r);
    expect(await control(sim.socketPath, ['help'])).toEqual(await control(real.socket, ['help']));
  });
});

describe('python3-pyxs against the simulator and the real xenstored', () => {
  const script = fileURLToPath(new URL('./pyxs_session.py', import.meta.url));
  const runSession = (socket: string): Promise<string[]> =>
    new Promise((resolve, reject) => {
      execFile(DEBIAN_PYTHON, [script], { env: { ...process.env, XENSTORED_PATH: socket }, timeout: 30_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`pyxs session failed: ${stderr}`));
        else resolve(stdout.trim().split('\n'));
      });
    });

  it('reads, writes, watches, a transaction conflict, permissions, introduce/release: same results', async () => {
    const r = await runSession(real.socket);
    const s = await runSession(sim.socketPath);
    const steps = (lines: string[]) => Object.fromEntries(lines.map((l) => JSON.parse(l) as { step: string; result: unknown }).map((o) => [o.step, o.result]));
    const rs = steps(r);
    // The session exercised what it should on the real daemon.
    expect(rs['conflicting commit']).toBe(false);
    expect(rs['value after conflict']).toBe('other');
    expect(rs['@introduceDomain']).toEqual(['@introduceDomain', 'in']);
    expect(rs['node owned by 5 gone']).toBe(false);
    expect(rs['owner missing']).toEqual({ error: 'ENOENT' });
    expect(steps(s)).toEqual(rs);
    expect(s).toEqual(r);
  });
});
