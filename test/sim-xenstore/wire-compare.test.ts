/**
 * The same raw xenstore messages sent to the simulator and to the real
 * xenstored 4.17 fixture get the same replies, byte for byte (only the node
 * generation count in DIRECTORY_PART replies may differ): as dom0 over the
 * socket, and as an unprivileged guest — over the shared ring page on the
 * real daemon, over the domain socket on the simulator — covering
 * permissions, relative paths, quotas and watch events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { XenstoreServer } from '../../electron/sim/xenstore/server.ts';
import { XsWireClient, type WireReply, show } from '../../electron/sim/xenstore/wire-client.ts';
import { XS, strings } from '../../electron/sim/xenstore/wire.ts';
import { type GuestConnection, type RealXenstored, ringGuest, socketGuest, startReal, startSim, tmpSocketDir } from './helpers.ts';

let real: RealXenstored;
let sim: XenstoreServer;
let dir: string;

beforeAll(async () => {
  dir = tmpSocketDir('xs-wire-');
  real = startReal(`${dir}/real.sock`);
  sim = await startSim(`${dir}/sim.sock`);
});

afterAll(async () => {
  real?.stop();
  await sim?.close();
});

const w = (path: string, value: string) => Buffer.concat([strings(path), Buffer.from(value)]);
const raw = (s: string) => Buffer.from(s, 'latin1');

/** A reply as text, with DIRECTORY_PART's generation count masked. */
function norm(r: WireReply): string {
  const t = show(r);
  if (r.type === XS.DIRECTORY_PART) return t.replace(/^DIRECTORY_PART \d+\|/, 'DIRECTORY_PART <gen>|');
  // xenstored's per-domain memory figure also counts its own buffers; the simulator does not model those.
  if (r.type === XS.CONTROL) return t.replace(/memory {10}: +\d+\n/, 'memory: <bytes>\n');
  return t;
}

type Step = [label: string, type: number, payload: Buffer, tx?: number];

/** Runs the steps on one server (main connection + watcher); returns one line per step. */
async function runDom0(socket: string, steps: Step[]): Promise<string[]> {
  const c = await XsWireClient.connect(socket);
  const watcher = await XsWireClient.connect(socket);
  const out: string[] = [];
  try {
    for (const [label, type, payload, tx] of steps) {
      if (label.startsWith('watcher:')) {
        out.push(`${label} -> ${norm(await watcher.request(type, payload, tx ?? 0))}`);
        // A round trip on the watcher also brings every event queued before it.
        await watcher.request(XS.GET_DOMAIN_PATH, strings('0'));
        out.push(`  events: ${watcher.events.splice(0).map(([p, t]) => `${p}|${t}`).join(' ')}`);
      } else out.push(`${label} -> ${norm(await c.request(type, payload, tx ?? 0))}`);
    }
  } finally {
    c.close();
    watcher.close();
  }
  return out;
}

