import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Observation } from '../../machines/events/record.ts';
import {
  DEFAULT_GUEST_INPUT_CONFIG,
  GuestInputFilter,
  MARK,
  commonPrefix,
  describeDropped,
  sanitizeValue,
  unescapeValue,
  utf8Length,
  type GuestInputConfig,
} from './guest-input.std.ts';

const T0 = 1_763_740_000_000;

function write(ts: number, domid: number, rel: string, value: string): Observation {
  return { ts, src: 'xs', type: 'xs.write', domid, data: { path: `/local/domain/${domid}/${rel}`, value } };
}
function writeAt(ts: number, path: string, value: string): Observation {
  return { ts, src: 'xs', type: 'xs.write', data: { path, value } };
}
function rm(ts: number, path: string): Observation {
  return { ts, src: 'xs', type: 'xs.rm', data: { path } };
}
const dropped = (out: Observation[]) => out.filter((o) => o.type === 'dropped');
const dataOf = (o: Observation) => o.data as { domid: number; path: string; reason: string; count: number; bytes: number; from: number; to: number };

/** Push many, collect everything the filter returned. */
function pushAll(f: GuestInputFilter, obs: Observation[]): Observation[] {
  const out: Observation[] = [];
  for (const o of obs) out.push(...f.push(o));
  return out;
}

describe('guest input: which records are guest input', () => {
  const f = new GuestInputFilter();
  it.each([
    ['/local/domain/5/data/x', true],
    ['/local/domain/5/data', true],
    ['/local/domain/5/attr/vif/0/ipv4/0', true],
    ['/local/domain/5/drivers/0', true],
    ['/local/domain/5/control/shutdown', true],
    ['/local/domain/5/control/feature-poweroff', true],
    ['/local/domain/5/feature/hotplug/vif', true],
    ['/local/domain/5/error', true],
    ['/local/domain/5/error/device/vbd/51712/error', true],
    ['/local/domain/5/device/vbd/51712/state', true],
    ['/local/domain/5/memory/meminfo', true],
    ['/local/domain/5/memory/target', false],
    ['/local/domain/5/memory/static-max', false],
    ['/local/domain/5/name', false],
    ['/local/domain/5/vm', false],
    ['/local/domain/5/console/tty', false],
    ['/local/domain/5/image/device-model-pid', false],
    ['/local/domain/5/database', false],
    ['/local/domain/5', false],
    ['/local/domain/0/data/x', false],
    ['/local/domain/0/backend/vbd/5/51712/state', false],
    ['/local/domain/0/device-model/5/state', false],
    ['/vm/0b4f4a5e-8d2c-4c1e-9a57-1f2e3d4c5b6a/name', false],
    ['/libxl/5/type', false],
  ])('%s is guest-writable: %s', (path, yes) => {
    expect(f.isGuestWritable(path)).toBe(yes);
  });
});

describe('guest input: rule "non-guest records pass untouched, at once"', () => {
  it('passes backend, /vm, /libxl, dom0, dominfo, introduce/release, qmp, xl, log, user and helper records as the same object even while a guest floods', () => {
    const f = new GuestInputFilter({ recordsPerSec: 1, recordBurst: 2 });
    for (let i = 0; i < 50; i++) f.push(write(T0, 5, `data/flood/${i}`, 'x'));
    const others: Observation[] = [
      writeAt(T0, '/local/domain/0/backend/vbd/5/51712/state', '4'),
      writeAt(T0, '/local/domain/0/data/x', 'dom0 says'),
      writeAt(T0, '/local/domain/5/memory/target', '1048576'),
      writeAt(T0, '/local/domain/5/name', 'vm5'),
      writeAt(T0, '/vm/0b4f4a5e-8d2c-4c1e-9a57-1f2e3d4c5b6a/name', 'vm5'),
      writeAt(T0, '/libxl/5/type', 'hvm'),
      rm(T0, '/local/domain/0/backend/vbd/5/51712'),
      { ts: T0, src: 'dominfo', type: 'dominfo', domid: 5, data: { domid: 5, uuid: 'u', running: true, blocked: false, paused: false, shutdown: false, dying: false } },
      { ts: T0, src: 'xs', type: 'xs.introduce', domid: 6, data: { domid: 6 } },
      { ts: T0, src: 'qmp', type: 'qmp.event', domid: 5, data: { domid: 5, event: 'STOP' } },
      { ts: T0, src: 'xl', type: 'cmd.result', data: { cmd: 'c1', ok: true } },
      { ts: T0, src: 'log', type: 'log.line', domid: 5, data: { file: 'qemu-dm', domid: 5, line: '\u001b[31mred' } },
      { ts: T0, src: 'user', type: 'cmd.request', data: { cmd: 'c1', user: 'me', op: 'pause', args: {} } },
      { ts: T0, src: 'helper', type: 'helper.status', data: { state: 'up', gap: false } },
      { ts: T0, src: 'host', type: 'host.tick', data: {} },
    ];
    for (const o of others) {
      const out = f.push(o);
      expect(out).toHaveLength(1);
      expect(out[0]).toBe(o);
    }
  });

  it('does not look at values outside guest-writable paths (a 10 KiB backend value is recorded whole)', () => {
    const f = new GuestInputFilter();
    const o = writeAt(T0, '/local/domain/0/backend/vbd/5/51712/params', 'x'.repeat(10_000));
    expect(f.push(o)).toEqual([o]);
  });
});

