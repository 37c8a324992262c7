import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chain } from '../../../machines/events/chain.ts';
import { BundleError, fingerprint, manifestFor } from '../../../machines/events/bundle.ts';
import type { Observation, XRecord } from '../../../machines/events/record.ts';
import { ALL_BINDINGS, machineVersions } from '../../../machines/host/bindings.ts';
import { Recorder } from '../../../machines/host/recorder.ts';
import { replay, Replayer } from '../../../machines/host/replay.ts';
import { workload } from '../../cli/workload.ts';
import { writeBundleFile } from '../bundle-io.ts';
import { run as exportCmd } from '../../cli/export.ts';
import { checkBundle, verifySource } from './check.std.ts';
import { csvCell, parseCsv, CSV_HEADER } from './csv.std.ts';
import { exportHistory, type ExportManifest } from './export.std.ts';
import { escapeHtml } from './html.std.ts';
import { resolveSelection } from './select.std.ts';
import { arraySource, bytesLines, gzipSink, StringSink, type RecordSource } from './source.std.ts';

function sealed(n: number, domains = 4): XRecord[] {
  const rec = new Recorder(ALL_BINDINGS);
  const out: XRecord[] = [];
  for (const o of workload(n * 4, { domains, seed: 7 })) {
    out.push(...rec.observe(o));
    if (out.length >= n) break;
  }
  return out;
}
const HISTORY = sealed(1500, 6);
const UUID0 = HISTORY.find((r) => r.uuid)!.uuid!;

/** The records as a source whose snapshots and incidents come from folding them (what the store and CLI do). */
function foldingSource(recs: XRecord[]): RecordSource {
  return arraySource(recs, {
    host: { hostname: 'h1', xen: '4.17.7' },
    snapshotAt: async (seq) => {
      const r = new Replayer(ALL_BINDINGS, undefined, { keepTransitions: false, checkTransitions: false });
      for (const x of recs) if (x.seq <= seq) r.push(x);
      return r.router.snapshot();
    },
    incidents: async (from, to) => replay(recs, ALL_BINDINGS).view.incidents.filter((i) => i.to >= from && i.from <= to),
  });
}

async function* linesOf(text: string): AsyncGenerator<string> {
  for (const l of text.split('\n')) yield l;
}

async function exportText(src: RecordSource, format: 'jsonl' | 'csv' | 'html', selection = {}) {
  const sink = new StringSink();
  const res = await exportHistory(src, { format, selection, created: '2026-11-21T00:00:00.000Z', machines: machineVersions(), sink });
  return { text: sink.text(), res };
}

function hostile(): XRecord[] {
  const c = new Chain();
  const obs: Observation[] = [
    { ts: 1_763_700_000_000, src: 'xs', type: 'xs.write', domid: 3, data: { path: '/local/domain/3/vm', value: '/vm/11111111-2222-4333-8444-555555555555' } },
    { ts: 1_763_700_000_001, src: 'xs', type: 'xs.write', domid: 3, data: { path: '/local/domain/3/name', value: 'evil' } },
    { ts: 1_763_700_000_002, src: 'xs', type: 'xs.write', domid: 3, data: { path: '/local/domain/3/data/x', value: '=HYPERLINK("http://attacker.example","click")' } },
    { ts: 1_763_700_000_003, src: 'xs', type: 'xs.write', domid: 3, data: { path: '/local/domain/3/data/y', value: 'a,b"c\r\nd' } },
    { ts: 1_763_700_000_004, src: 'log', type: 'log.line', data: { file: 'qemu-dm', domid: 3, line: '<script>alert(1)</script><img src=x onerror="fetch(`//evil`)"><a href="http://x">' } },
    { ts: 1_763_700_000_005, src: 'xs', type: 'xs.write', domid: 4, data: { path: '/local/domain/4/name', value: '@SUM(A1)' } },
  ];
  return obs.map((o) => c.append(o) as XRecord);
}

