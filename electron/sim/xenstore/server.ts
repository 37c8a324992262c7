/**
 * The xenstore wire server: serves a SimXenstore on a unix socket with the
 * real protocol (16-byte header, types 0–22, error names, the 4096-byte
 * payload limit), so libxenstore clients (`XENSTORED_PATH=…`), pyxs and the
 * native helper cannot tell it from C xenstored 4.17. Connections on the main
 * socket are dom0 (privileged), as on a real host. A simulated guest gets its
 * own socket from `listenDomain(domid, path)`: connections there act as that
 * domain (unprivileged, relative paths under /local/domain/<domid>), the way a
 * guest's ring connection does.
 *
 * Bad input never throws out of the server: malformed payloads get the error
 * xenstored answers, a header announcing more than 4096 bytes drops that
 * connection, and every other connection carries on.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { XsError } from './store-api.ts';
import { SimXenstore, type WatchSink, type XsCaller, type XsTransaction, createSimXenstore } from './store.ts';
import { domainPath, formatPerm, parsePerm } from './paths.ts';
import {
  FrameReader, PAYLOAD_MAX, XS, type XsMessage, atoiU32, encodeMessage, getStrings, oneArg, wireErrorName,
} from './wire.ts';

/** DOMID_SELF: IS_DOMAIN_INTRODUCED answers T for it. */
const DOMID_SELF = 0x7ff0;

/** Types only a privileged connection may send (XS_FLAG_PRIV). */
const PRIV_ONLY = new Set<number>([XS.CONTROL, XS.INTRODUCE, XS.RELEASE, XS.IS_DOMAIN_INTRODUCED, XS.RESUME, XS.SET_TARGET]);
/** Types whose header tx_id is not looked up (XS_FLAG_NOTID). */
const NO_TXID = new Set<number>([XS.WATCH, XS.UNWATCH]);

/** `xenstore-control quota set <name> <val>` names. */
const QUOTA_NAMES: Record<string, keyof SimXenstore['quotas'] | undefined> = {
  nodes: 'nodes',
  watches: 'watches',
  transactions: 'transactions',
  outstanding: 'outstanding',
  'transaction-nodes': 'transactionNodes',
  memory: 'memory',
  'node-size': 'nodeSize',
  'path-max': 'pathMax',
  permissions: 'permissions',
};

const CONTROL_HELP =
  'check\t\nlog\ton|off\nlive-update\t[-c <cmdline>] [-F] [-t <timeout>] <file>\n    Default timeout is 60 seconds.\n' +
  'logfile\t<file>\nmemreport\t[<file>]\nprint\t<string>\nquota\t[set <name> <val>|<domid>]\nquota-soft\t[set <name> <val>]\nhelp\t\n';

export interface XenstoreServerOptions {
  socketPath: string;
  /** The store to serve; a fresh one (with dom0's nodes) when omitted. */
  store?: SimXenstore;
  /** chmod of the socket; xenstored makes it 0600. */
  socketMode?: number;
}

export interface XenstoreServer {
  store: SimXenstore;
  socketPath: string;
  /** Opens a socket whose connections act as domain `domid` (it must be introduced when they connect). */
  listenDomain(domid: number, socketPath: string): Promise<void>;
  /** Open client connections (all sockets). */
  connectionCount(): number;
  close(): Promise<void>;
}

/** One client connection: its domain, transactions, and the queue of messages not yet written. */
class Connection implements WatchSink {
  private readonly reader = new FrameReader();
  private readonly txs = new Map<number, XsTransaction>();
  private nextTxId = 1;
  /** Outgoing messages not yet handed to the socket; watch events keep their key for merging. */
  private out: Array<{ buf: Buffer; eventKey?: string }> = [];
  /** Keys (path, token) of the watch events in `out`, which identical ones merge into. */
  private readonly queuedEvents = new Set<string>();
  private flushScheduled = false;
  private blocked = false;
  closed = false;

