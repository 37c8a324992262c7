import { args, type Io } from './main.ts';
import { readBundleFile } from '../shared/bundle-io.ts';
import { fingerprint } from '../../machines/events/bundle.ts';
import { ALL_BINDINGS } from '../../machines/host/bindings.ts';
import { Replayer } from '../../machines/host/replay.ts';

/**
 * `xendeck verify FILE`: schema, hash chain, gaps, manifest, and that replaying
 * reproduces the recorded machine.transition records. One line out; exit 0 only
 * if all hold, 1 with the reason if not, 2 if the file is unreadable or not a bundle.
 */
export async function verifyCmd(argv: string[], io: Io): Promise<number> {
  const a = args(argv, {});
  let r: Replayer | null = null;
  let first = true;
  const { manifest } = await readBundleFile(a.positionals[0], {
    onRecord: (rec) => {
      if (first) {
        first = false;
        // Transitions can only be reproduced from the start of history (or from a snapshot).
        if (rec.seq === 1) r = new Replayer(ALL_BINDINGS, undefined, { keepTransitions: false });
      }
      r?.push(rec);
    },
  });
  const rep = r as Replayer | null;
  const mismatch = rep?.finish();
  if (mismatch) {
    io.out(`FAILED: replay does not reproduce history: ${mismatch.message}`);
    return 1;
  }
  const det = !rep
    ? manifest.count === 0
      ? 'empty bundle'
      : `replay not checked: the bundle starts at seq ${manifest.from} without a snapshot`
    : rep.checked
      ? `replay reproduced all ${rep.recordedCount} recorded transitions`
      : 'no transitions recorded to compare';
  io.out(`ok: ${manifest.count} records, seq ${manifest.from}..${manifest.to}, chain intact; ${det}; fingerprint ${fingerprint(manifest)}`);
  return 0;
}
