/**
 * The simulated xenstore: one tree of nodes with values, permissions and
 * generation counts, watches, transactions with conflict detection, domains
 * (introduce / release / shutdown / destroy, SET_TARGET) and the 4.17 quotas
 * for unprivileged domains. Every rule here follows C xenstored 4.17
 * (tools/xenstore/xenstored_{core,watch,transaction,domain}.c) as observed
 * against the real daemon; see README.md for the few deviations.
 *
 * Two front ends share it: `as(domid)` (the XsHandle API used by the
 * simulated toolstack, backends and guests) and the wire server (server.ts),
 * which calls the caller-level methods below on behalf of each connection.
 */
import { XsError, type XsHandle, type XsPerm, type XsSimStore } from './store-api.ts';
import {
  PERM_ALL, PERM_OWNER, PERM_READ, PERM_WRITE, baseName, canonicalize, childPath, domainPath,
  isValidNodePath, parentOf, permBits,
} from './paths.ts';
import { PAYLOAD_MAX, REL_PATH_MAX } from './wire.ts';

export type { XsSimStore } from './store-api.ts';

/** xenstored 4.17 defaults (`xenstore-control quota`); they bind unprivileged domains only. */
export const QUOTA_DEFAULTS = {
  nodes: 1000,
  watches: 128,
  transactions: 10,
  outstanding: 20,
  transactionNodes: 1024,
  memory: 2621440,
  nodeSize: 2048,
  pathMax: 2048,
  permissions: 5,
};
export type XsQuotas = typeof QUOTA_DEFAULTS;

const NO_GEN = -1;
/**
 * sizeof(struct xs_tdb_record_hdr) (u64 generation + 3 × u32, padded to 24)
 * and sizeof(struct xs_permissions): the node-size quota counts them.
 */
const RECORD_HDR = 24;
const PERM_SIZE = 8;

interface StoredPerm extends XsPerm {
  /** XS_PERM_IGNORE: the entry names a domain that did not exist (or has gone); still listed. */
  ignore?: boolean;
}

interface Node {
  value: Buffer;
  perms: StoredPerm[];
  children: string[];
  gen: number;
}

function cloneNode(n: Node): Node {
  return { value: n.value, perms: n.perms.map((p) => ({ ...p })), children: [...n.children], gen: n.gen };
}

function err(code: string, message?: string): XsError {
  return new XsError(code, message);
}

/** Something that receives watch events: a wire connection or an in-process watcher. */
export interface WatchSink {
  readonly domid: number;
  event(path: string, token: string): void;
}

interface IndexedWatch {
  sink: WatchSink;
  w: Watch;
  k: number;
  j: number;
}

interface Watch {
  path: string;
  token: string;
  /** Set when registered with a relative path: events then come back relative. */
  relPrefix?: string;
}

interface QueuedFire {
  exact: boolean;
  perms?: StoredPerm[];
  oldPerms?: StoredPerm[];
}

/** One open transaction (xenstored_transaction.c): copies of accessed nodes, checked at commit. */
export class XsTransaction {
  readonly accessed = new Map<string, number>();
  readonly local = new Map<string, Node | null>();
  readonly modified = new Set<string>();
  readonly fires = new Map<string, QueuedFire>();
  readonly ownerDelta = new Map<number, number>();
  ended = false;
  /** Set when an operation inside failed half-way (quota); the commit then answers ENOMEM. */
  failed = false;
  constructor(
    readonly id: number,
    readonly domid: number,
  ) {}
}

/** Who is asking: the domain, and the transaction the request runs in. */
export interface XsCaller {
  readonly domid: number;
  readonly tx?: XsTransaction;
}

interface DomainState {
  introduced: boolean;
  shutdown: boolean;
}

export interface SimXenstoreOptions {
  /** Write /local/domain/0/{domid,name} as xen-init-dom0 does on a real host (default true). */
  dom0Nodes?: boolean;
  quotas?: Partial<XsQuotas>;
}

