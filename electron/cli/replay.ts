import { args, parseSeq, type Io } from './main.ts';
import { foldBundle } from './fold.ts';
import type { HostView } from '../../machines/host/router.ts';

/** `xendeck replay FILE [--at SEQ] [--json]` */
export async function replayCmd(argv: string[], io: Io): Promise<number> {
  const a = args(argv, { at: { type: 'string' }, json: { type: 'boolean' } });
  const at = parseSeq(a.values.at, '--at');
  const { manifest, replayer, from } = await foldBundle(a.positionals[0], { at, replay: { keepTransitions: false, checkTransitions: false }, requireReplay: false });
  if (at !== undefined && (at < manifest.from - 1 || at > manifest.to)) {
    io.err(`xendeck replay: --at ${at} is outside the bundle (seq ${manifest.from}..${manifest.to})`);
    return 2;
  }
  if (from === null && manifest.count > 0) io.err(`xendeck replay: note: the bundle starts at seq ${manifest.from} without a snapshot; states before it are unknown`);
  const view = replayer!.view();
  if (a.values.json) io.out(JSON.stringify(view, null, 2));
  else io.out(formatView(view));
  return 0;
}

export function formatView(v: HostView): string {
  const out: string[] = [`state at seq ${v.seq}${v.ts ? ` (${new Date(v.ts).toISOString()})` : ''}`];
  const byUuid = new Map<string, typeof v.actors>();
  for (const a of v.actors) {
    const list = byUuid.get(a.uuid) ?? [];
    list.push(a);
    byUuid.set(a.uuid, list);
  }
  for (const [uuid, list] of byUuid) {
    const dom = list.find((x) => x.kind === 'domain');
    const ctx = (dom?.context ?? {}) as { name?: string; domid?: number };
    out.push(`domain ${ctx.name ?? '?'} (${uuid}${ctx.domid !== undefined ? `, domid ${ctx.domid}` : ''}): ${dom?.state ?? 'not seen'}`);
    for (const x of list) if (x !== dom) out.push(`  ${x.id.split(':').slice(2).join(':') || x.kind} [${x.kind}]: ${x.state}${x.retired ? ' (ended)' : ''}`);
  }
  if (v.actors.length === 0) out.push('no domains or devices seen');
  out.push(`incidents: ${v.incidents.length}`);
  for (const i of v.incidents) out.push(`  ${i.kind} seq ${i.from}..${i.to}: ${i.summary}`);
  if (v.faults.length) {
    out.push(`machine faults: ${v.faults.length}`);
    for (const f of v.faults) out.push(`  seq ${f.seq} ${f.actor}: ${f.message}`);
  }
  return out.join('\n');
}
