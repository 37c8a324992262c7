import { readFileSync } from 'node:fs';
import { args, UsageError, type Io } from './main.ts';
import { nodeSha256Hex, writeBundleFile } from '../shared/bundle-io.ts';
import { manifestFor } from '../../machines/events/bundle.ts';
import { SOURCES, type Observation, type XRecord } from '../../machines/events/record.ts';
import { ALL_BINDINGS, machineVersions } from '../../machines/host/bindings.ts';
import { Recorder } from '../../machines/host/recorder.ts';

/**
 * Observations file: JSON Lines, each `{ts, src, type, domid?, uuid?, data}`;
 * `//` comment lines and blank lines are skipped. Line 1 may be a header
 * `{"observations": 1, "host": {...}, "created": "..."}`.
 */
export function parseObservations(text: string, name = 'observations'): { obs: Observation[]; host: Record<string, unknown>; created: string } {
  const obs: Observation[] = [];
  let host: Record<string, unknown> = { hostname: 'golden' };
  let created = '2026-01-01T00:00:00.000Z';
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith('//')) return;
    let v: any;
    try {
      v = JSON.parse(t);
    } catch (e) {
      throw new UsageError(`${name} line ${i + 1}: not JSON (${(e as Error).message})`);
    }
    if (v.observations === 1) {
      host = v.host ?? host;
      created = v.created ?? created;
      return;
    }
    if (typeof v.ts !== 'number' || !(SOURCES as readonly string[]).includes(v.src) || typeof v.type !== 'string' || typeof v.data !== 'object')
      throw new UsageError(`${name} line ${i + 1}: expected {ts, src, type, data}`);
    obs.push({ ts: v.ts, src: v.src, type: v.type, ...(v.domid !== undefined ? { domid: v.domid } : {}), ...(v.uuid !== undefined ? { uuid: v.uuid } : {}), data: v.data });
  });
  return { obs, host, created };
}

export function sealObservations(obs: Observation[]): XRecord[] {
  const r = new Recorder(ALL_BINDINGS, { digest: nodeSha256Hex });
  return obs.flatMap((o) => r.observe(o));
}

/** `xendeck seal OBSERVATIONS --out FILE` */
export async function sealCmd(argv: string[], io: Io): Promise<number> {
  const a = args(argv, { out: { type: 'string' } });
  if (!a.values.out) throw new UsageError('--out FILE is required');
  let text: string;
  try {
    text = readFileSync(a.positionals[0], 'utf8');
  } catch (e) {
    io.err(`xendeck seal: cannot read ${a.positionals[0]}: ${(e as NodeJS.ErrnoException).code}`);
    return 2;
  }
  const { obs, host, created } = parseObservations(text, a.positionals[0]);
  const recs = sealObservations(obs);
  const m = manifestFor(recs, { host: host as { hostname: string }, created, machines: machineVersions() });
  await writeBundleFile(a.values.out, m, recs);
  io.out(`sealed ${obs.length} observations into ${recs.length} records: ${a.values.out}`);
  return 0;
}
