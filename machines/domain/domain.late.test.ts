import { describe, it, expect } from 'vitest';
import type { XRecord } from '../events/record.ts';
import { HostRouter } from '../host/router.ts';
import { domainBinding, domainActorId } from './domain.binding.ts';

const U = 'b01ef579-c0da-4555-b8fe-c4812f4a8c85';
let seq = 0;
const rec = (type: string, data: Record<string, unknown>): XRecord => ({ seq: ++seq, ts: 1_000 + seq, src: type === 'log.line' ? 'log' : 'xs', type, data, prev: '', hash: '' }) as XRecord;

/** A crash destroyed faster than any dominfo poll: xenstore shows the domain gone, and xl's log says why only afterwards. */
function lateCrash(): XRecord[] {
  seq = 0;
  return [
    rec('xs.write', { path: '/local/domain/1/vm', value: `/vm/${U}` }),
    rec('xs.write', { path: '/local/domain/1/name', value: 'db' }),
    rec('xs.introduce', { domid: 1 }),
    rec('xs.rm', { path: '/local/domain/1' }),
    rec('xs.release', { domid: 1 }),
    rec('log.line', { file: 'xl', name: 'db', line: 'Domain 1 has shut down, reason code 3 0x3' }),
    rec('log.line', { file: 'xl', name: 'db', line: 'Action for shutdown reason code 3 is destroy' }),
    rec('log.line', { file: 'xl', name: 'db', line: 'Domain 1 needs to be cleaned up: destroying the domain' }),
    rec('log.line', { file: 'xl', name: 'db', line: 'Done. Exiting now' }),
  ];
}

describe('xl log lines that arrive after the domain is gone', () => {
  it('are routed by the log file name, and the crash is recorded as an incident', () => {
    const r = new HostRouter([domainBinding]);
    const ts = lateCrash().flatMap((x) => r.apply(x));
    expect(ts.filter((t) => t.actor === domainActorId(U)).map((t) => t.to)).toEqual(['creating', 'running', 'gone', 'shutdown.crash', 'gone']);
    expect(r.incidents.map((i) => i.kind)).toEqual(['crash']);
    const c = r.view().actors.find((a) => a.id === domainActorId(U))!.context as { onActions: Record<string, string>; lastShutdownReason: string };
    expect(c.onActions).toEqual({ crash: 'destroy' });
    expect(c.lastShutdownReason).toBe('crash');
  });

  it('"Done. Exiting now" after a preserve does not make the domain gone', () => {
    const r = new HostRouter([domainBinding]);
    const recs = lateCrash().slice(0, 3);
    recs.push(
      rec('log.line', { file: 'xl', name: 'db', line: 'Domain 1 has shut down, reason code 3 0x3' }),
      rec('log.line', { file: 'xl', name: 'db', line: 'Action for shutdown reason code 3 is preserve' }),
      rec('log.line', { file: 'xl', name: 'db', line: 'Done. Exiting now' }),
    );
    for (const x of recs) r.apply(x);
    expect(r.actorState(domainActorId(U))).toBe('shutdown.crash');
  });

  it('a late line naming the old domid reaches the old domain, not the new one holding its name', () => {
    const U2 = '0d8f3c2e-5b1a-4e7c-9f00-7a6b5c4d3e2f';
    const r = new HostRouter([domainBinding]);
    seq = 0;
    const recs = [
      rec('xs.write', { path: '/local/domain/1/vm', value: `/vm/${U}` }),
      rec('xs.write', { path: '/local/domain/1/name', value: 'db' }),
      rec('xs.introduce', { domid: 1 }),
      rec('xs.rm', { path: '/local/domain/1' }),
      rec('xs.release', { domid: 1 }),
      // db is created again as domid 2 before xl's monitor of domid 1 writes its lines.
      rec('xs.write', { path: '/local/domain/2/vm', value: `/vm/${U2}` }),
      rec('xs.write', { path: '/local/domain/2/name', value: 'db' }),
      rec('xs.introduce', { domid: 2 }),
      { ...rec('log.line', { file: 'xl', domid: 1, name: 'db', line: 'Domain 1 has shut down, reason code 3 0x3' }), domid: 1 },
    ];
    for (const x of recs) r.apply(x);
    expect(r.incidents.map((i) => [i.kind, i.actor])).toEqual([['crash', domainActorId(U)]]);
    expect(r.actorState(domainActorId(U2))).toBe('running');
  });
});
