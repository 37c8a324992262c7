/**
 * Where a record came from, in a person's words: which xenstore path, QMP
 * event or reply, log line, or person. Also a one-line summary for timeline
 * rows. Pure.
 */
import type { XRecord } from '../../../../machines/events/record.ts';
import { describeDropped } from '../../../../electron/shared/guest-input.std.ts';

export interface Provenance {
  /** Short origin class: xenstore, hypervisor, QMP, log, person, helper, host, simulator. */
  origin: string;
  /** The exact place: a path, an event name, a file and line, a user. */
  where: string;
}

const ORIGIN: Record<string, string> = {
  xs: 'xenstore',
  dominfo: 'hypervisor',
  qmp: 'QMP',
  xl: 'xl',
  log: 'log',
  user: 'person',
  helper: 'helper',
  host: 'host',
  sim: 'simulator',
};

export function provenance(r: XRecord): Provenance {
  const d = r.data as Record<string, any>;
  const origin = ORIGIN[r.src] ?? r.src;
  switch (r.type) {
    case 'xs.write':
    case 'xs.rm':
      return { origin, where: String(d.path) };
    case 'xs.introduce':
      return { origin, where: `@introduceDomain (domid ${d.domid})` };
    case 'xs.release':
      return { origin, where: `@releaseDomain (domid ${d.domid})` };
    case 'dominfo':
      return { origin, where: `domain info of domid ${d.domid}` };
    case 'qmp.event':
      return { origin, where: `QMP event ${d.event} from domid ${d.domid}` };
    case 'qmp.reply':
      return { origin, where: `QMP reply to ${d.command} (domid ${d.domid})` };
    case 'log.line':
      return { origin, where: `${logFile(d.file, d.name)}: ${String(d.line).slice(0, 200)}` };
    case 'cmd.request':
      return { origin: 'person', where: `${d.user ?? 'someone'} asked ${d.op} (command ${d.cmd})` };
    case 'cmd.result':
      return { origin, where: `result of command ${d.cmd}` };
    case 'helper.status':
      return { origin, where: `helper ${d.state}${d.gap ? ' (gap: observations may be missing)' : ''}` };
    case 'machine.transition':
      return { origin: 'derived', where: `${d.actor}: ${d.from} → ${d.to} (caused by #${d.cause})` };
    case 'dropped':
      return { origin, where: `guest input filter${d.path ? ` at ${d.path}` : ''} (${d.reason})` };
    case 'recording.status':
      return { origin, where: `recording ${d.state}: ${REASON_TEXT[d.reason as string] ?? d.reason}${d.gap ? ' (gap: observations may be missing)' : ''}` };
    case 'dm.status':
      return { origin, where: `the helper's probe of the QMP socket of domid ${d.domid}` };
    case 'host.clock':
      return { origin, where: `host wall clock at ${new Date(Number(d.wall)).toISOString()} (offset now ${span(Number(d.offset))})` };
    default:
      return { origin, where: r.type };
  }
}

function logFile(file: unknown, name: unknown): string {
  switch (file) {
    case 'xl':
      return `xl-${name ?? '?'}.log`;
    case 'qemu-dm':
      return `qemu-dm-${name ?? '?'}.log`;
    case 'hotplug':
      return 'xen-hotplug.log';
    default:
      return String(file ?? 'log');
  }
}

/** Why recording changed, in a person's words (`recording.status` reason). */
export const REASON_TEXT: Record<string, string> = {
  'outbox-high': 'the outbox is backing up',
  'outbox-full': 'the outbox is full, the store is not keeping up',
  'disk-full': "the disk holding Xendeck's outbox is full",
  'store-full': "a store's storage is full",
};

