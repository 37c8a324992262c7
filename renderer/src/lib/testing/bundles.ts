/** Golden bundles (test/bundles) as records, for renderer tests. Node only (tests run from the repository root). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { XRecord } from '../../../../machines/events/record.ts';

function bundlesDir(): string {
  let d = process.cwd();
  for (;;) {
    if (existsSync(join(d, 'test/bundles'))) return join(d, 'test/bundles');
    const up = dirname(d);
    if (up === d) throw new Error('test/bundles not found above the working directory: run the tests from the repository');
    d = up;
  }
}

export function goldenRecords(name: string): XRecord[] {
  return readFileSync(join(bundlesDir(), `${name}.bundle.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .slice(1)
    .map((l) => JSON.parse(l) as XRecord);
}
