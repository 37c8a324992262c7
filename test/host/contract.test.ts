/**
 * One contract, three sides (STYLE.md G2): the renderer's client, the Electron
 * preload and the main-process router are all built from
 * electron/shared/ipc-contract.std.ts. This test joins them end to end with an
 * in-memory IPC and a live host on a fake helper, and calls every name: if a
 * side adds, drops or renames a call, a push or a channel, it fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZERO_HASH } from '../../machines/events/record.ts';
import { INVOKE_NAMES, PUSH_NAMES, channelOf, invoke, pushChannelOf, type Api, type InvokeName } from '../../electron/shared/ipc-contract.std.ts';
import { bridgeTransport, createApi, type Bridge } from '../../electron/shared/api-client.std.ts';
import { buildBridge } from '../../electron/preload/bridge.preload.ts';
import { registerIpc } from '../../electron/main/router.main.ts';
import { APP_URL } from '../../electron/main/security.main.ts';
import { createHandlers } from '../../electron/host/api.ts';
import { LiveHost } from '../../electron/host/host.ts';
import { FakeXen } from '../../electron/host/fake-helper.ts';
import { CollectingSink, tempDir, until } from '../../electron/host/test-support.ts';

/** An in-memory IPC: ipcMain.handle and ipcRenderer.invoke/on over one fake webContents. */
function memoryIpc() {
  const mainHandlers = new Map<string, (e: unknown, ...a: unknown[]) => Promise<unknown>>();
  const listeners = new Map<string, Set<(e: unknown, p: unknown) => void>>();
  const contents = {
    id: 1,
    isDestroyed: () => false,
    once: () => contents,
    send: (ch: string, p: unknown) => {
      for (const l of listeners.get(ch) ?? []) l({ senderId: 0 }, structuredClone(p));
    },
  };
  const event = { sender: contents, senderFrame: { url: APP_URL, parent: null } };
  const ipcMain = { handle: (ch: string, fn: any) => void mainHandlers.set(ch, fn), removeHandler: (ch: string) => void mainHandlers.delete(ch) };
  const ipcRenderer = {
    invoke: async (ch: string, ...a: unknown[]) => {
      const h = mainHandlers.get(ch);
      if (!h) throw new Error(`No handler registered for '${ch}'`);
      // Electron copies arguments and results with the structured clone algorithm.
      return structuredClone(await h(event, ...structuredClone(a)));
    },
    on: (ch: string, l: any) => {
      let s = listeners.get(ch);
      if (!s) listeners.set(ch, (s = new Set()));
      s.add(l);
      return ipcRenderer;
    },
    removeListener: (ch: string, l: any) => {
      listeners.get(ch)?.delete(l);
      return ipcRenderer;
    },
  };
  return { ipcMain, ipcRenderer, mainHandlers, listeners };
}

let host: LiveHost;
let xen: FakeXen;
let api: Api;
let bridge: Record<string, unknown>;
let ipc: ReturnType<typeof memoryIpc>;
let cleanup: () => void;

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  xen = new FakeXen();
  xen.nodes.set('/local/domain/0/name', 'Domain-0');
  host = new LiveHost({ dataDir: t.dir, launch: () => xen.launch(), user: 'alice', mode: 'electron', dominfoPollMs: 0, awaitBase: true });
  await host.start();
  ipc = memoryIpc();
  const router = registerIpc(ipc.ipcMain, createHandlers(host), (s) => host.disconnect(s));
  router.windows.add(1);
  bridge = buildBridge(ipc.ipcRenderer as never);
  api = createApi(bridgeTransport(bridge as Bridge));
});
afterAll(async () => {
  await host.stop();
  cleanup();
});

describe('the API contract across renderer, preload and main', () => {
  it('the preload exposes exactly one method per call, plus on', () => {
    expect(Object.keys(bridge).sort()).toEqual([...INVOKE_NAMES, 'on'].sort());
    expect(Object.isFrozen(bridge)).toBe(true);
  });

  it('main handles exactly the channels the preload invokes', () => {
    expect([...ipc.mainHandlers.keys()].sort()).toEqual(INVOKE_NAMES.map(channelOf).sort());
  });

  it('the renderer client has every call and on', () => {
    expect(Object.keys(api).sort()).toEqual([...INVOKE_NAMES, 'on'].sort());
  });

  it('channels are distinct and namespaced', () => {
    const all = [...INVOKE_NAMES.map(channelOf), ...PUSH_NAMES.map(pushChannelOf)];
    expect(new Set(all).size).toBe(all.length);
    for (const c of all) expect(c).toMatch(/^app:(push:)?[a-z][A-Za-z]*$/);
  });

  it('every call goes through end to end and its result fits the contract', async () => {
    const records: number[] = [];
    const statuses: string[] = [];
    api.on('records', (p) => records.push(...p.records.map((r) => r.seq)));
    api.on('status', (s) => statuses.push(s.helper));
    await host.whenReady();
    const samples: { [K in InvokeName]: Parameters<Api[K]> } = {
      connect: [{ tail: { seq: 0, hash: ZERO_HASH } }],
      ack: [{ seq: 1 }],
      command: [{ op: 'pause', domain: 'web' }],
      status: [],
      view: [],
      storeStatus: [{ state: 'ok' }],
    };
    for (const name of INVOKE_NAMES) {
      const out = await (api[name] as (...a: unknown[]) => Promise<unknown>)(...samples[name]);
      expect(invoke[name].result.safeParse(out).success, name).toBe(true);
    }
    await until(() => records.length > 0 && records[records.length - 1] === host.status().tail.seq, 'pushed records');
    expect(records).toEqual(Array.from({ length: records.length }, (_, i) => i + 1));
    expect(xen.xlRuns).toEqual([['pause', 'web']]);
  });

  it('a push listener unsubscribes', async () => {
    let n = 0;
    const off = api.on('records', () => n++);
    off();
    host.flush();
    const sink = new CollectingSink();
    host.connect(sink, host.status().tail);
    xen.write('/local/domain/0/x', '1');
    await until(() => sink.records.length > 0, 'the change');
    expect(n).toBe(0);
  });
});
