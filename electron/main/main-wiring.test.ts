/** Main-process wiring as plain functions (no Electron needed): window factory, security hooks, IPC router, tray, app:// responses. */
import { describe, expect, it, vi } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INVOKE_NAMES, channelOf, pushChannelOf, type Handlers } from '../shared/ipc-contract.std.ts';
import type { Session } from '../host/api.ts';
import { windowOptions } from './window.main.ts';
import { APP_CSP, APP_URL, denyPermissions, hardenContents, isSafeExternalUrl, isTrustedSender, setupSecurity } from './security.main.ts';
import { registerIpc, UntrustedSenderError } from './router.main.ts';
import { closeAction, setupTray, TRAY_TOOLTIP } from './tray.main.ts';
import { appResponse } from './app-protocol.main.ts';
import { PLACEHOLDER } from '../serve/server.ts';

class FakeContents {
  handlers = new Map<string, ((...a: any[]) => void)[]>();
  openHandler: ((d: { url: string }) => { action: string }) | null = null;
  sent: [string, unknown][] = [];
  destroyed = false;
  session = { req: null as any, check: null as any, setPermissionRequestHandler(h: any) { this.req = h; }, setPermissionCheckHandler(h: any) { this.check = h; } };
  mainFrame = { url: APP_URL, parent: null };
  constructor(public id: number) {}
  setWindowOpenHandler(h: any) { this.openHandler = h; }
  on(ev: string, l: any) { this.handlers.set(ev, [...(this.handlers.get(ev) ?? []), l]); return this; }
  once(ev: string, l: any) { return this.on(ev, l); }
  emit(ev: string, ...a: any[]) { for (const l of this.handlers.get(ev) ?? []) l(...a); }
  send(ch: string, p: unknown) { this.sent.push([ch, p]); }
  isDestroyed() { return this.destroyed; }
}

function navEvent() {
  return { prevented: false, preventDefault() { this.prevented = true; } };
}

describe('window factory', () => {
  it('locks the window down: context isolation, sandbox, no Node, web security left at its default', () => {
    const o = windowOptions('/p/preload.cjs');
    expect(o.webPreferences).toMatchObject({ preload: '/p/preload.cjs', contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false, webviewTag: false });
    expect(o.webPreferences).not.toHaveProperty('webSecurity');
    expect(o.show).toBe(false);
  });
});

describe('security hooks', () => {
  it('opens only http(s) and mailto links externally, after parsing', () => {
    expect(isSafeExternalUrl('https://xenproject.org/')).toBe(true);
    expect(isSafeExternalUrl('mailto:ops@example.org')).toBe(true);
    for (const u of ['javascript:alert(1)', 'file:///etc/passwd', 'app://xendeck/index.html', 'data:text/html,x', 'https://user:pw@example.org/', 'not a url', 'smb://host/share'])
      expect(isSafeExternalUrl(u), u).toBe(false);
  });

  it('denies new windows (sending safe links to the browser) and navigation away from the app', () => {
    const c = new FakeContents(1);
    const shell = { openExternal: vi.fn(async () => {}) };
    hardenContents(c as never, shell);
    expect(c.openHandler!({ url: 'https://example.org' })).toEqual({ action: 'deny' });
    expect(c.openHandler!({ url: 'file:///etc/shadow' })).toEqual({ action: 'deny' });
    expect(shell.openExternal.mock.calls).toEqual([['https://example.org']]);
    const away = navEvent();
    c.emit('will-navigate', away, 'https://evil.example/');
    expect(away.prevented).toBe(true);
    const inside = navEvent();
    c.emit('will-navigate', inside, 'app://xendeck/index.html#/domains');
    expect(inside.prevented).toBe(false);
    const redirect = navEvent();
    c.emit('will-redirect', redirect, 'http://127.0.0.1:1/');
    expect(redirect.prevented).toBe(true);
    const wv = navEvent();
    c.emit('will-attach-webview', wv);
    expect(wv.prevented).toBe(true);
  });

  it('denies every permission request and check', () => {
    const c = new FakeContents(1);
    denyPermissions(c.session as never);
    const cb = vi.fn();
    c.session.req(c, 'media', cb);
    expect(cb).toHaveBeenCalledWith(false);
    expect(c.session.check(c, 'clipboard-read')).toBe(false);
  });

  it('enables the sandbox first and hardens every webContents created later', () => {
    const calls: string[] = [];
    let created: ((e: unknown, c: FakeContents) => void) | undefined;
    const app = { enableSandbox: () => calls.push('sandbox'), on: (ev: string, l: any) => { calls.push(ev); created = l; } };
    setupSecurity(app as never, { openExternal: async () => {} });
    expect(calls).toEqual(['sandbox', 'web-contents-created']);
    const c = new FakeContents(9);
    created!({}, c);
    expect(c.openHandler).not.toBeNull();
    expect(c.session.req).not.toBeNull();
  });

  it('trusts only the main frame of our windows showing our page', () => {
    const wins = new Set([1]);
    const ours = { sender: { id: 1 }, senderFrame: { url: APP_URL, parent: null } };
    expect(isTrustedSender(ours as never, wins)).toBe(true);
    expect(isTrustedSender({ ...ours, sender: { id: 2 } } as never, wins)).toBe(false);
    expect(isTrustedSender({ ...ours, senderFrame: { url: APP_URL, parent: {} } } as never, wins)).toBe(false);
    expect(isTrustedSender({ ...ours, senderFrame: { url: 'https://evil.example/', parent: null } } as never, wins)).toBe(false);
    expect(isTrustedSender({ ...ours, senderFrame: null } as never, wins)).toBe(false);
  });
});

