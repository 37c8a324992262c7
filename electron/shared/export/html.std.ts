/**
 * The self-contained HTML timeline report: one file, no external assets, no
 * script, a CSP that forbids loading anything, and every value escaped (guest
 * writes, log lines and names are untrusted and end up in the page).
 */
import type { XRecord } from '../../../machines/events/record.ts';
import type { Incident } from '../../../machines/host/router.ts';
import { deviceOf, summaryOf } from './identity.std.ts';
import { prunedFingerprint, type PrunedRange, type Redaction } from './history.std.ts';
import type { RowFilter, Selection } from './select.std.ts';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c]);
}

const STYLE = `body{font:13px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1f23;background:#fff}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.5em}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #e1e4e8;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0}td.seq,td.hash{font-family:ui-monospace,monospace;white-space:nowrap}
td.summary{word-break:break-all}tr.transition td{color:#0550ae}tr.store td{background:#fff8c5}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dt{font-weight:600}dd{margin:0;font-family:ui-monospace,monospace;word-break:break-all}`;

export interface HtmlHead {
  title: string;
  host: Record<string, unknown>;
  selection: Selection;
  from: number;
  to: number;
  fingerprint: string;
  created: string;
  pruned: PrunedRange[];
  redactions: Redaction[];
  incidents: Incident[];
}

function describeSelection(s: Selection): string {
  const parts: string[] = [];
  if (s.domain) parts.push(`domain ${s.domain}`);
  if (s.incident) parts.push(`incident ${s.incident.kind} (seq ${s.incident.from}..${s.incident.to})`);
  if (s.tsFrom !== undefined || s.tsTo !== undefined)
    parts.push(`time ${s.tsFrom !== undefined ? new Date(s.tsFrom).toISOString() : '…'} to ${s.tsTo !== undefined ? new Date(s.tsTo).toISOString() : '…'}`);
  if (s.seqFrom !== undefined || s.seqTo !== undefined) parts.push(`seq ${s.seqFrom ?? '…'}..${s.seqTo ?? '…'}`);
  return parts.join(', ') || 'all history';
}

export function htmlStart(h: HtmlHead): string {
  const e = escapeHtml;
  const host = typeof h.host.hostname === 'string' ? h.host.hostname : 'unknown host';
  let out = `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">`;
  out += `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">`;
  out += `<meta name="viewport" content="width=device-width"><title>${e(h.title)}</title><style>${STYLE}</style></head><body>\n`;
  out += `<h1>${e(h.title)}</h1>\n<dl>`;
  out += `<dt>Host</dt><dd>${e(host)}${typeof h.host.xen === 'string' ? ` (Xen ${e(h.host.xen)})` : ''}</dd>`;
  out += `<dt>Selection</dt><dd>${e(describeSelection(h.selection))}</dd>`;
  out += `<dt>Records</dt><dd>seq ${h.from}..${h.to}</dd>`;
  out += `<dt>Fingerprint</dt><dd>${e(h.fingerprint)}</dd>`;
  out += `<dt>Created</dt><dd>${e(h.created)}</dd></dl>\n`;
  if (h.pruned.length || h.redactions.length) {
    out += `<h2>Changes to history</h2><ul>`;
    for (const p of h.pruned)
      out += `<li>seq ${p.from}..${p.to} (${p.count} records) pruned by seq ${p.by} at ${e(new Date(p.ts).toISOString())}; fingerprint <code>${e(prunedFingerprint(p))}</code></li>`;
    for (const r of h.redactions) out += `<li>seq ${r.seq}: ${e(r.field)} redacted by seq ${r.by}${r.reason ? `: ${e(r.reason)}` : ''}</li>`;
    out += `</ul>\n`;
  }
  if (h.incidents.length) {
    out += `<h2>Incidents</h2><table><thead><tr><th>kind</th><th>seq</th><th>time</th><th>domain</th><th>summary</th></tr></thead><tbody>`;
    for (const i of h.incidents)
      out += `<tr><td>${e(i.kind)}</td><td class="seq">${i.from}..${i.to}</td><td>${e(new Date(i.ts).toISOString())}</td><td>${e(i.uuid)}</td><td class="summary">${e(i.summary)}</td></tr>`;
    out += `</tbody></table>\n`;
  }
  out += `<h2>Timeline</h2><table><thead><tr><th>seq</th><th>time</th><th>domain</th><th>device</th><th>type</th><th>summary</th><th>hash</th></tr></thead><tbody>\n`;
  return out;
}

export function htmlRow(rec: XRecord, filter: RowFilter): string {
  const e = escapeHtml;
  const cls = rec.type === 'machine.transition' ? ' class="transition"' : rec.type.startsWith('store.') ? ' class="store"' : '';
  return `<tr${cls}><td class="seq">${rec.seq}</td><td>${e(new Date(rec.ts).toISOString())}</td><td>${e(filter.ids.domainLabel(rec))}</td><td>${e(deviceOf(rec))}</td><td>${e(rec.type)}</td><td class="summary">${e(summaryOf(rec))}</td><td class="hash" title="${e(rec.hash)}">${e(rec.hash.slice(0, 12))}</td></tr>\n`;
}

export function htmlEnd(rows: number): string {
  return `</tbody></table>\n<p>${rows} records.</p></body></html>\n`;
}
