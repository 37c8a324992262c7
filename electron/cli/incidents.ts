import { args, type Io } from './main.ts';
import { foldBundle } from './fold.ts';

/** `xendeck incidents FILE [--json]`: the incidents the machines detect, with their seq ranges. */
export async function incidentsCmd(argv: string[], io: Io): Promise<number> {
  const a = args(argv, { json: { type: 'boolean' } });
  const { replayer } = await foldBundle(a.positionals[0], { replay: { keepTransitions: false, checkTransitions: false }, requireReplay: false });
  const list = replayer!.router.incidents;
  if (a.values.json) io.out(JSON.stringify(list, null, 2));
  else if (list.length === 0) io.out('no incidents');
  else for (const i of list) io.out(`${i.kind}\tseq ${i.from}..${i.to}\t${new Date(i.ts).toISOString()}\t${i.uuid || '-'}\t${i.summary}`);
  return 0;
}
