/**
 * The IPC router (STYLE.md G4): one `ipcMain.handle` per call of the
 * contract. Each wrapper refuses a sender that is not the main frame of one of
 * our windows showing our page, checks the arguments against the contract,
 * and hands typed data to the transport-agnostic handlers (electron/host/api.ts),
 * which never see an IPC event. A window's session (where its record batches
 * are pushed) is made on its first call and dropped when it is destroyed or
 * reloads and connects again.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { INVOKE_NAMES, channelOf, pushChannelOf, type Handlers, type PushName, type PushPayload } from '../shared/ipc-contract.std.ts';
import { dispatchCall, makeSession, type Session } from '../host/api.ts';
import { isTrustedSender } from './security.main.ts';

export class UntrustedSenderError extends Error {}

export interface IpcRouter {
  /** webContents ids of our windows. */
  windows: Set<number>;
  sessions: Map<number, Session>;
  dispose(): void;
}

export function registerIpc(ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>, handlers: Handlers<Session>, onDisconnect: (s: Session) => void): IpcRouter {
  const windows = new Set<number>();
  const sessions = new Map<number, Session>();

  const sessionOf = (wc: WebContents): Session => {
    let s = sessions.get(wc.id);
    if (!s) {
      const send = <K extends PushName>(name: K, payload: PushPayload<K>) => {
        if (!wc.isDestroyed()) wc.send(pushChannelOf(name), payload);
      };
      s = makeSession(`wc-${wc.id}`, send);
      sessions.set(wc.id, s);
      wc.once('destroyed', () => drop(wc.id));
    }
    return s;
  };
  const drop = (id: number) => {
    const s = sessions.get(id);
    if (!s) return;
    sessions.delete(id);
    onDisconnect(s);
  };

  for (const name of INVOKE_NAMES) {
    ipcMain.handle(channelOf(name), async (e: IpcMainInvokeEvent, ...args: unknown[]) => {
      if (!isTrustedSender(e, windows)) throw new UntrustedSenderError(`${name}: refused: the caller is not one of Xendeck's windows`);
      // A reloaded page connects again: its old session (and what was queued for it) goes.
      if (name === 'connect') drop(e.sender.id);
      return dispatchCall(handlers, sessionOf(e.sender), name, args);
    });
  }
  return {
    windows,
    sessions,
    dispose() {
      for (const name of INVOKE_NAMES) ipcMain.removeHandler(channelOf(name));
      for (const id of [...sessions.keys()]) drop(id);
    },
  };
}