function fakeIpcMain() {
  const handlers = new Map<string, (e: any, ...a: unknown[]) => Promise<unknown>>();
  return { handlers, handle: (ch: string, fn: any) => void handlers.set(ch, fn), removeHandler: (ch: string) => void handlers.delete(ch) };
}

function fakeHandlers(log: unknown[]): Handlers<Session> {
  const status = { mode: 'electron' as const, sim: true, helper: 'up' as const, attempts: 0, restarts: 0, recording: true, tail: { seq: 0, hash: '0'.repeat(64) }, pending: 0 };
  return {
    connect: async (s, a) => {
      log.push(['connect', a]);
      s.push([]);
      return { status: 'ok', hostTail: a.tail, resend: 0, host: status };
    },
    ack: async (_s, a) => (log.push(['ack', a]), { dropped: 0 }),
    command: async (_s, c) => (log.push(['command', c]), { cmd: 'c1', ok: true }),
    status: async () => status,
    view: async () => ({ seq: 0, ts: 0, actors: [], incidents: [] }),
    storeStatus: async (_s, a) => (log.push(['storeStatus', a]), { recorded: true }),
  };
}

describe('IPC router', () => {
  it('registers one handler per call of the contract, on the contract channel', () => {
    const ipc = fakeIpcMain();
    registerIpc(ipc, fakeHandlers([]), () => {});
    expect([...ipc.handlers.keys()].sort()).toEqual(INVOKE_NAMES.map(channelOf).sort());
  });

  it('refuses an untrusted sender before any handler runs', async () => {
    const ipc = fakeIpcMain();
    const log: unknown[] = [];
    registerIpc(ipc, fakeHandlers(log), () => {});
    const c = new FakeContents(7);
    const e = await ipc.handlers.get(channelOf('command'))!({ sender: c, senderFrame: c.mainFrame }, { op: 'destroy', domain: 'web' }).catch((x) => x);
    expect(e).toBeInstanceOf(UntrustedSenderError);
    expect(log).toEqual([]);
  });

  it('checks arguments against the contract, then hands typed data to the handler', async () => {
    const ipc = fakeIpcMain();
    const log: unknown[] = [];
    const r = registerIpc(ipc, fakeHandlers(log), () => {});
    const c = new FakeContents(3);
    r.windows.add(3);
    const ev = { sender: c, senderFrame: c.mainFrame };
    await expect(ipc.handlers.get(channelOf('command'))!(ev, { op: 'destroy', domain: 'rm -rf /' })).rejects.toThrow(/arguments do not fit the contract/);
    await expect(ipc.handlers.get(channelOf('ack'))!(ev, { seq: -1 })).rejects.toThrow(/arguments do not fit/);
    expect(log).toEqual([]);
    expect(await ipc.handlers.get(channelOf('command'))!(ev, { op: 'destroy', domain: 'web' })).toEqual({ cmd: 'c1', ok: true });
    expect(log).toEqual([['command', { op: 'destroy', domain: 'web' }]]);
  });

  it("pushes to the calling window on the contract's channel and forgets it when it is destroyed or reconnects", async () => {
    const ipc = fakeIpcMain();
    const gone: string[] = [];
    const r = registerIpc(ipc, fakeHandlers([]), (s) => gone.push(s.id));
    const c = new FakeContents(4);
    r.windows.add(4);
    const ev = { sender: c, senderFrame: c.mainFrame };
    await ipc.handlers.get(channelOf('connect'))!(ev, { tail: { seq: 0, hash: '0'.repeat(64) } });
    expect(c.sent).toEqual([[pushChannelOf('records'), { records: [] }]]);
    await ipc.handlers.get(channelOf('connect'))!(ev, { tail: { seq: 0, hash: '0'.repeat(64) } });
    expect(gone).toEqual(['wc-4']); // the reload's new connect dropped the old session
    c.emit('destroyed');
    expect(gone).toEqual(['wc-4', 'wc-4']);
    expect(r.sessions.size).toBe(0);
  });
});

