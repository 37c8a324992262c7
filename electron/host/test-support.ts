/** Test support shared by the host's tests: temp dirs, waiting for a condition, a collecting sink. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ChainChecker } from '../../machines/events/chain.ts';
import { ZERO_HASH, type XRecord } from '../../machines/events/record.ts';
import { recordProblem } from '../../machines/events/validate.ts';
import { nodeSha256Hex } from '../shared/bundle-io.ts';
import type { HostStatus } from '../shared/ipc-contract.std.ts';
import type { LiveHost, RecordSink } from './host.ts';

export function tempDir(prefix = 'xendeck-host-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Wait until cond() holds (polling), or fail with what was awaited. */
export async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Start a host, connect an empty store to it and wait for the helper's first scan. */
export async function startConnected(host: LiveHost, sink: RecordSink): Promise<void> {
  await host.start();
  host.connect(sink, { seq: 0, hash: ZERO_HASH });
  await host.whenReady();
}

/** Every record fits the schema and the chain holds from `start`. */
export function checkChain(recs: XRecord[], start = { seq: 1, prev: ZERO_HASH }): void {
  const c = new ChainChecker(start, nodeSha256Hex);
  for (const r of recs) {
    expect(recordProblem(r)).toBeNull();
    expect(c.check(r)).toBeNull();
  }
}

/** A store stand-in: keeps every pushed record, in order. */
export class CollectingSink implements RecordSink {
  records: XRecord[] = [];
  batches = 0;
  statuses: HostStatus[] = [];
  push(records: XRecord[]): void {
    this.batches++;
    for (const r of records) this.records.push(r);
  }
  pushStatus(s: HostStatus): void {
    this.statuses.push(s);
  }
  get last(): { seq: number; hash: string } {
    const r = this.records[this.records.length - 1];
    return r ? { seq: r.seq, hash: r.hash } : { seq: 0, hash: '0'.repeat(64) };
  }
  ofType(t: string): XRecord[] {
    return this.records.filter((r) => r.type === t);
  }
}