describe('CSV export', () => {
  it('quotes cells per RFC 4180 and defuses spreadsheet formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    for (const f of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx']) expect(csvCell(f).replace(/^"/, '').startsWith("'")).toBe(true);
    expect(csvCell(42)).toBe('42');
  });

  it('writes one row per record with seq, time, domain, device, type, summary, hash, and guest values cannot inject formulas', async () => {
    const recs = hostile();
    const { text, res } = await exportText(arraySource(recs), 'csv');
    const rows = parseCsv(text);
    expect(rows[0]).toEqual([...CSV_HEADER]);
    expect(rows.length).toBe(recs.length + 1);
    expect(res.rows).toBe(recs.length);
    for (let i = 0; i < recs.length; i++) {
      const row = rows[i + 1];
      expect(row).toHaveLength(7);
      expect(Number(row[0])).toBe(recs[i].seq);
      expect(row[1]).toBe(new Date(recs[i].ts).toISOString());
      expect(row[4]).toBe(recs[i].type);
      expect(row[6]).toBe(recs[i].hash);
      for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    }
    expect(rows[3][2]).toBe('11111111-2222-4333-8444-555555555555');
    expect(rows[3][5]).toContain('=HYPERLINK');
    expect(rows[4][5]).toContain('a,b"c\r\nd'.replace(/\r\n/, '\\r\\n').replace(/"/g, '\\"'));
  });
});

describe('HTML timeline', () => {
  it('is self-contained and escapes every untrusted value', async () => {
    const { text } = await exportText(arraySource(hostile(), { host: { hostname: '<b>host</b>' } }), 'html');
    expect(text).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'`);
    // Every tag in the page is one the report writes, with only its own attributes: nothing a guest wrote became markup.
    const tags = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'h1', 'h2', 'dl', 'dt', 'dd', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'p', 'ul', 'li', 'code']);
    const attrs = new Set(['lang', 'charset', 'http-equiv', 'content', 'name', 'class', 'title']);
    for (const m of text.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)([^>]*)>/g)) {
      expect(tags.has(m[1].toLowerCase()), `tag ${m[1]}`).toBe(true);
      for (const a of m[2].replace(/"[^"]*"/g, "").matchAll(/([a-zA-Z-]+)=/g)) expect(attrs.has(a[1].toLowerCase()), `attribute ${a[1]}`).toBe(true);
    }
    expect(text).not.toMatch(/<link|@import|url\(/i);
    expect(text).toContain(escapeHtml('<script>alert(1)</script>'));
    expect(text).toContain('&lt;b&gt;host&lt;/b&gt;');
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
  });

  it('lists the incidents of the range', async () => {
    const src = foldingSource(HISTORY);
    const incidents = await src.incidents!(1, HISTORY.length);
    expect(incidents.length).toBeGreaterThan(0);
    const { text } = await exportText(src, 'html');
    expect(text).toContain('<h2>Incidents</h2>');
    for (const i of incidents) expect(text).toContain(escapeHtml(i.summary));
  });
});