describe('guest input: rule "per-domain record budget"', () => {
  it('records the burst, counts the rest, and once the bucket has refilled writes one rate summary then the latest value of each node', () => {
    const f = new GuestInputFilter({ recordsPerSec: 10, recordBurst: 5 });
    const obs = Array.from({ length: 20 }, (_, i) => write(T0 + i, 3, `data/app/k${i % 4}`, String(i)));
    const out = pushAll(f, obs);
    expect(out).toEqual(obs.slice(0, 5));
    expect(f.stats().heldLatest).toBe(4);
    // Refilling 5 records at 10/s takes 500 ms from the last write.
    expect(f.flush(T0 + 100)).toEqual([]);
    const s = f.flush(T0 + 19 + 500);
    expect(s).toHaveLength(5);
    expect(s[0]).toMatchObject({ ts: T0 + 519, src: 'host', type: 'dropped', domid: 3 });
    // Writes 5..15 were superseded by later writes of the same node; 16..19 are the latest of each.
    const superseded = obs.slice(5, 16);
    expect(dataOf(s[0])).toEqual({
      domid: 3,
      path: '/local/domain/3/data/app',
      reason: 'rate',
      count: superseded.length,
      bytes: superseded.reduce((n, o) => n + utf8Length((o.data as { path: string }).path) + utf8Length((o.data as { value: string }).value), 0),
      from: T0 + 5,
      to: T0 + 15,
    });
    expect(s.slice(1).map((o) => [o.ts, (o.data as { path: string }).path, (o.data as { value: string }).value])).toEqual(
      [16, 17, 18, 19].map((i) => [T0 + 519, `/local/domain/3/data/app/k${i % 4}`, String(i)]),
    );
    expect(f.flush(T0 + 5000)).toEqual([]);
    expect(f.stats().heldLatest).toBe(0);
  });

  it('keeps at most maxHeldLatest nodes per domain; the oldest is counted instead', () => {
    const f = new GuestInputFilter({ recordsPerSec: 0, recordBurst: 1, maxHeldLatest: 2 });
    expect(pushAll(f, ['z', 'a', 'b', 'c'].map((k) => write(T0, 3, `data/${k}`, '1')))).toHaveLength(1);
    expect(f.stats().heldLatest).toBe(2);
    const out = f.drain(T0);
    expect(out.map((o) => (o.type === 'dropped' ? `dropped ${dataOf(o).path} ${dataOf(o).count}` : (o.data as { path: string }).path))).toEqual([
      'dropped /local/domain/3/data/a 1',
      '/local/domain/3/data/b',
      '/local/domain/3/data/c',
    ]);
  });

  it('a held removal is recorded before a later write below it', () => {
    const f = new GuestInputFilter({ recordsPerSec: 1, recordBurst: 2 });
    expect(pushAll(f, [write(T0, 3, 'data/x/y', '1'), write(T0, 3, 'data/w', '1'), rm(T0, '/local/domain/3/data/x')])).toHaveLength(2);
    // One second later the write below the removed node fits the budget (the episode is still on): the removal goes first.
    const w = write(T0 + 1000, 3, 'data/x/z', '2');
    const out = f.push(w);
    expect(out.map((o) => o.type)).toEqual(['xs.rm', 'xs.write']);
    expect(out[0]).toMatchObject({ ts: T0 + 1000, data: { path: '/local/domain/3/data/x' } });
    expect(out[1]).toBe(w);
  });

  it('budgets domains separately: one domain over budget does not slow another', () => {
    const f = new GuestInputFilter({ recordsPerSec: 1, recordBurst: 1 });
    expect(f.push(write(T0, 3, 'data/a', '1'))).toHaveLength(1);
    expect(f.push(write(T0, 3, 'data/a', '2'))).toHaveLength(0);
    const other = write(T0, 4, 'data/a', '1');
    expect(f.push(other)).toEqual([other]);
  });

  it('summarises a flood that never stops at least every summaryMaxMs', () => {
    const f = new GuestInputFilter({ recordsPerSec: 10, recordBurst: 10, summaryMaxMs: 1000 });
    const summaries: Observation[] = [];
    let passed = 0;
    const sort = (out: Observation[]) => {
      for (const o of out) {
        if (o.type === 'dropped') summaries.push(o);
        else passed++;
      }
    };
    for (let ms = 0; ms < 5000; ms += 10) {
      sort(f.push(write(T0 + ms, 7, `data/f/${ms % 30}`, 'v')));
      if (ms % 1000 === 0) sort(f.flush(T0 + ms));
    }
    sort(f.drain(T0 + 5000));
    expect(summaries.length).toBeGreaterThanOrEqual(5);
    expect(summaries.length).toBeLessThanOrEqual(7);
    expect(passed + summaries.reduce((n, s) => n + dataOf(s).count, 0)).toBe(500);
    // The burst, the sustained rate, and at each summary the latest value of each of the 30 nodes.
    expect(passed).toBeLessThanOrEqual(10 + 50 + 1 + 30 * summaries.length);
  });
});

describe('guest input: rule "per-domain byte budget"', () => {
  it('drops writes whose bytes are over budget even when records remain', () => {
    const f = new GuestInputFilter({ bytesPerSec: 1000, byteBurst: 3000 });
    const big = (i: number, v = 'b') => write(T0, 2, `data/blob${i}`, v.repeat(1000));
    const out = pushAll(f, [big(1), big(2), big(3), big(3, 'c')]);
    expect(out.filter((o) => o.type === 'xs.write')).toHaveLength(2); // each costs 1000 + path bytes
    const s = f.drain(T0 + 1);
    expect(s.map((o) => o.type)).toEqual(['dropped', 'xs.write']);
    expect(dataOf(s[0])).toMatchObject({ reason: 'rate', count: 1, path: '/local/domain/2/data/blob3' });
    expect(dataOf(s[0]).bytes).toBe(1000 + utf8Length('/local/domain/2/data/blob3'));
    expect((s[1].data as { value: string }).value).toBe('c'.repeat(1000));
  });
});

