/**
 * The helper protocol's golden exchanges (test/contract/*.jsonl, STYLE.md
 * G23) checked against the zod schemas the host parses with
 * (electron/shared/helper-protocol.std.ts). native/tests/test-contract.c feeds
 * the same files through the C dispatch, so TypeScript and C cannot drift.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../electron/host/runtime.ts';
import { helperOps, helperRequest, parseHelperLine, type HelperOp } from '../../electron/shared/helper-protocol.std.ts';

interface Exchange {
  name: string;
  send?: unknown;
  recv: unknown[];
}

const dir = join(REPO_ROOT, 'test', 'contract');
const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
const exchanges: [string, Exchange][] = files.flatMap((f) =>
  readFileSync(join(dir, f), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => [`${f}: ${(JSON.parse(l) as Exchange).name}`, JSON.parse(l) as Exchange] as [string, Exchange]),
);

describe('helper protocol golden exchanges', () => {
  it('there are exchanges to check', () => {
    expect(exchanges.length).toBeGreaterThan(20);
  });

  it.each(exchanges)('%s: every line the helper sends fits the schemas', (_n, ex) => {
    for (const line of ex.recv) {
      const p = parseHelperLine(JSON.stringify(line));
      expect(p.kind, JSON.stringify(line).slice(0, 200)).not.toBe('malformed');
      expect(p.kind).not.toBe('unknown-event');
    }
  });

  it.each(exchanges.filter(([, ex]) => ex.send && !Array.isArray(ex.send)))('%s: requests the host builds are the golden ones, and their results parse', (_n, ex) => {
    const send = ex.send as { id: number; op: string; args?: Record<string, unknown> };
    if (!(send.op in helperOps)) return; // an op the host does not use (or a deliberately unknown one)
    const reply = ex.recv.find((r) => !Array.isArray(r) && (r as { id?: unknown }).id === send.id) as { ok: boolean; result?: unknown } | undefined;
    if (!reply?.ok) return; // a refused request may carry arguments the host would never build
    const op = send.op as HelperOp;
    expect(JSON.parse(helperRequest(send.id, op, (send.args ?? {}) as never))).toEqual({ v: 1, id: send.id, op, args: send.args ?? {} });
    expect(helperOps[op].result.safeParse(reply.result).success).toBe(true);
  });
});
