/**
 * Backpressure and the clock (issue 8): the outbox's caps with their recorded
 * policy (shedding, paused, resumed), a store's in-flight window, a full disk
 * under the outbox, and a wall clock that steps back. Fast, against the fake
 * helper; the same paths run against the simulator and the real helper in
 * test/faults/ (disk-full on a real tmpfs, clock-back).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { ZERO_HASH, type XRecord } from '../../machines/events/record.ts';
import { replay } from '../../machines/host/replay.ts';
import { ALL_BINDINGS } from '../../machines/host/bindings.ts';
import { FakeXen } from './fake-helper.ts';
import { LiveHost, type HostOptions } from './host.ts';
import { Outbox, isDiskFull } from './outbox.ts';
import { CollectingSink, checkChain, startConnected, tempDir, until } from './test-support.ts';

const hosts: LiveHost[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.stop();
  for (const c of cleanups.splice(0)) c();
});

function dir(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

function xenWithDomain(): FakeXen {
  const xen = new FakeXen();
  xen.nodes.set('/local/domain/0/name', 'Domain-0');
  xen.nodes.set('/local/domain/1/name', 'web');
  xen.nodes.set('/local/domain/1/domid', '1');
  xen.introduced.add(1);
  return xen;
}

function makeHost(xen: FakeXen, extra: Partial<HostOptions> = {}): LiveHost {
  const h = new LiveHost({ dataDir: dir(), launch: () => xen.launch(), user: 'alice', lifecycle: { delaysMs: [5], maxAttempts: 3 }, dominfoPollMs: 0, ...extra });
  hosts.push(h);
  return h;
}

/** A store that commits only when told to. */
class SlowSink extends CollectingSink {
  constructor(private readonly host: LiveHost) {
    super();
  }
  commitAll(): void {
    if (this.records.length) this.host.ack(this.last.seq);
  }
}

const statusRecs = (recs: XRecord[]) => recs.filter((r) => r.type === 'recording.status').map((r) => r.data as { state: string; reason: string; gap: boolean; detail?: string });


describe('a store that does not keep up', () => {
  it('gets at most maxInFlight records beyond what it acked, and more as it acks', async () => {
    const xen = xenWithDomain();
    const host = makeHost(xen, { maxInFlight: 40 });
    const sink = new SlowSink(host);
    await startConnected(host, sink);
    for (let i = 0; i < 100; i++) xen.write(`/local/domain/0/backend/vbd/1/${51712 + i}/params`, `/img/${i}`);
    await until(() => host.status().tail.seq >= 100, 'the writes sealed');
    host.flush();
    expect(sink.records.length).toBe(40);
    sink.commitAll();
    expect(sink.records.length).toBe(80);
    while (sink.records.length < host.status().tail.seq) {
      const n = sink.records.length;
      sink.commitAll();
      expect(sink.records.length).toBeGreaterThan(n);
    }
    checkChain(sink.records);
  });
});

describe('an idle outbox', () => {
  it('pending counts what no store acked; acked records leave the outbox once the state is saved, even with no later ack', async () => {
    const xen = xenWithDomain();
    const host = makeHost(xen, { saveEveryMs: 150 });
    const sink = new CollectingSink();
    await startConnected(host, sink);
    host.flush();
    expect(host.status().pending).toBe(sink.last.seq);
    host.ack(sink.last.seq);
    expect(host.status().pending).toBe(0);
    await until(() => (host as unknown as { outbox: Outbox }).outbox.size === 0, 'the outbox emptied by the delayed save');
  });
});

describe('a store that acks inside push', () => {
  it('gets each record once, in order (an ack during a push does not send the same records again)', async () => {
    const xen = xenWithDomain();
    const host = makeHost(xen, { maxInFlight: 30, maxBatch: 7 });
    const got: number[] = [];
    const sink = {
      push(recs: XRecord[]) {
        for (const r of recs) got.push(r.seq);
        host.ack(recs[recs.length - 1].seq);
      },
    };
    await startConnected(host, sink);
    for (let i = 0; i < 100; i++) xen.write(`/local/domain/0/backend/vbd/1/${51712 + i}/params`, `/img/${i}`);
    await until(() => got.length > 0 && got[got.length - 1] === host.status().tail.seq && host.status().tail.seq > 100, 'everything pushed');
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));
  });
});

