/**
 * CSV export: one row per record (seq, time, domain, device, type, summary,
 * hash). RFC 4180 quoting, and spreadsheet formula injection defused: a text
 * cell that a spreadsheet would evaluate (starting with = + - @, a tab or a
 * carriage return) is prefixed with an apostrophe. Guest-written values reach
 * these cells, so every text cell goes through `csvCell`.
 */
import type { XRecord } from '../../../machines/events/record.ts';
import { deviceOf, summaryOf } from './identity.std.ts';
import type { RowFilter } from './select.std.ts';

export const CSV_HEADER = ['seq', 'time', 'domain', 'device', 'type', 'summary', 'hash'] as const;

const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: formula-safe, quoted when it holds a comma, quote or line break. */
export function csvCell(v: string | number): string {
  if (typeof v === 'number') return String(v);
  let s = v;
  if (FORMULA_START.test(s)) s = "'" + s;
  if (/[",\r\n]/.test(s)) s = '"' + s.replace(/"/g, '""') + '"';
  return s;
}

export function csvLine(cells: readonly (string | number)[]): string {
  return cells.map(csvCell).join(',') + '\r\n';
}

/** The row for one record (the filter has already seen it, so its domain is known). */
export function csvRow(rec: XRecord, filter: RowFilter): string {
  return csvLine([rec.seq, new Date(rec.ts).toISOString(), filter.ids.domainLabel(rec), deviceOf(rec), rec.type, summaryOf(rec), rec.hash]);
}

/** Parse CSV text back into rows (RFC 4180): used to check exports round-trip. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else cell += c;
      i++;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
    i++;
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}