describe('guest input: rule "frontend state and control/shutdown bypass the budget"', () => {
  it('passes state and control/shutdown untouched while the guest is over its budget', () => {
    const f = new GuestInputFilter({ recordsPerSec: 1, recordBurst: 1 });
    f.push(write(T0, 9, 'data/a', '1'));
    expect(f.push(write(T0, 9, 'data/a', '2'))).toEqual([]);
    const st = write(T0, 9, 'device/vbd/51712/state', '4');
    const sd = write(T0, 9, 'control/shutdown', '');
    expect(f.push(st)).toEqual([st]);
    expect(f.push(sd)).toEqual([sd]);
    // Other frontend keys stay on the ordinary budget.
    expect(f.push(write(T0, 9, 'device/vbd/51712/ring-ref', '8'))).toEqual([]);
  });

  it('over the separate essential cap keeps only the latest value per key, recorded at the next flush, the rest counted', () => {
    const f = new GuestInputFilter({ essentialPerSec: 1, essentialBurst: 2 });
    const states = ['1', '2', '3', '4', '5', '6'].map((v, i) => write(T0 + i, 9, 'device/vif/0/state', v));
    const out = pushAll(f, states);
    expect(out).toEqual(states.slice(0, 2));
    const fl = f.flush(T0 + 6);
    expect(fl.filter((o) => o.type === 'xs.write').map((o) => (o.data as { value: string }).value)).toEqual(['6']);
    expect(fl.find((o) => o.type === 'xs.write')!.ts).toBe(T0 + 6);
    const all = [...fl, ...f.drain(T0 + 60_000)];
    const d = dropped(all).map(dataOf);
    expect(d).toEqual([expect.objectContaining({ reason: 'rate', count: 3, path: '/local/domain/9/device/vif/0/state', from: T0 + 2, to: T0 + 4 })]);
  });

  it('a newer essential value that fits the budget supersedes the held one', () => {
    const f = new GuestInputFilter({ essentialPerSec: 1, essentialBurst: 1 });
    const a = write(T0, 9, 'control/shutdown', 'poweroff');
    const b = write(T0, 9, 'control/shutdown', '');
    const c = write(T0 + 1000, 9, 'control/shutdown', 'reboot');
    expect(f.push(a)).toEqual([a]);
    expect(f.push(b)).toEqual([]);
    expect(f.push(c)).toEqual([c]);
    expect(f.flush(T0 + 1000).filter((o) => o.type === 'xs.write')).toEqual([]);
    expect(dropped(f.drain(T0 + 1000)).map(dataOf)).toEqual([expect.objectContaining({ reason: 'rate', count: 1 })]);
  });

  it('holds at most maxHeldEssential keys per domain; beyond that values are counted', () => {
    const f = new GuestInputFilter({ essentialPerSec: 0, essentialBurst: 1, maxHeldEssential: 2 });
    const first = pushAll(f, [0, 1, 2, 3, 4].map((i) => write(T0, 9, `device/vbd/${51712 + i}/state`, '4')));
    expect(first.map((o) => (o.data as { path: string }).path)).toEqual(['/local/domain/9/device/vbd/51712/state']);
    expect(f.stats().heldEssential).toBe(2);
    const out = f.flush(T0);
    expect(out.map((o) => (o.data as { path: string }).path)).toEqual(['/local/domain/9/device/vbd/51713/state', '/local/domain/9/device/vbd/51714/state']);
    expect(dropped(f.drain(T0)).map(dataOf)).toEqual([expect.objectContaining({ reason: 'rate', count: 2, path: '/local/domain/9/device/vbd' })]);
  });
});

describe('guest input: rule "per-value size limit"', () => {
  it('truncates a value over maxValueBytes with a marker and the original length, and counts it', () => {
    const f = new GuestInputFilter({ maxValueBytes: 16 });
    const o = write(T0, 4, 'data/big', 'a'.repeat(40));
    const out = f.push(o);
    expect(out).toHaveLength(1);
    const v = (out[0].data as { value: string }).value;
    expect(v).toBe(`${MARK}[truncated: 40 bytes] ${'a'.repeat(16)}`);
    expect(out[0]).toMatchObject({ ts: o.ts, src: 'xs', type: 'xs.write', domid: 4 });
    expect(unescapeValue(v)).toEqual({ value: 'a'.repeat(16), marked: true, escaped: false, truncatedFrom: 40 });
    const s = f.drain(T0 + 1);
    expect(dataOf(s[0])).toEqual({ domid: 4, path: '/local/domain/4/data/big', reason: 'size', count: 1, bytes: 24, from: T0, to: T0 });
  });

  it('a value of exactly maxValueBytes is recorded as is', () => {
    const f = new GuestInputFilter({ maxValueBytes: 16 });
    const o = write(T0, 4, 'data/fits', 'é'.repeat(8));
    expect(f.push(o)).toEqual([o]);
  });

  it('never cuts a surrogate pair or an escape', () => {
    const s = sanitizeValue('😀😀😀\u0001\u0001', 9);
    expect(s.reason).toBe('size');
    expect(unescapeValue(s.value).value).toBe('😀😀');
    const e = sanitizeValue('ab\u0001cd', 8);
    expect(e.value).toBe(`${MARK}[escaped, truncated: 5 bytes] ab\\u{1}c`);
  });
});

