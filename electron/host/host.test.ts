import { afterEach, describe, expect, it } from 'vitest';
import { ZERO_HASH } from '../../machines/events/record.ts';
import { replay } from '../../machines/host/replay.ts';
import { ALL_BINDINGS } from '../../machines/host/bindings.ts';
import { FakeXen } from './fake-helper.ts';
import { LiveHost, STATE_FILE, type HostOptions } from './host.ts';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CollectingSink, checkChain, startConnected, tempDir, until } from './test-support.ts';

const UUID = '6f1c0a52-3b7e-4c1d-9a8e-2f4b5c6d7e8f';

function xenWithDomain(): FakeXen {
  const xen = new FakeXen();
  xen.nodes.set('/local/domain/0/name', 'Domain-0');
  xen.nodes.set('/local/domain/1/name', 'web');
  xen.nodes.set('/local/domain/1/vm', `/vm/${UUID}`);
  xen.nodes.set('/local/domain/1/domid', '1');
  xen.nodes.set(`/vm/${UUID}/name`, 'web');
  xen.nodes.set('/libxl/1/type', 'pvh');
  xen.introduced.add(1);
  xen.dominfo = [
    { domid: 0, name: 'Domain-0', running: true, blocked: false, paused: false, shutdown: false, dying: false },
    { domid: 1, name: 'web', uuid: UUID, running: false, blocked: true, paused: false, shutdown: false, dying: false },
  ];
  return xen;
}

const hosts: LiveHost[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.stop();
  for (const c of cleanups.splice(0)) c();
});

function makeHost(xen: FakeXen, dir: string, extra: Partial<HostOptions> = {}): LiveHost {
  const h = new LiveHost({ dataDir: dir, launch: () => xen.launch(), user: 'alice', lifecycle: { delaysMs: [5], maxAttempts: 3 }, dominfoPollMs: 0, ...extra });
  hosts.push(h);
  return h;
}

function dir(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}


