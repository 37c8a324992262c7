/**
 * The router's view of the xenstore tree as observed (values read after
 * watches fired). A small tree so that removing a subtree (xs.rm) and listing
 * children are cheap; serialisable for snapshots.
 */
interface Node {
  v?: string;
  c?: Map<string, Node>;
}

export type MirrorJson = { v?: string; c?: Record<string, MirrorJson> };

export class Mirror {
  private root: Node = {};
  private nodes = 0;

  get size(): number {
    return this.nodes;
  }

  private find(path: string): Node | undefined {
    let n: Node | undefined = this.root;
    for (const part of split(path)) {
      n = n.c?.get(part);
      if (!n) return undefined;
    }
    return n;
  }

  read(path: string): string | undefined {
    return this.find(path)?.v;
  }

  children(path: string): string[] {
    const n = this.find(path);
    return n?.c ? [...n.c.keys()].sort() : [];
  }

  write(path: string, value: string): void {
    let n = this.root;
    for (const part of split(path)) {
      if (!n.c) n.c = new Map();
      let next = n.c.get(part);
      if (!next) {
        next = {};
        n.c.set(part, next);
        this.nodes++;
      }
      n = next;
    }
    n.v = value;
  }

  rm(path: string): void {
    const parts = split(path);
    if (parts.length === 0) {
      this.root = {};
      this.nodes = 0;
      return;
    }
    let n: Node | undefined = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      n = n.c?.get(parts[i]);
      if (!n) return;
    }
    const last = parts[parts.length - 1];
    const gone = n.c?.get(last);
    if (!gone) return;
    this.nodes -= count(gone);
    n.c!.delete(last);
  }

  toJSON(): MirrorJson {
    return toJson(this.root);
  }

  static fromJSON(j: MirrorJson): Mirror {
    const m = new Mirror();
    m.root = fromJson(j);
    m.nodes = count(m.root) - 1;
    return m;
  }
}

function split(path: string): string[] {
  return path.split('/').filter((p) => p !== '');
}

function count(n: Node): number {
  let k = 1;
  if (n.c) for (const ch of n.c.values()) k += count(ch);
  return k;
}

function toJson(n: Node): MirrorJson {
  const out: MirrorJson = {};
  if (n.v !== undefined) out.v = n.v;
  if (n.c && n.c.size) {
    out.c = {};
    for (const [k, ch] of n.c) out.c[k] = toJson(ch);
  }
  return out;
}

function fromJson(j: MirrorJson): Node {
  const n: Node = {};
  if (j.v !== undefined) n.v = j.v;
  if (j.c) {
    n.c = new Map();
    for (const k of Object.keys(j.c)) n.c.set(k, fromJson(j.c[k]));
  }
  return n;
}