describe('tray', () => {
  it('hides to the tray on close while recording, says so, and really closes when quitting', () => {
    expect(closeAction(true, false)).toBe('hide');
    expect(closeAction(true, true)).toBe('close');
    expect(closeAction(false, false)).toBe('close');
    const win = new FakeContents(1) as any;
    win.hide = vi.fn();
    win.show = vi.fn();
    win.focus = vi.fn();
    const tray = { setToolTip: vi.fn(), setContextMenu: vi.fn(), on: vi.fn() };
    const makeTray = vi.fn(() => tray);
    let recording = true;
    const quit = vi.fn();
    const t = setupTray(win, { makeTray: makeTray as never, buildMenu: (m) => m as never, isRecording: () => recording, quit });
    const e1 = navEvent();
    win.emit('close', e1);
    expect(e1.prevented).toBe(true);
    expect(win.hide).toHaveBeenCalled();
    expect(tray.setToolTip).toHaveBeenCalledWith(TRAY_TOOLTIP);
    const menu = tray.setContextMenu.mock.calls[0][0] as { label?: string; click?: () => void }[];
    expect(menu[0].label).toMatch(/Recording/);
    menu.find((m) => m.label === 'Stop recording and quit')!.click!();
    expect(quit).toHaveBeenCalled();
    const e2 = navEvent();
    win.emit('close', e2);
    expect(e2.prevented).toBe(false);
    recording = false;
    t.quitting();
    expect(makeTray).toHaveBeenCalledTimes(1);
  });
});

describe('app:// responses', () => {
  it('serve the renderer with the CSP, the placeholder when unbuilt, nothing outside', async () => {
    const d = mkdtempSync(join(tmpdir(), 'xendeck-app-'));
    try {
      const dist = join(d, 'dist');
      const empty = await appResponse(dist, APP_URL);
      expect(await empty.text()).toBe(PLACEHOLDER);
      expect(empty.headers.get('content-security-policy')).toBe(APP_CSP);
      mkdirSync(dist);
      writeFileSync(join(dist, 'index.html'), '<p>app</p>');
      writeFileSync(join(d, 'secret'), 'no');
      const ok = await appResponse(dist, 'app://xendeck/');
      expect(await ok.text()).toBe('<p>app</p>');
      expect((await appResponse(dist, 'app://xendeck/..%2fsecret')).status).toBe(403);
      expect((await appResponse(dist, 'app://xendeck/missing.js')).status).toBe(404);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
