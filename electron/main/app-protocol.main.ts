/**
 * The `app://xendeck/…` protocol: serves the renderer's built files from one
 * directory, with the app's CSP on every response, nothing outside that
 * directory, and the serve placeholder when the renderer has not been built.
 */
import { promises as fsp } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Protocol } from 'electron';
import { PLACEHOLDER } from '../serve/server.ts';
import { APP_CSP, APP_SCHEME } from './security.main.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/** Must run before app 'ready'. */
export function registerAppScheme(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** The response for one app:// request (exported for tests). */
export async function appResponse(rootDir: string, url: string): Promise<Response> {
  const root = resolve(rootDir);
  const headers = (type: string) => ({ 'Content-Type': type, 'Content-Security-Policy': APP_CSP, 'X-Content-Type-Options': 'nosniff' });
  let rel: string;
  try {
    rel = decodeURIComponent(new URL(url).pathname);
  } catch {
    return new Response('bad request', { status: 400 });
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  const file = normalize(join(root, rel));
  if (rel.includes('\0') || (file !== root && !file.startsWith(root + sep))) return new Response('forbidden', { status: 403 });
  try {
    const body = await fsp.readFile(file);
    return new Response(body, { status: 200, headers: headers(TYPES[extname(file)] ?? 'application/octet-stream') });
  } catch {
    if (rel === '/index.html') return new Response(PLACEHOLDER, { status: 200, headers: headers('text/html; charset=utf-8') });
    return new Response('not found', { status: 404, headers: headers('text/plain; charset=utf-8') });
  }
}

export function setupAppProtocol(protocol: Pick<Protocol, 'handle'>, rootDir: string): void {
  protocol.handle(APP_SCHEME, (req) => appResponse(rootDir, req.url));
}
