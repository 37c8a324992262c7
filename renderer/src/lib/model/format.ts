/** Formatting shared by the views: durations, sizes, times, hashes. Pure. */

export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function memory(kb: number | undefined): string {
  if (kb === undefined) return '—';
  if (kb >= 1024 * 1024) return `${(kb / (1024 * 1024)).toFixed(kb % (1024 * 1024) === 0 ? 0 : 1)} GiB`;
  return `${Math.round(kb / 1024)} MiB`;
}

/** Local wall-clock time with milliseconds (what a person compares with logs). */
export function clock(ts: number): string {
  const d = new Date(ts);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export function dateTime(ts: number): string {
  const d = new Date(ts);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${clock(ts)}`;
}

export function shortHash(h: string | undefined, n = 12): string {
  return h ? h.slice(0, n) : '—';
}

/** `from..to` as a person reads a seq range. */
export function seqRange(from: number, to: number): string {
  return from === to ? `#${from}` : `#${from}–#${to}`;
}