describe('guest input: rule "values are bytes-safe strings"', () => {
  it.each([
    ['an escape sequence', 'hi\u001b[2Jthere', `${MARK}[escaped] hi\\u{1b}[2Jthere`],
    ['a NUL', 'a\u0000b', `${MARK}[escaped] a\\u{0}b`],
    ['a lone surrogate', 'x\ud800y', `${MARK}[escaped] x\\u{d800}y`],
    ['U+FFFD from the helper', 'bad\ufffdbyte', `${MARK}[escaped] bad\\u{fffd}byte`],
    ['a bidi override', 'abc\u202edcba', `${MARK}[escaped] abc\\u{202e}dcba`],
    ['a C1 control', 'a\u0085b', `${MARK}[escaped] a\\u{85}b`],
    ['backslashes in a marked value', 'C:\\x\u0007', `${MARK}[escaped] C:\\\\x\\u{7}`],
    ['a forged marker', `${MARK}[escaped] hi`, `${MARK}[escaped] \\u{fffd}[escaped] hi`],
  ])('escapes %s', (_name, value, recorded) => {
    const f = new GuestInputFilter();
    const out = f.push(write(T0, 4, 'data/x', value));
    expect((out[0].data as { value: string }).value).toBe(recorded);
    expect(unescapeValue(recorded).value).toBe(value);
    expect(dataOf(f.drain(T0)[0])).toMatchObject({ reason: 'invalid-utf8', count: 1, bytes: utf8Length(value) });
  });

  it.each([['plain'], ['tab\tand\nnewline'], ['C:\\Windows'], ['ünïcødé 😀'], ['']])('records %j unchanged', (value) => {
    const f = new GuestInputFilter();
    const o = write(T0, 4, 'data/x', value);
    expect(f.push(o)[0]).toBe(o);
    expect(f.drain(T0)).toEqual([]);
  });

  it('property: escaping is reversible and a recorded value is marked exactly when it differs', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(fc.constantFrom('\\', '\ufffd', '\u0000', '\u001b', '\ud800', '\udfff', '\u202e'), fc.constant('a'), fc.string({ unit: 'grapheme', maxLength: 1 }), fc.string({ unit: 'binary', maxLength: 1 })), maxLength: 40 }), (v) => {
        const s = sanitizeValue(v, 1000);
        expect(s.value.startsWith(MARK)).toBe(s.value !== v);
        expect(unescapeValue(s.value).value).toBe(v);
        expect(s.reason === undefined).toBe(s.value === v);
      }),
    );
  });

  it('property: a truncated value is bounded and is a prefix of the original', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.integer({ min: 4, max: 64 }), (v, max) => {
        const s = sanitizeValue(v, max);
        const u = unescapeValue(s.value);
        expect(v.startsWith(u.value)).toBe(true);
        if (s.reason === 'size') {
          expect(u.truncatedFrom).toBe(utf8Length(v));
          expect(utf8Length(s.value.slice(s.value.indexOf('] ') + 2))).toBeLessThanOrEqual(max);
          expect(s.cutBytes).toBe(utf8Length(v) - utf8Length(u.value));
        }
      }),
    );
  });
});

describe('guest input: rule "noisy keys are coalesced"', () => {
  it('records a memory statistic written every second once per interval plus its latest value, counting the rest', () => {
    const f = new GuestInputFilter({ coalesceMs: 10_000 });
    const out: Observation[] = [];
    for (let s = 0; s < 30; s++) {
      out.push(...f.push(write(T0 + s * 1000, 6, 'data/meminfo_free', String(1000 - s))));
      out.push(...f.flush(T0 + s * 1000 + 500));
    }
    out.push(...f.drain(T0 + 30_000));
    const writes = out.filter((o) => o.type === 'xs.write');
    // The first write at once; then the latest value at the end of each 10 s interval.
    expect(writes.map((o) => [o.ts - T0, (o.data as { value: string }).value])).toEqual([
      [0, '1000'],
      [10_000, '991'],
      [20_000, '981'],
      [30_000, '971'],
    ]);
    const d = dropped(out).map(dataOf);
    expect(d.every((x) => x.reason === 'noisy' && x.path === '/local/domain/6/data/meminfo_free')).toBe(true);
    expect(writes.length + d.reduce((n, x) => n + x.count, 0)).toBe(30);
  });

  it('a key quiet for a whole interval is recorded at once again', () => {
    const f = new GuestInputFilter({ coalesceMs: 1000 });
    const a = write(T0, 6, 'memory/meminfo', 'MemTotal: 1 kB');
    const b = write(T0 + 5000, 6, 'memory/meminfo', 'MemTotal: 2 kB');
    expect(f.push(a)).toEqual([a]);
    expect(f.flush(T0 + 2000)).toEqual([]);
    expect(f.push(b)).toEqual([b]);
  });

  it('the coalescing map is capped per domain (LRU); an evicted held value is counted', () => {
    const f = new GuestInputFilter({ noisyKeys: ['data/stat/*'], maxCoalescedKeys: 2 });
    const out = pushAll(f, [
      write(T0, 6, 'data/stat/a', '1'),
      write(T0, 6, 'data/stat/a', '2'), // held
      write(T0, 6, 'data/stat/b', '1'),
      write(T0, 6, 'data/stat/c', '1'), // evicts a, with its held '2'
    ]);
    expect(out.map((o) => (o.data as { path: string }).path)).toEqual(['/local/domain/6/data/stat/a', '/local/domain/6/data/stat/b', '/local/domain/6/data/stat/c']);
    expect(f.stats().coalescedKeys).toBe(2);
    const d = dropped(f.drain(T0)).map(dataOf);
    expect(d).toEqual([expect.objectContaining({ reason: 'noisy', count: 1, path: '/local/domain/6/data/stat/a' })]);
  });

  it('a removal supersedes held values below it', () => {
    const f = new GuestInputFilter();
    pushAll(f, [write(T0, 6, 'data/meminfo_free', '1'), write(T0 + 1, 6, 'data/meminfo_free', '2')]);
    const r = rm(T0 + 2, '/local/domain/6/data');
    expect(f.push(r)).toEqual([r]);
    const out = f.drain(T0 + 3);
    expect(out.filter((o) => o.type === 'xs.write')).toEqual([]);
    expect(dropped(out).map(dataOf)).toEqual([expect.objectContaining({ reason: 'noisy', count: 1 })]);
  });
});

