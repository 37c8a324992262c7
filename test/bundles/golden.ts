/**
 * Golden bundles: `<name>.obs.jsonl` are observations written by hand from the
 * seeds and the reference; `<name>.bundle.jsonl` is what `xendeck seal` makes
 * of them (records, chain, derived transitions); `<name>.expected.json` is
 * `xendeck replay --json` of that bundle. `npm run golden` rewrites the last
 * two after a deliberate change of machine behaviour; review the diff.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manifestFor, bundleText } from '../../machines/events/bundle.ts';
import { machineVersions } from '../../machines/host/bindings.ts';
import { parseObservations, sealObservations } from '../../electron/cli/seal.ts';

export const GOLDEN_DIR = dirname(fileURLToPath(import.meta.url));

export interface Golden {
  name: string;
  obsFile: string;
  bundleFile: string;
  expectedFile: string;
  expect: { incidents: string[]; states: Record<string, string> };
}

export function goldens(): Golden[] {
  return readdirSync(GOLDEN_DIR)
    .filter((f) => f.endsWith('.obs.jsonl'))
    .sort()
    .map((f) => {
      const name = f.replace(/\.obs\.jsonl$/, '');
      const header = readFileSync(join(GOLDEN_DIR, f), 'utf8')
        .split('\n')
        .find((l) => /"observations":\s*1/.test(l));
      return {
        name,
        obsFile: join(GOLDEN_DIR, f),
        bundleFile: join(GOLDEN_DIR, `${name}.bundle.jsonl`),
        expectedFile: join(GOLDEN_DIR, `${name}.expected.json`),
        expect: JSON.parse(header ?? '{}').expect ?? { incidents: [], states: {} },
      };
    });
}

/** The bundle text sealing a golden's observations gives today. */
export function sealGolden(g: Golden): string {
  const { obs, host, created } = parseObservations(readFileSync(g.obsFile, 'utf8'), g.obsFile);
  const recs = sealObservations(obs);
  return bundleText(manifestFor(recs, { host: host as { hostname: string }, created, machines: machineVersions() }), recs);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { main } = await import('../../electron/cli/main.ts');
  for (const g of goldens()) {
    writeFileSync(g.bundleFile, sealGolden(g));
    let out = '';
    await main(['replay', g.bundleFile, '--json'], { out: (s) => (out += s + '\n'), err: (s) => process.stderr.write(s + '\n') });
    writeFileSync(g.expectedFile, out);
    console.log(`golden ${g.name}: written`);
  }
}
