/**
 * Bundles on disk (Node): streaming line reader with gzip detected by its magic
 * bytes, and a streaming writer (gzip when the name ends in .gz). The codec is
 * machines/events/bundle.ts; this file only moves bytes.
 */
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { createGunzip, createGzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { BundleError, BundleParser, type Manifest } from '../../machines/events/bundle.ts';
import type { Sha256Hex } from '../../machines/events/hash.ts';
import type { XRecord } from '../../machines/events/record.ts';

/** node:crypto SHA-256: same output as the pure one, several times faster in Node. */
export const nodeSha256Hex: Sha256Hex = (text) => createHash('sha256').update(text, 'utf8').digest('hex');

/** Lines of a file, gunzipped when it starts with the gzip magic. Throws BundleError('unreadable') when it cannot be opened. */
export async function* fileLines(path: string): AsyncGenerator<string> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, 'r');
  } catch (e) {
    throw new BundleError('unreadable', `cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const head = Buffer.alloc(2);
  let bytesRead = 0;
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new BundleError('unreadable', `${path} is not a regular file`);
    ({ bytesRead } = await fh.read(head, 0, 2, 0));
  } finally {
    await fh.close();
  }
  let stream: Readable = createReadStream(path);
  if (bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    stream.on('error', (e) => gunzip.destroy(e));
    stream = stream.pipe(gunzip);
  }
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of rl) yield line;
  } catch (e) {
    throw new BundleError('unreadable', `cannot read ${path}: ${(e as Error).message}`);
  }
}

export interface ReadOptions {
  checkChain?: boolean;
  /** Called for each record; return false to stop early. */
  onRecord: (rec: XRecord) => boolean | void;
}

/** Stream a bundle file through the checking parser. Returns the manifest once the end has been checked (or stopped early). */
export async function readBundleFile(path: string, opts: ReadOptions): Promise<{ manifest: Manifest; stoppedEarly: boolean }> {
  const p = new BundleParser({ digest: nodeSha256Hex, checkChain: opts.checkChain });
  for await (const line of fileLines(path)) {
    const rec = p.line(line);
    if (rec && opts.onRecord(rec) === false) return { manifest: p.manifest!, stoppedEarly: true };
  }
  return { manifest: p.end(), stoppedEarly: false };
}

/** Read a whole (small) bundle into memory. */
export async function loadBundle(path: string): Promise<{ manifest: Manifest; records: XRecord[] }> {
  const records: XRecord[] = [];
  const { manifest } = await readBundleFile(path, { onRecord: (r) => void records.push(r) });
  return { manifest, records };
}

/** Write a bundle: manifest then records, one per line; gzip when the path ends in .gz. Written to a temp name and renamed, so a failure leaves nothing half-written. */
export async function writeBundleFile(path: string, manifest: Manifest, records: Iterable<XRecord> | AsyncIterable<XRecord>): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const file = createWriteStream(tmp);
  let out: Writable = file;
  if (path.endsWith('.gz')) {
    const gz = createGzip();
    gz.pipe(file);
    out = gz;
  }
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  try {
    await write(JSON.stringify(manifest) + '\n');
    let buf = '';
    for await (const r of records as AsyncIterable<XRecord>) {
      buf += JSON.stringify(r) + '\n';
      if (buf.length > 1 << 16) {
        await write(buf);
        buf = '';
      }
    }
    if (buf) await write(buf);
    out.end();
    await once(file, 'close');
    await fsp.rename(tmp, path);
  } catch (e) {
    file.destroy();
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}
