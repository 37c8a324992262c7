/**
 * JSON the way QEMU's QMP monitor prints it: `", "` between members and
 * elements, `": "` after keys, keys in insertion order, and each message
 * ended by CRLF. Matching this lets a client compare our replies with real
 * QEMU's byte for byte (apart from timestamps and the version string).
 */
export function qemuJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(qemuJson).join(', ')}]`;
  if (typeof v === 'object') {
    const parts = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${JSON.stringify(k)}: ${qemuJson(x)}`);
    return `{${parts.join(', ')}}`;
  }
  return 'null';
}

export function qmpLine(v: unknown): string {
  return `${qemuJson(v)}\r\n`;
}

/**
 * QEMU's JSON streamer, reduced to what matters for QMP framing: it cuts the
 * input into top-level values, whatever the whitespace between them, and
 * resets on a 0x1b/0xff byte. Returns complete segments and keeps the rest.
 */
export class JsonStreamer {
  private buf = '';

  push(chunk: string): Array<{ text: string } | { error: string }> {
    this.buf += chunk;
    const out: Array<{ text: string } | { error: string }> = [];
    let depth = 0;
    let inStr = false;
    let esc = false;
    let start = -1;
    let i = 0;
    let consumed = 0;
    for (; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (depth === 0 && !inStr) {
        if (c === '\x1b' || c === '\xff') {
          consumed = i + 1;
          continue;
        }
        if (c === ' ' || c === '\n' || c === '\r' || c === '\t') {
          consumed = i + 1;
          continue;
        }
        if (c === '{' || c === '[') {
          depth = 1;
          start = i;
          continue;
        }
        // A bare token outside any object or array: QEMU parses it as a value.
        let j = i;
        while (j < this.buf.length && !/[\s{[]/.test(this.buf[j])) j++;
        if (j === this.buf.length) break; // wait for the token to end
        const tok = this.buf.slice(i, j);
        let isValue = false;
        try {
          JSON.parse(tok);
          isValue = true;
        } catch {
          isValue = false;
        }
        out.push(isValue ? { text: tok } : { error: 'JSON parse error, expecting value' });
        i = j - 1;
        consumed = j;
        continue;
      }
      if (inStr) {
        if (esc) esc = false;
        else if (c === '\\') esc = true;
        else if (c === '"') inStr = false;
        continue;
      }
      if (c === '"') inStr = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) {
          out.push({ text: this.buf.slice(start, i + 1) });
          consumed = i + 1;
        }
      } else if (c === '\x1b' || c === '\xff') {
        depth = 0;
        inStr = false;
        consumed = i + 1;
      }
    }
    this.buf = this.buf.slice(consumed);
    if (this.buf.length > 1 << 20) {
      this.buf = '';
      out.push({ error: 'JSON parse error, expecting value' });
    }
    return out;
  }
}
