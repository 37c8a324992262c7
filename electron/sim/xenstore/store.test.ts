import { describe, expect, it } from 'vitest';
import { XsError } from './store-api.ts';
import { createSimXenstore } from './store.ts';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    if (e instanceof XsError) return e.code;
    throw e;
  }
  return undefined;
};
const tick = () => new Promise((r) => setTimeout(r, 0));

function guestSetup() {
  const s = createSimXenstore();
  const d0 = s.as(0);
  s.introduce(5);
  d0.write('/local/domain/5/name', 'guest5');
  d0.setPerms('/local/domain/5', [{ domid: 0, perm: 'n' }, { domid: 5, perm: 'r' }]);
  d0.setPerms('/local/domain/5/name', [{ domid: 0, perm: 'n' }, { domid: 5, perm: 'r' }]);
  d0.mkdir('/local/domain/5/data');
  d0.setPerms('/local/domain/5/data', [{ domid: 5, perm: 'n' }]);
  return { s, d0, g: s.as(5) };
}

describe('store: tree operations', () => {
  it('starts with xenstored’s tree and dom0’s nodes', () => {
    const d0 = createSimXenstore().as(0);
    expect(d0.directory('/')).toEqual(['tool', 'local']);
    expect(d0.read('/local/domain/0/name')).toBe('Domain-0');
    expect(d0.getPerms('/')).toEqual([{ domid: 0, perm: 'n' }]);
  });

  it('write creates empty parents; mkdir leaves an existing value alone', () => {
    const d0 = createSimXenstore().as(0);
    d0.write('/a/b/c', 'v');
    expect(d0.read('/a/b')).toBe('');
    d0.write('/a/b', 'keep');
    d0.mkdir('/a/b');
    expect(d0.read('/a/b')).toBe('keep');
  });

  it('rm is OK for a missing node whose parent exists, ENOENT if the parent is missing too, EINVAL for /', () => {
    const d0 = createSimXenstore().as(0);
    d0.write('/a/b', 'x');
    d0.rm('/a/nope');
    expect(code(() => d0.rm('/nope/deeper'))).toBe('ENOENT');
    expect(code(() => d0.rm('/'))).toBe('EINVAL');
    d0.rm('/a');
    expect(d0.exists('/a/b')).toBe(false);
  });

  it('rejects bad paths with EINVAL', () => {
    const d0 = createSimXenstore().as(0);
    expect(code(() => d0.write('/bad path!', 'x'))).toBe('EINVAL');
    expect(code(() => d0.write('@x', 'x'))).toBe('EINVAL');
    expect(code(() => d0.read('/a/'))).toBe('EINVAL');
  });
});

describe('store: permissions', () => {
  it('a guest reads and writes what its permissions allow, and gets EACCES otherwise', () => {
    const { d0, g } = guestSetup();
    d0.write('/vp/secret', 's');
    expect(g.read('name')).toBe('guest5');
    expect(code(() => g.write('name', 'no'))).toBe('EACCES');
    expect(code(() => g.read('/vp/secret'))).toBe('EACCES');
    g.write('data/x', 'gval');
    expect(d0.read('/local/domain/5/data/x')).toBe('gval');
  });

  it('a missing node under an unreadable parent answers EACCES, not ENOENT', () => {
    const { d0, g } = guestSetup();
    d0.write('/vp/secret', 's');
    expect(code(() => g.read('/vp/none'))).toBe('EACCES');
    expect(code(() => g.read('data/none'))).toBe('ENOENT');
  });

  it('nodes created by a guest are owned by it; dom0’s inherit the parent’s perms', () => {
    const { d0, g } = guestSetup();
    g.write('data/sub/y', '1');
    expect(d0.getPerms('/local/domain/5/data/sub/y')).toEqual([{ domid: 5, perm: 'n' }]);
    d0.write('/local/domain/5/name2', 'x');
    expect(d0.getPerms('/local/domain/5/name2')).toEqual([{ domid: 0, perm: 'n' }, { domid: 5, perm: 'r' }]);
  });

  it('only the owner changes perms, a guest may not change the owner (EPERM), the owner must exist (ENOENT)', () => {
    const { d0, g } = guestSetup();
    expect(code(() => g.setPerms('name', [{ domid: 5, perm: 'b' }]))).toBe('EACCES');
    expect(code(() => g.setPerms('data', [{ domid: 0, perm: 'n' }]))).toBe('EPERM');
    g.setPerms('data', [{ domid: 5, perm: 'n' }, { domid: 0, perm: 'r' }]);
    expect(code(() => d0.setPerms('/local/domain/5/name', [{ domid: 42, perm: 'n' }]))).toBe('ENOENT');
  });

  it('SET_TARGET gives a stub domain its target’s access', () => {
    const { s, d0 } = guestSetup();
    s.introduce(6);
    const stub = s.as(6);
    expect(code(() => stub.read('/local/domain/5/data'))).toBe('EACCES');
    s.setTarget(6, 5);
    expect(stub.read('/local/domain/5/data')).toBe('');
    expect(code(() => s.setTarget(6, 99))).toBe('ENOENT');
    d0.rm('/local/domain/5/data');
  });
});