/** A span of milliseconds as a person reads it (a clock jump, an offset). */
export function span(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const a = Math.abs(ms);
  if (a < 1000) return `${ms} ms`;
  if (a < 119_500) return `${(ms / 1000).toFixed(a < 9_950 ? 1 : 0)} s`;
  // Up to what rounds to 59.9 min; an hour less a few seconds reads as 1.0 h.
  if (a < 3_597_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function recordingSummary(d: Record<string, any>): string {
  const why = REASON_TEXT[d.reason] ?? String(d.reason);
  const pending = typeof d.pending === 'number' ? `${d.pending.toLocaleString('en')} pending` : '';
  const more = [pending, d.detail ? String(d.detail) : ''].filter(Boolean).join('; ');
  const tail = more ? ` (${more})` : '';
  switch (d.state) {
    case 'paused':
      return `recording paused: ${why}${tail}${d.gap ? '; observations may be missing' : ''}`;
    case 'resumed':
      return `recording resumed after a pause (${why})${d.gap ? '; observations may be missing' : ''}`;
    case 'shedding':
      return `recording under pressure: guest data summarised, ${why}${tail}`;
    case 'normal':
      return `recording back to normal: guest data recorded in full again${pending ? ` (${pending})` : ''}`;
    default:
      return `recording ${d.state}: ${why}${tail}`;
  }
}

export interface RecordBadge {
  label: string;
  level: 'ok' | 'warn' | 'bad' | 'info';
}

/** A badge beside a timeline row's summary, for the records that say history is under pressure or adjusted. */
export function badge(r: XRecord): RecordBadge | null {
  const d = r.data as Record<string, any>;
  switch (r.type) {
    case 'recording.status':
      if (d.state === 'paused') return { label: 'paused', level: 'bad' };
      if (d.state === 'shedding') return { label: 'shedding', level: 'warn' };
      if (d.state === 'resumed') return { label: 'resumed', level: 'ok' };
      return { label: 'normal', level: 'ok' };
    case 'host.clock':
      return { label: 'clock', level: 'warn' };
    case 'dm.status':
      return d.alive ? { label: 'device model', level: 'ok' } : { label: 'device model gone', level: 'bad' };
    case 'dropped':
      return { label: 'dropped', level: 'warn' };
    case 'helper.status':
      return d.gap ? { label: 'gap', level: 'bad' } : null;
    default:
      return null;
  }
}

/** One line for a timeline row. */
export function summary(r: XRecord): string {
  const d = r.data as Record<string, any>;
  switch (r.type) {
    case 'xs.write':
      return `${d.path} = ${JSON.stringify(d.value)}`;
    case 'xs.rm':
      return `${d.path} removed`;
    case 'xs.introduce':
      return `domid ${d.domid} introduced`;
    case 'xs.release':
      return `a domain was released (domid ${d.domid})`;
    case 'dominfo': {
      const flags = ['running', 'blocked', 'paused', 'shutdown', 'dying'].filter((k) => d[k]);
      return `domid ${d.domid}${d.name ? ` (${d.name})` : ''}: ${flags.join(', ') || 'no flags'}${d.reason ? `, reason ${d.reason}` : ''}`;
    }
    case 'qmp.event':
      return `${d.event} ${d.data ? JSON.stringify(d.data) : ''}`.trim();
    case 'qmp.reply':
      return `${d.command} → ${d.ok ? 'ok' : `${d.error?.class ?? 'error'}: ${d.error?.desc ?? ''}`}`;
    case 'log.line':
      return String(d.line);
    case 'cmd.request':
      return `${d.user ?? 'someone'}: ${d.op} ${JSON.stringify(d.args ?? {})}`;
    case 'cmd.result':
      return `${d.ok ? 'ok' : 'failed'}${d.error ? `: ${d.error}` : ''}`;
    case 'helper.status':
      return `helper ${d.state}${d.gap ? ' with a gap' : ''}`;
    case 'machine.transition':
      return `${d.actor}: ${d.from} → ${d.to}`;
    case 'dropped':
      return describeDropped(r);
    case 'recording.status':
      return recordingSummary(d);
    case 'dm.status':
      return d.alive
        ? `device model of domid ${d.domid} answers on its QMP socket again`
        : `device model of domid ${d.domid} is gone: its QMP socket refuses connections${d.error ? ` (${d.error})` : ''}`;
    case 'host.clock':
      return `wall clock went back ${span(Number(d.by))}; timestamps adjusted (ts = wall clock + ${span(Number(d.offset))})`;
    default:
      return JSON.stringify(d).slice(0, 200);
  }
}