describe('raw wire protocol as dom0: simulator vs real xenstored', () => {
  it('every message type, good and malformed arguments: same replies', async () => {
    const big = Array.from({ length: 300 }, (_, i): Step => ['mkdir big', XS.MKDIR, strings(`/big/child-with-a-long-name-${String(i).padStart(3, '0')}`)]);
    const steps: Step[] = [
      ['perms of /', XS.GET_PERMS, strings('/')],
      ['ls /tool', XS.DIRECTORY, strings('/tool')],
      ['unknown type 99', 99, strings('/')],
      ['RESTRICT (20)', XS.RESTRICT, strings('/')],
      ['WATCH_EVENT as request', XS.WATCH_EVENT, strings('/')],
      ['type 23', 23, strings('/')],
      ['read without NUL', XS.READ, raw('/tool')],
      ['read two strings', XS.READ, strings('/tool', 'x')],
      ['mkdir without NUL', XS.MKDIR, raw('/tool')],
      ['rm empty', XS.RM, Buffer.alloc(0)],
      ['write without NUL', XS.WRITE, raw('/abc')],
      ['write', XS.WRITE, w('/a/b', 'hello')],
      ['read', XS.READ, strings('/a/b')],
      ['read created parent', XS.READ, strings('/a')],
      ['directory', XS.DIRECTORY, strings('/a')],
      ['value with NUL', XS.WRITE, Buffer.concat([strings('/a/n'), raw('x\0y')])],
      ['read value with NUL', XS.READ, strings('/a/n')],
      ['relative read (socket = dom0)', XS.READ, strings('name')],
      ['relative missing', XS.READ, strings('relative')],
      ['bad chars', XS.WRITE, w('/bad path!', 'x')],
      ['@ path', XS.WRITE, w('@x', 't')],
      ['trailing /', XS.READ, strings('/tool/')],
      ['//', XS.READ, strings('//tool')],
      ['abs 2048', XS.WRITE, w(`/${'a'.repeat(2047)}`, 'v')],
      ['abs 2049', XS.WRITE, w(`/${'a'.repeat(2048)}`, 'v')],
      ['local 2048', XS.WRITE, w(`/local/domain/1/${'a'.repeat(2048)}`, 'v')],
      ['local 2049', XS.WRITE, w(`/local/domain/1/${'a'.repeat(2049)}`, 'v')],
      ['rm missing (parent exists)', XS.RM, strings('/nope')],
      ['rm missing parent', XS.RM, strings('/nope/deeper')],
      ['rm /', XS.RM, strings('/')],
      ['get perms', XS.GET_PERMS, strings('/a/b')],
      ['set perms', XS.SET_PERMS, strings('/a/b', 'n0', 'r1')],
      ['get perms after', XS.GET_PERMS, strings('/a/b')],
      ['owner missing', XS.SET_PERMS, strings('/a/b', 'n42')],
      ['perm x0', XS.SET_PERMS, strings('/a/b', 'x0')],
      ['perm r', XS.SET_PERMS, strings('/a/b', 'r')],
      ['perm r5 trailing', XS.SET_PERMS, strings('/a/b', 'r5 ')],
      ['perm 0x0', XS.SET_PERMS, strings('/a/b', 'n0x0')],
      ['perm no NUL', XS.SET_PERMS, Buffer.concat([strings('/a/b'), raw('n0')])],
      ['perm only path', XS.SET_PERMS, strings('/a/b')],
      ['read @introduceDomain', XS.READ, strings('@introduceDomain')],
      ['set perms @introduceDomain', XS.SET_PERMS, strings('@introduceDomain', 'n0', 'r5')],
      ['set perms @bogus', XS.SET_PERMS, strings('@bogus', 'n0')],
      ['mkdir', XS.MKDIR, strings('/m/a')],
      ['directory_part', XS.DIRECTORY_PART, strings('/m', '0')],
      ['directory_part past end', XS.DIRECTORY_PART, strings('/m', '9')],
      ['directory_part one arg', XS.DIRECTORY_PART, strings('/m')],
      ...big,
      ['directory too big', XS.DIRECTORY, strings('/big')],
      ['directory_part big', XS.DIRECTORY_PART, strings('/big', '0')],
      ['directory_part big rest', XS.DIRECTORY_PART, strings('/big', '4050')],
      ['tx start with unknown tx', XS.TRANSACTION_START, strings(''), 5],
      ['tx start', XS.TRANSACTION_START, strings('')],
      ['nested tx start', XS.TRANSACTION_START, strings(''), 1],
      ['tx end bad', XS.TRANSACTION_END, strings('X'), 1],
      ['tx write', XS.WRITE, w('/tx/b', 'x'), 1],
      ['tx read own write', XS.READ, strings('/tx/b'), 1],
      ['outside does not see it', XS.READ, strings('/tx/b')],
      ['watcher: outside sibling write', XS.WRITE, w('/tx/c', 'y')],
      ['commit -> conflict', XS.TRANSACTION_END, strings('T'), 1],
      ['end again', XS.TRANSACTION_END, strings('T'), 1],
      ['end with tx 0', XS.TRANSACTION_END, strings('T')],
      ['tx start 2', XS.TRANSACTION_START, strings('')],
      ['tx read', XS.READ, strings('/tx/c'), 2],
      ['outside unrelated write', XS.WRITE, w('/zz', 'o')],
      ['commit clean', XS.TRANSACTION_END, strings('T'), 2],
      ['tx start 3', XS.TRANSACTION_START, strings('')],
      ['tx rm', XS.RM, strings('/tx/c'), 3],
      ['abort', XS.TRANSACTION_END, strings('F'), 3],
      ['read after abort', XS.READ, strings('/tx/c')],
      ['watcher: watch /ww', XS.WATCH, strings('/ww', 't2')],
      ['watcher: watch /ww/a/b', XS.WATCH, strings('/ww/a/b', 't1')],
      ['watcher: duplicate watch', XS.WATCH, strings('/ww', 't2')],
      ['watcher: watch 1 arg', XS.WATCH, strings('/ww')],
      ['watcher: watch 3 args', XS.WATCH, strings('/ww', 't', 'x')],
      ['watcher: watch bad path', XS.WATCH, strings('/ww/', 't')],
      ['watcher: relative watch', XS.WATCH, strings('rel', 't3')],
      ['watcher: watch @foo', XS.WATCH, strings('@foo', 't4')],
      ['write /ww/a/b/c', XS.WRITE, w('/ww/a/b/c', 'v')],
      ['write relative', XS.WRITE, w('rel/x', 'v')],
      ['watcher: sync', XS.GET_DOMAIN_PATH, strings('0')],
      ['rm /ww/a', XS.RM, strings('/ww/a')],
      ['mkdir existing', XS.MKDIR, strings('/ww')],
      ['set perms /ww', XS.SET_PERMS, strings('/ww', 'n0', 'r3')],
      ['watcher: sync 2', XS.GET_DOMAIN_PATH, strings('0')],
      ['watcher: unwatch relative', XS.UNWATCH, strings('rel', 't3')],
      ['watcher: unwatch unknown', XS.UNWATCH, strings('rel', 't3')],
      ['watcher: reset watches', XS.RESET_WATCHES, strings('')],
      ['write after reset', XS.WRITE, w('/ww/q', 'v')],
      ['watcher: sync 3', XS.GET_DOMAIN_PATH, strings('0')],
      ['domain path abc', XS.GET_DOMAIN_PATH, strings('abc')],
      ['domain path -1', XS.GET_DOMAIN_PATH, strings('-1')],
      ['domain path no NUL', XS.GET_DOMAIN_PATH, raw('3')],
      ['introduced 0', XS.IS_DOMAIN_INTRODUCED, strings('0')],
      ['introduced 3', XS.IS_DOMAIN_INTRODUCED, strings('3')],
      ['watcher: watch @introduceDomain', XS.WATCH, strings('@introduceDomain', 'in')],
      ['watcher: watch @releaseDomain', XS.WATCH, strings('@releaseDomain', 'out')],
      ['introduce port 0', XS.INTRODUCE, strings('3', '0', '0')],
      ['introduce 2 args', XS.INTRODUCE, strings('3', '1')],
      ['introduce 3', XS.INTRODUCE, strings('3', '123', '4')],
      ['introduce 3 again', XS.INTRODUCE, strings('3', '123', '4')],
      ['introduced 3 after', XS.IS_DOMAIN_INTRODUCED, strings('3')],
      ['watcher: sync 4', XS.GET_DOMAIN_PATH, strings('0')],
      ['set target 3 0', XS.SET_TARGET, strings('3', '0')],
      ['set target 3 9', XS.SET_TARGET, strings('3', '9')],
      ['resume 0', XS.RESUME, strings('0')],
      ['resume 3', XS.RESUME, strings('3')],
      ['owned by 3', XS.WRITE, w('/own/a/b', 'v')],
      ['chown to 3', XS.SET_PERMS, strings('/own/a', 'b3')],
      ['entry naming 3', XS.WRITE, w('/own/c', 'v')],
      ['perm r3 on c', XS.SET_PERMS, strings('/own/c', 'n0', 'r3')],
      ['release 0', XS.RELEASE, strings('0')],
      ['release 3', XS.RELEASE, strings('3')],
      ['release 3 again', XS.RELEASE, strings('3')],
      ['watcher: sync 5', XS.GET_DOMAIN_PATH, strings('0')],
      ['owned nodes deleted', XS.DIRECTORY, strings('/own')],
      ['entries naming 3 still listed', XS.GET_PERMS, strings('/own/c')],
      ['watcher: watch /txw', XS.WATCH, strings('/txw', 'tw')],
      ['tx start 4', XS.TRANSACTION_START, strings('')],
      ['tx write /txw/a', XS.WRITE, w('/txw/a', '1'), 4],
      ['tx write /txw/b/c', XS.WRITE, w('/txw/b/c', '1'), 4],
      ['tx write /txw/a again', XS.WRITE, w('/txw/a', '2'), 4],
      ['tx perms /txw/b', XS.SET_PERMS, strings('/txw/b', 'n0', 'r1'), 4],
      ['watcher: sync before commit', XS.GET_DOMAIN_PATH, strings('0')],
      ['tx commit 4', XS.TRANSACTION_END, strings('T'), 4],
      ['watcher: sync after commit', XS.GET_DOMAIN_PATH, strings('0')],
      ['tx start 5', XS.TRANSACTION_START, strings('')],
      ['tx rm /txw/b', XS.RM, strings('/txw/b'), 5],
      ['tx mkdir /txw/d', XS.MKDIR, strings('/txw/d'), 5],
      ['tx commit 5', XS.TRANSACTION_END, strings('T'), 5],
      ['watcher: sync after commit 5', XS.GET_DOMAIN_PATH, strings('0')],
      ['control empty', XS.CONTROL, Buffer.alloc(0)],
      ['control quota 0', XS.CONTROL, strings('quota', '0')],
      ['control quota abc', XS.CONTROL, strings('quota', 'abc')],
      ['control quota 5', XS.CONTROL, strings('quota', '5')],
      ['control quota set', XS.CONTROL, strings('quota', 'set', 'nodes', '1000')],
      ['control quota set bogus', XS.CONTROL, strings('quota', 'set', 'bogus', '1')],
      ['control quota-soft', XS.CONTROL, strings('quota-soft')],
      ['control print', XS.CONTROL, strings('print', 'hello')],
      ['control print no arg', XS.CONTROL, strings('print')],
      ['control check', XS.CONTROL, strings('check')],
      ['control bogus', XS.CONTROL, strings('bogus')],
      ['write 4096 payload', XS.WRITE, w('/m/big', 'x'.repeat(4096 - 7))],
    ];
    const r = await runDom0(real.socket, steps);
    const s = await runDom0(sim.socketPath, steps);
    // Spot checks that the sequence exercised what it claims on the real daemon.
    expect(r).toContain('commit -> conflict -> ERROR EAGAIN|');
    expect(r).toContain('directory too big -> ERROR E2BIG|');
    expect(r).toContain('owned nodes deleted -> DIRECTORY c|');
    for (let i = 0; i < r.length; i++) expect(s[i], `step ${i}`).toBe(r[i]);
    expect(s).toHaveLength(r.length);
  });

  it('a header announcing more than 4096 bytes drops that connection; others carry on', async () => {
    for (const sock of [real.socket, sim.socketPath]) {
      const bad = await XsWireClient.connect(sock);
      const h = Buffer.alloc(16);
      h.writeUInt32LE(XS.READ, 0);
      h.writeUInt32LE(4097, 12);
      bad.writeRaw(h);
      expect(await bad.waitClosed(), sock).toBe(true);
      const good = await XsWireClient.connect(sock);
      expect(show(await good.request(XS.READ, strings('/local/domain/0/name')))).toBe('READ Domain-0');
      good.close();
    }
  });
});

