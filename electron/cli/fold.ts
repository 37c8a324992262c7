/**
 * Reading a bundle file for the CLI: the same checks as an import
 * (checkBundle: schema, chain — with redactions named in the manifest —,
 * manifest and its snapshot), folding the records through the machines as they
 * stream. A bundle cut out of longer history carries the host state just before
 * its first record (`manifest.snapshot`), and replay starts from it.
 */
import { fileLines, nodeSha256Hex } from '../shared/bundle-io.ts';
import { checkBundle } from '../shared/export/check.std.ts';
import type { ExportManifest, BundleSnapshot } from '../shared/export/export.std.ts';
import { ALL_BINDINGS } from '../../machines/host/bindings.ts';
import { Replayer, type ReplayerOptions } from '../../machines/host/replay.ts';

class Stop extends Error {}

async function peekManifest(path: string): Promise<ExportManifest | null> {
  for await (const line of fileLines(path)) {
    try {
      return JSON.parse(line.replace(/^\uFEFF/, '')) as ExportManifest;
    } catch {
      return null; // checkBundle reports it precisely
    }
  }
  return null;
}

export interface Folded {
  manifest: ExportManifest;
  replayer: Replayer | null;
  /** Where replay started: 'start' (seq 1), 'snapshot' (the manifest's), or null (a range without one: not replayable). */
  from: 'start' | 'snapshot' | null;
  fingerprint: string;
}

/**
 * Check a bundle file and fold it. `at`: stop after this seq (replay --at). With
 * `requireReplay` false, a range without a snapshot is still folded from empty state.
 */
export async function foldBundle(path: string, opts: { at?: number; replay?: ReplayerOptions; requireReplay?: boolean } = {}): Promise<Folded> {
  const peek = await peekManifest(path);
  const snap = (peek?.snapshot ?? null) as BundleSnapshot | null;
  let replayer: Replayer | null = null;
  let from: Folded['from'] = null;
  if (peek && typeof peek.from === 'number') {
    if (peek.from === 1) from = 'start';
    else if (snap && snap.state) from = 'snapshot';
  }
  const make = () => (from === 'snapshot' ? new Replayer(ALL_BINDINGS, snap!.state, opts.replay) : new Replayer(ALL_BINDINGS, undefined, opts.replay));
  if (from !== null || opts.requireReplay === false) replayer = null; // created lazily after the manifest passed its checks
  let manifest: ExportManifest | null = peek;
  let fingerprint = '';
  try {
    const checked = await checkBundle(fileLines(path), {
      digest: nodeSha256Hex,
      onRecord: (rec) => {
        if (opts.at !== undefined && rec.seq > opts.at) throw new Stop();
        if (!replayer && (from !== null || opts.requireReplay === false)) replayer = make();
        replayer?.push(rec);
      },
    });
    manifest = checked.manifest as ExportManifest;
    fingerprint = checked.fingerprint;
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
  if (!replayer && (from !== null || opts.requireReplay === false)) replayer = make();
  return { manifest: manifest!, replayer, from, fingerprint };
}
