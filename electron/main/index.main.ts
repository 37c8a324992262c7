/**
 * The Electron main process, as a boot script (STYLE.md G7). Each step lives
 * in its own module; the order is the point.
 */
import { app, BrowserWindow, ipcMain, Menu, nativeImage, protocol, shell, Tray } from 'electron';
import { join } from 'node:path';
import { startRuntime, REPO_ROOT, type Runtime } from '../host/runtime.ts';
import { createHandlers } from '../host/api.ts';
import { registerIpc } from './router.main.ts';
import { setupSecurity, APP_URL } from './security.main.ts';
import { registerAppScheme, setupAppProtocol } from './app-protocol.main.ts';
import { windowOptions } from './window.main.ts';
import { setupTray } from './tray.main.ts';

// 1. One Xendeck per user: a second start shows the first one's window (two hosts would write two histories).
if (!app.requestSingleInstanceLock()) app.exit(0);

// 2. Sandbox every renderer and harden every webContents as it is created; both must precede 'ready'.
setupSecurity(app, shell);

// 3. The app:// scheme must be registered as privileged before 'ready'.
registerAppScheme(protocol);

await app.whenReady();
Menu.setApplicationMenu(null);

// 4. The renderer's files, served with the app's CSP.
setupAppProtocol(protocol, app.isPackaged ? join(app.getAppPath(), 'renderer', 'dist') : join(REPO_ROOT, 'renderer', 'dist'));

// 5. The live host (real host through pkexec, or the simulator when XENDECK_SIM names a scenario).
const runtime: Runtime = await startRuntime({
  mode: 'electron',
  sim: process.env.XENDECK_SIM ? { scenario: process.env.XENDECK_SIM } : undefined,
  dataDir: process.env.XENDECK_SIM ? undefined : join(app.getPath('userData'), 'host'),
  resourcesPath: app.isPackaged ? (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath : undefined,
  awaitBase: true,
});

// 6. The API: one handler per call of the contract, senders checked (before any window can call it).
const router = registerIpc(ipcMain, createHandlers(runtime.host), (s) => runtime.host.disconnect(s));

// 7. The window, then the tray that keeps recording when it is closed.
const preload = app.isPackaged ? join(app.getAppPath(), 'out', 'preload', 'preload.cjs') : join(REPO_ROOT, 'out', 'preload', 'preload.cjs');
const win = new BrowserWindow(windowOptions(preload));
router.windows.add(win.webContents.id);
win.once('ready-to-show', () => win.show());
const tray = setupTray(win, {
  makeTray: () => new Tray(nativeImage.createFromPath(join(REPO_ROOT, 'build', 'icons', 'tray.png'))),
  buildMenu: (t) => Menu.buildFromTemplate(t),
  isRecording: () => runtime.host.status().recording,
  quit: () => app.quit(),
});
app.on('second-instance', () => {
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
});
await win.loadURL(APP_URL);

// 8. Quitting: stop the helper, flush the outbox and save the live state before the process ends.
let stopped = false;
app.on('before-quit', (e: { preventDefault(): void }) => {
  tray.quitting();
  if (stopped) return;
  e.preventDefault();
  router.dispose();
  void runtime.stop().finally(() => {
    stopped = true;
    app.quit();
  });
});