describe('store: quotas for unprivileged domains (xenstored 4.17 defaults)', () => {
  it('node size ≥ 2048 bytes gives ENOSPC', () => {
    const { g } = guestSetup();
    // 24-byte record header + one 8-byte permission + the value.
    expect(code(() => g.write('data/big', 'x'.repeat(2016)))).toBe('ENOSPC');
    g.write('data/ok', 'x'.repeat(2015));
  });

  it('more than 1000 owned nodes gives ENOSPC', () => {
    const s = createSimXenstore({ quotas: { nodes: 4 } });
    s.introduce(5);
    s.as(0).mkdir('/local/domain/5');
    s.as(0).setPerms('/local/domain/5', [{ domid: 5, perm: 'n' }]);
    const g = s.as(5);
    g.write('a', '1');
    g.write('b', '1');
    g.write('c', '1');
    expect(code(() => g.write('d/e', '1'))).toBe('ENOSPC');
    expect(code(() => g.write('d', '1'))).toBe('ENOSPC');
    expect(s.ownedCount(5)).toBe(4);
  });

  it('more than 5 permission entries gives ENOSPC; dom0 is not limited', () => {
    const { d0, g } = guestSetup();
    const many = [{ domid: 5, perm: 'n' as const }, ...[0, 0, 0, 0, 0].map((domid) => ({ domid, perm: 'r' as const }))];
    expect(code(() => g.setPerms('data', many))).toBe('ENOSPC');
    d0.setPerms('/local/domain/5/data', many);
  });

  it('watches beyond 128 give E2BIG (xenstored 4.17 checks count > quota)', () => {
    const s = createSimXenstore({ quotas: { watches: 2 } });
    s.introduce(5);
    const sink = { domid: 5, event: () => undefined };
    for (let i = 0; i < 3; i++) s.addWatch(sink, '/w', `t${i}`);
    expect(code(() => s.addWatch(sink, '/w', 't3'))).toBe('E2BIG');
    expect(code(() => s.addWatch(sink, '/w', 't0'))).toBe('EEXIST');
  });

  it('transactions beyond 10 give ENOSPC (4.17 compares count > quota, so the 11th still opens)', () => {
    const s = createSimXenstore();
    s.introduce(5);
    for (let i = 0; i < 11; i++) s.startTransaction(5, i + 1);
    expect(code(() => s.startTransaction(5, 12))).toBe('ENOSPC');
    s.startTransaction(0, 1);
  });
});

describe('store: transactions', () => {
  it('a conflicting write outside makes the commit fail with EAGAIN and nothing is applied', () => {
    const s = createSimXenstore();
    const c = { domid: 0 };
    s.write(c, '/tx/a', Buffer.from('base'));
    const t = s.startTransaction(0, 1);
    s.read({ domid: 0, tx: t }, '/tx/a');
    s.write({ domid: 0, tx: t }, '/tx/b', Buffer.from('mine'));
    s.write(c, '/tx/a', Buffer.from('other'));
    expect(code(() => s.commitTransaction(t))).toBe('EAGAIN');
    expect(s.exists(c, '/tx/b')).toBe(false);
  });

  it('creating a sibling outside conflicts with creating a node inside (the parent changed)', () => {
    const s = createSimXenstore();
    s.write({ domid: 0 }, '/tx/a', Buffer.from('x'));
    const t = s.startTransaction(0, 1);
    s.write({ domid: 0, tx: t }, '/tx/b', Buffer.from('x'));
    s.write({ domid: 0 }, '/tx/c', Buffer.from('y'));
    expect(code(() => s.commitTransaction(t))).toBe('EAGAIN');
  });

  it('reads inside see the transaction’s own writes; outside sees them only after commit; watches fire at commit', async () => {
    const s = createSimXenstore();
    const d0 = s.as(0);
    const events: string[] = [];
    s.watch('/tx', 'tok', (p) => events.push(p));
    await tick();
    d0.transaction((tx) => {
      tx.write('/tx/n', 'v');
      expect(tx.read('/tx/n')).toBe('v');
      expect(d0.exists('/tx/n')).toBe(false);
    });
    expect(d0.read('/tx/n')).toBe('v');
    await tick();
    expect(events).toEqual(['/tx', '/tx/n']);
  });

  it('the handle retries on EAGAIN', () => {
    const s = createSimXenstore();
    const d0 = s.as(0);
    d0.write('/r', '0');
    let runs = 0;
    d0.transaction((tx) => {
      runs++;
      const v = Number(tx.read('/r'));
      if (runs === 1) d0.write('/r', '10');
      tx.write('/r', String(v + 1));
    });
    expect(runs).toBe(2);
    expect(d0.read('/r')).toBe('11');
  });
});

