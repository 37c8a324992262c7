import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { benchXenstore } from './bench.ts';
import { type XenstoreServer, startXenstoreServer } from './server.ts';
import { XsWireClient, show } from './wire-client.ts';
import { XS, encodeMessage, strings } from './wire.ts';

let server: XenstoreServer | undefined;
const dir = () => mkdtempSync(join(tmpdir(), 'xs-srv-'));

afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('wire server', () => {
  it('socket connections are dom0: privileged, relative paths under /local/domain/0', async () => {
    const d = dir();
    server = await startXenstoreServer({ socketPath: join(d, 'sock') });
    const c = await XsWireClient.connect(server.socketPath);
    expect(show(await c.request(XS.READ, strings('name')))).toBe('READ Domain-0');
    expect(show(await c.request(XS.IS_DOMAIN_INTRODUCED, strings('0')))).toBe('IS_DOMAIN_INTRODUCED T|');
    const r = await c.request(XS.READ, strings('/local/domain/0/domid'), 0, 77);
    expect(r.reqId).toBe(77);
    c.close();
  });

  it('a domain socket acts as that domain and is dropped when the domain is released', async () => {
    const d = dir();
    server = await startXenstoreServer({ socketPath: join(d, 'sock') });
    await server.listenDomain(7, join(d, 'dom7'));
    const early = await XsWireClient.connect(join(d, 'dom7'));
    expect(await early.waitClosed()).toBe(true); // not introduced yet
    server.store.introduce(7);
    server.store.as(0).mkdir('/local/domain/7');
    server.store.as(0).setPerms('/local/domain/7', [{ domid: 7, perm: 'n' }]);
    const g = await XsWireClient.connect(join(d, 'dom7'));
    expect(show(await g.request(XS.WRITE, Buffer.concat([strings('data'), Buffer.from('x')])))).toBe('WRITE OK|');
    expect(server.store.as(0).getPerms('/local/domain/7/data')).toEqual([{ domid: 7, perm: 'n' }]);
    expect(show(await g.request(XS.INTRODUCE, strings('8', '0', '1')))).toBe('ERROR EACCES|');
    server.store.release(7);
    expect(await g.waitClosed()).toBe(true);
    expect(server.store.as(0).exists('/local/domain/7')).toBe(false);
  });

  it('identical watch events still pending for a connection are merged', async () => {
    const d = dir();
    server = await startXenstoreServer({ socketPath: join(d, 'sock') });
    const watcher = await XsWireClient.connect(server.socketPath);
    await watcher.request(XS.WATCH, strings('/m', 'tok'));
    await watcher.waitEvents(1);
    const writer = await XsWireClient.connect(server.socketPath);
    await writer.request(XS.MKDIR, strings('/m'));
    await watcher.waitEvents(2);
    // Two writes in one burst: both events are queued before the watcher's queue is flushed.
    const write = (v: string) => encodeMessage(XS.WRITE, 0, 0, Buffer.concat([strings('/m/x'), Buffer.from(v)]));
    writer.writeRaw(Buffer.concat([write('1'), write('2'), encodeMessage(XS.WRITE, 0, 0, Buffer.concat([strings('/m/y'), Buffer.from('1')]))]));
    await watcher.request(XS.GET_DOMAIN_PATH, strings('0'));
    await watcher.waitEvents(4);
    expect(watcher.events).toEqual([['/m', 'tok'], ['/m', 'tok'], ['/m/x', 'tok'], ['/m/y', 'tok']]);
    watcher.close();
    writer.close();
  });

  it('a reply longer than 4096 bytes becomes E2BIG', async () => {
    const d = dir();
    server = await startXenstoreServer({ socketPath: join(d, 'sock') });
    for (let i = 0; i < 200; i++) server.store.as(0).mkdir(`/wide/a-fairly-long-child-name-${i}`);
    const c = await XsWireClient.connect(server.socketPath);
    expect(show(await c.request(XS.DIRECTORY, strings('/wide')))).toBe('ERROR E2BIG|');
    c.close();
  });

  it('benchXenstore measures READs per second over one connection', async () => {
    const d = dir();
    server = await startXenstoreServer({ socketPath: join(d, 'sock') });
    const rate = await benchXenstore(server.socketPath, 500);
    expect(rate).toBeGreaterThan(0);
    expect(server.store.as(0).exists('/tool/xendeck-bench')).toBe(false);
  });
});
