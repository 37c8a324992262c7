/**
 * Our own drawing of a machine definition (no hosted inspector): walks
 * `machine.root` (XState v5 StateNodes) into boxes and edges with a simple
 * layered layout, and says which boxes a state value lights. Pure: the
 * Statechart component only turns the result into SVG.
 *
 * Layout: atomic states are boxes; a compound state is a frame whose children
 * are placed in columns by their distance from its initial state (following
 * transitions between siblings); a parallel state places its regions side by
 * side. Transitions declared on the root apply from any state and are listed,
 * not drawn.
 */

/** The part of an XState StateNode this module reads. */
export interface StateNodeLike {
  key: string;
  path: string[];
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  states: Record<string, StateNodeLike>;
  initial?: { target?: readonly StateNodeLike[] } | undefined;
  transitions: Map<string, readonly { target?: readonly StateNodeLike[] | undefined; eventType: string }[]>;
  always?: readonly { target?: readonly StateNodeLike[] | undefined; eventType: string }[] | undefined;
}

export interface ChartBox {
  /** Dotted path below the root, e.g. `shutdown.crash`. */
  id: string;
  label: string;
  kind: 'atomic' | 'compound' | 'parallel' | 'final' | 'region';
  x: number;
  y: number;
  w: number;
  h: number;
  initial: boolean;
  depth: number;
}

export interface ChartEdge {
  from: string;
  to: string;
  events: string[];
}

export interface Chart {
  id: string;
  width: number;
  height: number;
  boxes: ChartBox[];
  edges: ChartEdge[];
  /** Transitions declared on the machine itself: from any state. */
  anyState: ChartEdge[];
}

const CHAR_W = 7;
const BOX_H = 26;
const PAD = 10;
const HEADER = 20;
const GAP_X = 34;
const GAP_Y = 10;

interface Sized {
  node: StateNodeLike;
  id: string;
  w: number;
  h: number;
  kind: ChartBox['kind'];
  children: Sized[];
  /** Child positions relative to this frame. */
  at: { x: number; y: number }[];
}

const pathId = (n: StateNodeLike) => n.path.join('.');

/** Sibling of `parent` that contains `target` (or undefined when outside). */
function siblingOf(parent: StateNodeLike, target: StateNodeLike): string | undefined {
  if (target.path.length <= parent.path.length) return undefined;
  for (let i = 0; i < parent.path.length; i++) if (parent.path[i] !== target.path[i]) return undefined;
  return target.path[parent.path.length];
}

function outgoing(n: StateNodeLike): StateNodeLike[] {
  const out: StateNodeLike[] = [];
  for (const ts of n.transitions.values()) for (const t of ts) for (const x of t.target ?? []) out.push(x);
  for (const t of n.always ?? []) for (const x of t.target ?? []) out.push(x);
  return out;
}

/** Every transition declared on `n` or its descendants. */
function descendantsTargets(n: StateNodeLike): StateNodeLike[] {
  const out = outgoing(n);
  for (const c of Object.values(n.states)) out.push(...descendantsTargets(c));
  return out;
}

function size(node: StateNodeLike, regionOf: boolean): Sized {
  const children = Object.values(node.states);
  const id = pathId(node);
  if (children.length === 0) {
    return { node, id, w: Math.max(64, node.key.length * CHAR_W + 20), h: BOX_H, kind: node.type === 'final' ? 'final' : 'atomic', children: [], at: [] };
  }
  const sized = children.map((c) => size(c, node.type === 'parallel'));
  const at: { x: number; y: number }[] = [];
  let w = 0;
  let h = 0;
  if (node.type === 'parallel') {
    let x = PAD;
    for (const s of sized) {
      at.push({ x, y: HEADER });
      x += s.w + GAP_X / 2;
      h = Math.max(h, s.h);
    }
    w = x - GAP_X / 2 + PAD;
    h += HEADER + PAD;
  } else {
    // Columns by distance from the initial state, following transitions between siblings.
    const keys = children.map((c) => c.key);
    const layer = new Map<string, number>();
    const init = node.initial?.target?.[0];
    const start = init ? siblingOf(node, init) : keys[0];
    const adj = new Map<string, Set<string>>();
    for (const c of children) {
      const set = new Set<string>();
      for (const t of descendantsTargets(c)) {
        const s = siblingOf(node, t);
        if (s && s !== c.key) set.add(s);
      }
      adj.set(c.key, set);
    }
    const linked = [...adj.values()].some((s) => s.size > 0);
    if (!linked) {
      keys.forEach((k) => layer.set(k, 0));
    } else {
      const q: string[] = [];
      if (start) {
        layer.set(start, 0);
        q.push(start);
      }
      while (q.length) {
        const k = q.shift()!;
        for (const nb of adj.get(k) ?? []) {
          if (!layer.has(nb)) {
            layer.set(nb, layer.get(k)! + 1);
            q.push(nb);
          }
        }
      }
      const max = Math.max(0, ...layer.values());
      for (const k of keys) if (!layer.has(k)) layer.set(k, max + 1);
    }
    // Keep columns short: split a tall column in two.
    const cols: Sized[][] = [];
    sized.forEach((s, i) => {
      const l = layer.get(keys[i])!;
      (cols[l] ??= []).push(s);
    });
    const packed: Sized[][] = [];
    for (const c of cols.filter(Boolean)) {
      if (c.length > 5 && linked) {
        const half = Math.ceil(c.length / 2);
        packed.push(c.slice(0, half), c.slice(half));
      } else packed.push(c);
    }
    let x = PAD;
    const pos = new Map<Sized, { x: number; y: number }>();
    for (const col of packed) {
      let y = HEADER;
      let cw = 0;
      for (const s of col) {
        pos.set(s, { x, y });
        y += s.h + GAP_Y;
        cw = Math.max(cw, s.w);
      }
      h = Math.max(h, y - GAP_Y);
      x += cw + GAP_X;
    }
    w = Math.max(x - GAP_X + PAD, node.key.length * CHAR_W + 2 * PAD);
    h += PAD;
    for (const s of sized) at.push(pos.get(s)!);
  }
  return { node, id, w, h, kind: regionOf ? 'region' : node.type === 'parallel' ? 'parallel' : 'compound', children: sized, at };
}

