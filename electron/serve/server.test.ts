import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { get, request } from 'node:http';
import WebSocket from 'ws';
import { ZERO_HASH } from '../../machines/events/record.ts';
import { FakeXen } from '../host/fake-helper.ts';
import { LiveHost } from '../host/host.ts';
import { createHandlers } from '../host/api.ts';
import { createApi, wsTransport, wsUrlFor } from '../shared/api-client.std.ts';
import { tempDir, until } from '../host/test-support.ts';
import { PLACEHOLDER, SERVE_CSP, assertLoopback, startServe, type ServeHandle } from './server.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(staticDir?: string): Promise<{ s: ServeHandle; host: LiveHost; xen: FakeXen }> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const xen = new FakeXen();
  xen.nodes.set('/local/domain/0/name', 'Domain-0');
  const host = new LiveHost({ dataDir: join(t.dir, 'data'), launch: () => xen.launch(), user: 'alice', dominfoPollMs: 0 });
  await host.start();
  cleanups.push(() => host.stop());
  const s = await startServe({ handlers: createHandlers(host), onDisconnect: (x) => host.disconnect(x), staticDir: staticDir ?? join(t.dir, 'dist'), token: 'tok-123' });
  cleanups.push(() => s.close());
  return { s, host, xen };
}

/** Try an upgrade; resolves with the HTTP status of a refusal, or 101 when it opened. */
function tryConnect(url: string, origin?: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { ...(origin ? { origin } : {}), headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(-1));
  });
}

function fetchText(url: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject);
  });
}

describe('serve transport', () => {
  it('refuses any bind address but loopback', async () => {
    for (const b of ['0.0.0.0', '::', '192.168.1.10', 'localhost', '::ffff:127.0.0.1']) expect(() => assertLoopback(b)).toThrow(/127\.0\.0\.1 only/);
    expect(() => assertLoopback('127.0.0.1')).not.toThrow();
    await expect(startServe({ handlers: {} as never, staticDir: '/nonexistent', bind: '0.0.0.0' })).rejects.toThrow(/refusing to listen on 0\.0\.0\.0/);
  });

  it('listens on 127.0.0.1 and prints a URL with its token', async () => {
    const { s } = await serve();
    const a = s.server.address();
    expect(typeof a === 'object' && a?.address).toBe('127.0.0.1');
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/?token=tok-123`);
  });

  it('refuses a wrong or missing token', async () => {
    const { s } = await serve();
    const origin = `http://127.0.0.1:${s.port}`;
    expect(await tryConnect(`ws://127.0.0.1:${s.port}/api?token=tok-124`, origin)).toBe(403);
    expect(await tryConnect(`ws://127.0.0.1:${s.port}/api`, origin)).toBe(403);
    expect(await tryConnect(`ws://127.0.0.1:${s.port}/api?token=tok-123`, origin)).toBe(101);
    expect(s.sessions()).toBeLessThanOrEqual(1);
  });

  it('refuses a foreign Origin, a missing Origin and a foreign Host', async () => {
    const { s } = await serve();
    const url = `ws://127.0.0.1:${s.port}/api?token=tok-123`;
    expect(await tryConnect(url, 'http://evil.example')).toBe(403);
    expect(await tryConnect(url, `http://127.0.0.1:${s.port + 1}`)).toBe(403);
    expect(await tryConnect(url)).toBe(403);
    expect(await tryConnect(url, 'http://rebind.example', { Host: `rebind.example:${s.port}` })).toBe(403);
  });

  it('serves a placeholder page, with the strict CSP, when the renderer is not built', async () => {
    const { s } = await serve();
    const r = await fetchText(s.url);
    expect(r.status).toBe(200);
    expect(r.body).toBe(PLACEHOLDER);
    expect(r.headers['content-security-policy']).toBe(SERVE_CSP);
    expect(r.headers['referrer-policy']).toBe('no-referrer');
  });

  it('serves the built renderer and nothing outside it', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const dist = join(t.dir, 'dist');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>x</title>');
    writeFileSync(join(dist, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(t.dir, 'secret'), 'no');
    const { s } = await serve(dist);
    expect((await fetchText(`http://127.0.0.1:${s.port}/`)).body).toBe('<!doctype html><title>x</title>');
    const js = await fetchText(`http://127.0.0.1:${s.port}/assets/app.js`);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const status = await new Promise<number>((resolve) => {
      const r = request({ host: '127.0.0.1', port: s.port, path: '/..%2fsecret' }, (res) => resolve(res.statusCode ?? 0));
      r.end();
    });
    expect([403, 404]).toContain(status);
    expect((await fetchText(`http://127.0.0.1:${s.port}/nope.js`)).status).toBe(404);
  });

  it('the renderer client talks to the host through it: connect, records pushed, ack, commands checked both sides', async () => {
    const { s, host, xen } = await serve();
    const origin = `http://127.0.0.1:${s.port}`;
    class OriginWs extends WebSocket {
      constructor(url: string) {
        super(url, { origin });
      }
    }
    const url = wsUrlFor({ protocol: 'http:', host: `127.0.0.1:${s.port}`, search: '?token=tok-123', hash: '' })!;
    const t = wsTransport(url, { WebSocket: OriginWs as never });
    cleanups.push(() => t.close());
    const api = createApi(t);
    const got: number[] = [];
    api.on('records', (p) => got.push(...p.records.map((r) => r.seq)));
    await host.whenReady();
    const c = await api.connect({ tail: { seq: 0, hash: ZERO_HASH } });
    expect(c.status).toBe('ok');
    await until(() => got.length > 0 && got[got.length - 1] === host.status().tail.seq, 'the records to arrive');
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));
    const a = await api.ack({ seq: got[got.length - 1] });
    expect(a.dropped).toBeGreaterThanOrEqual(0);
    // A bad command is refused by the client before it leaves…
    await expect(api.command({ op: 'destroy', domain: 'bad name!' } as never)).rejects.toThrow(/arguments do not fit the contract/);
    expect(xen.xlRuns).toEqual([]);
    // …and by the host when a client skips the check.
    await expect(t.call('command', [{ op: 'destroy', domain: 'bad name!' }])).rejects.toThrow(/arguments do not fit the contract/);
    await expect(t.call('shutdownEverything' as never, [])).rejects.toThrow(/no such call/);
    const ok = await api.command({ op: 'destroy', domain: 'web' });
    expect(ok.ok).toBe(true);
    expect(xen.xlRuns).toEqual([['destroy', 'web']]);
    const st = await api.status();
    expect(st.helper).toBe('up');
  });
});
