/**
 * `xendeck serve [--sim [SCENARIO] [--loop [N]]] [--port N] [--speed X]`: the
 * host and the renderer over 127.0.0.1, headless. Prints the URL with its
 * token and runs until Ctrl-C. With --loop the scenario plays again and again
 * (N times in all), and each pass is announced on stdout with the simulated
 * time it begins at (the `ts` of the records it makes are from then on).
 */
import { RuntimeError, type RuntimeOptions } from '../host/runtime.ts';
import { parseCommon, waitForSignal } from '../host/cli-support.ts';
import { ServeError } from '../serve/server.ts';
import { startServeApp } from '../serve/app.ts';
import { UsageError, type Io } from './main.ts';

export function parsePort(v: string | boolean | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new UsageError(`--port expects a port number, found "${v}"`);
  return Number(v);
}

export function parseSpeed(v: string | boolean | undefined): number {
  if (v === undefined) return 1;
  const n = Number(v);
  if (!(n > 0 && n <= 100)) throw new UsageError(`--speed expects a factor in (0, 100], found "${v}"`);
  return n;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const a = parseCommon(argv, { port: { type: 'string' }, speed: { type: 'string' } }, { loop: true });
  if (a.loop !== undefined && !a.sim) throw new UsageError('--loop replays a simulated scenario: use it with --sim');
  const port = parsePort(a.values.port);
  const speed = parseSpeed(a.values.speed);
  let app;
  try {
    const sim: RuntimeOptions['sim'] = a.sim ? { scenario: a.scenario, speed, ...(a.loop !== undefined ? { loop: a.loop } : {}) } : undefined;
    app = await startServeApp({ sim, port, log: (l, m) => l !== 'info' && io.err(`xendeck serve: ${m}`) });
  } catch (e) {
    if (e instanceof RuntimeError || e instanceof ServeError || /port .* is in use/.test((e as Error).message)) {
      io.err(`xendeck serve: ${(e as Error).message}`);
      return 2;
    }
    throw e;
  }
  io.out(`xendeck serve: ${a.sim ? `simulated host (${a.scenario ?? 'demo'})` : 'this host'}; open ${app.url}`);
  io.out('(the token in the URL is this run\'s key: do not share it; Ctrl-C to stop)');
  const s = app.runtime.sim;
  if (s && a.loop !== undefined) {
    s.events.on('pass', (p) => io.out(`xendeck serve: pass ${p.pass}${p.of ? ` of ${p.of}` : ''} begins at ${p.at}`));
    void s.done.then(() => io.out(`xendeck serve: the scenario has played ${s.passes} times`));
  }
  const sig = waitForSignal();
  await sig.signal;
  await app.stop();
  return 0;
}