describe('outbox caps: shedding, then paused, then resumed', () => {
  it('over half full it sheds guest input (recorded), at the cap it pauses (a gap, commands refused), drained it resumes and reconciles', async () => {
    const xen = xenWithDomain();
    const host = makeHost(xen, { outboxCap: { records: 400 }, saveEveryMs: 0, maxInFlight: 100_000 });
    const sink = new SlowSink(host);
    await startConnected(host, sink);
    host.flush();
    const start = host.status().tail.seq;
    expect(host.status()).toMatchObject({ recordingState: 'normal', capRecords: 400 });

    // Backend writes (dom0's, always recorded) fill the outbox past half.
    let i = 0;
    while (host.status().pending < 200) {
      xen.write(`/local/domain/0/backend/vbd/1/${51712 + i}/params`, `/img/${i}`);
      i++;
      await until(() => host.status().tail.seq >= start + i, 'a backend write sealed');
    }
    await until(() => host.status().recordingState === 'shedding', 'shedding');
    expect(host.status().recordingReason).toBe('outbox-high');
    host.flush();
    expect(statusRecs(sink.records)).toEqual([expect.objectContaining({ state: 'shedding', reason: 'outbox-high', gap: false })]);
    expect(sink.statuses.at(-1)?.recordingState).toBe('shedding');

    // While shedding, a guest's writes are held and counted, a backend's still recorded.
    const mark = sink.records.length;
    for (let k = 0; k < 50; k++) xen.write('/local/domain/1/data/counter', String(k));
    xen.write('/local/domain/0/backend/vif/1/0/state', '4');
    await until(() => sink.records.some((r) => r.data.path === '/local/domain/0/backend/vif/1/0/state'), 'the backend write while shedding');
    const guestWrites = sink.records.slice(mark).filter((r) => r.data.path === '/local/domain/1/data/counter');
    expect(guestWrites).toEqual([]);

    // On to the cap: recording pauses, the helper is stopped, commands are refused.
    while (host.status().recordingState !== 'paused') {
      xen.write(`/local/domain/0/backend/vbd/1/${51712 + i}/params`, `/img/${i}`);
      i++;
      await new Promise((r) => setImmediate(r));
    }
    host.flush();
    const paused = statusRecs(sink.records).find((s) => s.state === 'paused');
    expect(paused).toMatchObject({ reason: 'outbox-full', gap: true, detail: expect.stringContaining('wait for a store') });
    // The held guest value went in before the gap, after its summary.
    const pausedSeq = sink.records.find((r) => r.type === 'recording.status' && r.data.state === 'paused')!.seq;
    const beforeGap = sink.records.slice(mark).filter((r) => r.seq < pausedSeq);
    const summary = beforeGap.find((r) => r.type === 'dropped');
    expect(summary?.data).toMatchObject({ domid: 1, reason: 'backpressure', count: 49 });
    expect(beforeGap.filter((r) => r.type === 'xs.write' && r.data.path === '/local/domain/1/data/counter').map((r) => r.data.value)).toEqual(['49']);
    await until(() => xen.live.length === 0, 'the helper stopped');
    expect(host.status()).toMatchObject({ recordingState: 'paused', recordingReason: 'outbox-full' });
    const refused = await host.command({ op: 'pause', domain: 'web' });
    expect(refused).toMatchObject({ ok: false, error: expect.stringContaining('recording is paused') });
    expect(xen.xlRuns).toEqual([]);

    // Meanwhile the host changes, unobserved.
    xen.nodes.set('/local/domain/1/data/while-paused', 'yes');
    const pausedAt = host.status().tail.seq;

    // The store catches up: recording resumes with a reconciling scan.
    sink.commitAll();
    await until(() => statusRecs(sink.records).some((s) => s.state === 'resumed'), 'resumed');
    host.flush();
    const after = sink.records.filter((r) => r.seq > pausedAt);
    const resynced = after.findIndex((r) => r.type === 'helper.status');
    const resumed = after.findIndex((r) => r.type === 'recording.status' && r.data.state === 'resumed');
    const reconciled = after.findIndex((r) => r.data.path === '/local/domain/1/data/while-paused');
    expect(after[resynced].data).toMatchObject({ state: 'resynced', gap: true });
    expect(after[resumed].data).toMatchObject({ reason: 'outbox-full', gap: true });
    expect(reconciled).toBeGreaterThanOrEqual(0);
    expect(reconciled).toBeLessThan(resynced);
    expect(resynced).toBeLessThan(resumed);
    expect(host.status().recordingState).not.toBe('paused');
    // Commands run again.
    expect(await host.command({ op: 'pause', domain: 'web' })).toMatchObject({ ok: true });

    checkChain(sink.records);
    const r = replay(sink.records, ALL_BINDINGS);
    expect(r.mismatch).toBeNull();
  });
});

