/**
 * Facts about domains that no machine keeps but a person expects in the
 * overview: memory target, vCPUs online, and when the current instance was
 * introduced (for uptime). Folded from records, each kept as a series so the
 * value at a replay cursor is the value history had then. Pure.
 */
import type { XRecord } from '../../../../machines/events/record.ts';
import { HistorySeries } from './history-series.ts';

export interface DomainFacts {
  memoryKb?: number;
  maxMemoryKb?: number;
  vcpus?: number;
  /** ts from which uptime runs: the introduce of this domid, or when it was first seen. */
  since?: number;
  /** Whether `since` is the introduce itself (false: the domain was already up when first seen, so uptime is at least this). */
  sinceExact?: boolean;
}

const DOM_PATH = /^\/local\/domain\/(\d+)(?:\/(.*))?$/;
const CPU_PATH = /^cpu\/(\d+)\/availability$/;

class PerDomid {
  memory = new HistorySeries<number | undefined>();
  maxMemory = new HistorySeries<number | undefined>();
  vcpus = new HistorySeries<number | undefined>();
  since = new HistorySeries<{ ts: number; exact: boolean } | undefined>();
  cpus = new Map<number, boolean>();
}

export class HostFacts {
  private byDomid = new Map<number, PerDomid>();
  /** seq of the last record folded. */
  seq = 0;

  private dom(domid: number): PerDomid {
    let d = this.byDomid.get(domid);
    if (!d) this.byDomid.set(domid, (d = new PerDomid()));
    return d;
  }

  apply(rec: XRecord): void {
    if (rec.seq <= this.seq) return;
    this.seq = rec.seq;
    const data = rec.data as Record<string, unknown>;
    switch (rec.type) {
      case 'xs.introduce': {
        const domid = Number(data.domid);
        if (Number.isInteger(domid)) {
          const d = this.dom(domid);
          if (d.since.at()?.exact !== true) d.since.set(rec.seq, { ts: rec.ts, exact: true });
        }
        return;
      }
      case 'xs.release':
        return;
      case 'xs.write':
      case 'xs.rm': {
        const m = DOM_PATH.exec(String(data.path ?? ''));
        if (!m) return;
        const domid = Number(m[1]);
        const rest = m[2] ?? '';
        const d = this.dom(domid);
        if (rec.type === 'xs.rm' && rest === '') {
          // The domain's subtree went: this instance is over (a soft reset brings it back).
          d.memory.set(rec.seq, undefined);
          d.maxMemory.set(rec.seq, undefined);
          d.vcpus.set(rec.seq, undefined);
          d.since.set(rec.seq, undefined);
          d.cpus.clear();
          return;
        }
        const value = rec.type === 'xs.write' ? String(data.value ?? '') : undefined;
        if (rest === 'vm' && value !== undefined && d.since.at() === undefined) d.since.set(rec.seq, { ts: rec.ts, exact: false });
        else if (rest === 'memory/target') d.memory.set(rec.seq, toInt(value));
        else if (rest === 'memory/static-max') d.maxMemory.set(rec.seq, toInt(value));
        else {
          const c = CPU_PATH.exec(rest);
          if (c) {
            d.cpus.set(Number(c[1]), value === 'online');
            let n = 0;
            for (const on of d.cpus.values()) if (on) n++;
            d.vcpus.set(rec.seq, n);
          }
        }
        return;
      }
      case 'dominfo': {
        const domid = Number(data.domid);
        if (Number.isInteger(domid) && data.running && this.dom(domid).since.at() === undefined) this.dom(domid).since.set(rec.seq, { ts: rec.ts, exact: false });
        return;
      }
      default:
        return;
    }
  }

  /** What was known of a domid right after `seq` (default: now). */
  at(domid: number | undefined, seq: number = Infinity): DomainFacts {
    if (domid === undefined) return {};
    const d = this.byDomid.get(domid);
    if (!d) return {};
    const since = d.since.at(seq);
    return { memoryKb: d.memory.at(seq), maxMemoryKb: d.maxMemory.at(seq), vcpus: d.vcpus.at(seq), since: since?.ts, sinceExact: since?.exact };
  }
}

function toInt(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}
