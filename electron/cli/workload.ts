/**
 * A synthetic but realistic observation stream for benchmarks and soak tests:
 * N HVM/PV domains booting with libxl's layout and four devices each, then
 * steady guest activity (memory statistics in data/, dominfo polls), device
 * reconnects, reboots (new domid, same uuid) and crashes, in the proportions a
 * busy workstation shows. Deterministic for a given seed.
 */
import type { Observation } from '../../machines/events/record.ts';

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
export const benchUuid = (i: number) => `${hex(0xbe000000 + i, 8)}-0000-4000-8000-${hex(i, 12)}`;

export function* workload(total: number, opts: { domains?: number; seed?: number; start?: number } = {}): Generator<Observation> {
  const D = opts.domains ?? 50;
  const rnd = prng(opts.seed ?? 42);
  let ts = opts.start ?? 1_763_700_000_000;
  let n = 0;
  let nextDomid = 1;
  const doms = Array.from({ length: D }, (_, i) => ({ uuid: benchUuid(i), name: `vm${i}`, domid: 0, type: i % 3 === 0 ? 'pv' : 'hvm', up: false }));
  const xs = (path: string, value: string, domid?: number): Observation => ({ ts, src: 'xs', type: 'xs.write', ...(domid !== undefined ? { domid } : {}), data: { path, value } });
  const info = (d: (typeof doms)[number], over: Record<string, unknown> = {}): Observation => ({
    ts,
    src: 'dominfo',
    type: 'dominfo',
    domid: d.domid,
    uuid: d.uuid,
    data: { domid: d.domid, uuid: d.uuid, name: d.name, running: false, blocked: true, paused: false, shutdown: false, dying: false, ...over },
  });
  const devices = ['vbd/51712', 'vbd/51728', 'vif/0', 'console/0'];
  function* boot(d: (typeof doms)[number]): Generator<Observation> {
    d.domid = nextDomid++;
    const L = `/local/domain/${d.domid}`;
    yield xs(`${L}/vm`, `/vm/${d.uuid}`, d.domid);
    yield xs(`${L}/name`, d.name, d.domid);
    yield xs(`/libxl/${d.domid}/type`, d.type, d.domid);
    for (const dev of devices) {
      const [kind, devid] = dev.split('/');
      const fe = kind === 'console' ? `${L}/console` : `${L}/device/${dev}`;
      const be = `/local/domain/0/backend/${kind}/${d.domid}/${devid}`;
      yield xs(`${be}/frontend`, fe, 0);
      yield xs(`${be}/online`, '1', 0);
      yield xs(`${be}/state`, '1', 0);
      yield xs(`${fe}/backend`, be, d.domid);
      yield xs(`${fe}/state`, '1', d.domid);
    }
    yield { ts, src: 'xs', type: 'xs.introduce', domid: d.domid, data: { domid: d.domid } };
    yield info(d, { running: true, blocked: false });
    for (const dev of devices) {
      const [kind, devid] = dev.split('/');
      const fe = kind === 'console' ? `${L}/console` : `${L}/device/${dev}`;
      const be = `/local/domain/0/backend/${kind}/${d.domid}/${devid}`;
      yield xs(`${be}/state`, '2', 0);
      if (kind === 'vbd' || kind === 'vif') yield xs(`${be}/hotplug-status`, 'connected', 0);
      yield xs(`${fe}/state`, '3', d.domid);
      yield xs(`${be}/state`, '4', 0);
      yield xs(`${fe}/state`, '4', d.domid);
    }
    d.up = true;
  }
  function* teardown(d: (typeof doms)[number], reason: string): Generator<Observation> {
    yield info(d, { shutdown: true, reason });
    yield { ts, src: 'xs', type: 'xs.release', domid: d.domid, data: { domid: d.domid } };
    for (const dev of devices) {
      const [kind, devid] = dev.split('/');
      yield { ts, src: 'xs', type: 'xs.rm', data: { path: `/local/domain/0/backend/${kind}/${d.domid}/${devid}` } };
    }
    yield { ts, src: 'xs', type: 'xs.rm', data: { path: `/local/domain/${d.domid}` } };
    yield { ts, src: 'xs', type: 'xs.rm', data: { path: `/libxl/${d.domid}` } };
    d.up = false;
  }
  for (const d of doms) for (const o of boot(d)) {
    if (n++ >= total) return;
    ts += 3;
    yield o;
  }
  while (n < total) {
    ts += 1 + Math.floor(rnd() * 4);
    const d = doms[Math.floor(rnd() * D)];
    const r = rnd();
    let batch: Iterable<Observation>;
    if (!d.up) batch = boot(d);
    else if (r < 0.8) batch = [xs(`/local/domain/${d.domid}/data/meminfo_free`, String(Math.floor(rnd() * 4_000_000)), d.domid)];
    else if (r < 0.95) batch = [info(d, { running: rnd() < 0.3, blocked: true })];
    else if (r < 0.998) {
      const fe = `/local/domain/${d.domid}/device/vif/0/state`;
      batch = [xs(fe, '5', d.domid), xs(`/local/domain/0/backend/vif/${d.domid}/0/state`, '5', 0), xs(fe, '4', d.domid), xs(`/local/domain/0/backend/vif/${d.domid}/0/state`, '4', 0)];
    } else batch = teardown(d, rnd() < 0.5 ? 'reboot' : 'crash');
    for (const o of batch) {
      if (n++ >= total) return;
      yield o;
    }
  }
}
