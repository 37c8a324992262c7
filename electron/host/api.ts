/**
 * The host's side of the API contract (electron/shared/ipc-contract.std.ts),
 * independent of the transport: the Electron IPC router and the serve
 * WebSocket both hand every call to `dispatchCall`, which checks the name and
 * the arguments against the contract, runs the handler, and checks the result
 * before it leaves. A session is one connected renderer (a window, a tab).
 */
import {
  ContractError,
  isInvokeName,
  invoke,
  parseArgs,
  type Handlers,
  type HostStatus,
  type PushName,
  type PushPayload,
} from '../shared/ipc-contract.std.ts';
import type { XRecord } from '../../machines/events/record.ts';
import type { LiveHost, RecordSink } from './host.ts';

/** One connected renderer, as a transport sees it. */
export interface Session extends RecordSink {
  readonly id: string;
  send<K extends PushName>(name: K, payload: PushPayload<K>): void;
}

/** A session over any `send` function (WebSocket, webContents). */
export function makeSession(id: string, send: <K extends PushName>(name: K, payload: PushPayload<K>) => void): Session {
  return {
    id,
    send,
    push(records: XRecord[]) {
      send('records', { records });
    },
    pushStatus(s: HostStatus) {
      send('status', s);
    },
  };
}

/** The handlers of every call in the contract, backed by a live host. */
export function createHandlers(host: LiveHost): Handlers<Session> {
  return {
    connect: async (session, { tail }) => host.connect(session, tail),
    ack: async (_session, { seq }) => ({ dropped: host.ack(seq) }),
    command: async (_session, req) => host.command(req),
    status: async () => host.status(),
    view: async () => {
      const v = host.view();
      return { seq: v.seq, ts: v.ts, actors: v.actors, incidents: v.incidents };
    },
    storeStatus: async (_session, { state, detail }) => ({ recorded: host.storeStatus(state, detail) }),
  };
}

/** Run one call: name and arguments checked against the contract first, the result after. Throws ContractError for a call that does not fit. */
export async function dispatchCall<S>(handlers: Handlers<S>, session: S, name: string, args: unknown): Promise<unknown> {
  if (!isInvokeName(name)) throw new ContractError(`no such call: ${JSON.stringify(name).slice(0, 80)}`);
  const parsed = parseArgs(name, args) as unknown[];
  const fn = handlers[name] as (s: S, ...a: unknown[]) => Promise<unknown>;
  const out = await fn(session, ...parsed);
  const r = invoke[name].result.safeParse(out);
  if (!r.success) throw new ContractError(`${name}: the host's result does not fit the contract`);
  return r.data;
}
