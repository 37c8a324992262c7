import { describe, expect, it } from 'vitest';
import { HostRouter } from '../host/router.ts';
import { ioreqBinding } from './ioreq.binding.ts';
import { ioreqModel } from './ioreq.rules.ts';
import type { IoreqRequest } from './ioreq.types.ts';

const UUID = '2b7e0d9e-0000-4000-8000-0000000000cc';

/** A simulated host whose device models ask for nine servers for domain 3 (the ninth is refused). */
function records() {
  const model = ioreqModel('4.17.7');
  let state = model.empty();
  const obs: any[] = [
    { src: 'xs', type: 'xs.write', data: { path: '/local/domain/3/vm', value: `/vm/${UUID}` }, domid: 3, uuid: UUID },
    { src: 'xs', type: 'xs.introduce', data: { domid: 3 } },
  ];
  const reqs: IoreqRequest[] = [
    ...Array.from({ length: 8 }, () => ({ caller: 0, op: 'create' as const })),
    { caller: 0, op: 'enable', id: 0 },
    { caller: 0, op: 'create' },
    { caller: 0, op: 'destroy', id: 7 },
  ];
  for (const r of reqs) {
    const out = model.step(state, r, obs.length + 1);
    state = out.state;
    const data = { domid: 3, ...r, ...(out.id !== undefined ? { id: out.id } : {}), result: out.result, xen: '4.17.7' };
    obs.push({ src: 'sim', type: 'ioreq.op', domid: 3, data });
  }
  return obs.map((o, i) => ({ seq: i + 1, ts: 1_763_740_000_000 + i * 50, prev: '', hash: '', ...o }));
}

describe('ioreq through the host router', () => {
  it('idle → servers → exhausted.full → exhausted.refused (ioreq-exhausted) → servers', () => {
    const router = new HostRouter([ioreqBinding]);
    const transitions = records().flatMap((r) => router.apply(r));
    expect(transitions.map((t) => `${t.from}→${t.to}@${t.cause}`)).toEqual([
      '-→idle@3',
      'idle→servers@3',
      'servers→exhausted.full@10',
      'exhausted.full→exhausted.refused@12',
      'exhausted.refused→servers@13',
    ]);
    const view = router.view();
    const c = view.actors.find((a) => a.id === `ioreq:${UUID}`)!.context as any;
    expect(c.inUse).toBe(7);
    expect(c.slots[0].state).toBe('enabled');
    expect(c.mismatchCount).toBe(0);
    expect(view.incidents).toHaveLength(1);
    expect(view.incidents[0]).toMatchObject({ kind: 'ioreq-exhausted', uuid: UUID, from: 10, to: 12 });
  });
});
