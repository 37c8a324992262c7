/**
 * A QMP endpoint for one simulated domain at `<qmpdir>/qmp-libxl-<domid>`,
 * behaving like QEMU 7.2's chardev monitor: the greeting on connect, the
 * capabilities negotiation, CRLF framing, one client at a time (a second
 * client's connect succeeds but it hears nothing until the first leaves),
 * ids echoed, errors found before the id is parsed sent without it, and
 * events written before the reply of the command that caused them.
 *
 * File descriptors passed with SCM_RIGHTS reach the endpoint through an
 * FdListener (fd-bridge.ts) when python3 is available; the plain Node
 * listener cannot receive them, so add-fd then answers as QEMU does when no
 * fd came with the command.
 */
import net from 'node:net';
import fs from 'node:fs';
import nodePath from 'node:path';
import type { DeviceModel, FdInfo } from './dm.ts';
import { JsonStreamer, qmpLine } from './qmp-json.ts';

/** One accepted client connection, whatever carries it. */
export interface QmpConn {
  write(text: string): void;
  end(): void;
  onData(cb: (text: string, fds: FdInfo[]) => void): void;
  onClose(cb: () => void): void;
}

/** Something that listens on a unix socket path and hands over connections. */
export interface QmpListener {
  listen(path: string, onConn: (c: QmpConn) => void): Promise<() => Promise<void>>;
}

/** Node's own unix socket server: no SCM_RIGHTS. */
export const nodeListener: QmpListener = {
  async listen(path, onConn) {
    try {
      fs.unlinkSync(path);
    } catch {
      /* not there */
    }
    const server = net.createServer((sock) => {
      sock.setEncoding('utf8');
      const conn: QmpConn = {
        write: (t) => {
          if (!sock.destroyed) sock.write(t);
        },
        end: () => sock.end(),
        onData: (cb) => sock.on('data', (d: string) => cb(d, [])),
        onClose: (cb) => {
          sock.on('close', cb);
        },
      };
      sock.on('error', () => undefined);
      onConn(conn);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    return () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        try {
          fs.unlinkSync(path);
        } catch {
          /* gone */
        }
      });
  },
};

export interface QmpEndpointOptions {
  now: () => number;
  listener?: QmpListener;
  /** Called with each command a client ran and its reply, for the simulator's log. */
  onCommand?: (cmd: string, args: Record<string, unknown>, reply: unknown) => void;
}

interface Client {
  conn: QmpConn;
  negotiated: boolean;
  streamer: JsonStreamer;
  pendingFds: FdInfo[];
  buffered: Array<{ text: string; fds: FdInfo[] }>;
}

