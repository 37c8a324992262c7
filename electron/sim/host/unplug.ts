/**
 * The Xen platform device's fixed I/O ports (0x10-0x1f) as the simulated
 * QEMU serves them, and the PV-driver side of the unplug protocol (seed 003,
 * reference section 7). In the `seed` profile the device is qemu-traditional's:
 * it checks `/mh/driver-blacklist/<product>/<build>` and answers 0xd249 to
 * blacklisted drivers, and it writes its messages to the qemu-dm log. In the
 * `upstream` profile the magic is always 0x49d2 and the log port goes to the
 * xen_platform_log trace event. Guest log bytes pass a token bucket of
 * 128 KiB refilled at 256 B/s.
 */
import { formatPlatformLine, type PlatformLine } from '../../../machines/pvunplug/platform-lines.ts';
import type { Profile } from './types.ts';

export const PLATFORM_MAGIC = 0x49d2;
export const PLATFORM_BLACKLISTED = 0xd249;
export const UNPLUG_ALL_IDE_DISKS = 1;
export const UNPLUG_ALL_NICS = 2;
export const UNPLUG_AUX_IDE_DISKS = 4;
export const BUCKET_MAX_SIZE = 128 * 1024;
export const BUCKET_FILL_RATE = 256;

const PRODUCT_NAMES: Record<number, string> = { 1: 'xensource-windows' };

export interface PlatformDeps {
  profile: Profile;
  /** Reads a xenstore key as QEMU (dom0) would; undefined if missing. */
  xsRead(path: string): string | undefined;
  /** Appends one line to qemu-dm-<name>.log. */
  log(line: string): void;
  /** Simulated time in ms, for the token bucket. */
  now(): number;
  /** Carries out an unplug: which emulated devices go. */
  unplug(what: { ideDisks: 'all' | 'aux' | 'none'; nics: boolean }): void;
}

export class PlatformDevice {
  private blacklisted = false;
  private product = 0;
  private logBuf = '';
  private tokens = BUCKET_MAX_SIZE;
  private lastRefill: number;
  private warned = false;
  /** Bytes the guest would still be blocked on, for tests. */
  blockedMs = 0;

  constructor(private readonly deps: PlatformDeps) {
    this.lastRefill = deps.now();
  }

  private line(p: PlatformLine): void {
    this.deps.log(formatPlatformLine(p, this.deps.profile));
  }

  readMagic(): number {
    const v = this.deps.profile === 'seed' && this.blacklisted ? PLATFORM_BLACKLISTED : PLATFORM_MAGIC;
    this.line({ kind: 'magic', value: v });
    return v;
  }

  readVersion(): number {
    this.line({ kind: 'version', value: 1 });
    return 1;
  }

  writeProduct(n: number): void {
    this.product = n & 0xffff;
    this.line({ kind: 'product', value: this.product });
  }

  writeBuild(build: number): void {
    if (this.product === 0) {
      this.line({ kind: 'build-ignored', value: build >>> 0 });
      return;
    }
    this.line({ kind: 'build', value: build >>> 0 });
    if (this.deps.profile !== 'seed') return;
    const name = PRODUCT_NAMES[this.product];
    if (name && this.deps.xsRead(`/mh/driver-blacklist/${name}/${build | 0}`) !== undefined) {
      this.line({ kind: 'blacklisted' });
      this.blacklisted = true;
    }
  }

  writeUnplug(mask: number): void {
    this.line({ kind: 'mask', value: mask & 0xffff });
    const disks = mask & UNPLUG_ALL_IDE_DISKS ? 'all' : mask & UNPLUG_AUX_IDE_DISKS ? 'aux' : 'none';
    const nics = (mask & UNPLUG_ALL_NICS) !== 0;
    if (disks !== 'none') this.line({ kind: 'unplug', what: 'disks' });
    if (nics) this.line({ kind: 'unplug', what: 'nics' });
    this.deps.unplug({ ideDisks: disks, nics });
  }

  /** One byte written to the log port (0x12, 1 byte). */
  logByte(b: number): void {
    if (b !== 0x0a && this.logBuf.length < 4095) {
      this.logBuf += String.fromCharCode(b);
      return;
    }
    const text = this.logBuf;
    this.logBuf = '';
    this.throttle(text.length);
    this.line({ kind: 'log', text });
  }

  private throttle(count: number): void {
    const now = this.deps.now();
    if (this.tokens < count) {
      const waitMs = ((count - this.tokens) / BUCKET_FILL_RATE) * 1000 - (now - this.lastRefill);
      if (waitMs > 0) {
        if (!this.warned) {
          this.line({ kind: 'throttled' });
          this.warned = true;
        }
        this.blockedMs += waitMs;
      }
      const elapsed = Math.max(now - this.lastRefill, 0) + Math.max(waitMs, 0);
      this.tokens = Math.min(BUCKET_MAX_SIZE, this.tokens + (BUCKET_FILL_RATE * elapsed) / 1000);
      this.lastRefill = now + Math.max(waitMs, 0);
    }
    this.tokens -= count;
  }
}

export type ProbeOutcome = { result: 'no-device' } | { result: 'blacklisted' } | { result: 'unplugged'; mask: number } | { result: 'skipped-version-0' };

/**
 * What a PV driver does at boot (reference 7, steps 1-6): check the magic,
 * read the version, write product and build, re-read the magic, and unplug.
 */
export function runPvProbe(dev: PlatformDevice | undefined, pv: { product: number; build: number; unplug: number }): ProbeOutcome {
  if (!dev) return { result: 'no-device' };
  if (dev.readMagic() !== PLATFORM_MAGIC) return { result: 'no-device' };
  const version = dev.readVersion();
  if (version !== 0) {
    dev.writeProduct(pv.product);
    dev.writeBuild(pv.build);
    if (dev.readMagic() === PLATFORM_BLACKLISTED) return { result: 'blacklisted' };
  }
  dev.writeUnplug(pv.unplug);
  return { result: 'unplugged', mask: pv.unplug };
}