describe('bundle export', () => {
  it('exports a range that checks, verifies with its fingerprint, and replays to the same states as the whole history', async () => {
    const src = foldingSource(HISTORY);
    const { text, res } = await exportText(src, 'jsonl', { seqFrom: 400, seqTo: 1100 });
    const m = res.manifest!;
    expect(m.from).toBeLessThanOrEqual(400);
    expect(m.snapshot).not.toBeNull();
    const checked = await checkBundle(linesOf(text));
    expect(checked.fingerprint).toBe(res.fingerprint);
    expect(checked.fingerprint).toBe(fingerprint({ first: HISTORY[m.from - 1].hash, last: HISTORY[m.to - 1].hash, count: m.to - m.from + 1 }));
    const part = HISTORY.slice(m.from - 1, m.to);
    const v = await verifySource(arraySource(part, { snapshotAt: async () => checked.snapshot!.state }), {}, { bindings: ALL_BINDINGS });
    expect(v).toMatchObject({ ok: true, count: part.length, fingerprint: res.fingerprint, replay: { checked: true } });
    const r = new Replayer(ALL_BINDINGS, checked.snapshot!.state);
    for (const rec of part) {
      r.push(rec);
      if (rec.seq % 97 === 0) expect(r.view()).toEqual(replay(HISTORY, ALL_BINDINGS, rec.seq).view);
    }
    expect(r.finish()).toBeNull();
  });

  it('never starts a range on a transition or ends it before the transitions a record caused', async () => {
    const src = arraySource(HISTORY);
    const t = HISTORY.findIndex((r, i) => i > 10 && r.type === 'machine.transition' && HISTORY[i - 1].type === 'machine.transition');
    const rs = await resolveSelection(src, { seqFrom: HISTORY[t].seq, seqTo: HISTORY[t].seq - 2 + 10 });
    expect(HISTORY[rs.from - 1].type).not.toBe('machine.transition');
    expect(rs.from).toBe((HISTORY[t].data as { cause: number }).cause);
    const cause = HISTORY.findIndex((r, i) => HISTORY[i + 1]?.type === 'machine.transition' && r.type !== 'machine.transition');
    const end = await resolveSelection(src, { seqFrom: 1, seqTo: HISTORY[cause].seq });
    expect(end.to).toBeGreaterThan(HISTORY[cause].seq);
    expect(HISTORY[end.to].type).not.toBe('machine.transition');
  });

  it('selects a domain, a time range or an incident', async () => {
    const src = foldingSource(HISTORY);
    const dom = await exportText(src, 'csv', { domain: UUID0 });
    const rows = parseCsv(dom.text).slice(1);
    expect(rows.length).toBeGreaterThan(10);
    for (const r of rows) expect(r[2]).toBe(UUID0);
    const ts0 = HISTORY[300].ts;
    const ts1 = HISTORY[700].ts;
    const time = await exportText(src, 'csv', { tsFrom: ts0, tsTo: ts1 });
    for (const r of parseCsv(time.text).slice(1)) {
      const t = Date.parse(r[1]);
      expect(t >= ts0 && t <= ts1).toBe(true);
    }
    const inc = (await src.incidents!(1, HISTORY.length))[0];
    const one = await exportText(src, 'jsonl', { incident: { kind: inc.kind, from: inc.from, to: inc.to } });
    expect(one.res.from).toBeLessThanOrEqual(inc.from);
    expect(one.res.to).toBeGreaterThanOrEqual(inc.to);
    expect((one.res.manifest as ExportManifest).selection).toMatchObject({ incident: { kind: inc.kind } });
    await expect(exportText(src, 'csv', { domain: 'no-such-vm' })).rejects.toThrow(/no domain named no-such-vm/);
  });

  it('reports progress and stops when cancelled', async () => {
    const src = arraySource(HISTORY);
    const seen: number[] = [];
    await exportHistory(src, { format: 'csv', selection: {}, created: 'x', machines: {}, sink: new StringSink() }, { every: 200, onProgress: (p) => seen.push(p.done) });
    expect(seen.slice(0, 3)).toEqual([200, 400, 600]);
    expect(seen[seen.length - 1]).toBe(HISTORY.length);
    const ac = new AbortController();
    const sink = new StringSink();
    await expect(exportHistory(src, { format: 'jsonl', selection: {}, created: 'x', machines: {}, sink }, { every: 100, signal: ac.signal, onProgress: (p) => p.done >= 300 && ac.abort() })).rejects.toThrow(/abort/i);
    expect(sink.text().split('\n').length).toBeLessThan(HISTORY.length);
  });

  it('gzips through CompressionStream and reads back', async () => {
    const sink = gzipSink();
    await exportHistory(arraySource(HISTORY.slice(0, 200)), { format: 'jsonl', selection: {}, created: 'x', machines: {}, sink });
    const bytes = await sink.close();
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    const checked = await checkBundle(bytesLines(bytes));
    expect(checked.records).toBe(200);
    expect(gunzipSync(bytes).toString().split('\n')[1]).toBe(JSON.stringify(HISTORY[0]));
  });
});

describe('checkBundle names the line of the first problem', () => {
  const recs = HISTORY.slice(0, 50);
  const lines = () => {
    const m = manifestFor(recs, { host: { hostname: 'h' }, created: 'x', machines: {} });
    return [JSON.stringify(m), ...recs.map((r) => JSON.stringify(r))];
  };
  const check = (ls: string[]) => checkBundle(linesOf(ls.join('\n') + '\n'));
  const fails = async (ls: string[], re: RegExp) => {
    const e = await check(ls).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(BundleError);
    expect((e as Error).message).toMatch(re);
  };
  it('tampered', async () => {
    const ls = lines();
    ls[11] = ls[11].replace(/"ts":(\d+)/, (_, n) => `"ts":${Number(n) + 1}`);
    await fails(ls, /^line 12: seq 11: hash does not match/);
  });
  it('truncated', async () => {
    await fails(lines().slice(0, 31), /^line 32: bundle ends early: 30 of 50 records \(records 31\.\.50 are missing\)/);
  });
  it('reordered', async () => {
    const ls = lines();
    [ls[20], ls[21]] = [ls[21], ls[20]];
    await fails(ls, /^line 21: found seq 21 where 20 was expected/);
  });
  it('duplicated', async () => {
    const ls = lines();
    ls.splice(8, 0, ls[7]);
    await fails(ls, /^line 9: found seq 7 where 8 was expected: record out of order or repeated/);
  });
  it('wrong version', async () => {
    const ls = lines();
    ls[0] = ls[0].replace('"version":1', '"version":2');
    await fails(ls, /^line 1: bad manifest: version/);
  });
  it('a snapshot that is not the state before the first record', async () => {
    const ls = lines();
    ls[0] = ls[0].replace('"snapshot":null', '"snapshot":{"seq":7,"machines":{},"state":{"v":1,"seq":7}}');
    await fails(ls, /^line 1: bad manifest: snapshot/);
  });
});

