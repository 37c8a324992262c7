import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { ioreqMachine, initialIoreqContext } from './ioreq.machine.ts';
import { ioreqIncident } from './ioreq.binding.ts';
import type { IoreqOpData } from './ioreq.types.ts';

const UUID = '2b7e0d9e-0000-4000-8000-000000000003';
const QEMU = 0;
const STUB = 5;

function start(xen = '4.17.7') {
  const actor = createActor(ioreqMachine, { input: { uuid: UUID, domid: 3, xen } }).start();
  let seq = 0;
  const op = (o: Omit<IoreqOpData, 'domid'> & { domid?: number }) => {
    seq += 1;
    actor.send({ type: 'ioreq.op', op: { domid: 3, ...o }, ts: 1000 + seq, seq });
    return actor.getSnapshot();
  };
  return { actor, op };
}

const state = (s: { value: unknown }) => JSON.stringify(s.value);

describe('ioreq machine (seed 002, reference 6)', () => {
  it('starts idle: no default server exists', () => {
    const { actor } = start();
    expect(actor.getSnapshot().value).toBe('idle');
    expect(actor.getSnapshot().context.slots.every((s) => s === null)).toBe(true);
  });

  it('create: the server starts created (not enabled) and the domain has servers', () => {
    const { op } = start();
    const s = op({ caller: QEMU, op: 'create', id: 0, result: 'ok' });
    expect(s.value).toBe('servers');
    expect(s.context.slots[0]).toMatchObject({ id: 0, emulator: QEMU, state: 'created', ranges: [] });
    expect(s.context.inUse).toBe(1);
  });

  it('no default server: the first create gets id 0 (Xen 4.12 and later)', () => {
    const { op } = start();
    const s = op({ caller: QEMU, op: 'create', result: 'ok' });
    expect(s.context.slots[0]).not.toBeNull();
    expect(s.context.lastOp).toEqual({ seq: 1, op: 'create', id: 0, result: 'ok' });
  });

  it('enable and disable move the server between enabled and disabled', () => {
    const { op } = start();
    op({ caller: QEMU, op: 'create', id: 0, result: 'ok' });
    expect(op({ caller: QEMU, op: 'enable', id: 0, result: 'ok' }).context.slots[0]!.state).toBe('enabled');
    expect(op({ caller: QEMU, op: 'disable', id: 0, result: 'ok' }).context.slots[0]!.state).toBe('disabled');
  });

  it('map range: the server holds the range; unmap removes it', () => {
    const { op } = start();
    op({ caller: QEMU, op: 'create', id: 0, result: 'ok' });
    const range = { type: 'mmio' as const, start: 0xfed00000, end: 0xfed003ff };
    expect(op({ caller: QEMU, op: 'map', id: 0, range, result: 'ok' }).context.slots[0]!.ranges).toEqual([range]);
    expect(op({ caller: QEMU, op: 'unmap', id: 0, range, result: 'ok' }).context.slots[0]!.ranges).toEqual([]);
  });

  it('map range with start > end is EINVAL: an observed EINVAL matches, an observed ok is a mismatch', () => {
    const { op } = start();
    op({ caller: QEMU, op: 'create', id: 0, result: 'ok' });
    const bad = { type: 'port' as const, start: 0x64, end: 0x60 };
    let s = op({ caller: QEMU, op: 'map', id: 0, range: bad, result: 'EINVAL' });
    expect(s.context.mismatchCount).toBe(0);
    expect(s.context.slots[0]!.ranges).toEqual([]);
    s = op({ caller: QEMU, op: 'map', id: 0, range: bad, result: 'ok' });
    expect(s.context.mismatches).toEqual([{ seq: 3, op: 'map', id: 0, observed: 'ok', expected: 'EINVAL' }]);
  });

  it('destroy: the server is gone, its slot free, and it is kept as destroyed', () => {
    const { op } = start();
    op({ caller: QEMU, op: 'create', id: 0, result: 'ok' });
    const s = op({ caller: QEMU, op: 'destroy', id: 0, result: 'ok' });
    expect(s.value).toBe('idle');
    expect(s.context.slots[0]).toBeNull();
    expect(s.context.destroyed).toEqual([{ id: 0, emulator: QEMU, state: 'destroyed', ranges: [], since: 1 }]);
  });

  it('only the emulating domain may act (EPERM): the server is untouched', () => {
    const { op } = start();
    op({ caller: STUB, op: 'create', id: 0, result: 'ok' });
    let s = op({ caller: QEMU, op: 'destroy', id: 0, result: 'EPERM' });
    expect(s.context.slots[0]).toMatchObject({ emulator: STUB, state: 'created' });
    expect(s.context.mismatchCount).toBe(0);
    s = op({ caller: QEMU, op: 'enable', id: 0, result: 'ok' });
    expect(s.context.mismatches.at(-1)).toEqual({ seq: 3, op: 'enable', id: 0, observed: 'ok', expected: 'EPERM' });
  });

  it('at most 8 servers per domain: eight creates exhaust the domain', () => {
    const { op } = start();
    let s = op({ caller: QEMU, op: 'create', id: 0, result: 'ok' });
    for (let i = 1; i < 8; i++) s = op({ caller: QEMU, op: 'create', id: i, result: 'ok' });
    expect(state(s)).toBe('{"exhausted":"full"}');
    expect(s.context.inUse).toBe(8);
    expect(s.context.fullSince).toBe(8);
  });

  it('the 9th create is ENOSPC: exhausted.refused and the ioreq-exhausted incident', () => {
    const { op } = start();
    for (let i = 0; i < 8; i++) op({ caller: QEMU, op: 'create', id: i, result: 'ok' });
    const s = op({ caller: STUB, op: 'create', result: 'ENOSPC' });
    expect(state(s)).toBe('{"exhausted":"refused"}');
    expect(s.context.refusals).toBe(1);
    expect(s.context.mismatchCount).toBe(0);
    expect(ioreqIncident({ actor: `ioreq:${UUID}`, from: 'exhausted.full', to: 'exhausted.refused', seq: 9, ts: 0, context: s.context })).toEqual({
      kind: 'ioreq-exhausted',
      summary: 'ioreq server create refused with ENOSPC: 8 of 8 servers in use',
      start: 8,
    });
  });

  it('a destroy after exhaustion frees a slot: back to servers', () => {
    const { op } = start();
    for (let i = 0; i < 8; i++) op({ caller: QEMU, op: 'create', id: i, result: 'ok' });
    op({ caller: QEMU, op: 'create', result: 'ENOSPC' });
    const s = op({ caller: QEMU, op: 'destroy', id: 6, result: 'ok' });
    expect(s.value).toBe('servers');
    expect(s.context.fullSince).toBeUndefined();
  });

  it('an ENOSPC with fewer known servers is believed: the unreported ones are hidden, and the mismatch kept', () => {
    const { op } = start();
    op({ caller: QEMU, op: 'create', id: 0, result: 'ok' });
    const s = op({ caller: QEMU, op: 'create', result: 'ENOSPC' });
    expect(state(s)).toBe('{"exhausted":"refused"}');
    expect(s.context.hidden).toBe(7);
    expect(s.context.mismatches).toEqual([{ seq: 2, op: 'create', observed: 'ENOSPC', expected: 'ok' }]);
    expect(ioreqIncident({ actor: 'a', from: 'servers', to: 'exhausted.refused', seq: 2, ts: 0, context: s.context })!.summary).toBe(
      'ioreq server create refused with ENOSPC: 8 of 8 servers in use (7 not reported)',
    );
  });

  it('a create that succeeds after an ENOSPC means a slot was freed unreported: never more than 8 in use', () => {
    const { op } = start();
    op({ caller: QEMU, op: 'create', result: 'ENOSPC' });
    const s = op({ caller: QEMU, op: 'create', id: 0, result: 'ok' });
    expect(s.context.inUse).toBe(8);
    expect(s.context.hidden).toBe(7);
    expect(s.context.mismatches.map((m) => m.observed)).toEqual(['ENOSPC', 'ok']);
  });

  it('deprecated params 13 and 26 on Xen 4.12–4.13: set EPERM and get ENODATA match; EINVAL is a mismatch', () => {
    const { op } = start('4.13.5');
    op({ caller: 0, op: 'set_param', param: 13, value: 0, result: 'EPERM' });
    let s = op({ caller: 0, op: 'get_param', param: 26, result: 'ENODATA' });
    expect(s.context.mismatchCount).toBe(0);
    s = op({ caller: 0, op: 'get_param', param: 13, result: 'EINVAL' });
    expect(s.context.mismatches).toEqual([{ seq: 3, op: 'get_param', observed: 'EINVAL', expected: 'ENODATA' }]);
    expect(s.value).toBe('idle');
  });

  it('deprecated params 13 and 26 from Xen 4.14: both EINVAL; the version in a report wins over the input', () => {
    const { op } = start('4.13');
    const s = op({ caller: 0, op: 'set_param', param: 26, value: 1, result: 'EINVAL', xen: '4.17.7' });
    expect(s.context.xen).toBe('4.17.7');
    expect(s.context.mismatchCount).toBe(0);
  });

  it('a new domain instance empties the slots: Xen destroyed the servers with the old one', () => {
    const { actor, op } = start();
    op({ caller: QEMU, op: 'create', id: 0, result: 'ok' });
    op({ caller: QEMU, op: 'enable', id: 0, result: 'ok' });
    actor.send({ type: 'ioreq.reset', domid: 4, ts: 5000, seq: 10 });
    const s = actor.getSnapshot();
    expect(s.value).toBe('idle');
    expect(s.context.domid).toBe(4);
    expect(s.context.destroyed.map((d) => d.state)).toEqual(['destroyed']);
  });

  it('resolveState: from exhausted.full, a destroy reported ENOENT for a known server frees the slot', () => {
    const ctx = initialIoreqContext({ uuid: UUID, domid: 3 });
    ctx.slots = ctx.slots.map((_, id) => ({ id, emulator: QEMU, state: 'enabled' as const, ranges: [], since: id + 1 }));
    ctx.inUse = 8;
    ctx.fullSince = 8;
    const actor = createActor(ioreqMachine, { snapshot: ioreqMachine.resolveState({ value: { exhausted: 'full' }, context: ctx }), input: { uuid: UUID } });
    actor.start();
    actor.send({ type: 'ioreq.op', op: { domid: 3, caller: QEMU, op: 'info', id: 2, result: 'ENOENT' }, ts: 1, seq: 20 });
    const s = actor.getSnapshot();
    expect(s.value).toBe('servers');
    expect(s.context.inUse).toBe(7);
    expect(s.context.mismatches).toEqual([{ seq: 20, op: 'info', id: 2, observed: 'ENOENT', expected: 'ok' }]);
  });
});
