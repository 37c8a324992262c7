/**
 * The headless transport of `xendeck serve` (DESIGN.md section 2): an HTTP
 * server on 127.0.0.1 only, serving the renderer's built files and the API
 * contract over a WebSocket at /api.
 *
 * Who may talk to it: the WebSocket upgrade must carry the random token of
 * this run (compared in constant time), an Origin that is this very server,
 * and a Host header naming it (a DNS-rebinding page has neither). Anything
 * else is refused before a socket exists. The bind address is checked too:
 * anything but loopback is refused outright.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { WS_PATH, wsClientMessage, type Handlers, type PushName, type PushPayload } from '../shared/ipc-contract.std.ts';
import { dispatchCall, makeSession, type Session } from '../host/api.ts';

/** The CSP every served page gets (STYLE.md G6; connect-src 'self' covers this origin's WebSocket). */
export const SERVE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'; frame-ancestors 'none'";

export interface ServeOptions {
  handlers: Handlers<Session>;
  /** Sessions leave: the host stops pushing to them. */
  onDisconnect?: (s: Session) => void;
  /** Where the renderer's built files are (renderer/dist); a placeholder page is served when it has no index.html. */
  staticDir: string;
  /** Bind address: loopback only. */
  bind?: string;
  /** 0 = any free port. */
  port?: number;
  /** Fixed token (tests); default 32 random bytes. */
  token?: string;
  log?: (msg: string) => void;
}

export interface ServeHandle {
  url: string;
  port: number;
  token: string;
  server: Server;
  sessions(): number;
  close(): Promise<void>;
}

export class ServeError extends Error {}

const LOOPBACK = new Set(['127.0.0.1']);
/** Bytes queued for one browser tab before it is let go. */
const MAX_BUFFERED = 64 << 20;

/** Refuse any bind address but 127.0.0.1 (DESIGN.md: "127.0.0.1 only"). */
export function assertLoopback(bind: string): void {
  if (!LOOPBACK.has(bind)) throw new ServeError(`refusing to listen on ${bind}: xendeck serve listens on 127.0.0.1 only (use an SSH tunnel to reach it from elsewhere)`);
}

/** Why an upgrade request is refused, or null when it may proceed. */
export function refusal(req: { url?: string; headers: Record<string, string | string[] | undefined> }, port: number, token: string): string | null {
  const u = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (u.pathname !== WS_PATH) return 'no such endpoint';
  const given = u.searchParams.get('token') ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return 'wrong token';
  const self = [`127.0.0.1:${port}`, `localhost:${port}`];
  const host = String(req.headers.host ?? '');
  if (!self.includes(host)) return 'foreign Host';
  const origin = String(req.headers.origin ?? '');
  if (!self.some((h) => origin === `http://${h}`)) return 'foreign Origin';
  return null;
}

export async function startServe(o: ServeOptions): Promise<ServeHandle> {
  const bind = o.bind ?? '127.0.0.1';
  assertLoopback(bind);
  const token = o.token ?? randomBytes(32).toString('base64url');
  const log = o.log ?? (() => {});
  const staticRoot = resolve(o.staticDir);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 << 20 });
  const live = new Set<WebSocket>();
  let port = 0;
  let nextSession = 1;

  const server = createServer((req, res) => {
    void serveStatic(staticRoot, req, res).catch((e) => {
      log(`serve: ${(e as Error).message}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const why = refusal(req, port, token);
    if (why) {
      log(`serve: refused a connection: ${why}`);
      socket.end(`HTTP/1.1 ${why === 'no such endpoint' ? '404 Not Found' : '403 Forbidden'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  const attach = (ws: WebSocket) => {
    live.add(ws);
    const send = <K extends PushName>(name: K, payload: PushPayload<K>) => {
      if (ws.readyState !== ws.OPEN) return;
      // A tab that does not keep up is let go; it reconnects and is sent what its store lacks.
      if (ws.bufferedAmount > MAX_BUFFERED) {
        ws.close(1013, 'too far behind: reconnect');
        return;
      }
      ws.send(JSON.stringify({ t: 'push', name, payload }));
    };
    const session = makeSession(`ws-${nextSession++}`, send);
    ws.on('message', (data) => {
      let msg;
      try {
        msg = wsClientMessage.parse(JSON.parse(String(data)));
      } catch {
        ws.close(1008, 'not an API call');
        return;
      }
      dispatchCall(o.handlers, session, msg.name, msg.args).then(
        (value) => ws.readyState === ws.OPEN && ws.send(JSON.stringify({ t: 'result', id: msg.id, ok: true, value })),
        (e: Error) => ws.readyState === ws.OPEN && ws.send(JSON.stringify({ t: 'result', id: msg.id, ok: false, error: e.message })),
      );
    });
    ws.on('close', () => {
      live.delete(ws);
      o.onDisconnect?.(session);
    });
  };

  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(o.port ?? 0, bind, () => {
      server.off('error', rej);
      res();
    });
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    server,
    sessions: () => live.size,
    close: async () => {
      for (const ws of live) ws.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

function headers(type: string): Record<string, string> {
  return {
    'Content-Type': type,
    'Content-Security-Policy': SERVE_CSP,
    'X-Content-Type-Options': 'nosniff',
    // The token is in the page's URL: never send it anywhere.
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
}

async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' });
    res.end();
    return;
  }
  const u = new URL(req.url ?? '/', 'http://127.0.0.1');
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname);
  } catch {
    res.writeHead(400);
    res.end();
    return;
  }
  if (rel.includes('\0')) {
    res.writeHead(400);
    res.end();
    return;
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  const file = normalize(join(root, rel));
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(403);
    res.end();
    return;
  }
  if (rel === '/index.html' && !existsSync(file)) {
    res.writeHead(200, headers('text/html; charset=utf-8'));
    res.end(req.method === 'HEAD' ? undefined : PLACEHOLDER);
    return;
  }
  let body: Buffer;
  try {
    const st = await fsp.stat(file);
    if (!st.isFile()) throw new Error('not a file');
    body = await fsp.readFile(file);
  } catch {
    res.writeHead(404, headers('text/plain; charset=utf-8'));
    res.end(req.method === 'HEAD' ? undefined : 'not found\n');
    return;
  }
  res.writeHead(200, headers(TYPES[extname(file)] ?? 'application/octet-stream'));
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Shown when the renderer has not been built: says what to do, runs no script. */
export const PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Xendeck</title></head>
<body>
<h1>Xendeck is running, but its interface has not been built</h1>
<p>The host is recording; the API is up on this address. To get the interface, build the renderer and reload this page:</p>
<pre>npx vite build renderer</pre>
<p>(<code>npm run setup</code> does it as well.)</p>
</body></html>
`;