  constructor(
    readonly domid: number,
    private readonly socket: Socket,
    private readonly store: SimXenstore,
    private readonly onClose: (c: Connection) => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.blocked = false;
      this.flush();
    });
    socket.on('error', () => this.teardown());
    socket.on('close', () => this.teardown());
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    const { messages, tooLong } = this.reader.push(chunk);
    for (const m of messages) {
      if (this.closed) return;
      this.process(m);
    }
    if (tooLong) {
      // xenstored: "Client tried to feed us N", then the connection is dropped.
      this.flush();
      this.drop();
      return;
    }
    this.scheduleFlush();
  }

  /** WatchSink: identical events still waiting in the queue are merged (special ones never). */
  event(path: string, token: string): void {
    if (this.closed) return;
    const key = `${path}\0${token}`;
    if (!path.startsWith('@')) {
      // A set beside the queue: a long queue (a client that reads slowly under a flood) costs no scan per event.
      if (this.queuedEvents.has(key)) return;
      this.queuedEvents.add(key);
    }
    this.out.push({ buf: encodeMessage(XS.WATCH_EVENT, 0, 0, Buffer.from(`${key}\0`, 'latin1')), eventKey: key });
    this.scheduleFlush();
  }

  private send(type: number, m: XsMessage, payload: Buffer | string): void {
    const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
    if (body.length > PAYLOAD_MAX) {
      this.sendError(m, 'E2BIG');
      return;
    }
    this.out.push({ buf: encodeMessage(type, m.reqId, m.txId, body) });
  }

  private ack(m: XsMessage): void {
    this.send(m.type, m, 'OK\0');
  }

  private sendError(m: XsMessage, code: string): void {
    this.out.push({ buf: encodeMessage(XS.ERROR, m.reqId, m.txId, `${wireErrorName(code)}\0`) });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed || this.blocked || this.out.length === 0) return;
    const bufs = this.out.map((o) => o.buf);
    this.out = [];
    this.queuedEvents.clear();
    if (!this.socket.write(bufs.length === 1 ? bufs[0] : Buffer.concat(bufs))) this.blocked = true;
  }

  drop(): void {
    if (this.closed) return;
    this.teardown();
    this.socket.destroy();
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    this.out = [];
    this.queuedEvents.clear();
    this.store.dropSink(this);
    for (const t of this.txs.values()) this.store.abortTransaction(t);
    this.txs.clear();
    this.onClose(this);
  }

  private process(m: XsMessage): void {
    try {
      this.dispatch(m);
    } catch (e) {
      if (e instanceof XsError) this.sendError(m, e.code);
      else this.sendError(m, 'EIO');
    }
  }

  private dispatch(m: XsMessage): void {
    const priv = this.store.isPrivileged(this.domid);
    const handler = this.handlers[m.type];
    if (handler === undefined) throw new XsError('ENOSYS');
    if (PRIV_ONLY.has(m.type) && !priv) throw new XsError('EACCES');
    let tx: XsTransaction | undefined;
    if (!NO_TXID.has(m.type) && m.txId !== 0) {
      tx = this.txs.get(m.txId);
      if (!tx) throw new XsError('ENOENT');
    }
    handler(m, { domid: this.domid, tx });
  }

  private readonly handlers: Record<number, ((m: XsMessage, c: XsCaller) => void) | undefined> = {
    [XS.READ]: (m, c) => this.send(XS.READ, m, this.store.read(c, this.pathArg(m.payload, 'ENOENT'))),
    [XS.DIRECTORY]: (m, c) => {
      const kids = this.store.directory(c, this.pathArg(m.payload, 'ENOENT'));
      this.send(XS.DIRECTORY, m, kids.map((k) => `${k}\0`).join(''));
    },
    [XS.DIRECTORY_PART]: (m, c) => this.directoryPart(m, c),
    [XS.GET_PERMS]: (m, c) => {
      const perms = this.store.getPerms(c, this.pathArg(m.payload, 'ENOENT'));
      this.send(XS.GET_PERMS, m, perms.map((p) => `${formatPerm(p)}\0`).join(''));
    },
    [XS.WRITE]: (m, c) => {
      const strs = getStrings(m.payload);
      if (strs.length < 1) throw new XsError('EINVAL');
      const value = m.payload.subarray(Buffer.byteLength(strs[0], 'latin1') + 1);
      this.store.write(c, strs[0], value);
      this.ack(m);
    },
    [XS.MKDIR]: (m, c) => {
      this.store.mkdir(c, this.pathArg(m.payload, 'ENOMEM'));
      this.ack(m);
    },
    [XS.RM]: (m, c) => {
      this.store.rm(c, this.pathArg(m.payload, 'ENOMEM'));
      this.ack(m);
    },
    [XS.SET_PERMS]: (m, c) => {
      const strs = getStrings(m.payload);
      if (strs.length < 2) throw new XsError('EINVAL');
      if (!this.store.isPrivileged(c.domid) && strs.length - 1 > this.store.quotas.permissions) throw new XsError('ENOSPC');
      const perms = strs.slice(1).map((s) => {
        const p = parsePerm(s);
        if (!p) throw new XsError('EINVAL');
        return p;
      });
      this.store.setPerms(c, strs[0], perms);
      this.ack(m);
    },
    [XS.WATCH]: (m) => {
      const strs = getStrings(m.payload);
      if (strs.length !== 2) throw new XsError('EINVAL');
      const initial = this.store.addWatch(this, strs[0], strs[1]);
      this.ack(m);
      initial(); // "We fire once up front: simplifies clients and restart."
    },
    [XS.UNWATCH]: (m) => {
      const strs = getStrings(m.payload);
      if (strs.length !== 2) throw new XsError('EINVAL');
      this.store.removeWatch(this, strs[0], strs[1]);
      this.ack(m);
    },
    [XS.TRANSACTION_START]: (m, c) => {
      if (c.tx) throw new XsError('EBUSY');
      let id = this.nextTxId;
      while (id === 0 || this.txs.has(id)) id = (id + 1) >>> 0;
      const t = this.store.startTransaction(this.domid, id);
      this.nextTxId = (id + 1) >>> 0;
      this.txs.set(id, t);
      this.send(XS.TRANSACTION_START, m, `${id}\0`);
    },
    [XS.TRANSACTION_END]: (m, c) => {
      const arg = oneArg(m.payload);
      if (arg !== 'T' && arg !== 'F') throw new XsError('EINVAL');
      const t = c.tx;
      if (!t) throw new XsError('ENOENT');
      this.txs.delete(t.id);
      if (arg === 'T') this.store.commitTransaction(t);
      else this.store.abortTransaction(t);
      this.ack(m);
    },
    [XS.INTRODUCE]: (m) => {
      const strs = getStrings(m.payload);
      if (strs.length < 3) throw new XsError('EINVAL');
      const port = atoiU32(strs[2]) | 0;
      if (port <= 0) throw new XsError('EINVAL');
      this.store.introduce(atoiU32(strs[0]));
      this.ack(m);
    },
    [XS.RELEASE]: (m) => {
      this.store.releaseChecked(this.domidArg(m.payload));
      this.ack(m);
    },
    [XS.RESUME]: (m) => {
      this.store.resumeDomain(this.domidArg(m.payload));
      this.ack(m);
    },
    [XS.GET_DOMAIN_PATH]: (m) => this.send(XS.GET_DOMAIN_PATH, m, `${domainPath(this.domidArg(m.payload))}\0`),
    [XS.IS_DOMAIN_INTRODUCED]: (m) => {
      const domid = this.domidArg(m.payload);
      const yes = domid === DOMID_SELF || this.store.isIntroduced(domid);
      this.send(XS.IS_DOMAIN_INTRODUCED, m, yes ? 'T\0' : 'F\0');
    },
    [XS.SET_TARGET]: (m) => {
      const strs = getStrings(m.payload);
      if (strs.length < 2) throw new XsError('EINVAL');
      this.store.setTarget(atoiU32(strs[0]), atoiU32(strs[1]));
      this.ack(m);
    },
    [XS.RESET_WATCHES]: (m) => {
      this.store.dropSink(this);
      for (const t of this.txs.values()) this.store.abortTransaction(t);
      this.txs.clear();
      this.ack(m);
    },
    [XS.CONTROL]: (m) => this.control(m),
  };

  /** The single path argument; xenstored answers `onMissing` when the payload is not exactly one string. */
  private pathArg(p: Buffer, onMissing: string): string {
    const a = oneArg(p);
    if (a === undefined) throw new XsError(onMissing);
    return a;
  }

  private domidArg(p: Buffer): number {
    const a = oneArg(p);
    if (a === undefined) throw new XsError('EINVAL');
    return atoiU32(a);
  }

  /** send_directory_part(): `gen|child|…|` plus an empty string once the list is complete. */
  private directoryPart(m: XsMessage, c: XsCaller): void {
    const strs = getStrings(m.payload);
    if (strs.length !== 2) throw new XsError('EINVAL');
    const { gen, children } = this.store.directoryWithGen(c, strs[0]);
    const off = atoiU32(strs[1]);
    const kids = Buffer.from(children.map((k) => `${k}\0`).join(''), 'latin1');
    const genBuf = Buffer.from(`${gen}\0`, 'latin1');
    if (off >= kids.length) {
      this.send(XS.DIRECTORY_PART, m, Buffer.concat([genBuf, Buffer.alloc(1)]));
      return;
    }
    const maxlen = PAYLOAD_MAX - genBuf.length - 1;
    let len = 0;
    for (;;) {
      const nul = kids.indexOf(0, off + len);
      const slen = (nul < 0 ? kids.length : nul) - (off + len);
      if (len + slen >= maxlen) break;
      len += slen + 1;
      if (off + len >= kids.length) break;
    }
    const parts = [genBuf, kids.subarray(off, off + len)];
    if (off + len >= kids.length) parts.push(Buffer.alloc(1));
    this.send(XS.DIRECTORY_PART, m, Buffer.concat(parts));
  }

  /** XS_CONTROL: the read-only commands of xenstore-control. */
  private control(m: XsMessage): void {
    const strs = getStrings(m.payload);
    if (strs.length === 0) throw new XsError('EINVAL');
    const [cmd, ...args] = strs;
    const q = this.store.quotas;
    switch (cmd) {
      case 'help':
        this.send(XS.CONTROL, m, `${CONTROL_HELP}\0`);
        return;
      case 'quota': {
        if (args.length === 0) {
          const line = (name: string, v: number, what: string) => `${name.padEnd(17)}: ${String(v).padStart(8)} ${what}\n`;
          const text =
            'Quota settings:\n' +
            line('nodes', q.nodes, 'Nodes per domain') +
            line('watches', q.watches, 'Watches per domain') +
            line('transactions', q.transactions, 'Transactions per domain') +
            line('outstanding', q.outstanding, 'Outstanding requests per domain') +
            line('transaction-nodes', q.transactionNodes, 'Max. number of accessed nodes per transaction') +
            line('memory', q.memory, 'Total Xenstore memory per domain (error level)') +
            line('node-size', q.nodeSize, 'Max. size of a node') +
            line('path-max', q.pathMax, 'Max. length of a node path') +
            line('permissions', q.permissions, 'Max. number of permissions per node');
          this.send(XS.CONTROL, m, `${text}\0`);
          return;
        }
        if (args[0] === 'set') {
          const key = QUOTA_NAMES[args[1] ?? ''];
          if (args.length !== 3 || key === undefined) throw new XsError('EINVAL');
          q[key] = atoiU32(args[2]) | 0;
          this.ack(m);
          return;
        }
        if (args.length !== 1) throw new XsError('EINVAL');
        const domid = atoiU32(args[0]);
        if (!this.store.domainExists(domid)) throw new XsError('ENOENT');
        const line = (name: string, v: number) => `${name.padEnd(16)}: ${String(v).padStart(8)}\n`;
        const u = this.store.usage(domid);
        const text =
          `Domain ${domid}:\n` +
          line('nodes', u.nodes) +
          line('watches', u.watches) +
          line('transactions', u.transactions) +
          line('outstanding', 0) +
          line('memory', u.memory);
        this.send(XS.CONTROL, m, `${text}\0`);
        return;
      }
      case 'quota-soft':
        if (args.length !== 0) throw new XsError('EINVAL');
        this.send(XS.CONTROL, m, `Quota settings:\n${'memory'.padEnd(17)}: ${String(2097152).padStart(8)} Total Xenstore memory per domain (warning level)\n\0`);
        return;
      case 'print':
      case 'log':
        if (args.length < 1) throw new XsError('EINVAL');
        this.ack(m);
        return;
      case 'check':
        this.ack(m);
        return;
      default:
        throw new XsError('EINVAL');
    }
  }
}

