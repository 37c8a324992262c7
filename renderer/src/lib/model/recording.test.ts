import { describe, expect, it } from 'vitest';
import type { XRecord } from '../../../../machines/events/record.ts';
import { FAKE_STATUS } from '../testing/fake-api.ts';
import { bytes, pendingText, recordingNotices, retryIn } from './recording.ts';
import { badge, provenance, summary } from './provenance.ts';

const status = (extra: Partial<typeof FAKE_STATUS>) => ({ ...FAKE_STATUS, ...extra });
const pause = { detail: "the browser's storage quota for Xendeck is used up (QuotaExceededError)", retries: 2, nextRetry: 10_000 };

describe('recording notices', () => {
  it('a host recording normally, or a status without the pressure fields, shows nothing', () => {
    expect(recordingNotices(null, null)).toEqual([]);
    expect(recordingNotices(FAKE_STATUS, null)).toEqual([]);
    expect(recordingNotices(status({ recordingState: 'normal', pending: 12 }), null)).toEqual([]);
  });

  it('shedding is a warning that guest data is summarised, with pending of the caps', () => {
    const [n, ...rest] = recordingNotices(status({ recordingState: 'shedding', recordingReason: 'outbox-high', pending: 41_234, capRecords: 50_000, pendingBytes: 3 * 1024 * 1024, capBytes: 64 * 1024 * 1024 }), null);
    expect(rest).toEqual([]);
    expect(n).toMatchObject({ level: 'warn', source: 'host', label: 'Recording under pressure', retry: false });
    expect(n.text).toMatch(/^Recording under pressure: guest data is being summarised \(41,234 pending of 50,000, 3\.0 MiB of 64 MiB\)\./);
  });

  it('paused says the reason in plain words: outbox full, disk full, a store full', () => {
    const outbox = recordingNotices(status({ recordingState: 'paused', recordingReason: 'outbox-full', pending: 50_000, capRecords: 50_000 }), null)[0];
    expect(outbox).toMatchObject({ level: 'error', label: 'Recording paused: outbox full' });
    expect(outbox.text).toMatch(/^Recording paused: the store is not keeping up, .*\(50,000 pending of 50,000\)\. Nothing recorded so far is lost/);
    const disk = recordingNotices(status({ recordingState: 'paused', recordingReason: 'disk-full', recordingDetail: 'ENOSPC writing outbox.jsonl' }), null)[0];
    expect(disk.text).toBe("Recording paused: the disk holding Xendeck's outbox is full — ENOSPC writing outbox.jsonl. Nothing recorded so far is lost; Xendeck resumes when space is available, and the gap is marked in history.");
    const store = recordingNotices(status({ recordingState: 'paused', recordingReason: 'store-full', recordingDetail: 'quota used up' }), null)[0];
    expect(store.text).toMatch(/^Recording paused: storage is full — quota used up \(a window's store cannot commit\)\. Nothing recorded so far is lost/);
  });

  it("this page's own full store is an error with its reason and a retry; the host's store-full pause is not shown twice", () => {
    const own = recordingNotices(null, pause);
    expect(own).toHaveLength(1);
    expect(own[0]).toMatchObject({ level: 'error', source: 'store', retry: true, label: 'Recording paused: storage full' });
    expect(own[0].text).toBe(
      "Recording paused: storage is full — the browser's storage quota for Xendeck is used up (QuotaExceededError). Nothing recorded so far is lost: the host keeps every record until this store can take it, and Xendeck resumes when space is available. Free disk space or storage for this site.",
    );
    expect(recordingNotices(status({ recordingState: 'paused', recordingReason: 'store-full' }), pause).map((n) => n.source)).toEqual(['store']);
    expect(recordingNotices(status({ recordingState: 'normal', recordingReason: 'store-full' }), pause).map((n) => n.source)).toEqual(['store']);
    // Another window's store full, this one fine: the host keeps recording for it, a warning says so.
    const other = recordingNotices(status({ recordingState: 'normal', recordingReason: 'store-full', recordingDetail: 'quota used up', pending: 300 }), null);
    expect(other).toHaveLength(1);
    expect(other[0]).toMatchObject({ level: 'warn', source: 'host', label: 'A store is full' });
    expect(other[0].text).toBe('A store of this host cannot commit: storage is full — quota used up. The host goes on recording and keeps its records (300 pending) until that store can take them.');
    // The host under pressure meanwhile (its outbox fills while the store is paused) is shown beside it.
    expect(recordingNotices(status({ recordingState: 'shedding', recordingReason: 'outbox-high' }), pause).map((n) => `${n.source}:${n.level}`)).toEqual(['store:error', 'host:warn']);
  });

  it('figures as a person reads them', () => {
    expect([bytes(512), bytes(2048), bytes(15 * 1024 * 1024), bytes(3 * 1024 ** 3)]).toEqual(['512 B', '2.0 KiB', '15 MiB', '3.0 GiB']);
    expect(pendingText(status({ pending: 7 }))).toBe('7 pending');
    expect(retryIn(pause, 7_100)).toBe(3);
    expect(retryIn(pause, 20_000)).toBe(0);
  });
});

const rec = (type: string, data: Record<string, unknown>, extra: Partial<XRecord> = {}): XRecord => ({ v: 1, seq: 9, ts: 0, src: 'host', type, data, prev: '', hash: '', ...extra }) as XRecord;

describe('timeline rows for pressure, clock and dropped records', () => {
  it('recording.status: each state in words, with its badge', () => {
    const paused = rec('recording.status', { state: 'paused', reason: 'outbox-full', gap: true, pending: 50_000 });
    expect(summary(paused)).toBe('recording paused: the outbox is full, the store is not keeping up (50,000 pending); observations may be missing');
    expect(badge(paused)).toEqual({ label: 'paused', level: 'bad' });
    const store = rec('recording.status', { state: 'paused', reason: 'store-full', gap: false, detail: 'quota used up' });
    expect(summary(store)).toBe("recording paused: a store's storage is full (quota used up)");
    const resumed = rec('recording.status', { state: 'resumed', reason: 'disk-full', gap: true });
    expect(summary(resumed)).toBe("recording resumed after a pause (the disk holding Xendeck's outbox is full); observations may be missing");
    expect(badge(resumed)).toEqual({ label: 'resumed', level: 'ok' });
    const shedding = rec('recording.status', { state: 'shedding', reason: 'outbox-high', gap: false, pending: 40_000 });
    expect(summary(shedding)).toBe('recording under pressure: guest data summarised, the outbox is backing up (40,000 pending)');
    expect(badge(shedding)).toEqual({ label: 'shedding', level: 'warn' });
    expect(summary(rec('recording.status', { state: 'normal', reason: 'outbox-high', gap: false }))).toBe('recording back to normal: guest data recorded in full again');
    expect(provenance(paused)).toEqual({ origin: 'host', where: 'recording paused: the outbox is full, the store is not keeping up (gap: observations may be missing)' });
  });

  it('host.clock: how far the wall clock went back, and that timestamps were adjusted', () => {
    const r = rec('host.clock', { by: 90_000, wall: Date.UTC(2026, 10, 21, 12, 0, 0), offset: 90_500 });
    expect(summary(r)).toBe('wall clock went back 90 s; timestamps adjusted (ts = wall clock + 91 s)');
    expect(summary(rec('host.clock', { by: 250, wall: 0, offset: 250 }))).toBe('wall clock went back 250 ms; timestamps adjusted (ts = wall clock + 250 ms)');
    expect(summary(rec('host.clock', { by: 3_600_000, wall: 0, offset: 3_600_000 + 150_000 }))).toBe('wall clock went back 1.0 h; timestamps adjusted (ts = wall clock + 1.0 h)');
    expect(summary(rec('host.clock', { by: 300_000, wall: 0, offset: 300_000 }))).toBe('wall clock went back 5.0 min; timestamps adjusted (ts = wall clock + 5.0 min)');
    expect(summary(rec('host.clock', { by: 3_599_950, wall: 0, offset: 3_599_950 }))).toBe('wall clock went back 1.0 h; timestamps adjusted (ts = wall clock + 1.0 h)');
    expect(badge(r)).toEqual({ label: 'clock', level: 'warn' });
    expect(provenance(r).where).toBe('host wall clock at 2026-11-21T12:00:00.000Z (offset now 91 s)');
  });

  it('dm.status: a device model gone (its QMP socket refuses) or answering again, with a badge', () => {
    const gone = rec('dm.status', { domid: 4, alive: false, error: 'ECONNREFUSED' }, { domid: 4, src: 'helper' });
    expect(summary(gone)).toBe('device model of domid 4 is gone: its QMP socket refuses connections (ECONNREFUSED)');
    expect(badge(gone)).toEqual({ label: 'device model gone', level: 'bad' });
    const back = rec('dm.status', { domid: 4, alive: true }, { domid: 4, src: 'helper' });
    expect(summary(back)).toBe('device model of domid 4 answers on its QMP socket again');
    expect(badge(back)).toEqual({ label: 'device model', level: 'ok' });
    expect(provenance(gone).where).toBe("the helper's probe of the QMP socket of domid 4");
  });

  it('dropped: what was filtered, how much and for how long, with a badge', () => {
    const r = rec('dropped', { domid: 7, path: '/local/domain/7/data', reason: 'rate', count: 598_000, bytes: 24_536_678, from: 1000, to: 61_000 }, { domid: 7, src: 'xs' });
    expect(summary(r)).toMatch(/^domain 7, \/local\/domain\/7\/data: 598,000 writes .*\(23\.4 MiB over 60\.0 s\)$/);
    expect(badge(r)).toEqual({ label: 'dropped', level: 'warn' });
    expect(provenance(r).where).toBe('guest input filter at /local/domain/7/data (rate)');
    expect(badge(rec('xs.write', { path: 'a', value: 'b' }))).toBeNull();
  });
});