/** The guest half of the comparison: dom0 prepares domain 5, then the guest runs `steps`. */
async function runGuest(dom0Socket: string, guestOf: (domid: number) => Promise<GuestConnection>): Promise<string[]> {
  const d0 = await XsWireClient.connect(dom0Socket);
  const out: string[] = [];
  const as0 = async (type: number, payload: Buffer) => {
    const r = await d0.request(type, payload);
    out.push(`dom0 -> ${norm(r)}`);
  };
  await as0(XS.INTRODUCE, strings('5', '0', '1'));
  await as0(XS.WRITE, w('/local/domain/5/name', 'guest5'));
  await as0(XS.SET_PERMS, strings('/local/domain/5', 'n0', 'r5'));
  await as0(XS.SET_PERMS, strings('/local/domain/5/name', 'n0', 'r5'));
  await as0(XS.MKDIR, strings('/local/domain/5/data'));
  await as0(XS.SET_PERMS, strings('/local/domain/5/data', 'n5'));
  await as0(XS.WRITE, w('/vp/secret', 's'));
  await as0(XS.WRITE, w('/vp/shared', 'sh'));
  await as0(XS.SET_PERMS, strings('/vp/shared', 'n0', 'r5'));
  const g = await guestOf(5);
  const steps: Step[] = [
    ['watch @releaseDomain (not granted)', XS.WATCH, strings('@releaseDomain', 'rel')],
    ['watch @introduceDomain (not granted)', XS.WATCH, strings('@introduceDomain', 'intro')],
    ['domain path', XS.GET_DOMAIN_PATH, strings('5')],
    ['relative read', XS.READ, strings('name')],
    ['write own data/x', XS.WRITE, w('data/x', 'gval')],
    ['perms of data/x', XS.GET_PERMS, strings('data/x')],
    ['read n0 node', XS.READ, strings('/vp/secret')],
    ['read missing under n0 parent', XS.READ, strings('/vp/none')],
    ['read missing in own dir', XS.READ, strings('data/none')],
    ['read r5 node', XS.READ, strings('/vp/shared')],
    ['write r5 node', XS.WRITE, w('/vp/shared', 'no')],
    ['write name (r5)', XS.WRITE, w('name', 'no')],
    ['write under read-only home', XS.WRITE, w('newkey', 'no')],
    ['introduce (privileged)', XS.INTRODUCE, strings('6', '0', '1')],
    ['release (privileged)', XS.RELEASE, strings('6')],
    ['control (privileged)', XS.CONTROL, strings('quota')],
    ['is introduced (privileged)', XS.IS_DOMAIN_INTRODUCED, strings('5')],
    ['change owner', XS.SET_PERMS, strings('data', 'n0')],
    ['set perms not owner', XS.SET_PERMS, strings('name', 'b5')],
    ['node size 2048', XS.WRITE, w('data/big', 'x'.repeat(2016))],
    ['node size 2047', XS.WRITE, w('data/big', 'x'.repeat(2015))],
    ['6 perm entries', XS.SET_PERMS, strings('data', 'n5', 'r0', 'r0', 'r0', 'r0', 'r0')],
    ['5 perm entries', XS.SET_PERMS, strings('data', 'n5', 'r0', 'r0', 'r0', 'r0')],
    ['mkdir deep', XS.MKDIR, strings('data/sub/deep')],
    ['perms of created parent', XS.GET_PERMS, strings('data/sub')],
    ['watch data', XS.WATCH, strings('data', 'gt')],
    ['rm own subtree', XS.RM, strings('data/sub')],
    ['directory', XS.DIRECTORY, strings('data')],
  ];
  for (let i = 1; i <= 12; i++) steps.push([`tx start ${i}`, XS.TRANSACTION_START, strings('')]);
  for (let i = 0; i < 131; i++) steps.push([`watch ${i}`, XS.WATCH, strings(`/q/w${i}`, 't')]);
  steps.push(['reset watches', XS.RESET_WATCHES, strings('')]);
  steps.push(['watch @introduceDomain again', XS.WATCH, strings('@introduceDomain', 'intro2')]);
  let stub: GuestConnection | undefined;
  try {
    for (const [label, type, payload] of steps) out.push(`${label} -> ${norm(await g.req(type, payload))}`);
    await as0(XS.CONTROL, strings('quota', '5'));
    // Special events reach a guest only once dom0 grants it read access to them.
    await as0(XS.INTRODUCE, strings('7', '0', '1'));
    await as0(XS.SET_PERMS, strings('@introduceDomain', 'n0', 'r5'));
    await as0(XS.INTRODUCE, strings('8', '0', '1'));
    // A guest hears about nodes it may read (or whose parent it may read), not others.
    out.push(`watch /vp -> ${norm(await g.req(XS.WATCH, strings('/vp', 'vp')))}`);
    await as0(XS.WRITE, w('/vp/shared', 'sh2'));
    await as0(XS.WRITE, w('/vp/secret', 's2'));
    await as0(XS.WRITE, w('/vp/shared/kid', 'k'));
    await as0(XS.RM, strings('/vp/secret'));
    await as0(XS.SET_PERMS, strings('/vp/shared', 'n0'));
    out.push(`sync -> ${norm(await g.req(XS.GET_DOMAIN_PATH, strings('5')))}`);
    const evs = g.events().filter((e) => !e.startsWith('/q/'));
    out.push(`events: ${evs.join(' ')}`);
    // A stub domain with SET_TARGET gets its target's access.
    await as0(XS.INTRODUCE, strings('6', '0', '1'));
    stub = await guestOf(6);
    out.push(`stub read before target -> ${norm(await stub.req(XS.READ, strings('/local/domain/5/data/x')))}`);
    await as0(XS.SET_TARGET, strings('6', '5'));
    out.push(`stub read target's node -> ${norm(await stub.req(XS.READ, strings('/local/domain/5/data/x')))}`);
    out.push(`stub write target's node -> ${norm(await stub.req(XS.WRITE, w('/local/domain/5/data/s', 'stub')))}`);
    out.push(`stub's node owner -> ${norm(await d0.request(XS.GET_PERMS, strings('/local/domain/5/data/s')))}`);
    out.push(`stub read n0 -> ${norm(await stub.req(XS.READ, strings('/vp/secret')))}`);
    // Lowered quotas (xenstore-control quota set) show where each limit bites.
    await as0(XS.CONTROL, strings('quota', 'set', 'nodes', '8'));
    for (let i = 1; i <= 6; i++) out.push(`node ${i} -> ${norm(await g.req(XS.WRITE, w(`data/n${i}`, 'v')))}`);
    out.push(`three levels -> ${norm(await g.req(XS.MKDIR, strings('data/l1/l2/l3')))}`);
    out.push(`one level -> ${norm(await g.req(XS.MKDIR, strings('data/l1')))}`);
    await as0(XS.CONTROL, strings('quota', '5'));
    await as0(XS.CONTROL, strings('quota', 'set', 'transaction-nodes', '3'));
    const t = await g.req(XS.TRANSACTION_START, strings(''));
    out.push(`tx start -> ${norm(t)}`);
    const tid = Number(t.payload.toString('latin1').replace(/\0/g, ''));
    for (const n of ['data', 'data/x', 'data/n1', 'data/n2']) {
      out.push(`tx read ${n} -> ${norm(await g.reqTx(XS.READ, strings(n), tid))}`);
    }
    out.push(`tx end -> ${norm(await g.reqTx(XS.TRANSACTION_END, strings('T'), tid))}`);
  } finally {
    g.close();
    stub?.close();
    d0.close();
  }
  return out;
}

