/**
 * The event store's entities (DESIGN.md sections 2 and 4, STYLE.md G15).
 * `events` holds history exactly as the host sealed it; everything else is
 * either a projection that can be rebuilt from the events (`snapshots`, the
 * automatic `incidents`) or bookkeeping kept beside them (`meta`).
 */
import type { XRecord } from '../../../../machines/events/record.ts';
import type { Incident, RouterSnapshot } from '../../../../machines/host/router.ts';
import type { Manifest } from '../../../../machines/events/bundle.ts';
import type { PrunedRange, Redaction } from '../../../../electron/shared/export/history.std.ts';

/** One record of history, stored as sealed (keyed by the host-assigned seq). */
export type StoredEvent = XRecord;

/** The host router's persisted state right after `seq`: replay seeks from the nearest one. */
export interface StoredSnapshot {
  seq: number;
  ts: number;
  /** Machine versions that produced it (a snapshot from other versions is not restored). */
  machines: Record<string, string>;
  state: RouterSnapshot;
}

/** An incident: detected by the machines (`auto`, rebuilt from the events) or bookmarked by a person. */
export interface StoredIncident extends Incident {
  /** `auto:<kind>:<actor>:<from>` or `person:<created>:<n>`. */
  id: string;
  source: 'auto' | 'person';
  note?: string;
}

/** The chain's tail: seq and hash of the newest record (0 and the zero hash when empty). */
export interface TailMeta {
  seq: number;
  hash: string;
}

/** Counters kept beside the events so hot paths never count rows. */
export interface StatsMeta {
  /** Records stored now (after pruning). */
  count: number;
  /** Lowest stored seq and the prev it must chain from (after pruning, the hash of the last pruned record). */
  firstSeq: number;
  firstPrev: string;
}

/** Set on a store opened from a bundle: it never accepts live records. */
export interface ImportMeta {
  manifest: Manifest;
  importedAt: string;
  source: string;
}

export interface MetaValues {
  tail: TailMeta;
  stats: StatsMeta;
  host: Record<string, unknown>;
  pruned: PrunedRange[];
  redactions: Redaction[];
  readOnly: ImportMeta;
  /** seq up to which the projections (snapshots, automatic incidents) have been brought. */
  projected: number;
}

export type MetaKey = keyof MetaValues;

export interface MetaRow {
  key: MetaKey;
  value: unknown;
}
