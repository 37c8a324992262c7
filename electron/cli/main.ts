/**
 * The xendeck command line (DESIGN.md section 6). Exit codes: 0 ok,
 * 1 verification or replay failed, 2 bad usage or unreadable input (with a
 * one-line reason on stderr). Read-only commands never write anything.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BundleError } from '../../machines/events/bundle.ts';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}
const stdio: Io = { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') };

export class UsageError extends Error {}

type Command = { summary: string; run: (argv: string[], io: Io) => Promise<number> };

const COMMANDS: Record<string, Command> = {
  replay: { summary: 'replay FILE [--at SEQ] [--json]      fold a bundle through the machines, print the state at SEQ', run: async (a, io) => (await import('./replay.ts')).replayCmd(a, io) },
  verify: { summary: 'verify FILE                          hash chain, gaps, schema and replay determinism; exit 0 only if all hold', run: async (a, io) => (await import('./verify.ts')).verifyCmd(a, io) },
  incidents: { summary: 'incidents FILE [--json]              detected incidents with their seq ranges', run: async (a, io) => (await import('./incidents.ts')).incidentsCmd(a, io) },
  seal: { summary: 'seal OBSERVATIONS --out FILE         number, hash-chain and derive transitions for hand-written observations', run: async (a, io) => (await import('./seal.ts')).sealCmd(a, io) },
  bench: { summary: 'bench [--json] [--records N]         the benchmarks, each with its same-run baseline', run: async (a, io) => (await import('./bench.ts')).benchCmd(a, io) },
};

const OPTIONAL: Record<string, string> = {
  export: './export.ts',
  sim: './sim.ts',
  serve: './serve.ts',
  demo: './demo.ts',
  record: './record.ts',
  start: './start.ts',
  soak: './soak.ts',
};

function usage(): string {
  const lines = Object.values(COMMANDS).map((c) => `  xendeck ${c.summary}`);
  return ['usage:', ...lines, '  (also: export, sim, serve, demo, record, start, soak — see docs/cli.md)'].join('\n');
}

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.out(usage());
    return cmd ? 0 : 2;
  }
  try {
    const c = COMMANDS[cmd];
    if (c) return await c.run(rest, io);
    if (OPTIONAL[cmd]) {
      let mod: { run: (a: string[], io: Io) => Promise<number> };
      try {
        mod = await import(OPTIONAL[cmd]);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
          io.err(`xendeck: '${cmd}' is not available in this build`);
          return 2;
        }
        throw e;
      }
      return await mod.run(rest, io);
    }
    io.err(`xendeck: unknown command '${cmd}' (try xendeck --help)`);
    return 2;
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`xendeck ${cmd}: ${e.message}`);
      return 2;
    }
    if (e instanceof BundleError) {
      io.err(`xendeck ${cmd}: ${e.message}`);
      return e.kind === 'unreadable' ? 2 : 1;
    }
    throw e;
  }
}

/** parseArgs with errors as UsageError. */
export function args<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, positionals = 1) {
  let r;
  try {
    r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (r.positionals.length !== positionals) throw new UsageError(positionals === 1 ? 'expects one FILE' : `expects ${positionals} arguments`);
  return r;
}

export function parseSeq(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`${name} expects a whole number, found "${v}"`);
  return Number(v);
}
