/**
 * The xen_platform lines of `qemu-dm-<name>.log` that Xendeck understands, as
 * observed in `log.line {file:'qemu-dm', domid, line}` records. One grammar for
 * the parser (the machine's router) and the formatter (the simulator and the
 * golden bundles), so both sides cannot drift.
 *
 * Three sources of lines, all recognised the same way:
 * 1. qemu-traditional (seed 003) writes to its log file, without prefix:
 *    `Citrix Windows PV drivers loaded in guest` (product 1),
 *    `Guest claimed to be running PV product 0?`, `Unknown PV product N loaded in guest`,
 *    `PV driver build N`, `Drivers tried to set their version number (N) before setting the product number?`,
 *    `Drivers are blacklisted!`, `throttling guest access to syslog`.
 *    The same product lines come from upstream QEMU built with DEBUG_PLATFORM,
 *    prefixed `xen_platform: `, with `xen_platform: unplug disks` / `unplug nics`.
 * 2. Upstream QEMU's trace event for the guest log port, when `-trace xen_platform_log`
 *    is on: `[<pid>@<sec>.<usec>:]xen_platform_log xen platform: <text>`.
 * 3. Port accesses no QEMU prints, written only by Xendeck's simulated QEMU,
 *    in the DEBUG_PLATFORM style: `xen_platform: magic read 0x49d2`,
 *    `xen_platform: protocol version read 1`, `xen_platform: unplug mask 0x3`.
 * The `xen_platform: ` prefix is optional on the lines of source 1 and required on
 * the short lines (`unplug disks`, source 3) so that unrelated log text never matches.
 */

export type PlatformLine =
  | { kind: 'magic'; value: number }
  | { kind: 'version'; value: number }
  | { kind: 'product'; value: number }
  | { kind: 'build'; value: number }
  | { kind: 'build-ignored'; value: number }
  | { kind: 'blacklisted' }
  | { kind: 'mask'; value: number }
  | { kind: 'unplug'; what: 'disks' | 'nics' }
  | { kind: 'throttled' }
  | { kind: 'log'; text: string };

export const PLATFORM_PREFIX = 'xen_platform: ';
const TRACE_RE = /^(?:\d+@\d+\.\d+:)?xen_platform_log xen platform: (.*)$/s;
const PRODUCT_RE = /^Unknown PV product (\d+) loaded in guest$/;
const BUILD_RE = /^PV driver build (-?\d+)$/;
const BUILD_EARLY_RE = /^Drivers tried to set their version number \((-?\d+)\) before setting the product number\?$/;
const MAGIC_RE = /^magic read 0x([0-9a-fA-F]{1,4})$/;
const VERSION_RE = /^protocol version read (\d+)$/;
const MASK_RE = /^unplug mask 0x([0-9a-fA-F]{1,4})$/;

/** Builds are printed with `%d` from a u32: map negative prints back to the unsigned number. */
function u32(text: string): number {
  return Number(text) >>> 0;
}

/** Parse one qemu-dm log line; undefined when it is not the platform device's. Cheap on non-matching lines. */
export function parsePlatformLine(line: string): PlatformLine | undefined {
  if (line.startsWith('xen_platform_log ') || line.includes(':xen_platform_log ')) {
    const m = TRACE_RE.exec(line);
    if (m) return { kind: 'log', text: m[1] };
  }
  const prefixed = line.startsWith(PLATFORM_PREFIX);
  const body = prefixed ? line.slice(PLATFORM_PREFIX.length) : line;
  switch (body) {
    case 'Citrix Windows PV drivers loaded in guest':
      return { kind: 'product', value: 1 };
    case 'Guest claimed to be running PV product 0?':
      return { kind: 'product', value: 0 };
    case 'Drivers are blacklisted!':
      return { kind: 'blacklisted' };
    case 'throttling guest access to syslog':
      return { kind: 'throttled' };
  }
  let m = PRODUCT_RE.exec(body);
  if (m) return { kind: 'product', value: Number(m[1]) & 0xffff };
  m = BUILD_RE.exec(body);
  if (m) return { kind: 'build', value: u32(m[1]) };
  m = BUILD_EARLY_RE.exec(body);
  if (m) return { kind: 'build-ignored', value: u32(m[1]) };
  if (!prefixed) return undefined;
  if (body === 'unplug disks') return { kind: 'unplug', what: 'disks' };
  if (body === 'unplug nics') return { kind: 'unplug', what: 'nics' };
  m = MAGIC_RE.exec(body);
  if (m) return { kind: 'magic', value: parseInt(m[1], 16) };
  m = VERSION_RE.exec(body);
  if (m) return { kind: 'version', value: Number(m[1]) & 0xff };
  m = MASK_RE.exec(body);
  if (m) return { kind: 'mask', value: parseInt(m[1], 16) };
  return undefined;
}

/**
 * The line a QEMU of `profile` writes for `p` (what the simulator and the golden
 * bundles put in `log.line`). `seed` = qemu-traditional (unprefixed strings),
 * `upstream` = QEMU with DEBUG_PLATFORM and the xen_platform_log trace event.
 */
export function formatPlatformLine(p: PlatformLine, profile: 'seed' | 'upstream' = 'seed'): string {
  const real = (s: string): string => (profile === 'upstream' ? PLATFORM_PREFIX + s : s);
  switch (p.kind) {
    case 'magic':
      return `${PLATFORM_PREFIX}magic read 0x${p.value.toString(16)}`;
    case 'version':
      return `${PLATFORM_PREFIX}protocol version read ${p.value}`;
    case 'mask':
      return `${PLATFORM_PREFIX}unplug mask 0x${p.value.toString(16)}`;
    case 'unplug':
      return `${PLATFORM_PREFIX}unplug ${p.what}`;
    case 'product':
      if (p.value === 1) return real('Citrix Windows PV drivers loaded in guest');
      if (p.value === 0) return real('Guest claimed to be running PV product 0?');
      return real(`Unknown PV product ${p.value} loaded in guest`);
    case 'build':
      return real(`PV driver build ${p.value | 0}`);
    case 'build-ignored':
      return real(`Drivers tried to set their version number (${p.value | 0}) before setting the product number?`);
    case 'blacklisted':
      return real('Drivers are blacklisted!');
    case 'throttled':
      return real('throttling guest access to syslog');
    case 'log':
      return `xen_platform_log xen platform: ${p.text}`;
  }
}

/** Product numbers registered in public/hvm/pvdrivers.h, for summaries. */
export const PV_PRODUCTS: Readonly<Record<number, string>> = {
  1: 'xensource-windows',
  2: 'gplpv-windows',
  3: 'linux',
  4: 'xenserver-windows-v7.0+',
  5: 'xenserver-windows-v7.2+',
  0xffff: 'experimental',
};

/** A product number's registered name, or `product <n>`. */
export function productName(n: number | undefined): string {
  if (n === undefined) return 'unknown product';
  return PV_PRODUCTS[n] ?? `product ${n}`;
}
