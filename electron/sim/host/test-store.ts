/**
 * A small in-memory XsStore used by the simulated host's unit tests when the
 * real simulated xenstore (electron/sim/xenstore/store.ts) is not wanted or
 * not there. It follows xenstored's rules that the host relies on: parents
 * are created empty, new nodes inherit their parent's permissions (an
 * unprivileged creator becomes the owner), watches fire on the node and its
 * descendants with an initial fire, events from a transaction fire at commit,
 * and special @introduceDomain/@releaseDomain watches.
 */
import { XsError, type XsHandle, type XsPerm, type XsStore } from '../xenstore/store-api.ts';

interface Node {
  value: string;
  perms: XsPerm[];
  children: Set<string>;
}

interface Watch {
  path: string;
  token: string;
  cb: (path: string, token: string) => void;
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export class MemoryStore implements XsStore {
  private readonly nodes = new Map<string, Node>();
  private readonly watches = new Set<Watch>();
  private readonly introduced = new Set<number>([0]);
  private pending: string[] | undefined;
  /** Every change in order, for tests: `write path=value`, `rm path`, `perms path`. */
  readonly journal: string[] = [];

  constructor() {
    this.nodes.set('/', { value: '', perms: [{ domid: 0, perm: 'n' }], children: new Set() });
  }

  as(domid: number): XsHandle {
    return this.handle(domid, false);
  }

  introduce(domid: number): void {
    this.introduced.add(domid);
    this.fire('@introduceDomain');
  }

  release(domid: number): void {
    this.introduced.delete(domid);
    this.fire('@releaseDomain');
  }

  isIntroduced(domid: number): boolean {
    return this.introduced.has(domid);
  }

  watch(path: string, token: string, cb: (path: string, token: string) => void): () => void {
    const w: Watch = { path, token, cb };
    this.watches.add(w);
    queueMicrotask(() => {
      if (this.watches.has(w)) cb(path, token);
    });
    return () => {
      this.watches.delete(w);
    };
  }

  private fire(changed: string): void {
    if (this.pending) {
      this.pending.push(changed);
      return;
    }
    for (const w of this.watches) {
      let epath: string | undefined;
      if (changed.startsWith('@')) epath = w.path === changed ? changed : undefined;
      else if (w.path === changed || changed.startsWith(w.path === '/' ? '/' : `${w.path}/`)) epath = changed;
      else if (w.path.startsWith(`${changed}/`)) epath = w.path;
      if (epath !== undefined) {
        const e = epath;
        queueMicrotask(() => {
          if (this.watches.has(w)) w.cb(e, w.token);
        });
      }
    }
  }

  private resolve(domid: number, path: string): string {
    if (path.startsWith('@')) throw new XsError('EINVAL');
    const abs = path.startsWith('/') ? path : `/local/domain/${domid}/${path}`;
    if (abs !== '/' && (abs.endsWith('/') || abs.includes('//') || !/^[A-Za-z0-9\-/_@]+$/.test(abs))) throw new XsError('EINVAL');
    return abs;
  }

  private may(domid: number, node: Node, want: 'r' | 'w'): boolean {
    if (domid === 0) return true;
    const [owner, ...rest] = node.perms;
    if (owner.domid === domid) return true;
    const entry = rest.find((p) => p.domid === domid) ?? owner;
    return entry.perm === 'b' || entry.perm === want;
  }

  private create(domid: number, path: string): Node {
    const existing = this.nodes.get(path);
    if (existing) return existing;
    const parent = this.create(domid, parentOf(path));
    const perms = parent.perms.map((p) => ({ ...p }));
    if (domid !== 0) perms[0] = { domid, perm: perms[0].perm };
    const node: Node = { value: '', perms, children: new Set() };
    this.nodes.set(path, node);
    parent.children.add(path.slice(path.lastIndexOf('/') + 1));
    return node;
  }

  private checkWrite(domid: number, path: string): void {
    let p = path;
    while (!this.nodes.has(p)) p = parentOf(p);
    const node = this.nodes.get(p)!;
    if (!this.may(domid, node, 'w')) throw new XsError('EACCES');
  }

  private handle(domid: number, inTx: boolean): XsHandle {
    const get = (path: string, want: 'r' | 'w'): Node => {
      const abs = this.resolve(domid, path);
      const node = this.nodes.get(abs);
      if (!node) throw new XsError('ENOENT');
      if (!this.may(domid, node, want)) throw new XsError('EACCES');
      return node;
    };
    const h: XsHandle = {
      domid,
      read: (path) => get(path, 'r').value,
      tryRead: (path) => {
        try {
          return get(path, 'r').value;
        } catch {
          return undefined;
        }
      },
      write: (path, value) => {
        const abs = this.resolve(domid, path);
        this.checkWrite(domid, abs);
        this.create(domid, abs).value = value;
        this.journal.push(`write ${abs}=${value}`);
        this.fire(abs);
      },
      mkdir: (path) => {
        const abs = this.resolve(domid, path);
        this.checkWrite(domid, abs);
        if (this.nodes.has(abs)) return;
        this.create(domid, abs);
        this.journal.push(`mkdir ${abs}`);
        this.fire(abs);
      },
      rm: (path) => {
        const abs = this.resolve(domid, path);
        if (abs === '/') throw new XsError('EINVAL');
        const node = this.nodes.get(abs);
        if (!node) {
          if (!this.nodes.has(parentOf(abs))) throw new XsError('ENOENT');
          return;
        }
        if (!this.may(domid, node, 'w')) throw new XsError('EACCES');
        for (const k of [...this.nodes.keys()]) if (k === abs || k.startsWith(`${abs}/`)) this.nodes.delete(k);
        this.nodes.get(parentOf(abs))?.children.delete(abs.slice(abs.lastIndexOf('/') + 1));
        this.journal.push(`rm ${abs}`);
        this.fire(abs);
      },
      directory: (path) => [...get(path, 'r').children],
      getPerms: (path) => get(path, 'r').perms.map((p) => ({ ...p })),
      setPerms: (path, perms) => {
        const node = get(path, 'w');
        if (perms.length === 0) throw new XsError('EINVAL');
        node.perms = perms.map((p) => ({ ...p }));
        const abs = this.resolve(domid, path);
        this.journal.push(`perms ${abs}=${perms.map((p) => p.perm + p.domid).join(',')}`);
        this.fire(abs);
      },
      exists: (path) => {
        try {
          get(path, 'r');
          return true;
        } catch {
          return false;
        }
      },
      transaction: <T>(fn: (tx: XsHandle) => T): T => {
        if (inTx) return fn(h);
        const outer = this.pending;
        this.pending = [];
        let events: string[] = [];
        try {
          return fn(this.handle(domid, true));
        } finally {
          events = this.pending;
          this.pending = outer;
          for (const e of new Set(events)) this.fire(e);
        }
      },
    };
    return h;
  }
}

/**
 * Wraps any XsStore so that every write, mkdir, rm and permission change made
 * through it (by the simulated toolstack, backends and guests) is appended to
 * `journal` in order, with transaction writes recorded at commit. The extra
 * hypervisor calls of the simulated xenstore are passed through.
 */
export class JournalStore implements XsStore {
  readonly journal: string[] = [];

