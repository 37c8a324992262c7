/**
 * The event record (bundle format v1, DESIGN.md section 4) and the observation
 * vocabulary v1. Pure: runs unchanged in Node, a worker and the renderer.
 */

/** Where an observation came from. */
export const SOURCES = ['xs', 'dominfo', 'qmp', 'xl', 'log', 'user', 'helper', 'host', 'sim'] as const;
export type Source = (typeof SOURCES)[number];

/** One line of history. `hash` = sha256(prev + "\n" + canonical JSON of the record without hash). */
export interface XRecord<D = Record<string, unknown>> {
  seq: number;
  ts: number;
  src: Source;
  type: string;
  domid?: number;
  uuid?: string;
  data: D;
  prev: string;
  hash: string;
}

/** A record before the chain gives it seq, prev and hash. */
export type Observation<D = Record<string, unknown>> = Omit<XRecord<D>, 'seq' | 'prev' | 'hash'>;

export type ShutdownReason = 'poweroff' | 'reboot' | 'suspend' | 'crash' | 'watchdog' | 'soft_reset';
export const SHUTDOWN_REASONS: readonly ShutdownReason[] = [
  'poweroff',
  'reboot',
  'suspend',
  'crash',
  'watchdog',
  'soft_reset',
];

/** Data payloads of the vocabulary v1, by type. */
export interface Vocabulary {
  'xs.write': { path: string; value: string };
  'xs.rm': { path: string };
  'xs.introduce': { domid: number };
  'xs.release': { domid: number };
  dominfo: {
    domid: number;
    uuid: string;
    name?: string;
    running: boolean;
    blocked: boolean;
    paused: boolean;
    shutdown: boolean;
    dying: boolean;
    reason?: ShutdownReason;
  };
  'qmp.event': { domid: number; event: string; data?: Record<string, unknown> };
  'qmp.reply': {
    domid: number;
    command: string;
    ok: boolean;
    return?: unknown;
    error?: { class: string; desc: string };
  };
  'log.line': { file: 'xl' | 'qemu-dm' | 'hotplug'; domid?: number; name?: string; line: string };
  'cmd.request': { cmd: string; user: string; op: string; args: Record<string, unknown> };
  'cmd.result': { cmd: string; ok: boolean; error?: string; output?: string };
  'helper.status': { state: 'up' | 'down' | 'resynced'; gap: boolean; diff?: unknown };
  'machine.transition': { actor: string; from: string; to: string; cause: number };
  /** The record clock moved on with nothing else to say (lets timeouts fire live exactly as in replay). */
  'host.tick': Record<string, never>;
  /** Guest input that was filtered or coalesced: what, how much, for how long. */
  dropped: { domid?: number; path?: string; reason: string; count: number; bytes?: number; from: number; to: number };
  /** A person pruned history before `before`; the range is summarised by its fingerprint. */
  'store.prune': { before: number; count: number; first: string; last: string };
  /** A person redacted a field of an earlier record. */
  'store.redact': { seq: number; field: string; reason?: string };
  /** An ioreq server operation and its result, as the simulator or the helper's probe reports it (machines/ioreq). */
  'ioreq.op': {
    domid: number;
    caller: number;
    op: string;
    id?: number;
    range?: { type: 'port' | 'mmio' | 'pci'; start: number; end: number };
    param?: number;
    value?: number;
    result: string;
    xen?: string;
  };
  /** A simulated-host step (scenario step, fault), for context in history. */
  'sim.step': { step: Record<string, unknown> };
  /**
   * Recording under pressure (electron/host/README.md, "Backpressure"):
   * `shedding` — the outbox is backing up: guest-writable input is coalesced into `dropped` summaries (reason `backpressure`), lifecycle records go on;
   * `normal` — shedding ended;
   * `paused` — nothing is observed from here (gap): the outbox is full, the disk is full, or the store cannot commit;
   * `resumed` — observing again; the records between `paused` and this one reconcile what changed meanwhile.
   */
  'recording.status': {
    state: 'shedding' | 'normal' | 'paused' | 'resumed';
    reason: 'outbox-high' | 'outbox-full' | 'disk-full' | 'store-full';
    gap: boolean;
    /** Records sealed and not yet committed by a store, when this was written. */
    pending?: number;
    /** Bytes of those records. */
    bytes?: number;
    detail?: string;
  };
  /**
   * The wall clock went backwards by `by` ms (> 0). Records stay ordered by seq; their ts keep rising:
   * from here ts = wall clock + `offset` (the sum of all jumps so far), so a reader can recover wall time.
   */
  'host.clock': { by: number; wall: number; offset: number };
  /**
   * A device model's QMP socket accepts connections again (alive) or refuses them (alive: false: the
   * QEMU process is gone while its domain may still exist). Recorded on change only (the helper's dm.poll).
   */
  'dm.status': { domid: number; alive: boolean; error?: string };
}

export type RecordType = keyof Vocabulary;
export const RECORD_TYPES = [
  'xs.write',
  'xs.rm',
  'xs.introduce',
  'xs.release',
  'dominfo',
  'qmp.event',
  'qmp.reply',
  'log.line',
  'cmd.request',
  'cmd.result',
  'helper.status',
  'machine.transition',
  'host.tick',
  'dropped',
  'ioreq.op',
  'store.prune',
  'store.redact',
  'sim.step',
  'recording.status',
  'host.clock',
  'dm.status',
] as const satisfies readonly RecordType[];

export type TypedRecord<T extends RecordType> = XRecord<Vocabulary[T]> & { type: T };

/** Narrow a record to one vocabulary type. */
export function isType<T extends RecordType>(r: XRecord, t: T): r is TypedRecord<T> {
  return r.type === t;
}

export const ZERO_HASH = '0'.repeat(64);