export class SimXenstore implements XsSimStore {
  readonly quotas: XsQuotas;
  private readonly nodes = new Map<string, Node>();
  private gen = 0;
  private readonly owned = new Map<number, number>();
  private readonly sinks = new Map<WatchSink, Watch[]>();
  private readonly domains = new Map<number, DomainState>();
  private readonly targets = new Map<number, number>();
  private readonly openTx = new Map<number, number>();
  private readonly special = new Map<string, StoredPerm[]>([
    ['@introduceDomain', [{ domid: 0, perm: 'n' }]],
    ['@releaseDomain', [{ domid: 0, perm: 'n' }]],
  ]);
  private readonly goneListeners = new Set<(domid: number) => void>();

  constructor(opts: SimXenstoreOptions = {}) {
    this.quotas = { ...QUOTA_DEFAULTS, ...opts.quotas };
    const root = (children: string[]): Node => ({ value: Buffer.alloc(0), perms: [{ domid: 0, perm: 'n' }], children, gen: this.gen++ });
    this.nodes.set('/', root(['tool']));
    this.nodes.set('/tool', root(['xenstored']));
    this.nodes.set('/tool/xenstored', root([]));
    this.owned.set(0, 3);
    this.domains.set(0, { introduced: true, shutdown: false });
    if (opts.dom0Nodes !== false) {
      const c: XsCaller = { domid: 0 };
      this.write(c, '/local/domain/0/domid', Buffer.from('0'));
      this.write(c, '/local/domain/0/name', Buffer.from('Domain-0'));
    }
  }

  // ---- permissions -------------------------------------------------------

  isPrivileged(domid: number): boolean {
    return domid === 0;
  }

  private ignored(p: StoredPerm): boolean {
    return p.ignore === true || !this.domainExists(p.domid);
  }

  /** perm_for_conn(): what `domid` may do with a node carrying `perms`. */
  permFor(domid: number, perms: StoredPerm[]): number {
    if (this.isPrivileged(domid)) return PERM_ALL;
    const target = this.targets.get(domid);
    const owner = perms[0].domid;
    if (owner === domid || (target !== undefined && owner === target)) return PERM_ALL;
    for (let i = 1; i < perms.length; i++) {
      const p = perms[i];
      if (!this.ignored(p) && (p.domid === domid || (target !== undefined && p.domid === target))) return permBits(p.perm);
    }
    return permBits(perms[0].perm);
  }

  // ---- node access (transaction-aware) -----------------------------------

  private access(c: XsCaller, path: string): void {
    const t = c.tx;
    if (!t || t.accessed.has(path)) return;
    if (!this.isPrivileged(c.domid) && t.accessed.size >= this.quotas.transactionNodes) {
      t.failed = true;
      throw err('ENOSPC');
    }
    t.accessed.set(path, this.nodes.get(path)?.gen ?? NO_GEN);
  }

  private lookup(c: XsCaller, path: string): Node | undefined {
    const t = c.tx;
    if (!t) return this.nodes.get(path);
    if (t.local.has(path)) return t.local.get(path) ?? undefined;
    this.access(c, path);
    const g = this.nodes.get(path);
    const copy = g ? cloneNode(g) : null;
    t.local.set(path, copy);
    return copy ?? undefined;
  }

  private nodeSize(n: Node): number {
    let childLen = 0;
    for (const ch of n.children) childLen += Buffer.byteLength(ch, 'latin1') + 1;
    return RECORD_HDR + PERM_SIZE * n.perms.length + n.value.length + childLen;
  }

  private put(c: XsCaller, path: string, n: Node, noQuota = false): void {
    if (!noQuota && !this.isPrivileged(c.domid) && this.nodeSize(n) >= this.quotas.nodeSize) {
      if (c.tx) c.tx.failed = true;
      throw err('ENOSPC');
    }
    const t = c.tx;
    if (t) {
      this.access(c, path);
      t.local.set(path, n);
      t.modified.add(path);
      return;
    }
    n.gen = ++this.gen;
    this.nodes.set(path, n);
  }

