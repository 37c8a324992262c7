import { describe, expect, it } from 'vitest';
import { domainMachine } from '../../../../machines/domain/domain.machine.ts';
import { xenbusMachine } from '../../../../machines/xenbus/xenbus.machine.ts';
import { cdromMachine } from '../../../../machines/cdrom/cdrom.machine.ts';
import { edgePath, layoutMachine, litIds, type ChartBox, type StateNodeLike } from './statechart.ts';

const root = (m: { root: unknown }) => m.root as StateNodeLike;
const overlap = (a: ChartBox, b: ChartBox) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const inside = (a: ChartBox, f: ChartBox) => a.x >= f.x && a.y >= f.y && a.x + a.w <= f.x + f.w && a.y + a.h <= f.y + f.h;

describe('statechart layout from a machine definition', () => {
  it('draws every state of the domain machine, the shutdown reasons inside their frame', () => {
    const c = layoutMachine(root(domainMachine));
    const ids = c.boxes.map((b) => b.id).sort();
    for (const s of ['creating', 'running', 'paused', 'shuttingDown', 'shutdown', 'softResetting', 'dying', 'gone']) expect(ids).toContain(s);
    for (const r of ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset']) expect(ids).toContain(`shutdown.${r}`);
    const frame = c.boxes.find((b) => b.id === 'shutdown')!;
    expect(frame.kind).toBe('compound');
    for (const b of c.boxes.filter((x) => x.id.startsWith('shutdown.'))) expect(inside(b, frame)).toBe(true);
    expect(c.boxes.find((b) => b.id === 'creating')!.initial).toBe(true);
    expect(c.width).toBeGreaterThan(0);
    expect(c.height).toBeGreaterThan(0);
  });

  it('no two boxes at the same level overlap', () => {
    for (const m of [domainMachine, cdromMachine, xenbusMachine]) {
      const c = layoutMachine(root(m));
      const leaves = c.boxes.filter((b) => b.kind === 'atomic' || b.kind === 'final');
      for (let i = 0; i < leaves.length; i++) for (let j = i + 1; j < leaves.length; j++) expect(overlap(leaves[i], leaves[j]), `${leaves[i].id} / ${leaves[j].id}`).toBe(false);
    }
  });

  it('edges follow the definition: running can go to softResetting; machine-level transitions are listed as from any state', () => {
    const c = layoutMachine(root(domainMachine));
    const e = c.edges.find((x) => x.from === 'running' && x.to === 'softResetting');
    expect(e).toBeDefined();
    expect(e!.events.length).toBeGreaterThan(0);
    expect(c.edges.every((x) => x.from !== x.to)).toBe(true);
    expect(c.anyState.some((x) => x.to === 'creating' && x.events.includes('domain.vm'))).toBe(true);
  });

  it('a parallel machine places its regions side by side', () => {
    const c = layoutMachine(root(xenbusMachine));
    const regions = c.boxes.filter((b) => b.kind === 'region');
    expect(regions.map((r) => r.id).sort()).toEqual(['backend', 'frontend', 'link']);
    const ys = new Set(regions.map((r) => r.y));
    expect(ys.size).toBe(1);
    for (let i = 0; i < regions.length; i++) for (let j = i + 1; j < regions.length; j++) expect(overlap(regions[i], regions[j])).toBe(false);
  });

  it('lights the state and its ancestors, and every region of a parallel value', () => {
    expect([...litIds('shutdown.crash')].sort()).toEqual(['shutdown', 'shutdown.crash']);
    expect(litIds('backend.Connected,frontend.InitWait,link.waiting').has('frontend.InitWait')).toBe(true);
    expect(litIds('backend.Connected,frontend.InitWait,link.waiting').has('frontend.Connected')).toBe(false);
  });

  it('an edge path runs from one box to the other', () => {
    const a: ChartBox = { id: 'a', label: 'a', kind: 'atomic', x: 0, y: 0, w: 50, h: 20, initial: false, depth: 0 };
    const b: ChartBox = { ...a, id: 'b', x: 100 };
    expect(edgePath(a, b)).toMatch(/^M50,10 C.* 100,10$/);
    expect(edgePath(b, a)).toMatch(/^M125,20 C/);
  });
});