function place(s: Sized, x: number, y: number, depth: number, initial: boolean, out: ChartBox[]): void {
  if (s.id !== '') out.push({ id: s.id, label: s.node.key, kind: s.kind, x, y, w: s.w, h: s.h, initial, depth });
  const init = s.node.initial?.target?.[0];
  s.children.forEach((c, i) => place(c, x + s.at[i].x, y + s.at[i].y, depth + 1, !!init && siblingOf(s.node, init) === c.node.key && s.node.type !== 'parallel', out));
}

/** Lay out a machine's root (pass `machine.root`). */
export function layoutMachine(root: StateNodeLike): Chart {
  const top = size(root, false);
  // The root's own frame is the chart: its children sit at their offsets.
  const boxes: ChartBox[] = [];
  top.children.forEach((c, i) => {
    const init = root.initial?.target?.[0];
    place(c, top.at[i].x, top.at[i].y - HEADER + PAD, 0, !!init && siblingOf(root, init) === c.node.key && root.type !== 'parallel', boxes);
  });
  const edges = new Map<string, ChartEdge>();
  const anyState = new Map<string, ChartEdge>();
  const visit = (n: StateNodeLike) => {
    const from = pathId(n);
    const add = (ev: string, targets: readonly StateNodeLike[] | undefined) => {
      for (const t of targets ?? []) {
        const to = pathId(t);
        if (to === from) continue;
        const map = n === root ? anyState : edges;
        const key = `${from}→${to}`;
        const e = map.get(key) ?? { from: n === root ? '*' : from, to, events: [] };
        if (!e.events.includes(ev)) e.events.push(ev);
        map.set(key, e);
      }
    };
    for (const [ev, ts] of n.transitions) for (const t of ts) add(ev, t.target);
    for (const t of n.always ?? []) add('(always)', t.target);
    for (const c of Object.values(n.states)) visit(c);
  };
  visit(root);
  const width = top.w;
  const height = top.h - HEADER + PAD;
  return { id: root.key, width, height, boxes, edges: [...edges.values()], anyState: [...anyState.values()] };
}

/**
 * The box ids a state value lights: `shutdown.crash` → shutdown, shutdown.crash;
 * parallel values as the router prints them (`backend.Connected,frontend.InitWait,link.waiting`).
 */
export function litIds(state: string): Set<string> {
  const out = new Set<string>();
  for (const part of state.split(',')) {
    const segs = part.split('.');
    for (let i = 1; i <= segs.length; i++) out.add(segs.slice(0, i).join('.'));
  }
  return out;
}

/** A path for an edge between two boxes: leaves the right side, enters the left (or loops below for back edges). */
export function edgePath(a: ChartBox, b: ChartBox): string {
  const ax = a.x + a.w;
  const ay = a.y + a.h / 2;
  const bx = b.x;
  const by = b.y + b.h / 2;
  if (bx > ax) {
    const dx = (bx - ax) / 2;
    return `M${ax},${ay} C${ax + dx},${ay} ${bx - dx},${by} ${bx},${by}`;
  }
  // Backwards or same column: from the bottom of a to the bottom of b, bowing downwards.
  const sx = a.x + a.w / 2;
  const sy = a.y + a.h;
  const ex = b.x + b.w / 2;
  const ey = b.y + b.h;
  const bow = 16 + Math.abs(sx - ex) / 6;
  return `M${sx},${sy} C${sx},${Math.max(sy, ey) + bow} ${ex},${Math.max(sy, ey) + bow} ${ex},${ey}`;
}