  private del(c: XsCaller, path: string): void {
    const t = c.tx;
    if (t) {
      this.access(c, path);
      t.local.set(path, null);
      t.modified.add(path);
      return;
    }
    this.nodes.delete(path);
  }

  private adjustOwned(c: XsCaller, domid: number, delta: number): void {
    const m = c.tx ? c.tx.ownerDelta : this.owned;
    m.set(domid, (m.get(domid) ?? 0) + delta);
  }

  /** Nodes owned by `domid`, as seen from inside the caller's transaction. */
  ownedCount(domid: number, c?: XsCaller): number {
    return (this.owned.get(domid) ?? 0) + (c?.tx?.ownerDelta.get(domid) ?? 0);
  }

  /** What the nearest existing ancestor grants (errno_from_parents). */
  private ancestorPerm(c: XsCaller, path: string): number {
    let p = path;
    while (p !== '/') {
      p = parentOf(p);
      const n = this.lookup(c, p);
      if (n) return this.permFor(c.domid, n.perms);
    }
    return 0;
  }

  /** get_node(): the node if the caller has `need`; else ENOENT/EACCES without leaking what it may not see. */
  private getNode(c: XsCaller, path: string, need: number): Node {
    if (!isValidNodePath(path, this.quotas.pathMax)) throw err('EINVAL');
    const n = this.lookup(c, path);
    let code = 'ENOENT';
    if (n) {
      if ((this.permFor(c.domid, n.perms) & need) === need) return n;
      code = 'EACCES';
    }
    if (this.ancestorPerm(c, path) & need) throw err(code);
    throw err('EACCES');
  }

  // ---- watches ------------------------------------------------------------

  private fire(c: XsCaller | undefined, path: string, f: QueuedFire): void {
    const t = c?.tx;
    if (t) {
      const prev = t.fires.get(path);
      t.fires.set(path, prev ? { ...f, exact: prev.exact && f.exact, oldPerms: prev.oldPerms ?? f.oldPerms } : f);
      return;
    }
    this.fireNow(path, f);
  }

  private readableBy(domid: number, perms: StoredPerm[] | undefined): boolean {
    return perms !== undefined && (this.permFor(domid, perms) & PERM_READ) !== 0;
  }

  private watchPermitted(domid: number, path: string, f: QueuedFire): boolean {
    if (this.isPrivileged(domid)) return true;
    if (this.readableBy(domid, f.oldPerms)) return true;
    const perms = f.perms ?? this.nodes.get(path)?.perms;
    if (!perms) return false;
    if (this.readableBy(domid, perms)) return true;
    return this.readableBy(domid, this.nodes.get(parentOf(path))?.perms);
  }

  /**
   * Watches by path, in delivery order (sink k in the sinks' order, watch j in
   * its list), rebuilt after any watch changes. A write then looks at the
   * watches on its path and its ancestors instead of every watch of the host.
   */
  private watchIndex: Map<string, IndexedWatch[]> | null = null;

  private watchesChanged(): void {
    this.watchIndex = null;
  }

  private buildWatchIndex(): Map<string, IndexedWatch[]> {
    const idx = new Map<string, IndexedWatch[]>();
    let k = 0;
    for (const [sink, watches] of this.sinks) {
      watches.forEach((w, j) => {
        const b = idx.get(w.path);
        if (b) b.push({ sink, w, k, j });
        else idx.set(w.path, [{ sink, w, k, j }]);
      });
      k++;
    }
    return idx;
  }

