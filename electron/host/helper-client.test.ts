import { describe, expect, it } from 'vitest';
import { HelperClient, HelperRequestError, helperCommand } from './helper-client.ts';
import { FakeXen } from './fake-helper.ts';
import type { HelperEvent } from '../shared/helper-protocol.std.ts';
import { until } from './test-support.ts';

function setup() {
  const xen = new FakeXen();
  const proc = xen.launch();
  const client = new HelperClient(proc, { timeoutMs: 2000 });
  return { xen, proc, client };
}

describe('helper client', () => {
  it('sends requests and resolves each with its parsed result', async () => {
    const { client } = setup();
    const h = await client.request('hello', { version: 1 });
    expect(h.helper).toBe('fake-helper 0');
    const d = await client.request('xs.watch_domains', {});
    expect(d.domids).toEqual([0]);
    expect(client.pendingCount).toBe(0);
  });

  it('rejects an error reply with the helper code and message', async () => {
    const { client } = setup();
    const e = await client.request('ping', {}).catch((x) => x);
    expect(e).toBeInstanceOf(HelperRequestError);
    expect(e.code).toBe('EPROTO');
    expect(e.message).toContain("'hello' must come first");
  });

  it('forwards events to listeners', async () => {
    const { xen, client } = setup();
    const got: HelperEvent[] = [];
    client.onEvent((e) => got.push(e));
    await client.request('hello', { version: 1 });
    await client.request('xs.watch', { path: '/local/domain', token: 't' });
    xen.write('/local/domain/1/name', 'vm1');
    await until(() => got.length === 1, 'the watch event');
    expect(got[0]).toEqual({ event: 'xs.watch', data: { path: '/local/domain/1/name', token: 't', value: 'vm1' } });
  });

  it('reports a malformed line clearly, keeps going and loses no pending request', async () => {
    const { proc, client } = setup();
    const bad: { reason: string; line: string }[] = [];
    client.onMalformed((m) => bad.push(m));
    proc.inject.push('{"id": 1, "ok": tru', '{"event":"xs.watch","data":{"token":"t"}}', '{"id":"x","ok":true,"result":{}}');
    const h = client.request('hello', { version: 1 });
    // The three injected lines come before the reply; the reply still arrives.
    expect((await h).version).toBe(1);
    const d = client.request('xs.watch_domains', {});
    const e = client.request('xs.watch_domains', {});
    expect((await d).domids).toEqual([0]);
    expect((await e).domids).toEqual([0]);
    expect(bad.map((b) => b.reason)).toEqual([
      expect.stringMatching(/^not JSON/),
      expect.stringMatching(/^event xs\.watch: path/),
      expect.stringMatching(/^reply: /),
    ]);
    expect(bad[0].line).toBe('{"id": 1, "ok": tru');
    expect(client.malformedCount).toBe(3);
  });

  it('rejects a reply whose result does not fit the op', async () => {
    const { proc, client } = setup();
    await client.request('hello', { version: 1 });
    // The fake answers the next request with a result missing "domids".
    proc.inject.push('{"id":2,"ok":true,"result":{"domains":[]}}');
    const e = await client.request('xs.watch_domains', {}).catch((x) => x);
    expect(e.code).toBe('EBADMSG');
    expect(e.message).toContain('domids');
  });

  it('times out a request with no reply', async () => {
    const { proc } = setup();
    const c = new HelperClient(proc, { timeoutMs: 30 });
    // Before hello the fake answers nothing for an unknown id line: use a request it never answers by closing its reader.
    proc.stdin.pause();
    proc.stdin.removeAllListeners('data');
    const e = await c.request('hello', { version: 1 }).catch((x) => x);
    expect(e.code).toBe('ETIMEDOUT');
    expect(c.pendingCount).toBe(0);
  });

  it('rejects every pending request at once when the helper dies', async () => {
    const { proc, client } = setup();
    proc.stdin.pause();
    proc.stdin.removeAllListeners('data');
    const a = client.request('hello', { version: 1 }).catch((x) => x);
    const exits: unknown[] = [];
    client.onExit((x) => exits.push(x));
    proc.kill('SIGKILL');
    const e = await a;
    expect(e.code).toBe('EHELPERDIED');
    expect(e.message).toContain('SIGKILL');
    expect(exits).toEqual([{ code: null, signal: 'SIGKILL' }]);
    const later = await client.request('ping', {}).catch((x) => x);
    expect(later.code).toBe('EHELPERDIED');
  });

  it('refuses arguments that do not fit the op before sending', async () => {
    const { client } = setup();
    const e = await client.request('xl', { argv: [] } as never).catch((x) => x);
    expect(e.code).toBe('EINVAL');
  });

  it('runs the helper through pkexec on a real host and directly with overrides against the simulator', () => {
    expect(helperCommand({ helperPath: '/usr/libexec/xendeck-helper', elevate: true })).toEqual({ command: 'pkexec', args: ['/usr/libexec/xendeck-helper'] });
    const o = { xenstoreSocket: '/s', qmpDir: '/q', xlPath: '/x', logDir: '/l', lockDir: '/k' };
    expect(helperCommand({ helperPath: 'h', elevate: false, overrides: o }).args).toEqual(['--xenstore-socket', '/s', '--qmp-dir', '/q', '--xl', '/x', '--log-dir', '/l', '--lock-dir', '/k']);
    expect(() => helperCommand({ helperPath: 'h', elevate: true, overrides: o })).toThrow(/unelevated/);
  });
});