describe('guest input: rule "state is dropped with the domain"', () => {
  it('on removal of the domain home: pending summaries and held values first, then the removal, then no state', () => {
    const f = new GuestInputFilter({ recordsPerSec: 1, recordBurst: 1 });
    pushAll(f, [write(T0, 8, 'data/a', '1'), write(T0, 8, 'data/a', '0'), write(T0, 8, 'data/a', '2'), write(T0, 8, 'data/meminfo_free', '5'), write(T0, 8, 'data/meminfo_free', '6')]);
    expect(f.stats().domains).toBe(1);
    const home = rm(T0 + 10, '/local/domain/8');
    const out = f.push(home);
    expect(out[out.length - 1]).toBe(home);
    // The interval's summary and latest value, then the rate summary and the latest over-budget value.
    expect(out.slice(0, -1).map((o) => (o.type === 'dropped' ? dataOf(o).reason : (o.data as { value: string }).value))).toEqual(['noisy', '6', 'rate', '2']);
    expect(f.stats()).toEqual({ domains: 0, coalescedKeys: 0, heldEssential: 0, heldLatest: 0, held: 0 });
  });

  it('on xs.release of the domain', () => {
    const f = new GuestInputFilter({ recordsPerSec: 1, recordBurst: 1 });
    pushAll(f, [write(T0, 8, 'data/a', '1'), write(T0, 8, 'data/a', '2'), write(T0, 8, 'data/a', '3')]);
    const rel: Observation = { ts: T0 + 1, src: 'xs', type: 'xs.release', domid: 8, data: { domid: 8 } };
    const out = f.push(rel);
    expect(out.map((o) => o.type)).toEqual(['dropped', 'xs.write', 'xs.release']);
    expect(out[2]).toBe(rel);
    expect(f.stats().domains).toBe(0);
  });

  it('beyond maxDomains the least recently active domain is summarised and forgotten', () => {
    const f = new GuestInputFilter({ maxDomains: 2, recordsPerSec: 1, recordBurst: 1 });
    pushAll(f, [write(T0, 1, 'data/a', '1'), write(T0, 1, 'data/a', '2'), write(T0, 1, 'data/a', '3'), write(T0, 2, 'data/a', '1')]);
    const out = f.push(write(T0, 3, 'data/a', '1'));
    expect(out.map((o) => `${o.type} ${o.domid}`)).toEqual(['dropped 1', 'xs.write 1', 'xs.write 3']);
    expect(dataOf(out[0])).toMatchObject({ domid: 1, reason: 'rate', count: 1 });
    expect(f.stats().domains).toBe(2);
  });
});

describe('guest input: rule "clock jumps"', () => {
  it('a jump backwards refills nothing and stalls nothing', () => {
    const f = new GuestInputFilter({ recordsPerSec: 1, recordBurst: 1 });
    expect(f.push(write(T0, 5, 'data/a', '1'))).toHaveLength(1);
    // An hour back: no time has passed for the budget.
    expect(f.push(write(T0 - 3_600_000, 5, 'data/a', '2'))).toHaveLength(0);
    expect(f.push(write(T0 - 3_600_000, 5, 'data/a', '2b'))).toHaveLength(0);
    // One second later on the new clock: the bucket is full again (not an hour's wait),
    // which ends the episode: its summary and the held latest value, then the write.
    const third = write(T0 - 3_599_000, 5, 'data/a', '3');
    const out = f.push(third);
    expect(out).toHaveLength(3);
    expect(dataOf(out[0])).toMatchObject({ reason: 'rate', count: 1, from: T0 - 3_600_000, to: T0 - 3_600_000 });
    expect(out[1]).toMatchObject({ ts: T0 - 3_599_000, data: { value: '2b' } });
    expect(out[2]).toBe(third);
  });

  it('observations a little out of order add no time (the budget is not refilled twice)', () => {
    const f = new GuestInputFilter({ recordsPerSec: 1, recordBurst: 1 });
    expect(f.push(write(T0 + 1000, 5, 'data/a', '1'))).toHaveLength(1);
    expect(f.push(write(T0, 5, 'data/a', '2'))).toHaveLength(0);
    expect(f.push(write(T0 + 999, 5, 'data/a', '3'))).toHaveLength(0);
    // Only at T0 + 2000 is a second of budget time over: the held latest value, then the write.
    expect(f.push(write(T0 + 1999, 5, 'data/b', 'x'))).toHaveLength(0);
    expect(f.push(write(T0 + 2000, 5, 'data/a', '4')).filter((o) => o.type === 'xs.write').map((o) => (o.data as { value: string }).value)).toEqual(['3', 'x', '4']);
  });

  it('a jump backwards does not keep a noisy interval open for the size of the jump', () => {
    const f = new GuestInputFilter({ coalesceMs: 1000 });
    f.push(write(T0, 5, 'data/meminfo_free', '1'));
    f.push(write(T0 + 10, 5, 'data/meminfo_free', '2'));
    f.flush(T0 - 3_600_000);
    const out = f.flush(T0 - 3_600_000 + 1000);
    expect(out.filter((o) => o.type === 'xs.write').map((o) => (o.data as { value: string }).value)).toEqual(['2']);
  });
});

describe('guest input: configuration', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_GUEST_INPUT_CONFIG).toMatchObject({ recordsPerSec: 200, recordBurst: 1000, bytesPerSec: 65536, byteBurst: 524288, maxValueBytes: 4096, coalesceMs: 10_000 });
    expect(DEFAULT_GUEST_INPUT_CONFIG.noisyKeys).toContain('data/meminfo_free');
    expect(DEFAULT_GUEST_INPUT_CONFIG.essentialKeys).toEqual(['device/*/*/state', 'control/shutdown']);
  });
  it('refuses nonsense', () => {
    expect(() => new GuestInputFilter({ recordsPerSec: -1 })).toThrow(RangeError);
    expect(() => new GuestInputFilter({ maxDomains: 0 })).toThrow(RangeError);
    expect(() => new GuestInputFilter({ coalesceMs: Number.NaN })).toThrow(RangeError);
  });
  it('commonPrefix works on whole segments', () => {
    expect(commonPrefix('/a/bc', '/a/bd')).toBe('/a');
    expect(commonPrefix('/a/b', '/a/b/c')).toBe('/a/b');
    expect(commonPrefix('/a/b/c', '/a/b')).toBe('/a/b');
    expect(commonPrefix('/a/b', '/a/b')).toBe('/a/b');
    expect(commonPrefix('/x', '/y')).toBe('/');
  });
});

