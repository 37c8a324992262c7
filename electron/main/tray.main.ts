/**
 * Closing the window while history is being recorded hides it to the tray
 * instead of quitting, so history has no holes; the tray says plainly that
 * Xendeck is recording and offers to show the window or stop and quit.
 */
import type { BrowserWindow, Menu as MenuT, MenuItemConstructorOptions, Tray as TrayT } from 'electron';

export const TRAY_TOOLTIP = 'Xendeck — recording host history';

/** What closing the window does. */
export function closeAction(recording: boolean, quitting: boolean): 'hide' | 'close' {
  return recording && !quitting ? 'hide' : 'close';
}

export function trayMenu(show: () => void, quit: () => void): MenuItemConstructorOptions[] {
  return [
    { label: '● Recording host history', enabled: false },
    { type: 'separator' },
    { label: 'Show Xendeck', click: show },
    { label: 'Stop recording and quit', click: quit },
  ];
}

export interface TrayDeps {
  makeTray: () => TrayT;
  buildMenu: (t: MenuItemConstructorOptions[]) => MenuT;
  isRecording: () => boolean;
  quit: () => void;
}

/** Wire a window's close to the tray. Returns a function that marks the app as quitting (then close really closes). */
export function setupTray(win: BrowserWindow, d: TrayDeps): { quitting: () => void } {
  let tray: TrayT | null = null;
  let quitting = false;
  const show = () => {
    win.show();
    win.focus();
  };
  win.on('close', (e: { preventDefault(): void }) => {
    if (closeAction(d.isRecording(), quitting) === 'close') return;
    e.preventDefault();
    win.hide();
    if (!tray) {
      tray = d.makeTray();
      tray.setToolTip(TRAY_TOOLTIP);
      tray.setContextMenu(d.buildMenu(trayMenu(show, () => {
        quitting = true;
        d.quit();
      })));
      tray.on('click', show);
    }
  });
  return { quitting: () => void (quitting = true) };
}
