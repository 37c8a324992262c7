/**
 * Where a record came from, in a person's words: which xenstore path, QMP
 * event or reply, log line, or person. Also a one-line summary for timeline
 * rows. Pure.
 */
import type { XRecord } from '../../../../machines/events/record.ts';

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
    default:
      return JSON.stringify(d).slice(0, 200);
  }
}
