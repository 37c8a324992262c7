/**
 * The object the preload exposes (STYLE.md G5), built from the contract's
 * names: one method per call, `on(name, fn)` for pushes returning an
 * unsubscribe. ipcRenderer itself is never exposed.
 */
import type { IpcRenderer, IpcRendererEvent } from 'electron';
import { INVOKE_NAMES, PUSH_NAMES, channelOf, pushChannelOf, type PushName } from '../shared/ipc-contract.std.ts';

export function buildBridge(ipc: Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>): Record<string, unknown> {
  const api: Record<string, unknown> = {};
  for (const name of INVOKE_NAMES) api[name] = (...args: unknown[]) => ipc.invoke(channelOf(name), ...args);
  api.on = (name: PushName, fn: (payload: unknown) => void) => {
    if (!PUSH_NAMES.includes(name)) throw new Error(`no such push: ${String(name)}`);
    const l = (_e: IpcRendererEvent, payload: unknown) => fn(payload);
    ipc.on(pushChannelOf(name), l);
    return () => void ipc.removeListener(pushChannelOf(name), l);
  };
  return Object.freeze(api);
}
