/**
 * The preload: exposes the bridge on `window.xendeck`. Arguments and payloads
 * are checked by the renderer's client (api-client.std.ts) and again by the
 * main process; only names cross here. Bundled as one CJS file (a sandboxed
 * preload may require nothing but electron): build/build-electron.mjs.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { buildBridge } from './bridge.preload.ts';

contextBridge.exposeInMainWorld('xendeck', buildBridge(ipcRenderer));
