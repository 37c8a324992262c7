import { afterEach, describe, expect, it } from 'vitest';
import { AppDb } from '../db/app-db.ts';
import { appendEvents } from '../db/append-event.ts';
import { FakeApi } from '../testing/fake-api.ts';
import { goldenRecords } from '../testing/bundles.ts';
import { HostLink } from './host-link.svelte.ts';
import { ZERO_HASH } from '../../../../machines/events/record.ts';

const dbs: AppDb[] = [];
function freshDb(): AppDb {
  const db = new AppDb(`test-${crypto.randomUUID()}`);
  dbs.push(db);
  return db;
}
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.delete();
});

const recs = goldenRecords('soft-reset');

describe('HostLink: the store follows the host', () => {
  it('reports the store tail on connect, commits pushed batches, acks them, and the live view follows', async () => {
    const fake = new FakeApi();
    const db = freshDb();
    const link = new HostLink(fake.api, db, { heartbeatMs: 0 });
    await link.start();
    expect(fake.callsOf('connect')).toEqual([[{ tail: { seq: 0, hash: ZERO_HASH } }]]);
    expect(link.state).toBe('live');

    fake.push('records', { records: recs.slice(0, 40) });
    fake.push('records', { records: recs.slice(40) });
    await link.settled();
    expect(fake.callsOf('ack')).toEqual([[{ seq: 40 }], [{ seq: recs.length }]]);
    expect(link.tail).toBe(recs.length);
    expect(await db.events.count()).toBe(recs.length);
    const dom = link.view.actors.find((a) => a.kind === 'domain')!;
    expect(dom.state).toBe('running');
    expect(link.view.incidents.map((i) => i.kind)).toEqual(['soft-reset']);
    // The stored incident list is kept in step for the incidents view.
    expect((await db.incidents.toArray()).map((i) => i.kind)).toEqual(['soft-reset']);
    // Domain facts came with the records.
    expect(link.facts.seq).toBe(recs.length);
  });

  it('a re-sent batch is stored once and acked again', async () => {
    const fake = new FakeApi();
    const db = freshDb();
    const link = new HostLink(fake.api, db, { heartbeatMs: 0 });
    await link.start();
    fake.push('records', { records: recs.slice(0, 30) });
    fake.push('records', { records: recs.slice(0, 30) });
    await link.settled();
    expect(await db.events.count()).toBe(30);
    expect(fake.callsOf('ack').at(-1)).toEqual([{ seq: 30 }]);
  });

  it('a batch that does not chain is refused whole, and the link says so', async () => {
    const fake = new FakeApi();
    const db = freshDb();
    const link = new HostLink(fake.api, db, { heartbeatMs: 0 });
    await link.start();
    fake.push('records', { records: recs.slice(0, 10) });
    fake.push('records', { records: recs.slice(12, 20) });
    await link.settled();
    expect(link.state).toBe('refused');
    expect(link.message).toMatch(/refused a batch .* at seq 13/);
    expect(await db.events.count()).toBe(10);
    expect(fake.callsOf('ack')).toEqual([[{ seq: 10 }]]);
  });

  it('on start, a non-empty store reports its tail and shows what it holds before any push', async () => {
    const fake = new FakeApi();
    const db = freshDb();
    await appendEvents(db, recs);
    const link = new HostLink(fake.api, db, { heartbeatMs: 0 });
    await link.start();
    expect(fake.callsOf('connect')[0]).toEqual([{ tail: { seq: recs.length, hash: recs[recs.length - 1].hash } }]);
    expect(link.view.seq).toBe(recs.length);
    expect(link.view.actors.some((a) => a.kind === 'domain' && a.state === 'running')).toBe(true);
  });

  it('a store holding another history is told apart, with what to do', async () => {
    const fake = new FakeApi();
    fake.connectResult = { ...fake.connectResult, status: 'conflict' };
    const link = new HostLink(fake.api, freshDb(), { heartbeatMs: 0 });
    await link.start();
    expect(link.state).toBe('conflict');
    expect(link.message).toMatch(/another host history.*start a new store/);
  });

  it('without a host, it says how to get one; commands fail with that reason', async () => {
    const link = new HostLink(null, freshDb());
    await link.start();
    expect(link.state).toBe('no-host');
    await expect(link.command({ op: 'pause', domain: 'web' })).rejects.toThrow(/xendeck serve/);
  });

  it('a host that stops answering is shown as lost; when it answers again the store reconnects with its tail', async () => {
    const fake = new FakeApi();
    const link = new HostLink(fake.api, freshDb(), { heartbeatMs: 0, answerMs: 20 });
    await link.start();
    let answer = false;
    const real = fake.api.status;
    fake.api.status = () => (answer ? real() : new Promise(() => {}));
    await link.check();
    expect(link.state).toBe('lost');
    expect(link.message).toMatch(/connection to the host was lost .*reconnect/);
    answer = true;
    await link.check();
    expect(link.state).toBe('live');
    expect(fake.callsOf('connect')).toHaveLength(2);
    link.stop();
  });

  it('keeps each command with its result, newest first', async () => {
    const fake = new FakeApi();
    fake.commandHandler = (req) => (req.op === 'destroy' ? { cmd: 'c2', ok: false, error: 'no such domain' } : { cmd: 'c1', ok: true });
    const link = new HostLink(fake.api, freshDb(), { heartbeatMs: 0 });
    await link.start();
    const a = await link.command({ op: 'pause', domain: 'web' });
    const b = await link.command({ op: 'destroy', domain: 'gone' });
    expect(a.ok).toBe(true);
    expect(b).toEqual({ cmd: 'c2', ok: false, error: 'no such domain' });
    expect(link.commands.map((c) => [c.req.op, c.result?.ok])).toEqual([
      ['destroy', false],
      ['pause', true],
    ]);
  });

  it('a command the contract refuses never reaches the host', async () => {
    const fake = new FakeApi();
    const link = new HostLink(fake.api, freshDb(), { heartbeatMs: 0 });
    await link.start();
    const r = await link.command({ op: 'cd-insert', domain: 'win10', vdev: 'hdc', path: 'relative/path.iso' });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/absolute path/);
    expect(fake.callsOf('command')).toEqual([]);
  });
});