describe('verifySource', () => {
  it('verifies a range with its fingerprint and finds an altered record', async () => {
    const ok = await verifySource(arraySource(HISTORY), { from: 100, to: 300 });
    expect(ok).toMatchObject({ ok: true, from: 100, to: 300, count: 201, fingerprint: `${HISTORY[99].hash}|${HISTORY[299].hash}|201` });
    const bad = HISTORY.map((r) => (r.seq === 250 ? { ...r, data: { ...r.data, value: 'x' } } : r));
    const v = await verifySource(arraySource(bad), { from: 100, to: 300 });
    expect(v).toMatchObject({ ok: false, problem: { seq: 250 } });
    expect(v.problem!.message).toMatch(/hash does not match/);
  });
});

describe('xendeck export', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xendeck-export-'));
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out, err };
  };
  it('exports csv, html and a gzipped bundle from a bundle file, with the same code as the store', async () => {
    const file = join(dir, 'h.jsonl');
    await writeBundleFile(file, manifestFor(HISTORY, { host: { hostname: 'h1' }, created: 'x', machines: machineVersions() }), HISTORY);
    const c = io();
    expect(await exportCmd([file, '--format', 'csv', '--domain', UUID0, '--out', join(dir, 'd.csv')], c.io)).toBe(0);
    expect(c.out[0]).toMatch(/^exported \d+ rows, seq \d+\.\.\d+, fingerprint [0-9a-f]{64}\|[0-9a-f]{64}\|\d+/);
    const fromStore = await exportText(arraySource(HISTORY), 'csv', { domain: UUID0 });
    expect(readFileSync(join(dir, 'd.csv'), 'utf8')).toBe(fromStore.text);
    expect(await exportCmd([file, '--format', 'html', '--from', new Date(HISTORY[100].ts).toISOString(), '--to', String(HISTORY[900].ts), '--out', join(dir, 't.html')], io().io)).toBe(0);
    expect(readFileSync(join(dir, 't.html'), 'utf8')).toMatch(/^<!doctype html>/);
    expect(await exportCmd([file, '--format', 'jsonl', '--from-seq', '500', '--to-seq', '900', '--out', join(dir, 'r.jsonl.gz')], io().io)).toBe(0);
    const checked = await checkBundle(bytesLines(readFileSync(join(dir, 'r.jsonl.gz'))));
    expect(checked.manifest.from).toBeLessThanOrEqual(500);
    expect(checked.snapshot?.seq).toBe(checked.manifest.from - 1);
  });
  it('exit 2 for bad usage or a selection matching nothing, 1 for an invalid bundle', async () => {
    const file = join(dir, 'h2.jsonl');
    await writeBundleFile(file, manifestFor(HISTORY.slice(0, 40), { host: { hostname: 'h1' }, created: 'x', machines: {} }), HISTORY.slice(0, 40));
    await expect(exportCmd([file, '--format', 'pdf', '--out', join(dir, 'x')], io().io)).rejects.toThrow(/--format expects/);
    const c = io();
    expect(await exportCmd([file, '--format', 'csv', '--domain', 'nobody', '--out', join(dir, 'x.csv')], c.io)).toBe(2);
    expect(c.err[0]).toMatch(/no domain named nobody/);
    const text = readFileSync(file, 'utf8').split('\n');
    text[5] = text[5].replace(/"ts":(\d+)/, (_, n) => `"ts":${Number(n) + 1}`);
    writeFileSync(join(dir, 'bad.jsonl'), text.join('\n'));
    await expect(exportCmd([join(dir, 'bad.jsonl'), '--format', 'csv', '--out', join(dir, 'y.csv')], io().io)).rejects.toMatchObject({ kind: 'invalid', line: 6 });
  });
  it('cleans up', () => rmSync(dir, { recursive: true, force: true }));
});
