/**
 * `xendeck serve` as a function: a live host (real, or simulated with --sim)
 * behind the loopback transport, serving renderer/dist. The CLI commands
 * serve, demo and start use it.
 *
 * Ports: on the real host the default port is fixed (8720) so the page's
 * origin, and with it the browser's store of history, is the same from run to
 * run; a simulated host gets a fresh port each time, hence a fresh store for
 * its fresh history.
 */
import { join } from 'node:path';
import { REPO_ROOT, startRuntime, type Runtime } from '../host/runtime.ts';
import { createHandlers } from '../host/api.ts';
import type { LogLevel } from '../host/host.ts';
import { startServe, type ServeHandle } from './server.ts';

export const DEFAULT_PORT = 8720;

export interface ServeAppOptions {
  sim?: { scenario?: string; speed?: number };
  port?: number;
  dataDir?: string;
  staticDir?: string;
  log?: (level: LogLevel, msg: string) => void;
}

export interface ServeApp {
  url: string;
  runtime: Runtime;
  serve: ServeHandle;
  stop(): Promise<void>;
}

export async function startServeApp(o: ServeAppOptions): Promise<ServeApp> {
  const runtime = await startRuntime({ mode: 'serve', sim: o.sim, dataDir: o.dataDir, awaitBase: true, log: o.log });
  let serve: ServeHandle;
  try {
    serve = await startServe({
      handlers: createHandlers(runtime.host),
      onDisconnect: (s) => runtime.host.disconnect(s),
      staticDir: o.staticDir ?? join(REPO_ROOT, 'renderer', 'dist'),
      port: o.port ?? (o.sim ? 0 : DEFAULT_PORT),
      log: (m) => o.log?.('warn', m),
    });
  } catch (e) {
    await runtime.stop();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`port ${o.port ?? DEFAULT_PORT} is in use (another xendeck serve?): pick another with --port N`);
    throw e;
  }
  return {
    url: serve.url,
    runtime,
    serve,
    async stop() {
      await serve.close();
      await runtime.stop();
    },
  };
}