describe('guest input: describeDropped', () => {
  it('says what, how much and for how long', () => {
    const rec = { domid: 7, data: { domid: 7, path: '/local/domain/7/data', reason: 'rate', count: 598000, bytes: 24_536_000, from: T0, to: T0 + 60_000 } };
    expect(describeDropped(rec)).toBe('domain 7, /local/domain/7/data: 598,000 writes not recorded: over the guest’s write budget (23.4 MiB over 60.0 s)');
    expect(describeDropped({ data: { domid: 2, path: '/local/domain/2/data/big', reason: 'size', count: 1, bytes: 24, from: T0, to: T0 } })).toBe(
      'domain 2, /local/domain/2/data/big: 1 write truncated: values longer than the size limit (24 bytes cut at once)',
    );
    expect(describeDropped({ data: { reason: 'xen-platform-log', count: 3, from: 0, to: 0 } })).toBe('3 writes dropped (xen-platform-log) (at once)');
  });
});

// Properties ---------------------------------------------------------------------

type Step =
  | { k: 'w'; dt: number; dom: number; rel: string; value: string }
  | { k: 'rm'; dt: number; dom: number; rel: string }
  | { k: 'other'; dt: number; dom: number; which: number }
  | { k: 'flush'; dt: number };

const RELS = ['data/a', 'data/b/c', 'data/d', 'attr/x', 'attr/y/z', 'device/vbd/51712/state', 'device/vbd/51712/ring-ref', 'control/shutdown', 'data/meminfo_free', 'memory/meminfo', 'name', 'memory/target', 'console/tty'];

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      k: fc.constant('w' as const),
      // Mostly bursts (several writes in one ms), sometimes a pause, now and then a clock jump either way.
      dt: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 6, arbitrary: fc.integer({ min: 0, max: 50 }) }, { weight: 1, arbitrary: fc.integer({ min: -3000, max: 3000 }) }),
      dom: fc.constantFrom(0, 1, 2, 2, 2, 3, 4),
      rel: fc.constantFrom(...RELS),
      value: fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('x'.repeat(40), '\u001b', '\ud800')),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('rm' as const), dt: fc.integer({ min: 0, max: 100 }), dom: fc.integer({ min: 0, max: 4 }), rel: fc.constantFrom('data', 'data/a', 'device/vbd/51712', '') }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('other' as const), dt: fc.integer({ min: 0, max: 100 }), dom: fc.integer({ min: 0, max: 4 }), which: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('flush' as const), dt: fc.integer({ min: -500, max: 3000 }) }) },
);

const SMALL: Partial<GuestInputConfig> = {
  recordsPerSec: 2,
  recordBurst: 3,
  bytesPerSec: 200,
  byteBurst: 300,
  essentialPerSec: 2,
  essentialBurst: 2,
  maxValueBytes: 16,
  coalesceMs: 1000,
  summaryMaxMs: 1500,
  maxCoalescedKeys: 2,
  maxHeldEssential: 1,
  maxHeldLatest: 1,
  maxDomains: 2,
};

/** Small budgets, but room to hold every node's latest value. */
const TIGHT_BUDGET_ROOMY_CAPS: Partial<GuestInputConfig> = { ...SMALL, maxHeldLatest: 64, maxCoalescedKeys: 64, maxHeldEssential: 64, maxDomains: 8, maxValueBytes: 4096 };

function materialise(steps: Step[]): Array<Observation | { flush: number }> {
  let ts = T0;
  return steps.map((s) => {
    ts = Math.max(0, ts + s.dt);
    switch (s.k) {
      case 'w':
        return write(ts, s.dom, s.rel, s.value);
      case 'rm':
        return rm(ts, s.rel ? `/local/domain/${s.dom}/${s.rel}` : `/local/domain/${s.dom}`);
      case 'other':
        return [
          { ts, src: 'xs', type: 'xs.release', domid: s.dom, data: { domid: s.dom } },
          { ts, src: 'xs', type: 'xs.introduce', domid: s.dom, data: { domid: s.dom } },
          { ts, src: 'qmp', type: 'qmp.event', domid: s.dom, data: { domid: s.dom, event: 'STOP' } },
          writeAt(ts, `/local/domain/0/backend/vbd/${s.dom}/51712/state`, '4'),
        ][s.which] as Observation;
      case 'flush':
        return { flush: ts };
    }
  });
}

describe('guest input: repeats', () => {
  it('watch events that brought nothing to record are counted per domain as repeat, summarised after summaryMaxMs; other paths are not counted', () => {
    const f = new GuestInputFilter({ summaryMaxMs: 10_000 });
    expect(f.countRepeat('/local/domain/5/data/flood', 40, T0)).toEqual([]);
    expect(f.countRepeat('/local/domain/5/data/other', 2, T0 + 5)).toEqual([]);
    expect(f.countRepeat('/local/domain/0/backend/vbd/5/51712/state', 3, T0 + 6)).toEqual([]);
    expect(f.countRepeat('/local/domain/5/name', 3, T0 + 6)).toEqual([]);
    expect(f.flush(T0 + 1000)).toEqual([]);
    const out = f.flush(T0 + 10_000);
    expect(out.map(dataOf)).toEqual([{ domid: 5, path: '/local/domain/5/data', reason: 'repeat', count: 42, bytes: 0, from: T0, to: T0 + 5 }]);
    // On release, whatever is counted goes out first.
    f.countRepeat('/local/domain/5/data/flood', 1, T0 + 10_001);
    const rel = f.push({ ts: T0 + 10_002, src: 'xs', type: 'xs.release', domid: 5, data: { domid: 5 } });
    expect(rel.map((o) => o.type)).toEqual(['dropped', 'xs.release']);
    expect(dataOf(rel[0])).toMatchObject({ reason: 'repeat', count: 1 });
  });
});