  private fireNow(path: string, f: QueuedFire): void {
    const isSpecial = path.startsWith('@');
    const idx = (this.watchIndex ??= this.buildWatchIndex());
    // Exact: the watches on this path. Otherwise also those on its ancestors (isSameOrBelow).
    const hits: IndexedWatch[] = [];
    let buckets = 0;
    const add = (p: string) => {
      const b = idx.get(p);
      if (!b) return;
      buckets++;
      for (const e of b) hits.push(e);
    };
    add(path);
    if (!f.exact) {
      if (isSpecial) add('/');
      else for (let p = path; p !== '/'; ) add((p = parentOf(p)));
    }
    if (buckets > 1) hits.sort((a, b) => a.k - b.k || a.j - b.j);
    // Sinks only queue what they are given (deliver never calls back into the store). A sink's
    // permission is checked once, when one of its watches matches: the events and their order
    // are those of checking every sink's every watch.
    let cur: WatchSink | undefined;
    let permitted = false;
    for (const e of hits) {
      if (e.sink !== cur) {
        cur = e.sink;
        permitted = isSpecial ? this.readableBy(cur.domid, this.special.get(path)) : this.watchPermitted(cur.domid, path, f);
      }
      if (permitted) this.deliver(e.sink, e.w, path);
    }
  }

  private deliver(sink: WatchSink, w: Watch, path: string): void {
    let p = path;
    if (w.relPrefix !== undefined) {
      p = p.slice(w.relPrefix.length);
      if (p.startsWith('/')) p = p.slice(1);
    }
    // send_event(): over-long events are not sent at all.
    if (Buffer.byteLength(p, 'latin1') + 1 + Buffer.byteLength(w.token, 'latin1') + 1 > PAYLOAD_MAX) return;
    sink.event(p, w.token);
  }

  /** XS_WATCH: registers, then fires once at once (the caller sends its ack first). */
  addWatch(sink: WatchSink, path: string, token: string): () => void {
    let wpath = path;
    let relPrefix: string | undefined;
    if (path.startsWith('@')) {
      if (path.length > REL_PATH_MAX) throw err('EINVAL');
    } else {
      if (!path.startsWith('/')) relPrefix = domainPath(sink.domid);
      wpath = canonicalize(sink.domid, path);
      if (!isValidNodePath(wpath, this.quotas.pathMax)) throw err('EINVAL');
    }
    const list = this.sinks.get(sink) ?? [];
    if (list.some((w) => w.path === wpath && w.token === token)) throw err('EEXIST');
    if (!this.isPrivileged(sink.domid) && this.watchCount(sink.domid) > this.quotas.watches) throw err('E2BIG');
    const w: Watch = { path: wpath, token, relPrefix };
    list.push(w);
    this.sinks.set(sink, list);
    this.watchesChanged();
    return () => this.deliver(sink, w, wpath);
  }

  /** XS_UNWATCH: ENOENT if this sink has no such watch. */
  removeWatch(sink: WatchSink, path: string, token: string): void {
    const wpath = canonicalize(sink.domid, path);
    const list = this.sinks.get(sink);
    const i = list ? list.findIndex((w) => w.path === wpath && w.token === token) : -1;
    if (!list || i < 0) throw err('ENOENT');
    list.splice(i, 1);
    this.watchesChanged();
  }

  /** Drops every watch of a sink (RESET_WATCHES, connection closed). */
  dropSink(sink: WatchSink): void {
    this.sinks.delete(sink);
    this.watchesChanged();
  }

  watchCount(domid: number): number {
    let n = 0;
    for (const [s, ws] of this.sinks) if (s.domid === domid) n += ws.length;
    return n;
  }

  // ---- the operations, as a caller ---------------------------------------

  read(c: XsCaller, path: string): Buffer {
    return this.getNode(c, canonicalize(c.domid, path), PERM_READ).value;
  }

  directory(c: XsCaller, path: string): string[] {
    return [...this.getNode(c, canonicalize(c.domid, path), PERM_READ).children];
  }

  /** The node's generation and children (DIRECTORY_PART). */
  directoryWithGen(c: XsCaller, path: string): { gen: number; children: string[] } {
    const n = this.getNode(c, canonicalize(c.domid, path), PERM_READ);
    return { gen: n.gen, children: [...n.children] };
  }

  getPerms(c: XsCaller, path: string): XsPerm[] {
    return this.getNode(c, canonicalize(c.domid, path), PERM_READ).perms.map((p) => ({ domid: p.domid, perm: p.perm }));
  }

