import { args, type Io } from './main.ts';
import { readBundleFile } from '../shared/bundle-io.ts';
import { ALL_BINDINGS } from '../../machines/host/bindings.ts';
import { Replayer } from '../../machines/host/replay.ts';

/** `xendeck incidents FILE [--json]`: the incidents the machines detect, with their seq ranges. */
export async function incidentsCmd(argv: string[], io: Io): Promise<number> {
  const a = args(argv, { json: { type: 'boolean' } });
  const r = new Replayer(ALL_BINDINGS, undefined, { keepTransitions: false, checkTransitions: false });
  await readBundleFile(a.positionals[0], { onRecord: (rec) => void r.push(rec) });
  const list = r.router.incidents;
  if (a.values.json) io.out(JSON.stringify(list, null, 2));
  else if (list.length === 0) io.out('no incidents');
  else for (const i of list) io.out(`${i.kind}\tseq ${i.from}..${i.to}\t${new Date(i.ts).toISOString()}\t${i.uuid || '-'}\t${i.summary}`);
  return 0;
}
