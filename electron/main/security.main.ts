/**
 * Windows locked down by default (STYLE.md G6, Electron's security checklist):
 * no new windows, no navigation away from the app, every permission request
 * denied, external links only for http(s) and mailto after parsing, and the
 * app's own origin is the only one whose frames may call the API.
 * Plain functions over the objects they harden, so tests need no Electron.
 */
import type { App, IpcMainInvokeEvent, Session, Shell, WebContents, WebFrameMain } from 'electron';

/** The renderer's origin: files served by our `app://` protocol handler. */
export const APP_SCHEME = 'app';
export const APP_ORIGIN = 'app://xendeck';
export const APP_URL = `${APP_ORIGIN}/index.html`;

/** The CSP of every page the app serves (Fiddle's, as STYLE.md G6 asks). */
export const APP_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'; frame-ancestors 'none'";

const EXTERNAL_PROTOCOLS = new Set(['https:', 'http:', 'mailto:']);

/** Whether a URL may be handed to the desktop (shell.openExternal). */
export function isSafeExternalUrl(raw: string): boolean {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return false;
  }
  return EXTERNAL_PROTOCOLS.has(u.protocol) && !u.username && !u.password;
}

/** Whether a URL is one of the app's own pages. */
export function isAppUrl(raw: string): boolean {
  try {
    const u = new URL(raw);
    return u.protocol === `${APP_SCHEME}:` && u.host === 'xendeck';
  } catch {
    return false;
  }
}

/**
 * G4: a call is served only for the main frame of one of our windows, showing
 * one of our pages. Subframes, other windows and foreign pages are refused.
 */
export function isTrustedSender(e: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>, windows: ReadonlySet<number>): boolean {
  const f: WebFrameMain | null = e.senderFrame;
  if (!f || f.parent !== null) return false;
  if (!windows.has(e.sender.id)) return false;
  return isAppUrl(f.url);
}

/** Harden one webContents as soon as it exists (app 'web-contents-created'). */
export function hardenContents(contents: WebContents, shell: Pick<Shell, 'openExternal'>): void {
  contents.setWindowOpenHandler(({ url }) => {
    // A link meant for the browser goes there; the app itself never opens a window.
    if (isSafeExternalUrl(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event: { preventDefault(): void }, url: string) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event: { preventDefault(): void }, url: string) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event: { preventDefault(): void }) => event.preventDefault());
}

/** Deny every permission (camera, notifications, clipboard-read, …): the app needs none. */
export function denyPermissions(s: Session): void {
  s.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  s.setPermissionCheckHandler(() => false);
}

/** app.enableSandbox() before ready, and hardening for every webContents created later. */
export function setupSecurity(app: App, shell: Pick<Shell, 'openExternal'>): void {
  app.enableSandbox();
  app.on('web-contents-created', (_e: unknown, contents: WebContents) => {
    hardenContents(contents, shell);
    denyPermissions(contents.session);
  });
}