  constructor(readonly inner: XsStore) {
    for (const m of ['createDomain', 'shutdownDomain', 'destroyDomain', 'setTarget', 'resumeDomain'] as const) {
      const f = (inner as unknown as Record<string, unknown>)[m];
      if (typeof f === 'function') (this as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => (f as (...x: unknown[]) => unknown).apply(inner, a);
    }
  }

  private wrap(h: XsHandle, sink: string[]): XsHandle {
    const abs = (p: string) => (p.startsWith('/') ? p : `/local/domain/${h.domid}/${p}`);
    return {
      domid: h.domid,
      read: (p) => h.read(p),
      tryRead: (p) => h.tryRead(p),
      exists: (p) => h.exists(p),
      directory: (p) => h.directory(p),
      getPerms: (p) => h.getPerms(p),
      write: (p, v) => {
        h.write(p, v);
        sink.push(`write ${abs(p)}=${v}`);
      },
      mkdir: (p) => {
        h.mkdir(p);
        sink.push(`mkdir ${abs(p)}`);
      },
      rm: (p) => {
        h.rm(p);
        sink.push(`rm ${abs(p)}`);
      },
      setPerms: (p, perms) => {
        h.setPerms(p, perms);
        sink.push(`perms ${abs(p)}=${perms.map((x) => x.perm + x.domid).join(',')}`);
      },
      transaction: <T>(fn: (tx: XsHandle) => T, retries?: number): T => {
        let pending: string[] = [];
        const r = h.transaction((tx) => {
          pending = [];
          return fn(this.wrap(tx, pending));
        }, retries);
        sink.push(...pending);
        return r;
      },
    };
  }

  as(domid: number): XsHandle {
    return this.wrap(this.inner.as(domid), this.journal);
  }
  introduce(domid: number): void {
    this.inner.introduce(domid);
  }
  release(domid: number): void {
    this.inner.release(domid);
  }
  isIntroduced(domid: number): boolean {
    return this.inner.isIntroduced(domid);
  }
  watch(path: string, token: string, cb: (path: string, token: string) => void, asDomid?: number): () => void {
    return this.inner.watch(path, token, cb, asDomid);
  }
}
