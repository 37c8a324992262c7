import { describe, expect, it } from 'vitest';
import type { XRecord } from '../../../../machines/events/record.ts';
import { HistorySeries } from './history-series.ts';
import { HostFacts } from './host-facts.ts';

let seq = 0;
const rec = (type: string, data: Record<string, unknown>, ts = 1000 + seq): XRecord => ({ seq: ++seq, ts, src: 'xs', type, data, prev: '0'.repeat(64), hash: '0'.repeat(64) });

describe('HistorySeries', () => {
  it('answers the value at any seq, undefined before the first change', () => {
    const s = new HistorySeries<number>();
    s.set(5, 1);
    s.set(9, 2);
    s.set(9, 3);
    expect(s.at(4)).toBeUndefined();
    expect(s.at(5)).toBe(1);
    expect(s.at(8)).toBe(1);
    expect(s.at(9)).toBe(3);
    expect(s.at()).toBe(3);
    expect(() => s.set(2, 0)).toThrow(/backwards/);
  });
});

describe('domain facts', () => {
  it('memory, vCPUs online and the start of the instance, as they were at any seq', () => {
    seq = 0;
    const f = new HostFacts();
    f.apply(rec('xs.introduce', { domid: 3 }, 5000));
    f.apply(rec('xs.write', { path: '/local/domain/3/memory/target', value: '1048576' }));
    f.apply(rec('xs.write', { path: '/local/domain/3/cpu/0/availability', value: 'online' }));
    f.apply(rec('xs.write', { path: '/local/domain/3/cpu/1/availability', value: 'online' }));
    const two = seq;
    f.apply(rec('xs.write', { path: '/local/domain/3/cpu/1/availability', value: 'offline' }));
    f.apply(rec('xs.write', { path: '/local/domain/3/memory/target', value: '524288' }));
    expect(f.at(3)).toMatchObject({ memoryKb: 524288, vcpus: 1, since: 5000, sinceExact: true });
    expect(f.at(3, two)).toMatchObject({ memoryKb: 1048576, vcpus: 2 });
    expect(f.at(3, 0)).toEqual({ memoryKb: undefined, maxMemoryKb: undefined, vcpus: undefined, since: undefined, sinceExact: undefined });
    expect(f.at(99)).toEqual({});
  });

  it('a domain already up when first seen has a lower bound on its uptime only', () => {
    seq = 0;
    const f = new HostFacts();
    f.apply(rec('xs.write', { path: '/local/domain/4/vm', value: '/vm/abc' }, 7000));
    expect(f.at(4)).toMatchObject({ since: 7000, sinceExact: false });
    f.apply(rec('xs.rm', { path: '/local/domain/4' }));
    expect(f.at(4).since).toBeUndefined();
  });

  it('ignores records it has already folded', () => {
    seq = 0;
    const f = new HostFacts();
    const r = rec('xs.write', { path: '/local/domain/2/memory/target', value: '10' });
    f.apply(r);
    f.apply({ ...r, data: { path: '/local/domain/2/memory/target', value: '20' } });
    expect(f.at(2).memoryKb).toBe(10);
  });
});
