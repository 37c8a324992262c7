/**
 * The few Electron APIs the shell uses, declared locally because the electron
 * package (and its binary) cannot be installed in every build environment.
 * Shapes follow Electron 38's electron.d.ts. Delete this file once `electron`
 * is a devDependency: its own declarations then apply.
 */
declare module 'electron' {
  type Listener = (...args: any[]) => void;

  interface WebFrameMain {
    url: string;
    parent: WebFrameMain | null;
  }

  interface Session {
    setPermissionRequestHandler(h: ((wc: WebContents, permission: string, callback: (granted: boolean) => void) => void) | null): void;
    setPermissionCheckHandler(h: ((wc: WebContents | null, permission: string) => boolean) | null): void;
    webRequest: { onHeadersReceived(l: (details: { responseHeaders?: Record<string, string[]> }, cb: (r: { responseHeaders?: Record<string, string[]> }) => void) => void): void };
  }

  interface WebContents {
    id: number;
    session: Session;
    mainFrame: WebFrameMain;
    send(channel: string, ...args: unknown[]): void;
    setWindowOpenHandler(h: (d: { url: string }) => { action: 'deny' } | { action: 'allow' }): void;
    on(event: string, l: Listener): this;
    once(event: string, l: Listener): this;
    isDestroyed(): boolean;
  }

  interface IpcMainInvokeEvent {
    sender: WebContents;
    senderFrame: WebFrameMain | null;
  }

  interface IpcRendererEvent {
    senderId: number;
  }

  interface BrowserWindowConstructorOptions {
    width?: number;
    height?: number;
    minWidth?: number;
    minHeight?: number;
    show?: boolean;
    title?: string;
    backgroundColor?: string;
    autoHideMenuBar?: boolean;
    webPreferences?: {
      preload?: string;
      contextIsolation?: boolean;
      sandbox?: boolean;
      nodeIntegration?: boolean;
      nodeIntegrationInWorker?: boolean;
      nodeIntegrationInSubFrames?: boolean;
      webviewTag?: boolean;
      spellcheck?: boolean;
      navigateOnDragDrop?: boolean;
    };
  }

  class BrowserWindow {
    constructor(o?: BrowserWindowConstructorOptions);
    webContents: WebContents;
    loadURL(url: string): Promise<void>;
    show(): void;
    hide(): void;
    focus(): void;
    restore(): void;
    isMinimized(): boolean;
    isDestroyed(): boolean;
    on(event: string, l: Listener): this;
    once(event: string, l: Listener): this;
    static fromWebContents(wc: WebContents): BrowserWindow | null;
  }

  interface App {
    enableSandbox(): void;
    requestSingleInstanceLock(): boolean;
    quit(): void;
    exit(code?: number): void;
    whenReady(): Promise<void>;
    getPath(name: 'userData' | 'home' | 'temp'): string;
    getAppPath(): string;
    setAppUserModelId?(id: string): void;
    on(event: string, l: Listener): this;
    isPackaged: boolean;
  }

  interface IpcMain {
    handle(channel: string, l: (e: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown> | unknown): void;
    removeHandler(channel: string): void;
  }

  interface IpcRenderer {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>;
    on(channel: string, l: (e: IpcRendererEvent, ...args: unknown[]) => void): this;
    removeListener(channel: string, l: Listener): this;
  }

  interface ContextBridge {
    exposeInMainWorld(key: string, api: unknown): void;
  }

  interface Protocol {
    registerSchemesAsPrivileged(s: { scheme: string; privileges: { standard?: boolean; secure?: boolean; supportFetchAPI?: boolean; corsEnabled?: boolean } }[]): void;
    handle(scheme: string, h: (req: { url: string; method: string }) => Response | Promise<Response>): void;
  }

  interface Shell {
    openExternal(url: string): Promise<void>;
  }

  interface MenuItemConstructorOptions {
    label?: string;
    type?: 'normal' | 'separator';
    enabled?: boolean;
    click?: () => void;
  }
  class Menu {
    static buildFromTemplate(t: MenuItemConstructorOptions[]): Menu;
    static setApplicationMenu(m: Menu | null): void;
  }
  class NativeImage {}
  const nativeImage: { createFromPath(p: string): NativeImage; createEmpty(): NativeImage };
  class Tray {
    constructor(image: NativeImage | string);
    setToolTip(t: string): void;
    setContextMenu(m: Menu): void;
    on(event: string, l: Listener): this;
    destroy(): void;
  }

  const app: App;
  const ipcMain: IpcMain;
  const ipcRenderer: IpcRenderer;
  const contextBridge: ContextBridge;
  const protocol: Protocol;
  const shell: Shell;
  const session: { defaultSession: Session };
}