function prepareSocketPath(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path)) unlinkSync(path);
}

function listen(server: Server, path: string, mode: number | undefined): Promise<void> {
  prepareSocketPath(path);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      if (mode !== undefined) chmodSync(path, mode);
      resolve();
    });
  });
}

/** Starts the xenstore wire server on `socketPath`. */
export async function startXenstoreServer(opts: XenstoreServerOptions): Promise<XenstoreServer> {
  const store = opts.store ?? createSimXenstore();
  const conns = new Set<Connection>();
  const servers: Array<{ server: Server; path: string }> = [];

  const accept = (domid: number) => (socket: Socket) => {
    if (domid !== 0 && !store.isIntroduced(domid)) {
      socket.destroy();
      return;
    }
    const c = new Connection(domid, socket, store, (x) => conns.delete(x));
    conns.add(c);
  };

  const unsubscribe = store.onDomainGone((domid) => {
    for (const c of [...conns]) if (c.domid === domid) c.drop();
  });

  const main = createServer(accept(0));
  await listen(main, opts.socketPath, opts.socketMode ?? 0o600);
  servers.push({ server: main, path: opts.socketPath });

  return {
    store,
    socketPath: opts.socketPath,
    async listenDomain(domid: number, socketPath: string) {
      const s = createServer(accept(domid));
      await listen(s, socketPath, 0o600);
      servers.push({ server: s, path: socketPath });
    },
    connectionCount: () => conns.size,
    async close() {
      unsubscribe();
      for (const c of [...conns]) c.drop();
      await Promise.all(
        servers.map(
          ({ server, path }) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              if (existsSync(path)) {
                try {
                  unlinkSync(path);
                } catch {
                  // already gone
                }
              }
            }),
        ),
      );
    },
  };
}