export class QmpEndpoint {
  private active: Client | 'internal' | undefined;
  private readonly queue: Client[] = [];
  private closeListener: (() => Promise<void>) | undefined;
  private readonly waiters: Array<() => void> = [];
  private stopping: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    readonly dm: DeviceModel,
    private readonly opts: QmpEndpointOptions,
  ) {
    dm.onEvent = (name, data) => this.event(name, data);
  }

  async start(): Promise<void> {
    const listener = this.opts.listener ?? nodeListener;
    this.closeListener = await listener.listen(this.path, (conn) => this.accept(conn));
  }

  /**
   * Stops serving. With `leaveSocket` this is QEMU exiting or being killed: QEMU never removes
   * its monitor socket, so the file stays behind with no listener and connect() to it is
   * refused (ECONNREFUSED), which is how a dead device model is seen from dom0 (libxl removes
   * the file when it destroys the domain). Without it the file goes too.
   */
  stop(opts: { leaveSocket?: boolean } = {}): Promise<void> {
    const all = [...this.queue, ...(this.active && this.active !== 'internal' ? [this.active] : [])];
    this.queue.length = 0;
    for (const c of all) c.conn.end();
    this.active = undefined;
    const close = this.closeListener;
    this.closeListener = undefined;
    if (!close) return this.stopping;
    // The listeners unlink the path as they close; a second name keeps the socket's inode.
    const keep = opts.leaveSocket ? nodePath.join(nodePath.dirname(this.path), `.${nodePath.basename(this.path)}.dead-${process.pid}`) : undefined;
    if (keep) {
      try {
        fs.rmSync(keep, { force: true });
        fs.linkSync(this.path, keep);
      } catch {
        /* no socket file to keep */
      }
    }
    this.stopping = close().then(() => {
      if (!keep || !fs.existsSync(keep)) return;
      try {
        // link, not rename: a device model started meanwhile on the same path keeps its socket.
        fs.linkSync(keep, this.path);
      } catch {
        /* the path is taken again */
      }
      fs.rmSync(keep, { force: true });
    });
    return this.stopping;
  }

  /** Resolves once the last stop() has finished with the socket file. */
  whenStopped(): Promise<void> {
    return this.stopping;
  }

  /** True while a client (or the simulated toolstack) holds the monitor. */
  busy(): boolean {
    return this.active !== undefined;
  }

  /**
   * Runs `fn` as the simulated libxl's own QMP session: it waits, as libxl's
   * connect would, until no client holds the monitor, and holds it meanwhile.
   */
  async session<T>(fn: (exec: (cmd: string, args?: Record<string, unknown>, fds?: FdInfo[]) => ReturnType<DeviceModel['execute']>) => Promise<T>, timeoutMs = 40_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (this.active !== undefined) {
      if (Date.now() > deadline) throw new Error('timeout');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    this.active = 'internal';
    try {
      return await fn((cmd, args = {}, fds = []) => {
        const r = this.dm.execute(cmd, args, fds);
        this.opts.onCommand?.(cmd, args, r.ok ? { return: r.value } : { error: { class: r.cls, desc: r.desc } });
        return r;
      });
    } finally {
      this.dm.clientGone();
      this.active = undefined;
      this.next();
    }
  }

  private accept(conn: QmpConn): void {
    const c: Client = { conn, negotiated: false, streamer: new JsonStreamer(), pendingFds: [], buffered: [] };
    conn.onData((text, fds) => {
      if (this.active === c) this.input(c, text, fds);
      else c.buffered.push({ text, fds });
    });
    conn.onClose(() => {
      const i = this.queue.indexOf(c);
      if (i >= 0) this.queue.splice(i, 1);
      if (this.active === c) {
        this.active = undefined;
        this.dm.clientGone();
        this.next();
      }
    });
    this.queue.push(c);
    if (this.active === undefined) this.next();
  }

  private next(): void {
    if (this.active !== undefined) return;
    const w = this.waiters.shift();
    if (w) {
      w();
      return;
    }
    const c = this.queue.shift();
    if (!c || !this.dm.alive) return;
    this.active = c;
    c.conn.write(qmpLine(this.dm.greeting()));
    for (const b of c.buffered.splice(0)) this.input(c, b.text, b.fds);
  }

  private event(name: string, data?: Record<string, unknown>): void {
    const c = this.active;
    if (!c || c === 'internal' || !c.negotiated) return;
    const t = this.opts.now();
    const msg: Record<string, unknown> = {
      timestamp: { seconds: Math.floor(t / 1000), microseconds: Math.floor(t % 1000) * 1000 },
      event: name,
    };
    if (data !== undefined) msg.data = data;
    c.conn.write(qmpLine(msg));
  }

  private input(c: Client, text: string, fds: FdInfo[]): void {
    c.pendingFds.push(...fds);
    for (const seg of c.streamer.push(text)) {
      if ('error' in seg) {
        c.conn.write(qmpLine({ error: { class: 'GenericError', desc: seg.error } }));
        continue;
      }
      try {
        this.command(c, seg.text);
      } catch (e) {
        // A fault in the simulated machine behind a command must not take the simulator down.
        c.conn.write(qmpLine({ error: { class: 'GenericError', desc: (e as Error).message } }));
      }
      if (this.active !== c) return;
    }
  }

  private command(c: Client, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      c.conn.write(qmpLine({ error: { class: 'GenericError', desc: 'JSON parse error, expecting value' } }));
      return;
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      c.conn.write(qmpLine({ error: { class: 'GenericError', desc: 'QMP input must be a JSON object' } }));
      return;
    }
    const m = msg as Record<string, unknown>;
    const hasId = 'id' in m;
    // QEMU puts the id after a return but before an error.
    const reply = (body: Record<string, unknown>) => c.conn.write(qmpLine(!hasId ? body : 'error' in body ? { id: m.id, ...body } : { ...body, id: m.id }));
    const fail = (cls: string, desc: string) => reply({ error: { class: cls, desc } });
    for (const k of Object.keys(m)) {
      if (!['execute', 'exec-oob', 'arguments', 'id', 'control'].includes(k)) return fail('GenericError', `QMP input member '${k}' is unexpected`);
    }
    if (!('execute' in m)) return fail('GenericError', "QMP input lacks member 'execute'");
    if (typeof m.execute !== 'string') return fail('GenericError', "QMP input member 'execute' must be a string");
    if ('arguments' in m && (typeof m.arguments !== 'object' || m.arguments === null || Array.isArray(m.arguments))) {
      return fail('GenericError', "QMP input member 'arguments' must be an object");
    }
    const cmd = m.execute;
    const args = (m.arguments ?? {}) as Record<string, unknown>;
    if (!c.negotiated) {
      if (cmd !== 'qmp_capabilities') return fail('CommandNotFound', "Expecting capabilities negotiation with 'qmp_capabilities'");
      c.negotiated = true;
      return reply({ return: {} });
    }
    if (cmd === 'qmp_capabilities') return fail('CommandNotFound', 'Capabilities negotiation is already complete, command ignored');
    const fds = c.pendingFds.splice(0);
    const r = this.dm.execute(cmd, args, fds);
    const body = r.ok ? { return: r.value } : { error: { class: r.cls, desc: r.desc } };
    this.opts.onCommand?.(cmd, args, body);
    reply(body);
    if (cmd === 'quit' && r.ok) {
      this.dm.alive = false;
      c.conn.end();
      this.dm.hooks.quit?.();
    }
  }
}
