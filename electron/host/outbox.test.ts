import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { Chain } from '../../machines/events/chain.ts';
import type { XRecord } from '../../machines/events/record.ts';
import { nodeSha256Hex } from '../shared/bundle-io.ts';
import { Outbox } from './outbox.ts';
import { tempDir } from './test-support.ts';

function records(n: number, chain = new Chain(undefined, nodeSha256Hex)): XRecord[] {
  const out: XRecord[] = [];
  for (let i = 0; i < n; i++) out.push(chain.append({ ts: 1000 + i, src: 'xs', type: 'xs.write', data: { path: `/local/domain/1/k${i}`, value: String(i) } }));
  return out;
}

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('outbox', () => {
  it('survives a restart and gives back exactly the unacked records', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const recs = records(10);
    const a = Outbox.open(t.dir);
    a.append(recs.slice(0, 6));
    expect(a.ack(4)).toBe(4);
    a.append(recs.slice(6));
    a.close();
    const b = Outbox.open(t.dir);
    expect(b.pending().map((r) => r.seq)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(b.pending()).toEqual(recs.slice(4));
    expect(b.tail).toEqual({ seq: 10, hash: recs[9].hash });
    expect(b.acked).toEqual({ seq: 4, hash: recs[3].hash });
    expect(b.since(7).map((r) => r.seq)).toEqual([8, 9, 10]);
    b.close();
  });

  it('keeps the tail when everything was acked, so numbering continues', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const recs = records(3);
    const a = Outbox.open(t.dir);
    a.append(recs);
    a.ack(3);
    a.close();
    const b = Outbox.open(t.dir);
    expect(b.size).toBe(0);
    expect(b.tail).toEqual({ seq: 3, hash: recs[2].hash });
    b.close();
  });

  it('ignores a torn last line left by a crash mid-write', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const recs = records(3);
    const a = Outbox.open(t.dir);
    a.append(recs);
    a.close();
    appendFileSync(a.path, '{"seq":4,"ts":1');
    const b = Outbox.open(t.dir);
    expect(b.pending().map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(b.notes[0]).toMatch(/cut short/);
    b.close();
  });

  it('refuses a record that does not follow the tail', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const recs = records(3);
    const a = Outbox.open(t.dir);
    a.append(recs.slice(0, 1));
    expect(() => a.append(recs.slice(2))).toThrow(/does not follow 1/);
    a.close();
  });

  it('compacts to the base and the unacked records, and reads back the same', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const recs = records(20);
    const a = Outbox.open(t.dir, { compactAfter: 10 });
    a.append(recs);
    a.ack(15); // 15 records + 1 ack line: over the threshold
    const text = readFileSync(a.path, 'utf8').trim().split('\n');
    expect(text.length).toBe(1 + 5);
    expect(JSON.parse(text[0])).toEqual({ base: { seq: 15, hash: recs[14].hash } });
    a.append(records(0));
    a.close();
    const b = Outbox.open(t.dir);
    expect(b.pending()).toEqual(recs.slice(15));
    expect(b.acked.seq).toBe(15);
    b.close();
  });

  it('an ack below what was acked, or beyond what is held, changes nothing it should not', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const recs = records(5);
    const a = Outbox.open(t.dir);
    a.append(recs);
    expect(a.ack(3)).toBe(3);
    expect(a.ack(2)).toBe(0);
    expect(a.ack(99)).toBe(2);
    expect(a.size).toBe(0);
    a.close();
  });

  it('a file that is not an outbox is reported line by line, not trusted', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const a = Outbox.open(t.dir);
    a.close();
    writeFileSync(a.path, 'hello\n{"x":1}\n');
    const b = Outbox.open(t.dir);
    expect(b.notes).toEqual(['line 1 is not JSON: ignored', 'line 2 is not an outbox entry: ignored']);
    expect(b.tail).toBeUndefined();
    b.close();
  });
});
