import { describe, it, expect } from 'vitest';
import type { XRecord } from '../events/record.ts';
import { HostRouter } from '../host/router.ts';
import { xenbusBinding, xenbusActorId } from './xenbus.binding.ts';

const U = '37e652b9-8f6a-4afd-87ee-751f742aad9b';
const BE = '/local/domain/0/backend/vbd/2/5632';
const FE = '/local/domain/2/device/vbd/5632';

function recs(w: [string, string][]): XRecord[] {
  return w.map(([path, value], i) => ({ seq: i + 1, ts: 1_000 + i * 5, src: 'xs', type: 'xs.write', data: { path, value }, prev: '', hash: '' }) as XRecord);
}

/** A stub domain's CD-ROM disk detached and attached again at the same path during a media change (seed 000). */
const reattach: [string, string][] = [
  ['/local/domain/2/vm', `/vm/${U}`],
  [`${BE}/frontend`, FE],
  [`${BE}/online`, '1'],
  [`${BE}/state`, '1'],
  [`${FE}/backend`, BE],
  [`${FE}/state`, '1'],
  [`${BE}/state`, '2'],
  [`${BE}/hotplug-status`, 'connected'],
  [`${FE}/state`, '3'],
  [`${BE}/state`, '4'],
  [`${FE}/state`, '4'],
  // detach without force
  [`${BE}/online`, '0'],
  [`${BE}/state`, '5'],
  [`${FE}/state`, '6'],
  [`${BE}/state`, '6'],
  // attach with the new media, same devid, same paths
  [`${BE}/online`, '1'],
  [`${BE}/state`, '2'],
  [`${BE}/params`, '/var/lib/isos/tools.iso'],
  [`${FE}/state`, '1'],
  [`${FE}/state`, '3'],
  [`${BE}/state`, '4'],
  [`${FE}/state`, '4'],
];

describe('xenbus device detached and attached again at the same path', () => {
  it('is not a failure: the old round closed by removal, the new one connects', () => {
    const r = new HostRouter([xenbusBinding]);
    for (const x of recs(reattach)) r.apply(x);
    expect(r.incidents).toEqual([]);
    expect(r.actorState(xenbusActorId(U, 'vbd', 5632))).toBe('backend.Connected,frontend.Connected,link.connected');
  });

  it('while the frontend is still Closed from the old round, the new round shows no failure', () => {
    const r = new HostRouter([xenbusBinding]);
    for (const x of recs(reattach.slice(0, 18))) r.apply(x);
    expect(r.incidents).toEqual([]);
  });

  it('a frontend that closes before connecting in the new round is still a failure', () => {
    const r = new HostRouter([xenbusBinding]);
    const bad = [...reattach.slice(0, 19), [`${FE}/state`, '6'] as [string, string]];
    for (const x of recs(bad)) r.apply(x);
    expect(r.incidents.map((i) => i.kind)).toEqual(['handshake-failure']);
    expect(r.incidents[0].summary).toMatch(/frontend closed before connecting/);
  });
});

describe("libxl's timeout seen through its removal", () => {
  const B = '/local/domain/0/backend/vif/2/0';
  const F = '/local/domain/2/device/vif/0';
  function run(removeAfterMs: number) {
    const base: [string, string][] = [['/local/domain/2/vm', `/vm/${U}`], [`${B}/frontend`, F], [`${B}/online`, '1'], [`${B}/state`, '1'], [`${F}/state`, '1']];
    const recsA = recs(base);
    const last = recsA[recsA.length - 1];
    const removal = [`${B}/online`, `${B}/state`].map((path, i) => ({ seq: last.seq + 1 + i, ts: last.ts + removeAfterMs + i, src: 'xs', type: 'xs.write', data: { path, value: i ? '5' : '0' }, prev: '', hash: '' }) as XRecord);
    const r = new HostRouter([xenbusBinding]);
    for (const x of [...recsA, ...removal]) r.apply(x);
    return r;
  }
  it('a removal in the last second of the 10 s InitWait wait is libxl giving up: a stall', () => {
    expect(run(9_600).incidents.map((i) => i.kind)).toEqual(['handshake-stall']);
  });
  it('an earlier removal is an ordinary detach, not a stall', () => {
    expect(run(3_000).incidents).toEqual([]);
  });
});
