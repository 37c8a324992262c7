/**
 * Where exports read history from. The renderer's store and the CLI's bundle
 * files both present themselves as a `RecordSource`, so the same export,
 * verify and selection code runs in both (DESIGN.md section 3: `.std.ts` is
 * pure, no Node and no DOM).
 */
import type { Manifest } from '../../../machines/events/bundle.ts';
import type { XRecord } from '../../../machines/events/record.ts';
import type { Incident, RouterSnapshot } from '../../../machines/host/router.ts';
import type { PrunedRange, Redaction } from './history.std.ts';

export interface SourceBounds {
  /** First seq held. */
  from: number;
  /** Last seq held (from - 1 when empty). */
  to: number;
  /** prev of record `from`. */
  prev: string;
}

export interface RecordSource {
  bounds(): Promise<SourceBounds>;
  /** Records from..to (inclusive), in seq order. */
  records(from: number, to: number): AsyncIterable<XRecord>;
  host(): Promise<Manifest['host']>;
  pruned(): Promise<PrunedRange[]>;
  redactions(): Promise<Redaction[]>;
  /** The host router's state right after `seq` (for a bundle that starts after seq 1), or null when unknown. */
  snapshotAt?(seq: number): Promise<RouterSnapshot | null>;
  /** Incidents the machines detected in from..to (the HTML report lists them). */
  incidents?(from: number, to: number): Promise<Incident[]>;
}

/** Progress of a long export or check. `total` is the number of records the pass will read. */
export interface Progress {
  phase: 'locate' | 'write' | 'check';
  done: number;
  total: number;
}

export interface RunOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /** Records between progress reports (default 1000). */
  every?: number;
}

/** Throws the signal's reason (an AbortError) when cancelled. */
export function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new DOMException('export cancelled', 'AbortError');
}

/** Counts records for progress and cancellation; call `tick()` once per record. */
export class Ticker {
  done = 0;
  private readonly every: number;
  constructor(
    private readonly phase: Progress['phase'],
    private readonly total: number,
    private readonly opts: RunOptions,
  ) {
    this.every = Math.max(1, opts.every ?? 1000);
    checkAbort(opts.signal);
  }
  tick(): void {
    this.done++;
    if (this.done % this.every === 0) {
      checkAbort(this.opts.signal);
      this.opts.onProgress?.({ phase: this.phase, done: this.done, total: this.total });
    }
  }
  finish(): void {
    checkAbort(this.opts.signal);
    this.opts.onProgress?.({ phase: this.phase, done: this.done, total: this.total });
  }
}

/** A source over records held in memory (tests, small bundles), optionally with a manifest's context. */
export function arraySource(records: readonly XRecord[], ctx: { host?: Manifest['host']; pruned?: PrunedRange[]; redactions?: Redaction[]; snapshotAt?: RecordSource['snapshotAt']; incidents?: RecordSource['incidents'] } = {}): RecordSource {
  const base = records.length ? records[0].seq : 1;
  return {
    bounds: async () => ({ from: base, to: base + records.length - 1, prev: records.length ? records[0].prev : '0'.repeat(64) }),
    async *records(from, to) {
      for (let s = Math.max(from, base); s <= to && s - base < records.length; s++) yield records[s - base];
    },
    host: async () => ctx.host ?? { hostname: 'unknown' },
    pruned: async () => ctx.pruned ?? [],
    redactions: async () => ctx.redactions ?? [],
    ...(ctx.snapshotAt ? { snapshotAt: ctx.snapshotAt } : {}),
    ...(ctx.incidents ? { incidents: ctx.incidents } : {}),
  };
}

/** Sink for text output: a file stream, a gzip stream, a string builder. */
export interface TextSink {
  write(chunk: string): void | Promise<void>;
}

/** Collects output in memory. */
export class StringSink implements TextSink {
  private parts: string[] = [];
  write(chunk: string): void {
    this.parts.push(chunk);
  }
  text(): string {
    return this.parts.join('');
  }
}

/**
 * Gzip in the browser (and Node ≥ 18) through CompressionStream. Write text,
 * then `close()` to get the compressed bytes.
 */
export function gzipSink(): TextSink & { close(): Promise<Uint8Array> } {
  const cs = new CompressionStream('gzip');
  const writer = cs.writable.getWriter();
  const enc = new TextEncoder();
  const out = new Response(cs.readable).arrayBuffer();
  return {
    async write(chunk: string) {
      await writer.write(enc.encode(chunk));
    },
    async close() {
      await writer.close();
      return new Uint8Array(await out);
    },
  };
}

/** Lines of a bundle held as bytes or a Blob, gunzipped when it starts with the gzip magic. */
export async function* bytesLines(input: Blob | Uint8Array): AsyncGenerator<string> {
  const blob = input instanceof Uint8Array ? new Blob([input as Uint8Array<ArrayBuffer>]) : input;
  const head = new Uint8Array(await blob.slice(0, 2).arrayBuffer());
  let stream: ReadableStream<Uint8Array> = blob.stream();
  if (head.length === 2 && head[0] === 0x1f && head[1] === 0x8b) stream = stream.pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>);
  const reader = stream.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>).getReader();
  let rest = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    rest += value;
    let i: number;
    while ((i = rest.indexOf('\n')) >= 0) {
      yield rest.slice(0, i);
      rest = rest.slice(i + 1);
    }
  }
  if (rest !== '') yield rest;
}