describe('guest input: shedding under backpressure', () => {
  it('every non-essential guest write is held (latest per node) and counted as backpressure; essential keys and other domains pass; held values go out only after summaryMaxMs', () => {
    const f = new GuestInputFilter({ summaryMaxMs: 10_000 });
    f.setShedding(true);
    const out: Observation[] = [];
    for (let i = 0; i < 100; i++) out.push(...f.push(write(T0 + i, 3, 'data/counter', String(i))));
    out.push(...f.push(write(T0 + 100, 3, 'device/vif/0/state', '4')));
    out.push(...f.push(writeAt(T0 + 100, '/local/domain/0/backend/vif/3/0/state', '4')));
    expect(out.map((o) => (o.data as { path: string }).path)).toEqual(['/local/domain/3/device/vif/0/state', '/local/domain/0/backend/vif/3/0/state']);
    // A second later the bucket is full again, but a shedding filter does not end the episode for that.
    expect(f.flush(T0 + 1000)).toEqual([]);
    const later = f.flush(T0 + 10_000);
    expect(later.map((o) => o.type)).toEqual(['dropped', 'xs.write']);
    expect(dataOf(later[0])).toMatchObject({ domid: 3, reason: 'backpressure', count: 99, path: '/local/domain/3/data/counter' });
    expect((later[1].data as { value: string }).value).toBe('99');
    f.setShedding(false);
    expect(f.push(write(T0 + 10_001, 3, 'data/counter', 'x')).map((o) => (o.data as { value?: string }).value)).toEqual(['x']);
  });
});

describe('guest input: properties', () => {
  it('conservation: per domain, guest writes recorded unaltered + sum(dropped.count) = guest writes pushed; sanitised ones are exactly the size and invalid-utf8 counts (shedding on and off included)', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 10, maxLength: 120, size: 'max' }), fc.boolean(), fc.uniqueArray(fc.integer({ min: 0, max: 119 }), { maxLength: 4 }), (steps, small, sheds) => {
        const f = new GuestInputFilter(small ? SMALL : {});
        const toggles = new Set(sheds);
        const pushed = new Map<number, number>();
        const recorded = new Map<number, number>();
        const marked = new Map<number, number>();
        const counted = new Map<number, number>();
        const sanitisedCount = new Map<number, number>();
        const add = (m: Map<number, number>, k: number, n = 1) => m.set(k, (m.get(k) ?? 0) + n);
        const domOf = (o: Observation) => Number(/^\/local\/domain\/(\d+)/.exec((o.data as { path: string }).path)![1]);
        const isGuest = (o: Observation) => (o.type === 'xs.write' || o.type === 'xs.rm') && f.isGuestWritable((o.data as { path: string }).path);
        const take = (out: Observation[]) => {
          for (const o of out) {
            if (o.type === 'dropped') {
              const d = dataOf(o);
              expect(d.count).toBeGreaterThan(0);
              expect(d.from).toBeLessThanOrEqual(d.to);
              expect(o.domid).toBe(d.domid);
              add(counted, d.domid, d.count);
              if (d.reason === 'size' || d.reason === 'invalid-utf8') add(sanitisedCount, d.domid, d.count);
            } else if (isGuest(o)) {
              add(recorded, domOf(o));
              if (o.type === 'xs.write' && (o.data as { value: string }).value.startsWith(MARK)) add(marked, domOf(o));
            }
          }
        };
        let last = T0;
        for (const [i, m] of materialise(steps).entries()) {
          if (toggles.has(i)) f.setShedding(!f.isShedding);
          if ('flush' in m) {
            take(f.flush(m.flush));
            last = m.flush;
          } else {
            if (isGuest(m)) add(pushed, domOf(m));
            take(f.push(m));
            last = m.ts;
          }
        }
        take(f.drain(last));
        for (const d of new Set([...pushed.keys(), ...recorded.keys(), ...counted.keys()])) {
          const unaltered = (recorded.get(d) ?? 0) - (marked.get(d) ?? 0);
          expect(unaltered + (counted.get(d) ?? 0)).toBe(pushed.get(d) ?? 0);
          expect(sanitisedCount.get(d) ?? 0).toBe(marked.get(d) ?? 0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('non-guest records are never delayed or altered: each comes back from its own push, the same object, exactly once', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 10, maxLength: 120, size: 'max' }), (steps) => {
        const f = new GuestInputFilter(SMALL);
        const seen = new Set<Observation>();
        for (const m of materialise(steps)) {
          if ('flush' in m) {
            for (const o of f.flush(m.flush)) expect(o.src === 'host' || o.src === 'xs').toBe(true);
            continue;
          }
          const out = f.push(m);
          const guest = (m.type === 'xs.write' || m.type === 'xs.rm') && f.isGuestWritable((m.data as { path: string }).path);
          if (!guest) {
            expect(out.filter((o) => o === m)).toHaveLength(1);
            expect(out[out.length - 1]).toBe(m);
            expect(seen.has(m)).toBe(false);
            seen.add(m);
          }
          for (const o of out) if (o !== m) expect(seen.has(o)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('memory stays bounded: internal size never exceeds the configured bound', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 10, maxLength: 200, size: 'max' }), (steps) => {
        const f = new GuestInputFilter(SMALL);
        for (const m of materialise(steps)) {
          if ('flush' in m) f.flush(m.flush);
          else f.push(m);
          const s = f.stats();
          expect(f.size).toBeLessThanOrEqual(f.sizeBound);
          expect(s.domains).toBeLessThanOrEqual(2);
          expect(s.coalescedKeys).toBeLessThanOrEqual(2 * 2);
          expect(s.heldEssential).toBeLessThanOrEqual(2 * 1);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('history ends where the guest left its nodes: replaying what was recorded gives the same guest nodes as replaying what was pushed', () => {
    // Few nodes, short steps: removals and writes below them meet inside one drop episode.
    const dt = fc.constantFrom(0, 0, 0, 100, 250, 600);
    const dom = fc.constantFrom(3, 3, 4);
    const cleanStep: fc.Arbitrary<Step> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ k: fc.constant('w' as const), dt, dom, rel: fc.constantFrom('data/a', 'data/a/b', 'data/c', 'attr/x', 'device/vbd/51712/state', 'data/meminfo_free'), value: fc.stringMatching(/^[a-z0-9]{0,6}$/) }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('rm' as const), dt, dom, rel: fc.constantFrom('data', 'data/a', 'device/vbd/51712', 'attr') }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('flush' as const), dt }) },
    );
    const apply = (tree: Map<string, string>, o: Observation) => {
      const path = (o.data as { path?: string }).path;
      if (typeof path !== 'string') return;
      if (o.type === 'xs.write') tree.set(path, (o.data as { value: string }).value);
      if (o.type === 'xs.rm') for (const p of [...tree.keys()]) if (p === path || p.startsWith(path + '/')) tree.delete(p);
    };
    fc.assert(
      fc.property(fc.array(cleanStep, { minLength: 10, maxLength: 150, size: 'max' }), (steps) => {
        const f = new GuestInputFilter({ ...TIGHT_BUDGET_ROOMY_CAPS, recordBurst: 3 });
        const pushed = new Map<string, string>();
        const recorded = new Map<string, string>();
        let last = T0;
        for (const m of materialise(steps)) {
          const out = 'flush' in m ? f.flush(m.flush) : f.push(m);
          if (!('flush' in m)) apply(pushed, m);
          for (const o of out) apply(recorded, o);
          last = 'flush' in m ? m.flush : m.ts;
        }
        for (const o of f.drain(last)) apply(recorded, o);
        const guest = (t: Map<string, string>) => [...t].filter(([p]) => f.isGuestWritable(p)).sort();
        expect(guest(recorded)).toEqual(guest(pushed));
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic: the same input gives the same output', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 10, maxLength: 80, size: 'max' }), (steps) => {
        const run = () => {
          const f = new GuestInputFilter(SMALL);
          const out: Observation[] = [];
          for (const m of materialise(steps)) out.push(...('flush' in m ? f.flush(m.flush) : f.push(m)));
          return out;
        };
        expect(run()).toEqual(run());
      }),
      { numRuns: 100 },
    );
  });
});

