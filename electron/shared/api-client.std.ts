/**
 * The renderer's API client: one `Api` (ipc-contract.std.ts) over whichever
 * transport there is, so the renderer cannot tell Electron from `xendeck
 * serve`. Arguments are checked against the contract before they leave (a
 * command a person typed wrong never reaches the host), and results and pushes
 * are checked when they arrive.
 *
 * Transports: the Electron preload's bridge (`window.xendeck`, one method per
 * call plus `on`), or the loopback WebSocket of `xendeck serve` (the token is
 * in the page's URL). Pure: uses only the platform's WebSocket, no Node, no
 * Electron.
 */
import {
  INVOKE_NAMES,
  WS_PATH,
  parseArgs,
  parsePush,
  parseResult,
  wsServerMessage,
  type Api,
  type InvokeName,
  type PushName,
} from './ipc-contract.std.ts';

export interface Transport {
  call(name: InvokeName, args: unknown[]): Promise<unknown>;
  subscribe(name: PushName, fn: (payload: unknown) => void): () => void;
}

/** The `Api` over a transport, checking everything that crosses it. */
export function createApi(t: Transport): Api {
  const api: Record<string, unknown> = {};
  for (const name of INVOKE_NAMES) {
    api[name] = async (...args: unknown[]) => {
      const checked = parseArgs(name, args) as unknown[];
      return parseResult(name, await t.call(name, checked));
    };
  }
  api.on = (name: PushName, fn: (p: unknown) => void) =>
    t.subscribe(name, (payload) => {
      fn(parsePush(name, payload));
    });
  return api as Api;
}

/** What the Electron preload exposes: the same shape as Api, without checks. */
export type Bridge = { [K in InvokeName]: (...a: unknown[]) => Promise<unknown> } & { on(name: PushName, fn: (p: unknown) => void): () => void };

export function bridgeTransport(b: Bridge): Transport {
  return {
    call: (name, args) => b[name](...args),
    subscribe: (name, fn) => b.on(name, fn),
  };
}

export interface WsTransportOptions {
  /** The platform's WebSocket constructor (tests pass ws's). */
  WebSocket?: new (url: string) => WebSocketLike;
  /** Called after the socket was re-opened (the renderer then calls connect again with its tail). */
  onReconnect?: () => void;
  /** Wait before re-opening a closed socket (ms). */
  retryMs?: number;
}

export interface WebSocketLike {
  readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

/** The WebSocket transport of `xendeck serve`. Calls made while the socket is (re)opening wait for it. */
export function wsTransport(url: string, opts: WsTransportOptions = {}): Transport & { close(): void } {
  const Ctor = opts.WebSocket ?? (globalThis as unknown as { WebSocket: new (url: string) => WebSocketLike }).WebSocket;
  let nextId = 1;
  let closed = false;
  let opened = false;
  let ws: WebSocketLike;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const waiting: string[] = [];
  const subs = new Map<string, Set<(p: unknown) => void>>();

  const open = () => {
    ws = new Ctor(url);
    ws.onopen = () => {
      const again = opened;
      opened = true;
      for (const m of waiting.splice(0)) ws.send(m);
      if (again) opts.onReconnect?.();
    };
    ws.onmessage = (ev) => {
      let v: unknown;
      try {
        v = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      const m = wsServerMessage.safeParse(v);
      if (!m.success) return;
      const msg = m.data;
      if (msg.t === 'push') {
        for (const fn of subs.get(msg.name) ?? []) fn(msg.payload);
        return;
      }
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(msg.error));
    };
    ws.onclose = () => {
      for (const p of pending.values()) p.reject(new Error('the connection to the host was lost'));
      pending.clear();
      if (!closed) setTimeout(open, opts.retryMs ?? 1000);
    };
    ws.onerror = () => {};
  };
  open();

  return {
    call(name, args) {
      const id = nextId++;
      const text = JSON.stringify({ t: 'call', id, name, args });
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        if (ws.readyState === 1) ws.send(text);
        else waiting.push(text);
      });
    },
    subscribe(name, fn) {
      let set = subs.get(name);
      if (!set) subs.set(name, (set = new Set()));
      set.add(fn);
      return () => void set.delete(fn);
    },
    close() {
      closed = true;
      ws.close();
    },
  };
}

/** The WebSocket URL for a serve page's location (`http://127.0.0.1:P/?token=T`). */
export function wsUrlFor(location: { protocol: string; host: string; search: string; hash: string }): string | null {
  const q = new URLSearchParams(location.search);
  const token = q.get('token') ?? new URLSearchParams(location.hash.replace(/^#/, '')).get('token');
  if (!token) return null;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${WS_PATH}?token=${encodeURIComponent(token)}`;
}

/** The renderer's Api: the preload's bridge under Electron, else the serve WebSocket named by the page's URL. */
export function apiFromEnvironment(g: { xendeck?: Bridge; location?: { protocol: string; host: string; search: string; hash: string } } = globalThis as never, opts: WsTransportOptions = {}): Api {
  if (g.xendeck) return createApi(bridgeTransport(g.xendeck));
  const url = g.location ? wsUrlFor(g.location) : null;
  if (!url) throw new Error('no host to talk to: open the URL `xendeck serve` printed (it carries the token), or start the desktop app');
  return createApi(wsTransport(url, opts));
}
