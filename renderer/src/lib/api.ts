/**
 * The renderer's one handle on the host: the typed client of
 * electron/shared/api-client.std.ts (contextBridge in Electron, the loopback
 * WebSocket of `xendeck serve`). Views never talk to a transport directly.
 */
import { apiFromEnvironment, type WsTransportOptions } from '../../../electron/shared/api-client.std.ts';
import type { Api } from '../../../electron/shared/ipc-contract.std.ts';

export type { Api };

/** The Api for this page, or the reason there is none (the page was opened without its token). */
export function connectApi(opts: WsTransportOptions = {}): { api: Api } | { error: string } {
  try {
    return { api: apiFromEnvironment(globalThis as never, opts) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}
