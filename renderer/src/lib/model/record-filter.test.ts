import { describe, expect, it } from 'vitest';
import { goldenRecords } from '../testing/bundles.ts';
import { compileFilter, isEmptyFilter } from './record-filter.ts';
import { provenance, summary } from './provenance.ts';

const recs = goldenRecords('soft-reset');
const keep = (f: Parameters<typeof compileFilter>[0]) => recs.filter(compileFilter(f));

describe('timeline filters', () => {
  it('an empty filter keeps everything', () => {
    expect(isEmptyFilter({})).toBe(true);
    expect(isEmptyFilter({ text: '  ' })).toBe(true);
    expect(keep({})).toHaveLength(recs.length);
  });
  it('by type and by source', () => {
    const t = keep({ types: ['dominfo'] });
    expect(t.length).toBeGreaterThan(0);
    expect(t.every((r) => r.type === 'dominfo')).toBe(true);
    const s = keep({ srcs: ['log'] });
    expect(s.every((r) => r.src === 'log')).toBe(true);
  });
  it('by domain uuid, including the transitions of its actors', () => {
    const uuid = recs.find((r) => r.uuid)!.uuid!;
    const d = keep({ uuid });
    expect(d.length).toBeGreaterThan(0);
    expect(d.some((r) => r.type === 'machine.transition')).toBe(true);
    expect(keep({ uuid: 'no-such-uuid' })).toEqual([]);
  });
  it('by device: frontend and backend paths of that device only', () => {
    const d = keep({ device: 'vbd/51712' });
    expect(d.length).toBeGreaterThan(0);
    for (const r of d) {
      const p = (r.data as { path?: string }).path ?? (r.data as { actor?: string }).actor ?? '';
      expect(p).toMatch(/51712/);
    }
  });
  it('by time range, inclusive', () => {
    const mid = recs[Math.floor(recs.length / 2)].ts;
    const d = keep({ tsFrom: mid, tsTo: mid });
    expect(d.length).toBeGreaterThan(0);
    expect(d.every((r) => r.ts === mid)).toBe(true);
  });
  it('by free text over summary, provenance and raw data, case-insensitively', () => {
    const d = keep({ text: 'SOFT-RESET' });
    expect(d.length).toBeGreaterThan(0);
    expect(d.every((r) => `${summary(r)} ${provenance(r).where} ${JSON.stringify(r.data)}`.toLowerCase().includes('soft-reset'))).toBe(true);
  });
  it('filters combine', () => {
    const d = keep({ types: ['log.line'], text: 'soft-reset' });
    expect(d.length).toBeGreaterThan(0);
    expect(d.every((r) => r.type === 'log.line')).toBe(true);
  });
});

describe('provenance', () => {
  it('names the xenstore path, the log file, the QMP event or the person', () => {
    const xs = recs.find((r) => r.type === 'xs.write')!;
    expect(provenance(xs)).toEqual({ origin: 'xenstore', where: (xs.data as { path: string }).path });
    const log = recs.find((r) => r.type === 'log.line');
    if (log) expect(provenance(log).where).toMatch(/^xl-.*\.log: /);
    const person = provenance({ ...xs, type: 'cmd.request', src: 'user', data: { cmd: 'c1', user: 'ana', op: 'cd-eject', args: {} } });
    expect(person).toEqual({ origin: 'person', where: 'ana asked cd-eject (command c1)' });
  });
});