describe('store: watches', () => {
  it('fires once at registration, then on the node and its descendants, merging identical pending events', async () => {
    const s = createSimXenstore();
    const d0 = s.as(0);
    const ev: string[] = [];
    const off = s.watch('/w', 't', (p, t) => ev.push(`${p}:${t}`));
    d0.write('/w/x', '1');
    d0.write('/w/x', '2');
    d0.write('/other', '1');
    await tick();
    expect(ev).toEqual(['/w:t', '/w/x:t']);
    off();
    d0.write('/w/y', '1');
    await tick();
    expect(ev).toHaveLength(2);
  });

  it('removing a subtree fires each removed watched node exactly, and the root for watches above it', async () => {
    const s = createSimXenstore();
    const d0 = s.as(0);
    d0.write('/ww/a/b/c', 'v');
    const ev: string[] = [];
    s.watch('/ww/a/b', 't1', (p, t) => ev.push(`${p}:${t}`));
    s.watch('/ww', 't2', (p, t) => ev.push(`${p}:${t}`));
    await tick();
    ev.length = 0;
    d0.rm('/ww/a');
    await tick();
    expect(ev).toEqual(['/ww/a/b:t1', '/ww/a:t2']);
  });

  it('a guest only hears about nodes it (or the parent) may read; relative watches give relative paths', async () => {
    const { s, d0 } = guestSetup();
    const ev: string[] = [];
    s.watch('data', 'g', (p) => ev.push(p), 5);
    s.watch('/vp', 'g2', (p) => ev.push(p), 5);
    await tick();
    d0.write('/local/domain/5/data/y', '1');
    d0.write('/vp/secret', 'x');
    await tick();
    expect(ev).toEqual(['data', '/vp', 'data/y']);
  });

  it('@introduceDomain fires on introduce; @releaseDomain on shutdown (once until resume), release and destroy', async () => {
    const s = createSimXenstore();
    const ev: string[] = [];
    s.watch('@introduceDomain', 'in', (p) => ev.push(p));
    s.watch('@releaseDomain', 'out', (p) => ev.push(p));
    await tick();
    ev.length = 0;
    s.introduce(5);
    s.introduce(5);
    await tick();
    s.shutdownDomain(5);
    await tick();
    s.shutdownDomain(5);
    await tick();
    expect(ev).toEqual(['@introduceDomain', '@releaseDomain']);
    s.resumeDomain(5);
    s.shutdownDomain(5);
    await tick();
    s.release(5);
    await tick();
    expect(ev).toHaveLength(4);
    expect(code(() => s.releaseChecked(5))).toBe('ENOENT');
    expect(code(() => s.releaseChecked(0))).toBe('EINVAL');
    s.release(5); // in-process release of a domain already gone is a no-op
    expect(ev).toHaveLength(4);
  });

  it('a domain going away deletes the nodes it owns; entries naming it stay listed', () => {
    const s = createSimXenstore();
    const d0 = s.as(0);
    s.introduce(4);
    d0.write('/own/a/b', 'v');
    d0.write('/own/c', 'v');
    d0.setPerms('/own/a', [{ domid: 4, perm: 'b' }]);
    d0.setPerms('/own/c', [{ domid: 0, perm: 'n' }, { domid: 4, perm: 'r' }]);
    s.destroyDomain(4);
    expect(d0.directory('/own')).toEqual(['c']);
    expect(d0.getPerms('/own/c')).toEqual([{ domid: 0, perm: 'n' }, { domid: 4, perm: 'r' }]);
    expect(code(() => d0.setPerms('/own/c', [{ domid: 4, perm: 'b' }]))).toBe('ENOENT');
  });
});
