/**
 * Canonical JSON (DESIGN.md section 4): keys sorted at every level, no
 * insignificant whitespace, numbers and strings as JSON.stringify prints them.
 * `undefined` members are omitted (as JSON.stringify does); non-finite numbers
 * and other non-JSON values are refused, so a hash never covers a value that
 * would not survive a round trip.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON: non-finite number ${value}`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i) out += ',';
          const v = value[i];
          out += v === undefined ? 'null' : canonicalJson(v);
        }
        return out + ']';
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += JSON.stringify(k) + ':' + canonicalJson(v);
      }
      return out + '}';
    }
    case 'undefined':
      throw new TypeError('canonical JSON: undefined is not a JSON value');
    default:
      throw new TypeError(`canonical JSON: ${typeof value} is not a JSON value`);
  }
}
