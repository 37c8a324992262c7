/**
 * What the long-running CLI commands (serve, record, sim, demo, start) share:
 * `--sim [SCENARIO]` and `--loop [N]` (options whose value is optional, which
 * node's parseArgs cannot express) and waiting for Ctrl-C.
 */
import type { ParseArgsConfig } from 'node:util';
import { args, UsageError } from '../cli/main.ts';

export interface Common {
  sim: boolean;
  scenario: string | undefined;
  /** `--loop` (true: until stopped) or `--loop N` (N passes); only for the commands that take it. */
  loop: true | number | undefined;
  values: Record<string, string | boolean | undefined>;
}

/** Parse argv with `--sim [SCENARIO]` (and `--loop [N]` when `takes.loop`) taken out first; no positionals. */
export function parseCommon(argv: string[], options: NonNullable<ParseArgsConfig['options']> = {}, takes: { loop?: boolean } = {}): Common {
  const rest: string[] = [];
  let sim = false;
  let scenario: string | undefined;
  let loop: true | number | undefined;
  const passes = (v: string): number => {
    if (!/^[1-9]\d{0,6}$/.test(v)) throw new UsageError(`--loop expects a number of passes (1 or more), found "${v}"`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (takes.loop && a === '--loop') {
      const next = argv[i + 1];
      if (next !== undefined && /^\d+$/.test(next)) {
        loop = passes(next);
        i++;
      } else loop = true;
    } else if (takes.loop && a.startsWith('--loop=')) {
      loop = passes(a.slice(7));
    } else if (a === '--sim') {
      sim = true;
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('-')) {
        scenario = next;
        i++;
      }
    } else if (a.startsWith('--sim=')) {
      sim = true;
      scenario = a.slice(6) || undefined;
    } else rest.push(a);
  }
  const r = args(rest, options, 0);
  return { sim, scenario, loop, values: r.values as Common['values'] };
}

/** Resolves on the first SIGINT or SIGTERM; `cancel` stops listening (when something else ended the wait). */
export function waitForSignal(): { signal: Promise<NodeJS.Signals>; cancel: () => void } {
  let on: (s: NodeJS.Signals) => void = () => {};
  const cancel = () => {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  };
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    on = (s) => {
      cancel();
      resolve(s);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
  return { signal, cancel };
}
