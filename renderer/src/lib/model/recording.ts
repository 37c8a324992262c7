/**
 * What a person is told about recording under pressure: the host's outbox
 * (shedding guest input, paused because the outbox or its disk is full, or a
 * store that cannot commit) and this page's own store when its storage is
 * full. Pure: the views render what these functions return.
 */
import type { HostStatus } from '../../../../electron/shared/ipc-contract.std.ts';

/** This page's store paused on full storage (HostLink.storePause, the fields read here). */
export interface StorePauseView {
  detail: string;
  retries: number;
  nextRetry: number;
}

export interface RecordingNotice {
  /** warn: recording goes on with guest data summarised; error: recording is paused. */
  level: 'warn' | 'error';
  /** Where it comes from: this page's store, or the host's outbox. */
  source: 'store' | 'host';
  /** Short label for the status pill. */
  label: string;
  /** The whole sentence for the banner. */
  text: string;
  /** This page can try again now (its own store is paused). */
  retry: boolean;
}

const KEEP = 'Nothing recorded so far is lost';

/** A byte count as a person reads it. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** "1,234 pending of 50,000 records, 3.1 MiB of 64 MiB", with what the status carries. */
export function pendingText(s: HostStatus): string {
  const recs = `${s.pending.toLocaleString('en')} pending${s.capRecords ? ` of ${s.capRecords.toLocaleString('en')}` : ''}`;
  const size = s.pendingBytes !== undefined ? `, ${bytes(s.pendingBytes)}${s.capBytes ? ` of ${bytes(s.capBytes)}` : ''}` : '';
  return `${recs}${size}`;
}

const withDetail = (d: string | undefined) => (d ? ` — ${d.replace(/[.\s]+$/, '')}` : '');

/**
 * The notices to show, most serious first: this page's store paused on full storage, then the host's
 * recording state. A host pause for store-full is this page's own pause when that is shown already.
 */
export function recordingNotices(status: HostStatus | null, pause: StorePauseView | null): RecordingNotice[] {
  const out: RecordingNotice[] = [];
  if (pause) {
    out.push({
      level: 'error',
      source: 'store',
      label: 'Recording paused: storage full',
      text: `Recording paused: storage is full${withDetail(pause.detail)}. ${KEEP}: the host keeps every record until this store can take it, and Xendeck resumes when space is available. Free disk space or storage for this site.`,
      retry: true,
    });
  }
  const host = status ? hostNotice(status, pause !== null) : null;
  if (host) out.push(host);
  return out;
}

function hostNotice(s: HostStatus, ownPause: boolean): RecordingNotice | null {
  if (s.recordingState === 'shedding') {
    return {
      level: 'warn',
      source: 'host',
      label: 'Recording under pressure',
      text: `Recording under pressure: guest data is being summarised (${pendingText(s)}). Domain lifecycle and device records go on in full; what guests wrote is kept as counted summaries until the store catches up.`,
      retry: false,
    };
  }
  if (s.recordingState !== 'paused') {
    // Another window's store cannot commit: the host goes on recording and keeps the records for it.
    if (s.recordingReason === 'store-full' && !ownPause) {
      return {
        level: 'warn',
        source: 'host',
        label: 'A store is full',
        text: `A store of this host cannot commit: storage is full${withDetail(s.recordingDetail)}. The host goes on recording and keeps its records (${pendingText(s)}) until that store can take them.`,
        retry: false,
      };
    }
    return null;
  }
  switch (s.recordingReason) {
    case 'outbox-full':
      return {
        level: 'error',
        source: 'host',
        label: 'Recording paused: outbox full',
        text: `Recording paused: the store is not keeping up, and the host's outbox of records not yet stored is full (${pendingText(s)})${withDetail(s.recordingDetail)}. ${KEEP}; recording resumes once the store catches up, and the gap is marked in history.`,
        retry: false,
      };
    case 'disk-full':
      return {
        level: 'error',
        source: 'host',
        label: 'Recording paused: disk full',
        text: `Recording paused: the disk holding Xendeck's outbox is full${withDetail(s.recordingDetail)}. ${KEEP}; Xendeck resumes when space is available, and the gap is marked in history.`,
        retry: false,
      };
    case 'store-full':
      if (ownPause) return null;
      return {
        level: 'error',
        source: 'host',
        label: 'Recording paused: storage full',
        text: `Recording paused: storage is full${withDetail(s.recordingDetail)} (a window's store cannot commit). ${KEEP}; Xendeck resumes when space is available.`,
        retry: false,
      };
    default:
      return {
        level: 'error',
        source: 'host',
        label: 'Recording paused',
        text: `Recording paused${withDetail(s.recordingDetail)}. ${KEEP}; the gap is marked in history.`,
        retry: false,
      };
  }
}

/** Seconds until the next retry, for "retrying in 8 s". */
export function retryIn(pause: StorePauseView, now: number): number {
  return Math.max(0, Math.ceil((pause.nextRetry - now) / 1000));
}
