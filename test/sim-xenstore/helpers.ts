/**
 * Test helpers shared by the comparisons between the simulated xenstore and
 * the real xenstored 4.17 fixture (../shared/fixtures/real-xenstored): start
 * and stop both, run Debian's xenstore-utils against either socket, and talk
 * as a guest — over the fixture's shared ring page on the real daemon, over
 * a domain socket on the simulator.
 */
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, writeSync, constants as fsc } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startXenstoreServer, type XenstoreServer } from '../../electron/sim/xenstore/server.ts';
import { XsWireClient, type WireReply } from '../../electron/sim/xenstore/wire-client.ts';
import { FrameReader, XS, encodeMessage } from '../../electron/sim/xenstore/wire.ts';

export const RUN_SH = fileURLToPath(new URL('../../../shared/fixtures/real-xenstored/run.sh', import.meta.url));
/** Debian's python3 (where apt's python3-pyxs lives), not whatever python3 is first on PATH. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

export function tmpSocketDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface RealXenstored {
  socket: string;
  stateDir: string;
  ctl: string;
  /** The fixture's own xen-utils binaries (xenstore-control lives there) and their libraries. */
  xenLibexec: string;
  ldLibraryPath: string;
  stop(): void;
}

/** Starts the real xenstored fixture on `socket` (it prints KEY=VALUE lines). */
export function startReal(socket: string): RealXenstored {
  // run.sh can report "xenstored died" when it checks the child before its exec (a race in the
  // fixture under load); starting again is safe, it restarts cleanly on the same socket.
  let out = '';
  for (let attempt = 1; ; attempt++) {
    try {
      out = execFileSync(RUN_SH, ['start', socket], { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
      break;
    } catch (e) {
      if (attempt >= 3) {
        execFileSync(RUN_SH, ['stop', socket], { timeout: 30_000 });
        throw e;
      }
    }
  }
  const env: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  return {
    socket,
    stateDir: env.XS_STATE_DIR,
    ctl: env.XS_SHIM_CTL,
    xenLibexec: join(env.XS_BIN, '../lib/xen-4.17/bin'),
    ldLibraryPath: env.XS_LD_LIBRARY_PATH,
    stop: () => execFileSync(RUN_SH, ['stop', socket], { timeout: 30_000 }),
  };
}

export function startSim(socket: string): Promise<XenstoreServer> {
  return startXenstoreServer({ socketPath: socket });
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `xenstore-<tool> args…` (Debian xenstore-utils) against the xenstore at `socket`. */
export function xsTool(socket: string, tool: string, args: string[]): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(`/usr/bin/xenstore-${tool}`, args, { env: { ...process.env, XENSTORED_PATH: socket }, timeout: 10_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface GuestConnection {
  req(type: number, payload: Buffer | string): Promise<WireReply>;
  /** A request inside transaction `txId`. */
  reqTx(type: number, payload: Buffer | string, txId: number): Promise<WireReply>;
  /** Watch events received so far, as `path|token`. */
  events(): string[];
  close(): void;
}

/**
 * A guest of the real daemon: speaks xenstore over its ring page
 * (struct xenstore_domain_interface: req[1024] rsp[1024] req_cons req_prod rsp_cons rsp_prod),
 * waking xenstored through the fixture's ctl FIFO.
 */
export function ringGuest(real: RealXenstored, domid: number): GuestConnection {
  const fd = openSync(join(real.stateDir, `ring-${domid}`), 'r+');
  const REQ_CONS = 2048;
  const REQ_PROD = 2052;
  const RSP_CONS = 2056;
  const RSP_PROD = 2060;
  const u32 = (off: number): number => {
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, off);
    return b.readUInt32LE(0);
  };
  const put32 = (off: number, v: number): void => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0, 0);
    writeSync(fd, b, 0, 4, off);
  };
  const kick = (): void => {
    const c = openSync(real.ctl, fsc.O_WRONLY | fsc.O_NONBLOCK);
    writeSync(c, 'kick\n');
    closeSync(c);
  };
  const reader = new FrameReader();
  const events: string[] = [];
  const pending: WireReply[] = [];
  const readAvailable = (): WireReply | undefined => {
    const cons = u32(RSP_CONS);
    const prod = u32(RSP_PROD);
    if (cons !== prod) {
      const n = (prod - cons) >>> 0;
      const bytes = Buffer.alloc(n);
      for (let i = 0; i < n; i++) {
        const b = Buffer.alloc(1);
        readSync(fd, b, 0, 1, 1024 + ((cons + i) % 1024));
        bytes[i] = b[0];
      }
      put32(RSP_CONS, cons + n);
      for (const m of reader.push(bytes).messages) {
        if (m.type === XS.WATCH_EVENT) events.push(m.payload.toString('latin1').replace(/\0/g, '|'));
        else pending.push(m);
      }
    }
    return pending.shift();
  };
  const req = async (type: number, payload: Buffer | string, txId = 0): Promise<WireReply> => {
      const msg = encodeMessage(type, 0, txId, payload);
      const deadline = Date.now() + 5000;
      // The request ring holds 1024 bytes: write what fits, kick, wait for xenstored to consume.
      for (let sent = 0; sent < msg.length; ) {
        const prod = u32(REQ_PROD);
        const space = 1024 - ((prod - u32(REQ_CONS)) >>> 0);
        const n = Math.min(space, msg.length - sent);
        for (let i = 0; i < n; i++) writeSync(fd, msg, sent + i, 1, (prod + i) % 1024);
        put32(REQ_PROD, prod + n);
        sent += n;
        kick();
        if (sent < msg.length) {
          if (Date.now() > deadline) throw new Error('ring full');
          await new Promise((res) => setTimeout(res, 2));
        }
      }
      for (;;) {
        const r = readAvailable();
        if (r) return r;
        if (Date.now() > deadline) throw new Error('no reply on the ring');
        await new Promise((res) => setTimeout(res, 2));
      }
  };
  return {
    req: (type, payload) => req(type, payload),
    reqTx: (type, payload, txId) => req(type, payload, txId),
    events: () => {
      readAvailable();
      return [...events];
    },
    close: () => closeSync(fd),
  };
}

/** A guest of the simulator: a connection on the domain's own socket. */
export async function socketGuest(server: XenstoreServer, domid: number, socket: string): Promise<GuestConnection> {
  await server.listenDomain(domid, socket);
  const c = await XsWireClient.connect(socket);
  return {
    req: (type, payload) => c.request(type, payload),
    reqTx: (type, payload, txId) => c.request(type, payload, txId),
    events: () => c.events.map(([p, t]) => `${p}|${t}|`),
    close: () => c.close(),
  };
}