describe('live host', () => {
  it('records the initial scan in order with a valid chain, then helper.status up', async () => {
    const xen = xenWithDomain();
    const host = makeHost(xen, dir());
    const sink = new CollectingSink();
    await startConnected(host, sink);
    host.flush();
    checkChain(sink.records);
    const types = sink.records.filter((r) => r.type !== 'machine.transition').map((r) => r.type);
    expect(types.slice(0, 2)).toEqual(['xs.introduce', 'xs.introduce']);
    expect(types[types.length - 1]).toBe('helper.status');
    expect(sink.ofType('helper.status').map((r) => r.data)).toEqual([{ state: 'up', gap: false }]);
    const writes = sink.ofType('xs.write').map((r) => r.data.path);
    expect(writes).toEqual(expect.arrayContaining(['/local/domain/1/name', '/local/domain/1/vm', `/vm/${UUID}/name`, '/libxl/1/type']));
    expect(sink.ofType('dominfo').map((r) => r.data.domid)).toEqual([1]); // dom0 has no /vm yet in this host
    // The live actors are what a replay of the same records gives.
    const r = replay(sink.records, ALL_BINDINGS);
    expect(r.mismatch).toBeNull();
    expect(r.view.actors.map((a) => [a.id, a.state])).toEqual(host.view().actors.map((a) => [a.id, a.state]));
    expect(host.view().actors.some((a) => a.id === `domain:${UUID}`)).toBe(true);
  });

  it('records a live change once, and nothing for a watch that fires with nothing new', async () => {
    const xen = xenWithDomain();
    const host = makeHost(xen, dir());
    const sink = new CollectingSink();
    await startConnected(host, sink);
    host.flush();
    const before = sink.records.length;
    xen.write('/local/domain/1/data/x', '1');
    xen.write('/local/domain/1/name', 'web'); // same value: a spurious firing
    xen.rm('/local/domain/1/data');
    await until(() => sink.ofType('xs.rm').length === 1, 'the removal');
    const added = sink.records.slice(before).filter((r) => r.type !== 'machine.transition');
    expect(added.map((r) => [r.type, r.data.path])).toEqual([
      ['xs.write', '/local/domain/1/data/x'],
      ['xs.rm', '/local/domain/1/data'],
    ]);
    expect(added[0].domid).toBe(1);
    expect(added[0].uuid).toBe(UUID);
  });

  it('a guest flooding its own xenstore home is limited: bounded records plus a dropped summary, while dom0 records pass', async () => {
    const xen = xenWithDomain();
    const host = makeHost(xen, dir(), { guestInput: { recordsPerSec: 50, recordBurst: 100 } });
    const sink = new CollectingSink();
    await startConnected(host, sink);
    host.flush();
    const before = sink.records.length;
    for (let i = 0; i < 2000; i++) xen.write('/local/domain/1/data/counter', String(i));
    xen.write('/local/domain/0/backend/vbd/1/51712/state', '4');
    await until(() => sink.records.slice(before).some((r) => r.data.path === '/local/domain/0/backend/vbd/1/51712/state'), 'the backend write');
    await host.stop();
    const added = sink.records.slice(before);
    const writes = added.filter((r) => r.type === 'xs.write' && r.data.path === '/local/domain/1/data/counter');
    const dropped = added.filter((r) => r.type === 'dropped');
    expect(writes.length).toBeLessThan(400);
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped[0].data).toMatchObject({ domid: 1, reason: 'rate' });
    // Nothing is lost silently: recorded writes plus the counted ones are all the writes the watches reported.
    const counted = dropped.reduce((n, r) => n + Number(r.data.count), 0);
    expect(writes.length + counted).toBeGreaterThanOrEqual(2000 - 5);
    expect(writes.at(-1)!.data.value).toBe('1999');
  });

  it('helper killed mid-flow: restarts, records the gap and the reconciling differences, loses nothing', async () => {
    const xen = xenWithDomain();
    xen.nodes.set('/local/domain/1/device/vbd/51712/state', '4');
    const host = makeHost(xen, dir(), { lifecycle: { delaysMs: [300], maxAttempts: 3 } });
    const sink = new CollectingSink();
    await startConnected(host, sink);
    xen.write('/local/domain/1/memory/target', '1024');
    await until(() => sink.records.some((r) => r.data.path === '/local/domain/1/memory/target'), 'the change before the kill');
    const seen = sink.records.slice();

    xen.live[0].kill('SIGKILL');
    await until(() => host.status().helper === 'backoff', 'the helper to be seen dead');
    // While it is away: a value changes, a device goes, a node appears.
    xen.nodes.set('/local/domain/1/memory/target', '2048');
    xen.nodes.delete('/local/domain/1/device/vbd/51712/state');
    xen.nodes.set('/local/domain/1/console/tty', '/dev/pts/3');
    await until(() => sink.ofType('helper.status').length === 3, 'down then resynced');
    host.flush();

    expect(host.status().restarts).toBe(1);
    expect(sink.records.slice(0, seen.length)).toEqual(seen); // nothing already observed lost or changed
    checkChain(sink.records);
    const st = sink.ofType('helper.status');
    expect(st[1].data).toMatchObject({ state: 'down', gap: true, reason: 'the helper was ended by SIGKILL' });
    expect(st[2].data).toMatchObject({ state: 'resynced', gap: true, diff: { 'xs.write': 2, 'xs.rm': 1, removed: ['/local/domain/1/device/vbd/51712/state'] } });
    const between = sink.records.filter((r) => r.seq > st[1].seq && r.seq < st[2].seq && r.type.startsWith('xs.'));
    // The scan lists what is there (changes as writes), then what it did not list is removed.
    expect(between.map((r) => [r.type, r.data.path])).toEqual([
      ['xs.write', '/local/domain/1/console/tty'],
      ['xs.write', '/local/domain/1/memory/target'],
      ['xs.rm', '/local/domain/1/device/vbd/51712/state'],
    ]);
    expect(host.view().incidents.some((i) => i.kind === 'helper-gap' && i.from === st[1].seq && i.to === st[2].seq)).toBe(true);
  });

  it('gives up after repeated deaths and records helper.status failed', async () => {
    const xen = xenWithDomain();
    let n = 0;
    xen.crashOnHello = true;
    const host = makeHost(xen, dir(), {
      launch: () => {
        n++;
        return xen.launch();
      },
    });
    const sink = new CollectingSink();
    await host.start();
    host.connect(sink, { seq: 0, hash: ZERO_HASH });
    await until(() => host.status().helper === 'failed', 'giving up');
    host.flush();
    expect(n).toBe(4); // the first start and three restarts
    expect(sink.ofType('helper.status').map((r) => r.data.state)).toEqual(['down', 'failed']);
    expect(host.view().incidents.map((i) => i.kind)).toContain('helper-failed');
  });

  it('the store gone for a while: the outbox grows, then drains with no gap or duplicate', async () => {
    const xen = xenWithDomain();
    const host = makeHost(xen, dir(), { saveEveryMs: 0 });
    const a = new CollectingSink();
    await startConnected(host, a);
    host.flush();
    host.ack(a.last.seq);
    expect(host.status().pending).toBe(0);
    host.disconnect(a);
    for (let i = 0; i < 50; i++) xen.write(`/local/domain/1/data/k${i}`, String(i));
    await until(() => host.status().pending >= 50, 'the outbox to grow');
    const b = new CollectingSink();
    const res = host.connect(b, a.last);
    expect(res.status).toBe('ok');
    expect(res.resend).toBe(host.status().pending);
    expect(b.records[0].seq).toBe(a.last.seq + 1);
    checkChain(b.records, { seq: a.last.seq + 1, prev: a.last.hash });
    host.ack(b.last.seq);
    expect(host.status().pending).toBe(0);
  });

  it('a reloaded store that committed only part of a batch gets exactly the rest', async () => {
    const xen = xenWithDomain();
    const host = makeHost(xen, dir());
    const a = new CollectingSink();
    await startConnected(host, a);
    host.flush();
    const mid = a.records[4];
    host.disconnect(a);
    const b = new CollectingSink();
    const res = host.connect(b, { seq: mid.seq, hash: mid.hash });
    expect(res.status).toBe('ok');
    expect(b.records).toEqual(a.records.slice(5));
  });

  it('an empty store joins an ongoing history at the first record the host holds; a store missing records is told it is behind', async () => {
    const xen = xenWithDomain();
    const host = makeHost(xen, dir(), { saveEveryMs: 0 });
    const a = new CollectingSink();
    await startConnected(host, a);
    host.flush();
    host.ack(a.records[5].seq);
    host.disconnect(a);
    const fresh = new CollectingSink();
    const r1 = host.connect(fresh, { seq: 0, hash: ZERO_HASH });
    expect(r1.status).toBe('ok');
    expect(r1.anchor).toEqual({ seq: 7, prev: a.records[5].hash });
    expect(fresh.records).toEqual(a.records.slice(6));
    const old = new CollectingSink();
    const r2 = host.connect(old, { seq: 3, hash: a.records[2].hash });
    expect(r2.status).toBe('behind');
    expect(r2.message).toBe('records 4..6 were acknowledged by a store and are no longer held here');
  });

  it('refuses a store that holds another history', async () => {
    const xen = xenWithDomain();
    const host = makeHost(xen, dir());
    await host.start();
    await host.whenReady();
    host.flush();
    const res = host.connect(new CollectingSink(), { seq: 2, hash: 'f'.repeat(64) });
    expect(res.status).toBe('conflict');
    expect(res.resend).toBe(0);
  });

  it('host restarted with an outbox on disk: numbering continues, unacked records are re-sent, actors are rebuilt', async () => {
    const xen = xenWithDomain();
    const d = dir();
    const h1 = makeHost(xen, d, { saveEveryMs: 0 });
    const a = new CollectingSink();
    await startConnected(h1, a);
    h1.flush();
    const acked = a.records[9];
    h1.ack(acked.seq);
    xen.write('/local/domain/1/data/late', 'x');
    await until(() => a.records.some((r) => r.data.path === '/local/domain/1/data/late'), 'a late change');
    const actorsBefore = h1.view().actors.map((x) => [x.id, x.state]);
    await h1.stop();
    hosts.splice(hosts.indexOf(h1), 1);
    const lastBefore = a.last;

    xen.nodes.set('/local/domain/1/data/while-off', 'y');
    const h2 = makeHost(xen, d);
    await h2.start();
    const b = new CollectingSink();
    const res = h2.connect(b, { seq: acked.seq, hash: acked.hash });
    expect(res.status).toBe('ok');
    expect(b.records.slice(0, a.records.length - 10)).toEqual(a.records.slice(10));
    await h2.whenReady();
    h2.flush();
    const fresh = b.records.filter((r) => r.seq > lastBefore.seq);
    expect(fresh[0].prev).toBe(lastBefore.hash);
    checkChain(b.records, { seq: acked.seq + 1, prev: acked.hash });
    expect(fresh.filter((r) => r.type === 'xs.write').map((r) => r.data.path)).toEqual(['/local/domain/1/data/while-off']);
    expect(fresh.filter((r) => r.type === 'helper.status').map((r) => r.data)).toEqual([
      { state: 'down', gap: true, reason: 'Xendeck was not running: what happened since the previous record was not observed' },
      expect.objectContaining({ state: 'resynced', gap: true }),
    ]);
    expect(h2.view().incidents.filter((i) => i.kind === 'helper-gap')).toHaveLength(1);
    // The same actors as before the restart, in the same states.
    expect(h2.view().actors.map((x) => [x.id, x.state])).toEqual(actorsBefore);
    // And the whole history replays to what the host holds live.
    const all = [...a.records, ...fresh];
    const r = replay(all, ALL_BINDINGS);
    expect(r.mismatch).toBeNull();
  });

  it('host crashed before it ever saved its state: the outbox alone rebuilds the actors', async () => {
    const xen = xenWithDomain();
    const d = dir();
    const h1 = makeHost(xen, d, { saveEveryMs: 3_600_000 });
    const a = new CollectingSink();
    await startConnected(h1, a);
    h1.flush();
    h1.ack(a.last.seq); // the store has it all, but no state was saved: the outbox keeps it
    const actorsBefore = h1.view().actors.map((x) => [x.id, x.state]);
    await h1.stop();
    hosts.splice(hosts.indexOf(h1), 1);
    rmSync(join(d, STATE_FILE)); // as if the process had died before stop() could save
    const h2 = makeHost(xen, d);
    await h2.start();
    expect(h2.view().actors.map((x) => [x.id, x.state])).toEqual(actorsBefore);
    const b = new CollectingSink();
    expect(h2.connect(b, a.last).status).toBe('ok');
    // Nothing to re-send; the only new record says the host was not running.
    expect(b.records.map((r) => [r.seq, r.type, r.data.state])).toEqual([[a.last.seq + 1, 'helper.status', 'down']]);
  });

  it('without an outbox, waits for the first store to say where numbering continues', async () => {
    const xen = xenWithDomain();
    const host = makeHost(xen, dir(), { awaitBase: true });
    await host.start();
    await host.whenReady();
    expect(host.status().recording).toBe(false);
    const sink = new CollectingSink();
    const tail = { seq: 41, hash: 'a'.repeat(64) };
    const res = host.connect(sink, tail);
    expect(res.status).toBe('ok');
    expect(sink.records[0].seq).toBe(42);
    expect(sink.records[0].prev).toBe(tail.hash);
    checkChain(sink.records, { seq: 42, prev: tail.hash });
    // This host saw nothing of what came after seq 41: the gap is the first thing it records.
    expect(sink.ofType('helper.status').map((r) => r.data)).toEqual([
      { state: 'down', gap: true, reason: 'this host holds no record of what happened after seq 41' },
      { state: 'resynced', gap: true },
    ]);
    expect(sink.records[0].type).toBe('helper.status');
  });

  it('a command that fails: xl error text lands in cmd.result', async () => {
    const xen = xenWithDomain();
    xen.xl.pause = { status: 1, stderr: 'libxl: error: libxl_domain.c:800:libxl_domain_pause: Domain 1:Pausing domain: Invalid argument\n' };
    const host = makeHost(xen, dir());
    const sink = new CollectingSink();
    await startConnected(host, sink);
    const r = await host.command({ op: 'pause', domain: 'web' });
    host.flush();
    expect(r.ok).toBe(false);
    expect(r.error).toContain('Pausing domain: Invalid argument');
    expect(xen.xlRuns).toEqual([['pause', 'web']]);
    const req = sink.ofType('cmd.request');
    const res = sink.ofType('cmd.result');
    expect(req.map((x) => x.data)).toEqual([{ cmd: r.cmd, user: 'alice', op: 'pause', args: { domain: 'web' } }]);
    expect(req[0].uuid).toBe(UUID);
    expect(res.map((x) => x.data)).toEqual([r]);
    expect(res[0].seq).toBeGreaterThan(req[0].seq);
  });

  it('a command refused by the contract is recorded as refused and never reaches the helper', async () => {
    const xen = xenWithDomain();
    const host = makeHost(xen, dir());
    const sink = new CollectingSink();
    await startConnected(host, sink);
    const r = await host.command({ op: 'cd-insert', domain: 'web', vdev: 'hdc', path: '/isos/../../etc/shadow' });
    host.flush();
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/^refused: path/);
    expect(xen.xlRuns).toEqual([]);
    expect(sink.ofType('cmd.result')[0].data.ok).toBe(false);
  });

  it('a forced eject goes through QMP, then xl cd-eject resyncs libxl', async () => {
    const xen = xenWithDomain();
    const host = makeHost(xen, dir());
    const sink = new CollectingSink();
    await startConnected(host, sink);
    const r = await host.command({ op: 'cd-force-eject', domain: 'web', vdev: 'hdc' });
    host.flush();
    expect(r.ok).toBe(true);
    expect(xen.qmpRuns).toEqual([{ domid: 1, execute: 'eject', arguments: { id: 'ide-5632', force: true } }]);
    expect(xen.xlRuns).toEqual([['-v', 'cd-eject', 'web', 'hdc']]);
    const types = sink.records.filter((x) => x.type.startsWith('cmd.') || x.type.startsWith('qmp.')).map((x) => x.type);
    expect(types).toEqual(['cmd.request', 'qmp.reply', 'cmd.result']);
  });

  it('a forced eject QEMU refuses ends the command without running xl', async () => {
    const xen = xenWithDomain();
    xen.qmpReply = { ok: false, error: { class: 'GenericError', desc: "Device 'ide-5632' is locked and force was not specified" } };
    const host = makeHost(xen, dir());
    await host.start();
    host.connect(new CollectingSink(), { seq: 0, hash: ZERO_HASH });
    await host.whenReady();
    const r = await host.command({ op: 'cd-force-eject', domain: 1, vdev: 'hdc' });
    expect(r.ok).toBe(false);
    expect(r.error).toContain('is locked');
    expect(xen.xlRuns).toEqual([]);
  });

  it('a command while the helper is down fails clearly', async () => {
    const xen = xenWithDomain();
    xen.crashOnHello = true;
    const host = makeHost(xen, dir(), { lifecycle: { delaysMs: [10_000], maxAttempts: 1 } });
    await host.start();
    host.connect(new CollectingSink(), { seq: 0, hash: ZERO_HASH });
    const r = await host.command({ op: 'destroy', domain: 'web' });
    expect(r).toMatchObject({ ok: false, error: 'the privileged helper is not running: nothing was done' });
  });

  it('a malformed helper line is refused and logged; the host goes on recording', async () => {
    const xen = xenWithDomain();
    const logs: string[] = [];
    const host = makeHost(xen, dir(), { log: (_l, m) => logs.push(m) });
    const sink = new CollectingSink();
    await startConnected(host, sink);
    xen.live[0].raw('{"event":"dominfo","data":{"domains":[{"domid":"one"}]}}');
    xen.live[0].raw('garbage');
    xen.write('/local/domain/1/data/after', '1');
    await until(() => sink.records.some((r) => r.data.path === '/local/domain/1/data/after'), 'the change after the bad lines');
    expect(host.malformed).toBe(2);
    expect(logs.filter((l) => l.startsWith('a line from the helper was refused'))).toHaveLength(2);
    expect(host.status().helper).toBe('up');
    checkChain(sink.records);
  });
});