describe('the helper falls behind', () => {
  it('xs.overflow: a gap with the reason, a new session at once (attempts reset), and the rescan reconciles what was not kept', async () => {
    const xen = xenWithDomain();
    const host = makeHost(xen);
    const sink = new CollectingSink();
    await startConnected(host, sink);
    const first = xen.live[0];
    xen.nodes.set('/local/domain/1/data/missed', 'kept by the rescan');
    first.emitEvent('xs.overflow', { dropped: 1234 });
    await until(() => sink.ofType('helper.status').some((r) => r.data.state === 'resynced'), 'resynced');
    const st = sink.ofType('helper.status').map((r) => r.data);
    expect(st).toEqual([
      { state: 'up', gap: false },
      { state: 'down', gap: true, reason: expect.stringContaining('overflowed while Xendeck fell behind (1234 not kept)') },
      expect.objectContaining({ state: 'resynced', gap: true }),
    ]);
    const down = sink.ofType('helper.status')[1].seq;
    const missed = sink.records.find((r) => r.data.path === '/local/domain/1/data/missed');
    expect(missed!.seq).toBeGreaterThan(down);
    expect(host.status()).toMatchObject({ helper: 'up', attempts: 0 });
    await until(() => !xen.live.includes(first), 'the old helper gone');
    checkChain(sink.records);
  });
});

describe('no store yet', () => {
  it('observations waiting for the chain start are bounded: past a quarter of the cap observing pauses, and the first store resumes it with a rescan', async () => {
    const xen = xenWithDomain();
    const host = makeHost(xen, { awaitBase: true, outboxCap: { records: 80 } });
    await host.start();
    await host.whenReady();
    for (let i = 0; i < 40; i++) xen.write(`/local/domain/0/backend/vbd/1/${51712 + i}/params`, `/img/${i}`);
    await until(() => host.status().recordingState === 'paused', 'paused while waiting for a store');
    await until(() => xen.live.length === 0, 'the helper stopped');
    xen.nodes.set('/local/domain/1/data/meanwhile', 'seen');
    const sink = new CollectingSink();
    host.connect(sink, { seq: 0, hash: ZERO_HASH });
    await until(() => sink.ofType('recording.status').some((r) => r.data.state === 'resumed'), 'resumed');
    const rs = sink.ofType('recording.status').map((r) => r.data);
    expect(rs.slice(0, 2)).toEqual([
      expect.objectContaining({ state: 'paused', reason: 'outbox-full', gap: true, detail: expect.stringContaining('no store has connected yet') }),
      expect.objectContaining({ state: 'resumed', reason: 'outbox-full', gap: true }),
    ]);
    const paused = sink.ofType('recording.status')[0].seq;
    // What waited was numbered, none of it lost: the writes before the pause come before it.
    const before = sink.records.filter((r) => r.seq < paused && r.type === 'xs.write' && String(r.data.path).includes('/backend/vbd/'));
    const after = sink.records.filter((r) => r.seq > paused && r.type === 'xs.write' && String(r.data.path).includes('/backend/vbd/'));
    expect(before.length).toBeGreaterThanOrEqual(10);
    // The rest were not observed as they came (the helper was stopped): the rescan reconciles them, each once.
    expect([...before, ...after].map((r) => r.data.value)).toEqual(Array.from({ length: 40 }, (_, i) => `/img/${i}`));
    expect(sink.records.some((r) => r.seq > paused && r.data.path === '/local/domain/1/data/meanwhile')).toBe(true);
    checkChain(sink.records);
  });
});