  exists(c: XsCaller, path: string): boolean {
    try {
      this.getNode(c, canonicalize(c.domid, path), PERM_READ);
      return true;
    } catch (e) {
      if (e instanceof XsError && (e.code === 'ENOENT' || e.code === 'EACCES')) return false;
      throw e;
    }
  }

  write(c: XsCaller, path: string, value: Buffer): void {
    const name = canonicalize(c.domid, path);
    let n: Node | undefined;
    try {
      n = this.getNode(c, name, PERM_WRITE);
    } catch (e) {
      if (!(e instanceof XsError) || e.code !== 'ENOENT') throw e;
    }
    if (n) {
      const nn: Node = { ...n, value: Buffer.from(value) };
      this.put(c, name, nn);
      this.fire(c, name, { exact: false, perms: nn.perms });
    } else {
      const created = this.createNode(c, name, Buffer.from(value));
      this.fire(c, name, { exact: false, perms: created.perms });
    }
  }

  mkdir(c: XsCaller, path: string): void {
    const name = canonicalize(c.domid, path);
    try {
      this.getNode(c, name, PERM_WRITE);
      return; // exists: its value is left alone and nothing fires
    } catch (e) {
      if (!(e instanceof XsError) || e.code !== 'ENOENT') throw e;
    }
    const created = this.createNode(c, name, Buffer.alloc(0));
    this.fire(c, name, { exact: false, perms: created.perms });
  }

  /** construct_node() + create_node(): missing parents are created empty, inheriting permissions. */
  private createNode(c: XsCaller, name: string, value: Buffer): Node {
    const names = [name];
    let parentName = parentOf(name);
    let parent = this.lookup(c, parentName);
    while (!parent) {
      names.push(parentName);
      parentName = parentOf(parentName);
      parent = this.lookup(c, parentName);
    }
    const priv = this.isPrivileged(c.domid);
    if (!priv && this.ownedCount(c.domid, c) + names.length > this.quotas.nodes) throw err('ENOSPC');
    const writes: Array<[string, Node]> = [];
    let cur: Node = { ...parent, children: [...parent.children] };
    writes.push([parentName, cur]);
    let created = cur;
    for (let i = names.length - 1; i >= 0; i--) {
      cur.children.push(baseName(names[i]));
      const perms = cur.perms.map((p) => ({ ...p }));
      if (!priv) perms[0] = { ...perms[0], domid: c.domid, ignore: false };
      const node: Node = { value: i === 0 ? value : Buffer.alloc(0), perms, children: [], gen: NO_GEN };
      writes.push([names[i], node]);
      cur = node;
      created = node;
    }
    if (!priv && writes.some(([, n]) => this.nodeSize(n) >= this.quotas.nodeSize)) {
      if (c.tx) c.tx.failed = true;
      throw err('ENOSPC');
    }
    for (const [p, n] of writes.reverse()) this.put(c, p, n, true);
    for (let i = 0; i < names.length; i++) this.adjustOwned(c, created.perms[0].domid, 1);
    return created;
  }

  rm(c: XsCaller, path: string): void {
    const name = canonicalize(c.domid, path);
    try {
      this.getNode(c, name, PERM_WRITE);
    } catch (e) {
      if (e instanceof XsError && e.code === 'ENOENT') {
        // Did not exist already? Fine, if the parent exists.
        if (this.lookup(c, parentOf(name))) return;
      }
      throw e;
    }
    if (name === '/') throw err('EINVAL');
    this.rmNode(c, name);
  }

  /** rm_node(): deletes the subtree bottom-up; each node fires (descendants exact only). */
  private rmNode(c: XsCaller, name: string): void {
    const walk = (p: string): void => {
      const n = this.lookup(c, p);
      if (!n) return;
      for (const ch of n.children) walk(childPath(p, ch));
      this.del(c, p);
      this.adjustOwned(c, n.perms[0].domid, -1);
      this.fire(c, p, { exact: p !== name, perms: n.perms });
    };
    walk(name);
    const pname = parentOf(name);
    const parent = this.lookup(c, pname);
    if (parent) {
      const base = baseName(name);
      this.put(c, pname, { ...parent, children: parent.children.filter((ch) => ch !== base) }, true);
    }
  }