// Flood --------------------------------------------------------------------------

describe('guest input: flood beside 99 well-behaved domains', () => {
  it('one domain writing 10,000 times a second for 60 s becomes bounded records plus dropped summaries; every other domain record passes at once', () => {
    const f = new GuestInputFilter();
    const FLOODER = 1;
    const rate = 10_000;
    const seconds = 60;
    let floodIn = 0;
    let floodRecorded = 0;
    let wellIn = 0;
    let wellImmediate = 0;
    let otherRecords = 0;
    const summaries: Observation[] = [];
    const sort = (out: Observation[], pushedObs?: Observation) => {
      for (const o of out) {
        if (o.type === 'dropped') summaries.push(o);
        else if (o.domid === FLOODER) floodRecorded++;
        else if (o === pushedObs) wellImmediate++;
        else otherRecords++;
      }
    };
    const boot: Observation[] = [];
    for (let d = 2; d <= 100; d++) {
      for (let dev = 0; dev < 6; dev++) boot.push(write(T0, d, `device/vbd/${51712 + dev * 16}/state`, '1'));
      boot.push(writeAt(T0, `/local/domain/0/backend/vbd/${d}/51712/state`, '2'));
    }
    for (const o of boot) {
      wellIn++;
      sort(f.push(o), o);
    }
    let stateWrite: Observation | undefined;
    let stateOut: Observation[] = [];
    for (let ms = 0; ms < seconds * 1000; ms++) {
      const ts = T0 + ms;
      for (let i = 0; i < rate / 1000; i++) {
        floodIn++;
        sort(f.push(write(ts, FLOODER, `data/flood/${(ms * 10 + i) % 97}`, String(ms))));
      }
      // The flooding guest's own frontend state still gets through, at once.
      if (ms === 30_000) {
        stateWrite = write(ts, FLOODER, 'device/vif/0/state', '4');
        stateOut = f.push(stateWrite);
        floodIn++;
        sort(stateOut);
      }
      // Well-behaved domains: one write a second each (attributes, app data), their memory statistics every 60 s.
      if (ms % 1000 === 0) {
        for (let d = 2; d <= 100; d++) {
          const o = ms % 60_000 === 0 ? write(ts, d, 'data/meminfo_free', String(ms)) : write(ts, d, `attr/app/${ms % 5000}`, String(ms / 1000));
          wellIn++;
          sort(f.push(o), o);
          const dom0 = { ts, src: 'dominfo', type: 'dominfo', domid: d, data: { domid: d } } as Observation;
          wellIn++;
          sort(f.push(dom0), dom0);
        }
        sort(f.flush(ts + 500));
        // 100 domains, the flooder's held latest values, one memory statistic per domain.
        expect(f.stats().heldLatest).toBeLessThanOrEqual(64);
        expect(f.size).toBeLessThanOrEqual(100 + 64 + 100 + 16);
      }
    }
    sort(f.drain(T0 + seconds * 1000));
    const floodDropped = summaries.filter((s) => dataOf(s).domid === FLOODER);
    const floodCounted = floodDropped.reduce((n, s) => n + dataOf(s).count, 0);
    console.log(
      `flood: ${floodIn} writes in, ${floodRecorded} recorded, ${floodDropped.length} dropped summaries counting ${floodCounted}; ` +
        `well-behaved: ${wellIn} in, ${wellImmediate} recorded at once, ${otherRecords} other records; summaries for others: ${summaries.length - floodDropped.length}`,
    );
    expect(stateOut).toEqual([stateWrite]);
    expect(wellImmediate).toBe(wellIn);
    expect(otherRecords).toBe(0);
    expect(summaries.length - floodDropped.length).toBe(0);
    // Bounded: the burst plus the sustained rate, plus the state write, plus the latest value of at most 64 nodes per summary.
    expect(floodRecorded).toBeLessThanOrEqual(1000 + 200 * seconds + 1 + 64 * floodDropped.length);
    expect(floodRecorded).toBeGreaterThan(200 * seconds);
    expect(floodDropped.length).toBeLessThanOrEqual(seconds / 10 + 2);
    expect(floodRecorded + floodCounted).toBe(floodIn);
    expect(floodDropped.every((s) => dataOf(s).reason === 'rate' && dataOf(s).path === '/local/domain/1/data/flood')).toBe(true);
  });
});