describe('the wall clock going backwards', () => {
  it('is flagged once with host.clock; timestamps keep rising and recover wall time through the offset', async () => {
    let wall = 1_800_000_000_000;
    const xen = xenWithDomain();
    const host = makeHost(xen, { now: () => wall });
    const sink = new CollectingSink();
    await startConnected(host, sink);
    wall += 5000;
    xen.write('/local/domain/1/data/phase', 'before');
    await until(() => sink.records.some((r) => r.data.value === 'before'), 'before');
    wall -= 3_600_000;
    xen.write('/local/domain/1/data/phase', 'after');
    await until(() => sink.records.some((r) => r.data.value === 'after'), 'after');
    wall += 200;
    xen.write('/local/domain/1/data/phase', 'later');
    await until(() => sink.records.some((r) => r.data.value === 'later'), 'later');
    const clocks = sink.ofType('host.clock');
    expect(clocks).toHaveLength(1);
    expect(clocks[0].data).toEqual({ by: 3_600_000, wall: 1_800_000_000_000 + 5000 - 3_600_000, offset: 3_600_000 });
    const before = sink.records.find((r) => r.data.value === 'before')!;
    const after = sink.records.find((r) => r.data.value === 'after')!;
    const later = sink.records.find((r) => r.data.value === 'later')!;
    expect(clocks[0].seq).toBeGreaterThan(before.seq);
    expect(clocks[0].seq).toBeLessThan(after.seq);
    for (let k = 1; k < sink.records.length; k++) expect(sink.records[k].ts).toBeGreaterThanOrEqual(sink.records[k - 1].ts);
    // Wall time = ts - offset, from the host.clock record on.
    expect(later.ts - (clocks[0].data as { offset: number }).offset).toBe(wall);
    checkChain(sink.records);
  });

  it('a step back under a second is held, not flagged', async () => {
    let wall = 1_800_000_000_000;
    const xen = xenWithDomain();
    const host = makeHost(xen, { now: () => wall });
    const sink = new CollectingSink();
    await startConnected(host, sink);
    wall -= 400;
    xen.write('/local/domain/1/data/phase', 'x');
    await until(() => sink.records.some((r) => r.data.value === 'x'), 'x');
    expect(sink.ofType('host.clock')).toEqual([]);
    expect(sink.records.at(-1)!.ts).toBe(1_800_000_000_000);
  });
});

describe('outbox on a full disk', () => {
  it('a refused append leaves the file as it was and can be retried whole', () => {
    const d = dir();
    const ob = Outbox.open(d);
    const rec = (seq: number, prev: string): XRecord => ({ seq, ts: 1, src: 'host', type: 'host.tick', data: {}, prev, hash: String(seq).padStart(64, '0') });
    ob.append([rec(1, ZERO_HASH)]);
    const size = statSync(ob.path).size;
    const bytes = ob.bytes;
    // /dev/full refuses every write with ENOSPC, as a full filesystem does.
    const o = ob as unknown as { fd: number };
    const real = o.fd;
    o.fd = openSync('/dev/full', 'a');
    let err: unknown;
    try {
      ob.append([rec(2, rec(1, ZERO_HASH).hash)]);
    } catch (e) {
      err = e;
    }
    expect(isDiskFull(err)).toBe(true);
    expect(ob.size).toBe(1);
    expect(ob.bytes).toBe(bytes);
    closeSync(o.fd);
    o.fd = real;
    expect(statSync(ob.path).size).toBe(size);
    ob.append([rec(2, rec(1, ZERO_HASH).hash)]);
    ob.close();
    const again = Outbox.open(d);
    expect(again.pending().map((r) => r.seq)).toEqual([1, 2]);
    expect(again.bytes).toBe(readFileSync(again.path, 'utf8').length);
    again.close();
  });

  it('a torn last line is cut off on open, so the next record starts a line of its own', () => {
    const d = dir();
    const ob = Outbox.open(d);
    const r1: XRecord = { seq: 1, ts: 1, src: 'host', type: 'host.tick', data: {}, prev: ZERO_HASH, hash: 'a'.repeat(64) };
    ob.append([r1]);
    ob.close();
    const fd = openSync(ob.path, 'a');
    const torn = Buffer.from('{"seq":2,"ts":1,"src":"ho');
    writeSync(fd, torn);
    closeSync(fd);
    const again = Outbox.open(d);
    expect(again.notes).toEqual([expect.stringContaining('cut short')]);
    again.append([{ ...r1, seq: 2, prev: r1.hash, hash: 'b'.repeat(64) }]);
    again.close();
    const third = Outbox.open(d);
    expect(third.pending().map((r) => r.seq)).toEqual([1, 2]);
    expect(third.notes).toEqual([]);
    third.close();
  });
});
