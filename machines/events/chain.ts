/**
 * Building and checking the chain. `Chain` numbers observations into records
 * (seq, prev, hash); `ChainChecker` checks a stream of records one by one and
 * says precisely where and why it breaks.
 */
import { recordHash, pureSha256Hex, type Sha256Hex } from './hash.ts';
import { ZERO_HASH, type Observation, type XRecord } from './record.ts';

export interface ChainTail {
  /** seq of the last record, 0 for an empty store. */
  seq: number;
  /** hash of the last record, ZERO_HASH for an empty store. */
  hash: string;
}

export class Chain {
  private tail: ChainTail;
  constructor(
    tail: ChainTail = { seq: 0, hash: ZERO_HASH },
    private readonly digest: Sha256Hex = pureSha256Hex,
  ) {
    this.tail = { ...tail };
  }

  get last(): ChainTail {
    return { ...this.tail };
  }

  /** Seal one observation as the next record. */
  append<D>(obs: Observation<D>): XRecord<D> {
    const base: Omit<XRecord<D>, 'hash'> = {
      seq: this.tail.seq + 1,
      ts: obs.ts,
      src: obs.src,
      type: obs.type,
      ...(obs.domid !== undefined ? { domid: obs.domid } : {}),
      ...(obs.uuid !== undefined ? { uuid: obs.uuid } : {}),
      data: obs.data,
      prev: this.tail.hash,
    };
    const hash = recordHash(base as XRecord, this.digest);
    const rec = { ...base, hash } as XRecord<D>;
    this.tail = { seq: rec.seq, hash };
    return rec;
  }
}

export type ChainFault =
  | { kind: 'gap'; seq: number; expected: number; message: string }
  | { kind: 'prev'; seq: number; expected: string; found: string; message: string }
  | { kind: 'hash'; seq: number; expected: string; found: string; message: string };

/** Checks records in order against an expected start (seq and prev). */
export class ChainChecker {
  private expectSeq: number;
  private expectPrev: string;
  constructor(
    start: { seq: number; prev: string },
    private readonly digest: Sha256Hex = pureSha256Hex,
  ) {
    this.expectSeq = start.seq;
    this.expectPrev = start.prev;
  }

  /** Returns null when the record chains on, else what is wrong. Advances either way past a well-numbered record. */
  check(rec: XRecord): ChainFault | null {
    if (rec.seq !== this.expectSeq) {
      const f: ChainFault = {
        kind: 'gap',
        seq: rec.seq,
        expected: this.expectSeq,
        message:
          rec.seq > this.expectSeq
            ? `found seq ${rec.seq} where ${this.expectSeq} was expected: record${rec.seq - 1 > this.expectSeq ? `s ${this.expectSeq}..${rec.seq - 1} are` : ` ${this.expectSeq} is`} missing or out of order`
            : `found seq ${rec.seq} where ${this.expectSeq} was expected: record out of order or repeated`,
      };
      return f;
    }
    if (rec.prev !== this.expectPrev) {
      return {
        kind: 'prev',
        seq: rec.seq,
        expected: this.expectPrev,
        found: rec.prev,
        message: `seq ${rec.seq}: prev does not match the hash of seq ${rec.seq - 1} (expected ${short(this.expectPrev)}, found ${short(rec.prev)})`,
      };
    }
    const h = recordHash(rec, this.digest);
    if (h !== rec.hash) {
      return {
        kind: 'hash',
        seq: rec.seq,
        expected: h,
        found: rec.hash,
        message: `seq ${rec.seq}: hash does not match the record's content (computed ${short(h)}, stored ${short(rec.hash)}): the record was altered`,
      };
    }
    this.expectSeq = rec.seq + 1;
    this.expectPrev = rec.hash;
    return null;
  }
}

function short(h: string): string {
  return h.length > 12 ? h.slice(0, 12) + '…' : h;
}
