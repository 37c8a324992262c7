import { args, type Io } from './main.ts';
import { foldBundle } from './fold.ts';

/**
 * `xendeck verify FILE`: schema, hash chain, gaps, manifest, and that replaying
 * reproduces the recorded machine.transition records (from seq 1, or from the
 * snapshot an exported range carries). One line out; exit 0 only if all hold,
 * 1 with the reason if not, 2 if the file is unreadable or not a bundle.
 */
export async function verifyCmd(argv: string[], io: Io): Promise<number> {
  const a = args(argv, {});
  const { manifest, replayer, from, fingerprint } = await foldBundle(a.positionals[0], { replay: { keepTransitions: false } });
  const mismatch = replayer?.finish();
  if (mismatch) {
    io.out(`FAILED: replay does not reproduce history: ${mismatch.message}`);
    return 1;
  }
  const det = !replayer
    ? manifest.count === 0
      ? 'empty bundle'
      : `replay not checked: the bundle starts at seq ${manifest.from} without a snapshot`
    : replayer.checked
      ? `replay${from === 'snapshot' ? ` from the snapshot at seq ${manifest.from - 1}` : ''} reproduced all ${replayer.recordedCount} recorded transitions`
      : 'no transitions recorded to compare';
  const extras = [manifest.redactions?.length ? `${manifest.redactions.length} redaction(s)` : '', manifest.pruned?.length ? `${manifest.pruned.length} pruned range(s)` : ''].filter(Boolean).join(', ');
  io.out(`ok: ${manifest.count} records, seq ${manifest.from}..${manifest.to}, chain intact${extras ? ` (${extras})` : ''}; ${det}; fingerprint ${fingerprint}`);
  return 0;
}
