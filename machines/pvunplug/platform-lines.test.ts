import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatPlatformLine, parsePlatformLine, productName } from './platform-lines.ts';
import type { PlatformLine } from './platform-lines.ts';

describe('qemu-dm platform lines', () => {
  it('reads the qemu-traditional strings of seed 003', () => {
    expect(parsePlatformLine('Citrix Windows PV drivers loaded in guest')).toEqual({ kind: 'product', value: 1 });
    expect(parsePlatformLine('Guest claimed to be running PV product 0?')).toEqual({ kind: 'product', value: 0 });
    expect(parsePlatformLine('Unknown PV product 3 loaded in guest')).toEqual({ kind: 'product', value: 3 });
    expect(parsePlatformLine('PV driver build 1234')).toEqual({ kind: 'build', value: 1234 });
    expect(parsePlatformLine('Drivers tried to set their version number (55) before setting the product number?')).toEqual({
      kind: 'build-ignored',
      value: 55,
    });
    expect(parsePlatformLine('Drivers are blacklisted!')).toEqual({ kind: 'blacklisted' });
    expect(parsePlatformLine('throttling guest access to syslog')).toEqual({ kind: 'throttled' });
  });

  it('maps a build printed negative by %d back to the unsigned number', () => {
    expect(parsePlatformLine('PV driver build -1')).toEqual({ kind: 'build', value: 0xffffffff });
  });

  it('reads the upstream trace event with and without the pid@time prefix', () => {
    expect(parsePlatformLine('21244@1612191983.279616:xen_platform_log xen platform: XEN|BUGCHECK: ====>')).toEqual({
      kind: 'log',
      text: 'XEN|BUGCHECK: ====>',
    });
    expect(parsePlatformLine('xen_platform_log xen platform: hello')).toEqual({ kind: 'log', text: 'hello' });
  });

  it('reads DEBUG_PLATFORM and simulator lines only with their prefix', () => {
    expect(parsePlatformLine('xen_platform: unplug disks')).toEqual({ kind: 'unplug', what: 'disks' });
    expect(parsePlatformLine('unplug disks')).toBeUndefined();
    expect(parsePlatformLine('xen_platform: magic read 0xd249')).toEqual({ kind: 'magic', value: 0xd249 });
    expect(parsePlatformLine('magic read 0xd249')).toBeUndefined();
    expect(parsePlatformLine('xen_platform: protocol version read 0')).toEqual({ kind: 'version', value: 0 });
    expect(parsePlatformLine('xen_platform: unplug mask 0x3')).toEqual({ kind: 'mask', value: 3 });
  });

  it('ignores the rest of the qemu-dm log', () => {
    expect(parsePlatformLine('qemu-system-i386: -serial pty: char device redirected to /dev/pts/3 (label serial0)')).toBeUndefined();
    expect(parsePlatformLine('')).toBeUndefined();
  });

  it('names products from the registry', () => {
    expect(productName(3)).toBe('linux');
    expect(productName(0xffff)).toBe('experimental');
    expect(productName(42)).toBe('product 42');
  });

  const lineArb: fc.Arbitrary<PlatformLine> = fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map((value) => ({ kind: 'magic' as const, value })),
    fc.integer({ min: 0, max: 0xff }).map((value) => ({ kind: 'version' as const, value })),
    fc.integer({ min: 0, max: 0xffff }).map((value) => ({ kind: 'product' as const, value })),
    fc.integer({ min: 0, max: 0xffffffff }).map((value) => ({ kind: 'build' as const, value })),
    fc.integer({ min: 0, max: 0xffffffff }).map((value) => ({ kind: 'build-ignored' as const, value })),
    fc.constant({ kind: 'blacklisted' as const }),
    fc.integer({ min: 0, max: 0xffff }).map((value) => ({ kind: 'mask' as const, value })),
    fc.constantFrom('disks' as const, 'nics' as const).map((what) => ({ kind: 'unplug' as const, what })),
    fc.constant({ kind: 'throttled' as const }),
    fc.string({ maxLength: 80 }).filter((s) => !s.includes('\n')).map((text) => ({ kind: 'log' as const, text })),
  );

  it('property: every line the simulator formats parses back to itself, in both profiles', () => {
    fc.assert(
      fc.property(lineArb, fc.constantFrom('seed' as const, 'upstream' as const), (p, profile) => {
        expect(parsePlatformLine(formatPlatformLine(p, profile))).toEqual(p);
      }),
      { numRuns: 500 },
    );
  });
});
