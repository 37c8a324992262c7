/**
 * The host's benchmarks (DESIGN.md section 8), for `xendeck bench`:
 *  - host-ingest: observations/s through the live host (recorder, router,
 *    outbox file, push to a Node-side sink that acks each batch), against the
 *    recorder alone (chain + router, no outbox, no push) on the same
 *    observations;
 *  - host-latency: ms from a write in the simulator's xenstore to the record
 *    pushed to a sink, through the real helper, against a plain xenstore
 *    watch on the same server seeing the same write.
 * Register with `BENCHES.push(hostBench)` in electron/cli/bench.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Bench, BenchContext, BenchResult } from '../cli/bench.ts';
import { workload } from '../cli/workload.ts';
import { ALL_BINDINGS } from '../../machines/host/bindings.ts';
import { Recorder } from '../../machines/host/recorder.ts';
import type { Observation, XRecord } from '../../machines/events/record.ts';
import { nodeSha256Hex } from '../shared/bundle-io.ts';
import { FakeXen } from './fake-helper.ts';
import { LiveHost } from './host.ts';
import { helperPath } from './runtime.ts';
import { spawnHelper } from './helper-client.ts';

const INGEST_MAX = 200_000;

export async function benchIngest(ctx: BenchContext): Promise<BenchResult> {
  const n = Math.min(ctx.records, INGEST_MAX);
  const obs: Observation[] = [...workload(n)];

  // Warm the JIT on both paths first, so neither measurement pays for it.
  const warm = new Recorder(ALL_BINDINGS, { digest: nodeSha256Hex });
  for (let i = 0; i < Math.min(20_000, n); i++) warm.observe(obs[i]);

  // Baseline: the recorder alone.
  let t0 = performance.now();
  const r = new Recorder(ALL_BINDINGS, { digest: nodeSha256Hex });
  let sealed = 0;
  for (const o of obs) sealed += r.observe(o).length;
  const baseSecs = (performance.now() - t0) / 1000;

  // Figure: the live host, outbox on disk, a sink that acks every batch it gets.
  const dir = mkdtempSync(join(ctx.dir, 'host-ingest-'));
  const xen = new FakeXen();
  const host = new LiveHost({ dataDir: dir, launch: () => xen.launch(), user: 'bench', dominfoPollMs: 0, tickMs: 60_000 });
  await host.start();
  await host.whenReady();
  host.flush();
  let pushed = 0;
  const sink = {
    push(b: XRecord[]) {
      pushed += b.length;
      host.ack(b[b.length - 1].seq);
    },
  };
  host.connect(sink, host.status().tail);
  const before = pushed;
  t0 = performance.now();
  for (let i = 0; i < obs.length; i += 1000) {
    host.observe(obs.slice(i, i + 1000));
    host.flush();
  }
  const hostSecs = (performance.now() - t0) / 1000;
  const outboxLeft = host.status().pending;
  await host.stop();
  rmSync(dir, { recursive: true, force: true });
  const a = n / baseSecs;
  const b = n / hostSecs;
  return {
    name: 'host-ingest',
    figure: Math.round(b),
    unit: 'observations/s',
    baseline: Math.round(a),
    baselineLabel: 'recorder alone (chain + router)',
    ratio: b / a,
    notes: { observations: n, recordsPushed: pushed - before, recordsSealedByBaseline: sealed, outboxLeft },
  };
}

export async function benchLatency(ctx: BenchContext, samples = 40): Promise<BenchResult> {
  const { startSimulator } = await import('../sim/sim.ts');
  const { XsWireClient } = await import('../sim/xenstore/wire-client.ts');
  const { XS } = await import('../sim/xenstore/wire.ts');
  const dir = mkdtempSync(join(ctx.dir, 'host-latency-'));
  const sim = await startSimulator({ dir: join(dir, 'sim') });
  const helper = helperPath();
  const host = new LiveHost({
    dataDir: join(dir, 'data'),
    launch: () => spawnHelper({ helperPath: helper, elevate: false, overrides: { xenstoreSocket: sim.xenstoreSocket, qmpDir: sim.qmpDir, xlPath: sim.xlPath, logDir: sim.logDir, lockDir: sim.lockDir } }),
    user: 'bench',
    dominfoPollMs: 0,
  });
  const waiting = new Map<string, () => void>();
  try {
    await host.start();
    await host.whenReady();
    host.connect(
      {
        push(b: XRecord[]) {
          for (const rec of b) {
            const p = (rec.data as { path?: string }).path;
            if (p) waiting.get(p)?.();
          }
        },
      },
      host.status().tail,
    );
    const xs = sim.store.as(0);
    const hostMs: number[] = [];
    for (let i = 0; i < samples; i++) {
      const path = `/local/domain/0/bench/h${i}`;
      const got = new Promise<void>((resolve) => waiting.set(path, resolve));
      const t0 = performance.now();
      xs.write(path, String(i));
      await got;
      hostMs.push(performance.now() - t0);
      waiting.delete(path);
    }
    // Baseline: a plain watch on the same server.
    const c = await XsWireClient.connect(sim.xenstoreSocket);
    await c.request(XS.WATCH, '/local/domain/0/bench\0b\0');
    await c.waitEvents(1);
    const baseMs: number[] = [];
    for (let i = 0; i < samples; i++) {
      const n = c.events.length;
      const t0 = performance.now();
      xs.write(`/local/domain/0/bench/w${i}`, String(i));
      await c.waitEvents(n + 1);
      baseMs.push(performance.now() - t0);
    }
    c.close();
    const med = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
    const p95 = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length * 0.95)];
    const figure = med(hostMs);
    const baseline = med(baseMs);
    return {
      name: 'host-latency',
      figure: +figure.toFixed(2),
      unit: 'ms (median)',
      baseline: +baseline.toFixed(2),
      baselineLabel: 'xenstore watch on the same write',
      ratio: baseline / figure,
      notes: { samples, p95: +p95(hostMs).toFixed(2), baselineP95: +p95(baseMs).toFixed(2) },
    };
  } finally {
    await host.stop();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const hostBench: Bench = {
  name: 'host',
  async run(ctx) {
    return [await benchIngest(ctx), await benchLatency(ctx)];
  },
};