  setPerms(c: XsCaller, path: string, perms: XsPerm[]): void {
    const priv = this.isPrivileged(c.domid);
    if (perms.length === 0) throw err('EINVAL');
    if (!priv && perms.length > this.quotas.permissions) throw err('ENOSPC');
    const np: StoredPerm[] = perms.map((p) => ({ domid: p.domid >>> 0, perm: p.perm, ignore: !this.domainExists(p.domid >>> 0) }));
    if (np[0].ignore) throw err('ENOENT');
    if (path.startsWith('@')) {
      const cur = this.special.get(path);
      if (!cur) throw err('EINVAL');
      if ((this.permFor(c.domid, cur) & (PERM_WRITE | PERM_OWNER)) !== (PERM_WRITE | PERM_OWNER)) throw err('EACCES');
      this.special.set(path, np);
      return;
    }
    const name = canonicalize(c.domid, path);
    const n = this.getNode(c, name, PERM_WRITE | PERM_OWNER);
    if (!priv && np[0].domid !== n.perms[0].domid) throw err('EPERM');
    const oldPerms = n.perms;
    const nn: Node = { ...n, perms: np };
    this.put(c, name, nn);
    if (oldPerms[0].domid !== np[0].domid) {
      this.adjustOwned(c, oldPerms[0].domid, -1);
      this.adjustOwned(c, np[0].domid, 1);
    }
    this.fire(c, name, { exact: false, perms: np, oldPerms });
  }

  // ---- transactions ------------------------------------------------------

  startTransaction(domid: number, id: number): XsTransaction {
    // xenstored 4.17 compares with `>`: one more than the quota is allowed.
    if (!this.isPrivileged(domid) && (this.openTx.get(domid) ?? 0) > this.quotas.transactions) throw err('ENOSPC');
    this.openTx.set(domid, (this.openTx.get(domid) ?? 0) + 1);
    return new XsTransaction(id, domid);
  }

  private closeTx(t: XsTransaction): void {
    if (t.ended) return;
    t.ended = true;
    this.openTx.set(t.domid, Math.max(0, (this.openTx.get(t.domid) ?? 1) - 1));
  }

  abortTransaction(t: XsTransaction): void {
    this.closeTx(t);
  }

  /** TRANSACTION_END T: EAGAIN (nothing applied) if any node it accessed changed meanwhile. */
  commitTransaction(t: XsTransaction): void {
    this.closeTx(t);
    if (t.failed) throw err('ENOMEM');
    for (const [p, g] of t.accessed) {
      if ((this.nodes.get(p)?.gen ?? NO_GEN) !== g) throw err('EAGAIN');
    }
    for (const p of t.modified) {
      const n = t.local.get(p);
      if (n) {
        n.gen = ++this.gen;
        this.nodes.set(p, n);
      } else this.nodes.delete(p);
    }
    for (const [d, delta] of t.ownerDelta) this.owned.set(d, (this.owned.get(d) ?? 0) + delta);
    for (const p of t.accessed.keys()) {
      const f = t.fires.get(p);
      if (f) this.fireNow(p, f);
    }
  }

  // ---- domains -----------------------------------------------------------

  domainExists(domid: number): boolean {
    return this.domains.has(domid >>> 0);
  }

  createDomain(domid: number): void {
    if (!this.domains.has(domid)) this.domains.set(domid, { introduced: false, shutdown: false });
  }

  isIntroduced(domid: number): boolean {
    return this.domains.get(domid >>> 0)?.introduced === true;
  }

  introduce(domid: number): void {
    const d = this.domains.get(domid);
    if (d?.introduced) return; // re-introduce: no event
    this.domains.set(domid, { introduced: true, shutdown: false });
    if (domid !== 0) this.fireNow('@introduceDomain', { exact: true });
  }

