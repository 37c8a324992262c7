/**
 * Throughput of a xenstore server: READs per second over one connection,
 * pipelined in batches the way a busy client keeps the socket full. Works
 * against the simulator and the real xenstored alike (`npm run bench`).
 */
import { XsWireClient } from './wire-client.ts';
import { XS, strings } from './wire.ts';

/** Writes a node, then times `n` READs of it; returns requests per second. */
export async function benchXenstore(socketPath: string, n: number): Promise<number> {
  const c = await XsWireClient.connect(socketPath);
  try {
    const path = '/tool/xendeck-bench';
    const w = await c.request(XS.WRITE, Buffer.concat([strings(path), Buffer.from('value')]));
    if (w.type !== XS.WRITE) throw new Error(`bench: write failed: ${w.payload.toString('latin1')}`);
    const batch = 64;
    const reads = async (count: number) => {
      for (let done = 0; done < count; ) {
        const k = Math.min(batch, count - done);
        const replies = await Promise.all(Array.from({ length: k }, () => c.request(XS.READ, strings(path))));
        for (const r of replies) if (r.type !== XS.READ) throw new Error('bench: read failed');
        done += k;
      }
    };
    // Warm up first (JIT, socket buffers), so both servers are measured in a steady state.
    await reads(Math.min(n, 5000));
    const start = process.hrtime.bigint();
    await reads(n);
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    await c.request(XS.RM, strings(path));
    return n / secs;
  } finally {
    c.close();
  }
}