describe('raw wire protocol as a guest: simulator domain socket vs real xenstored ring', () => {
  it('permissions, relative paths, privileged ops, quotas and watch events: same replies', async () => {
    const r = await runGuest(real.socket, async (domid) => ringGuest(real, domid));
    const s = await runGuest(sim.socketPath, (domid) => socketGuest(sim, domid, `${dir}/dom${domid}.sock`));
    expect(r).toContain('read n0 node -> ERROR EACCES|');
    expect(r).toContain('node size 2048 -> ERROR ENOSPC|');
    expect(r).toContain('node size 2047 -> WRITE OK|');
    expect(r).toContain('6 perm entries -> ERROR ENOSPC|');
    expect(r).toContain("stub read target's node -> READ gval");
    expect(r.some((l) => /^node \d -> ERROR ENOSPC\|$/.test(l))).toBe(true);
    expect(r).toContain('tx end -> ERROR ENOMEM|');
    expect(r).toContain('tx start 12 -> ERROR ENOSPC|');
    expect(r.filter((l) => /^watch \d+ -> ERROR E2BIG\|$/.test(l)).length).toBeGreaterThan(0);
    for (let i = 0; i < r.length; i++) expect(s[i], `step ${i}`).toBe(r[i]);
    expect(s).toHaveLength(r.length);
  });
});