  /** In-process release: forgiving, does nothing for dom0 or a domain that is not introduced. */
  release(domid: number): void {
    if (domid !== 0 && this.isIntroduced(domid)) this.removeDomain(domid);
  }

  /** XS_RELEASE as the wire sees it: EINVAL for dom0, ENOENT if not introduced. */
  releaseChecked(domid: number): void {
    if (domid === 0) throw err('EINVAL');
    if (!this.isIntroduced(domid)) throw err('ENOENT');
    this.removeDomain(domid);
  }

  shutdownDomain(domid: number): void {
    const d = this.domains.get(domid);
    if (!d?.introduced || d.shutdown) return;
    d.shutdown = true;
    this.fireNow('@releaseDomain', { exact: true });
  }

  resumeDomain(domid: number): void {
    if (domid === 0) throw err('EINVAL');
    const d = this.domains.get(domid);
    if (!d?.introduced) throw err('ENOENT');
    d.shutdown = false;
  }

  destroyDomain(domid: number): void {
    if (domid === 0 || !this.domains.has(domid)) return;
    this.removeDomain(domid);
  }

  setTarget(domid: number, target: number): void {
    if (!this.isIntroduced(domid) || !this.isIntroduced(target)) throw err('ENOENT');
    this.targets.set(domid, target);
  }

  /** Called when a domain goes away, so the server can drop its connections. */
  onDomainGone(cb: (domid: number) => void): () => void {
    this.goneListeners.add(cb);
    return () => this.goneListeners.delete(cb);
  }

  private removeDomain(domid: number): void {
    const wasIntroduced = this.isIntroduced(domid);
    // The domain's own watches go first, so deleting its nodes does not notify it.
    for (const s of [...this.sinks.keys()]) if (s.domid === domid) this.sinks.delete(s);
    this.watchesChanged();
    for (const cb of [...this.goneListeners]) cb(domid);
    this.domains.delete(domid);
    this.targets.delete(domid);
    for (const [k, v] of [...this.targets]) if (v === domid) this.targets.delete(k);
    // Nodes owned by the domain are deleted (4.17 without -K); entries naming it are ignored.
    const c: XsCaller = { domid: 0 };
    for (const p of [...this.nodes.keys()]) {
      const n = this.nodes.get(p);
      if (!n) continue;
      if (n.perms[0].domid === domid && p !== '/') this.rmNode(c, p);
      else for (let i = 1; i < n.perms.length; i++) if (n.perms[i].domid === domid) n.perms[i].ignore = true;
    }
    this.owned.delete(domid);
    if (wasIntroduced) this.fireNow('@releaseDomain', { exact: true });
  }

  // ---- XsStore -------------------------------------------------------------

  as(domid: number): XsHandle {
    return new Handle(this, { domid });
  }

  watch(path: string, token: string, cb: (path: string, token: string) => void, asDomid = 0): () => void {
    const sink = new InProcessSink(asDomid, cb);
    const initial = this.addWatch(sink, path, token);
    initial();
    return () => {
      sink.closed = true;
      this.sinks.delete(sink);
      this.watchesChanged();
    };
  }

  /**
   * What `xenstore-control quota <domid>` reports: nodes owned, watches and
   * open transactions of domain connections, and node memory (record + key bytes, as xenstored counts
   * them for the data base; its request buffers are not modelled).
   */
  usage(domid: number): { nodes: number; watches: number; transactions: number; memory: number } {
    let memory = 0;
    for (const [p, n] of this.nodes) if (n.perms[0].domid === domid) memory += this.nodeSize(n) + Buffer.byteLength(p, 'latin1') + 1;
    // Dom0's clients are socket connections, which xenstored does not account to a domain.
    const sock = domid === 0;
    return { nodes: this.ownedCount(domid), watches: sock ? 0 : this.watchCount(domid), transactions: sock ? 0 : (this.openTx.get(domid) ?? 0), memory };
  }

