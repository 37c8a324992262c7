/**
 * The in-process interface of the simulated xenstore, used by the simulated
 * toolstack, backends and guests (electron/sim/host/). The wire server
 * (electron/sim/xenstore/server.ts) serves the same store to real clients
 * over the xenstore protocol. Every write made here fires watches exactly as
 * a write from a socket client does.
 */

/** xenstore permission: owner/`n` none, `r` read, `w` write, `b` both. The first entry is the owner + default. */
export interface XsPerm {
  domid: number;
  perm: 'n' | 'r' | 'w' | 'b';
}

/** Thrown with the xenstored error name (ENOENT, EACCES, EINVAL, EEXIST, EAGAIN, E2BIG, ENOSPC, EQUOTA...). */
export class XsError extends Error {
  constructor(
    readonly code: string,
    message?: string,
  ) {
    super(message ?? code);
    this.name = 'XsError';
  }
}

/** A view of the store acting as one domain (0 = dom0, privileged). */
export interface XsHandle {
  readonly domid: number;
  read(path: string): string; // throws XsError('ENOENT')
  tryRead(path: string): string | undefined;
  write(path: string, value: string): void; // creates parents as xenstored does
  mkdir(path: string): void;
  rm(path: string): void; // removes the subtree; a missing node is OK if its parent exists, else ENOENT (xenstored 4.17)
  directory(path: string): string[];
  getPerms(path: string): XsPerm[];
  setPerms(path: string, perms: XsPerm[]): void;
  exists(path: string): boolean;
  /** Runs fn inside one transaction; retries on EAGAIN up to `retries` times. Watches fire at commit. */
  transaction<T>(fn: (tx: XsHandle) => T, retries?: number): T;
}

export interface XsStore {
  /** Act as a domain (dom0 is privileged). */
  as(domid: number): XsHandle;
  /** XS_INTRODUCE as dom0 does: fires @introduceDomain. */
  introduce(domid: number): void;
  /** XS_RELEASE / domain death seen by xenstored: fires @releaseDomain. */
  release(domid: number): void;
  isIntroduced(domid: number): boolean;
  /** In-process watch (for simulated backends and guests). Fires once at registration like xenstored. Returns an unwatch. */
  watch(path: string, token: string, cb: (path: string, token: string) => void, asDomid?: number): () => void;
}

/** The simulated hypervisor's side of the store, beyond the shared XsStore interface. */
export interface XsSimStore extends XsStore {
  /** The domain exists (the hypervisor created it); SET_PERMS may now name it as owner. */
  createDomain(domid: number): void;
  /** The domain shut down: @releaseDomain fires once until it is resumed; it stays introduced. */
  shutdownDomain(domid: number): void;
  /** XS_RESUME: re-arms @releaseDomain for the next shutdown. */
  resumeDomain(domid: number): void;
  /** The domain died: connections dropped, owned nodes deleted, @releaseDomain if it was introduced. */
  destroyDomain(domid: number): void;
  domainExists(domid: number): boolean;
  /** XS_SET_TARGET: `domid` (a stub domain) gets its target's privileges. */
  setTarget(domid: number, target: number): void;
}
