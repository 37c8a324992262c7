/**
 * The simulated host's file system, as far as backends look at it: which
 * directories and files exist (9pfs share paths, disk images, ISOs). Starts
 * with the directories a Debian Xen host has and the files a scenario names.
 */
export class HostFs {
  private readonly dirs = new Set<string>(['/']);
  private readonly files = new Map<string, number>();
  /** Directories where mkdir fails (e.g. a read-only mount). */
  readonly readOnly = new Set<string>();

  constructor(init: { dirs?: string[]; files?: Record<string, number> } = {}) {
    for (const d of ['/srv', '/var', '/var/lib', '/var/lib/xen', '/var/lib/images', '/var/lib/isos', '/var/log/xen', '/etc/xen', '/dev', '/home', '/tmp', ...(init.dirs ?? [])]) this.mkdirp(d);
    for (const [f, size] of Object.entries(init.files ?? {})) this.addFile(f, size);
  }

  mkdirp(path: string): void {
    const parts = path.split('/').filter(Boolean);
    let cur = '';
    for (const p of parts) {
      cur += `/${p}`;
      this.dirs.add(cur);
    }
  }

  addFile(path: string, size = 4 << 20): void {
    this.mkdirp(path.slice(0, path.lastIndexOf('/')) || '/');
    this.files.set(path, size);
  }

  /** stat(): 'dir', 'file' or undefined. Like stat(2), a trailing slash or `//` still names the same node. */
  stat(path: string): 'dir' | 'file' | undefined {
    const norm = path.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
    if (this.dirs.has(norm)) return 'dir';
    if (this.files.has(norm)) return 'file';
    return undefined;
  }

  size(path: string): number | undefined {
    return this.files.get(path);
  }

  /** mkdir(2): fails if the parent is missing, not a directory, read-only, or the path exists. */
  mkdir(path: string): boolean {
    const norm = path.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
    const parent = norm.slice(0, norm.lastIndexOf('/')) || '/';
    if (this.stat(norm) !== undefined) return false;
    if (this.stat(parent) !== 'dir' || this.readOnly.has(parent)) return false;
    this.dirs.add(norm);
    return true;
  }
}