  /**
   * Consistency of the tree, for tests: every node's parent exists and lists
   * it, every listed child exists, and per-owner node counts add up.
   * Returns the problems found (empty when consistent).
   */
  checkInvariants(): string[] {
    const problems: string[] = [];
    const counts = new Map<number, number>();
    for (const [p, n] of this.nodes) {
      counts.set(n.perms[0].domid, (counts.get(n.perms[0].domid) ?? 0) + 1);
      if (new Set(n.children).size !== n.children.length) problems.push(`${p}: duplicate children`);
      for (const ch of n.children) if (!this.nodes.has(childPath(p, ch))) problems.push(`${p}: lists missing child ${ch}`);
      if (p === '/') continue;
      const parent = this.nodes.get(parentOf(p));
      if (!parent) problems.push(`${p}: no parent`);
      else if (!parent.children.includes(baseName(p))) problems.push(`${p}: not listed by its parent`);
    }
    for (const [d, n] of counts) if ((this.owned.get(d) ?? 0) !== n) problems.push(`dom${d}: owns ${n} nodes, counted ${this.owned.get(d) ?? 0}`);
    return problems;
  }

  /** Every node path with its value, for tests and debugging. */
  dump(): Array<[string, string]> {
    return [...this.nodes.entries()].map(([p, n]) => [p, n.value.toString('latin1')]);
  }
}

/** An in-process watcher: events are queued and delivered in a microtask, identical pending ones merged. */
class InProcessSink implements WatchSink {
  closed = false;
  private queue: Array<[string, string]> = [];
  constructor(
    readonly domid: number,
    private readonly cb: (path: string, token: string) => void,
  ) {}

  event(path: string, token: string): void {
    if (this.closed) return;
    if (!path.startsWith('@') && this.queue.some(([p, t]) => p === path && t === token)) return;
    this.queue.push([path, token]);
    if (this.queue.length === 1) queueMicrotask(() => this.flush());
  }

  private flush(): void {
    const q = this.queue;
    this.queue = [];
    for (const [p, t] of q) if (!this.closed) this.cb(p, t);
  }
}

class Handle implements XsHandle {
  constructor(
    private readonly store: SimXenstore,
    private readonly caller: XsCaller,
  ) {}

  get domid(): number {
    return this.caller.domid;
  }

  read(path: string): string {
    return this.store.read(this.caller, path).toString('utf8');
  }

  tryRead(path: string): string | undefined {
    try {
      return this.read(path);
    } catch (e) {
      if (e instanceof XsError && e.code === 'ENOENT') return undefined;
      throw e;
    }
  }

  write(path: string, value: string): void {
    this.store.write(this.caller, path, Buffer.from(value, 'utf8'));
  }

  mkdir(path: string): void {
    this.store.mkdir(this.caller, path);
  }

  rm(path: string): void {
    this.store.rm(this.caller, path);
  }

  directory(path: string): string[] {
    return this.store.directory(this.caller, path);
  }

  getPerms(path: string): XsPerm[] {
    return this.store.getPerms(this.caller, path);
  }

  setPerms(path: string, perms: XsPerm[]): void {
    this.store.setPerms(this.caller, path, perms);
  }

  exists(path: string): boolean {
    return this.store.exists(this.caller, path);
  }

  transaction<T>(fn: (tx: XsHandle) => T, retries = 16): T {
    if (this.caller.tx) return fn(this);
    for (let attempt = 0; ; attempt++) {
      const t = this.store.startTransaction(this.caller.domid, 0);
      let result: T;
      try {
        result = fn(new Handle(this.store, { domid: this.caller.domid, tx: t }));
      } catch (e) {
        this.store.abortTransaction(t);
        throw e;
      }
      try {
        this.store.commitTransaction(t);
        return result;
      } catch (e) {
        if (!(e instanceof XsError) || e.code !== 'EAGAIN' || attempt >= retries) throw e;
      }
    }
  }
}

/** A fresh simulated xenstore with xenstored's initial tree. */
export function createSimXenstore(opts?: SimXenstoreOptions): SimXenstore {
  return new SimXenstore(opts);
}
