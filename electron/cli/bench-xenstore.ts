/**
 * Simulator throughput (issue: the simulated host): xenstore READs/s against the
 * simulator's wire server, with the real xenstored 4.17 fixture measured in the
 * same run as the baseline. Needs ../shared/fixtures (a development checkout).
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bench } from './bench.ts';
import { benchXenstore } from '../sim/xenstore/bench.ts';
import { startXenstoreServer } from '../sim/xenstore/server.ts';

export const xenstoreBench: Bench = {
  name: 'xenstore',
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'xendeck-xsbench-'));
    const n = 50_000;
    try {
      const sim = await startXenstoreServer({ socketPath: join(dir, 'sim.sock') });
      let simRate: number;
      try {
        simRate = await benchXenstore(sim.socketPath, n);
      } finally {
        await sim.close();
      }
      const helpers = await import('../../test/sim-xenstore/helpers.ts');
      if (!existsSync(helpers.RUN_SH)) {
        ctx.log('xenstore: the real xenstored fixture is not beside this checkout; no baseline');
        return { name: 'xenstore-sim', figure: Math.round(simRate), unit: 'requests/s', baseline: 0, baselineLabel: 'real xenstored (not available)', ratio: 0 };
      }
      const real = helpers.startReal(join(dir, 'real.sock'));
      let realRate: number;
      try {
        realRate = await benchXenstore(real.socket, n);
      } finally {
        real.stop();
      }
      return { name: 'xenstore-sim', figure: Math.round(simRate), unit: 'requests/s', baseline: Math.round(realRate), baselineLabel: 'real xenstored 4.17, same client', ratio: simRate / realRate, notes: { reads: n } };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
