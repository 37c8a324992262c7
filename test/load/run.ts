/**
 * The full load run (issue 8): 100 guests with six devices each booted at
 * once, then one guest flooding data/ at 10,000 writes/s for 60 s of simulated
 * time beside the others' normal activity; prints the figures and checks the
 * exported history with `xendeck verify`.
 *
 *   node --import tsx test/load/run.ts [--domains 100] [--rate 10000] [--seconds 60] [--speed 1] [--keep DIR]
 *
 * Exit 0 when every assertion of the load test holds for the run (see check.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeLoad, runLoad, writeLoadBundle } from '../../electron/cli/bench-flood.ts';
import { main } from '../../electron/cli/main.ts';
import { checkLoad, LOAD_BOUNDS } from './check.ts';

const { values } = parseArgs({
  options: {
    domains: { type: 'string', default: '100' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '60' },
    speed: { type: 'string', default: '1' },
    keep: { type: 'string' },
  },
});
const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'xendeck-load-'));
const t0 = Date.now();
try {
  const r = await runLoad({
    domains: Number(values.domains),
    floodRate: Number(values.rate),
    floodMs: Number(values.seconds) * 1000,
    floodKeys: 4,
    tickMs: 1000,
    reboots: 5,
    poweroffs: 5,
    speed: Number(values.speed),
    dir,
    keepRecords: true,
    log: (s) => console.log(`  ${s}`),
  });
  console.log(describeLoad(r));
  const file = join(dir, 'load.jsonl');
  await writeLoadBundle(file, r.records);
  let out = '';
  const code = await main(['verify', file], { out: (s) => (out += s + '\n'), err: (s) => (out += s + '\n') });
  console.log(`xendeck verify: exit ${code}: ${out.trim()}`);
  const problems = checkLoad(r, { wallClock: true });
  console.log(`bounds: ${JSON.stringify(LOAD_BOUNDS)}`);
  for (const p of problems) console.log(`FAIL: ${p}`);
  console.log(`run took ${((Date.now() - t0) / 1000).toFixed(1)} s wall`);
  process.exitCode = code === 0 && problems.length === 0 ? 0 : 1;
} finally {
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
