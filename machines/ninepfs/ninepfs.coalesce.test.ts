import { describe, it, expect } from 'vitest';
import type { XRecord } from '../events/record.ts';
import { HostRouter } from '../host/router.ts';
import { ninepfsBinding, ninepfsActorId } from './ninepfs.binding.ts';

const U = 'fb56d469-736a-4475-b3c6-1719ca167b59';
const BE = '/local/domain/0/backend/xen_9pfs/1/0';
const FE = '/local/domain/1/device/9pfs/0';

/** As the live host records a healthy share: the initial scan reports the backend before it knows the domain's uuid. */
function records(): XRecord[] {
  const w: [string, string][] = [
    [`${BE}/frontend`, FE],
    [`${BE}/path`, '/srv/share'],
    [`${BE}/security_model`, 'none'],
    [`${BE}/versions`, '1'],
    [`${BE}/max-rings`, '4'],
    [`${BE}/max-ring-page-order`, '9'],
    [`${BE}/state`, '2'],
    ['/local/domain/1/vm', `/vm/${U}`],
    [`${FE}/backend`, BE],
    [`${FE}/state`, '1'],
    [`${FE}/version`, '1'],
    [`${FE}/num-rings`, '1'],
    [`${FE}/event-channel-0`, '5'],
    [`${FE}/ring-ref0`, '8'],
    [`${FE}/state`, '4'], // Initialised was overwritten before the watch was read: coalesced
    [`${BE}/state`, '4'],
  ];
  return w.map(([path, value], i) => ({ seq: i + 1, ts: 1_000 + i, src: 'xs', type: 'xs.write', data: { path, value }, prev: '', hash: '' }) as XRecord);
}

describe('ninepfs with coalesced watches', () => {
  it('an actor created by the frontend backend pointer sees the backend keys recorded before the domain was known', () => {
    const r = new HostRouter([ninepfsBinding]);
    for (const rec of records().slice(0, 9)) r.apply(rec);
    const ctx = r.view().actors.find((a) => a.id === ninepfsActorId(U, 0))!.context as { be: Record<string, string> };
    expect(ctx.be.security_model).toBe('none');
    expect(ctx.be.path).toBe('/srv/share');
  });

  it('a frontend first seen Connected is judged as having been Initialised: no deviation, no incident', () => {
    const r = new HostRouter([ninepfsBinding]);
    for (const rec of records()) r.apply(rec);
    expect(r.actorState(ninepfsActorId(U, 0))).toBe('daemon.connected,observed.complied');
    expect(r.incidents).toEqual([]);
  });

  it('a frontend first seen Connected with invalid keys is still refused (num-rings 5)', () => {
    const recs = records().map((x) => ((x.data as { path: string }).path === `${FE}/num-rings` ? { ...x, data: { path: `${FE}/num-rings`, value: '5' } } : x));
    const r = new HostRouter([ninepfsBinding]);
    for (const rec of recs) r.apply(rec);
    expect(r.incidents.map((i) => i.kind)).toEqual(['handshake-failure']);
    expect(r.incidents[0].summary).toMatch(/num-rings 5/);
  });
});

describe('ninepfs removal', () => {
  it('a backend closed by libxl (online=0 first) is a removal, not a failure', () => {
    const r = new HostRouter([ninepfsBinding]);
    const base = records();
    const more = [
      [`${BE}/online`, '0'],
      [`${BE}/state`, '6'],
    ].map(([path, value], i) => ({ seq: base.length + i + 1, ts: 5_000 + i, src: 'xs', type: 'xs.write', data: { path, value }, prev: '', hash: '' }) as XRecord);
    for (const rec of [...base, ...more]) r.apply(rec);
    expect(r.incidents).toEqual([]);
  });
});

describe('a frontend first seen Closed, its keys observed after', () => {
  function run(version: string | null) {
    const w: [string, string][] = [
      ['/local/domain/1/vm', `/vm/${U}`],
      [`${BE}/frontend`, FE],
      [`${BE}/path`, '/srv/share'],
      [`${BE}/security_model`, 'none'],
      [`${BE}/state`, '2'],
      [`${FE}/backend`, BE],
      [`${FE}/state`, '6'], // read after the frontend had written everything, then closed
      ...(version === null ? [] : ([[`${FE}/version`, version], [`${FE}/num-rings`, '1'], [`${FE}/event-channel-0`, '5'], [`${FE}/ring-ref0`, '8']] as [string, string][])),
      [`${BE}/state`, '6'],
    ];
    const r = new HostRouter([ninepfsBinding]);
    w.forEach(([path, value], i) => r.apply({ seq: i + 1, ts: 1_000 + i, src: 'xs', type: 'xs.write', data: { path, value }, prev: '', hash: '' } as XRecord));
    return r;
  }
  it('keys that fail the checks arriving later are the reason the daemon closed: a handshake failure', () => {
    const r = run('2');
    expect(r.incidents.map((i) => i.kind)).toEqual(['handshake-failure']);
    expect(r.incidents[0].summary).toMatch(/version "2" is not 1/);
  });
  it('valid keys arriving later: the frontend closed on its own, no failure', () => {
    expect(run('1').incidents).toEqual([]);
  });
});
