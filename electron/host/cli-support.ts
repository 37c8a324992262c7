/**
 * What the long-running CLI commands (serve, record, sim, demo, start) share:
 * `--sim [SCENARIO]` (an option whose value is optional, which node's
 * parseArgs cannot express) and waiting for Ctrl-C.
 */
import type { ParseArgsConfig } from 'node:util';
import { args } from '../cli/main.ts';

export interface Common {
  sim: boolean;
  scenario: string | undefined;
  values: Record<string, string | boolean | undefined>;
}

/** Parse argv with `--sim [SCENARIO]` taken out first; no positionals. */
export function parseCommon(argv: string[], options: NonNullable<ParseArgsConfig['options']> = {}): Common {
  const rest: string[] = [];
  let sim = false;
  let scenario: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--sim') {
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
  return { sim, scenario, values: r.values as Common['values'] };
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
