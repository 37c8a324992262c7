/**
 * pvUnplug: the PV-on-HVM emulated-device unplug handshake of one HVM domain
 * (seed 003, reference section 7), as Xendeck observes it through the platform
 * device's qemu-dm log lines, the backends libxl wrote, the drivers' xenstore
 * keys and QMP.
 *
 * States (DESIGN.md section 5):
 * - `emulated`    no PV driver has spoken to the platform device; the guest sees emulated disks and NICs.
 * - `probed`      drivers read the magic 0x49d2 (or wrote a version, product or build): the handshake is under way.
 * - `blacklisted` the device answered 0xd249 (`Drivers are blacklisted!`): the drivers must not load; the emulated devices stay.
 * - `unplugged`   the drivers wrote the unplug mask; `disappeared` lists the emulated devices that went.
 *
 * Invariants:
 * - `mask` only grows (bits are ORed) until `pv.reset`; `disappeared` = unplugEffect(mask, devices at write time).
 * - a build is kept only after a non-zero product (seed: a build before a product is ignored and logged).
 * - `blacklisted` is sticky until `pv.reset` (qemu-traditional never clears it).
 * - guest log lines pass the token bucket (128 KiB, 256 B/s, full at the first line); the rest are counted, not kept.
 * - `pv.reset` (a new domain instance: boot, reboot, soft reset) returns to `emulated` with a fresh handshake.
 * No timers: the machine never waits, so it keeps no deadline.
 */
import { assign, assertEvent, setup } from 'xstate';
import type { PvUnplugContext, PvUnplugEvent, PvUnplugInput } from './pvunplug.types.ts';
import { LOG_KEEP, MAGIC, MAGIC_BLACKLISTED, NOTES_KEEP } from './pvunplug.types.ts';
import { TokenBucket, utf8Length } from './token-bucket.ts';
import { UNPLUG_IDE_DISKS, UNPLUG_NICS, unplugEffect } from './unplug-effect.ts';
import type { EmulatedDevice } from './unplug-effect.ts';

const DELETED_KEEP = 32;
const DRIVER_KEYS_KEEP = 64;

function hex(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}

function addNote(notes: string[], note: string): string[] {
  const next = [...notes, note];
  return next.length > NOTES_KEEP ? next.slice(next.length - NOTES_KEEP) : next;
}

/** The handshake part of the context, as a new device model starts it. */
function freshHandshake(): Pick<
  PvUnplugContext,
  | 'magic'
  | 'protocolVersion'
  | 'product'
  | 'build'
  | 'mask'
  | 'blacklisted'
  | 'disappeared'
  | 'deleted'
  | 'log'
  | 'logLines'
  | 'logDropped'
  | 'logBytesDropped'
  | 'bucket'
  | 'throttled'
  | 'notes'
  | 'since'
> {
  return {
    magic: undefined,
    protocolVersion: undefined,
    product: undefined,
    build: undefined,
    mask: undefined,
    blacklisted: false,
    disappeared: [],
    deleted: [],
    log: [],
    logLines: 0,
    logDropped: 0,
    logBytesDropped: 0,
    bucket: undefined,
    throttled: false,
    notes: [],
    since: undefined,
  };
}

export function initialPvUnplugContext(input: PvUnplugInput): PvUnplugContext {
  return {
    uuid: input.uuid,
    domid: input.domid,
    profile: input.profile ?? 'seed',
    devices: [],
    driverKeys: {},
    ...freshHandshake(),
  };
}

/** The mask after `event` (ORed), or what a DEBUG_PLATFORM `unplug disks|nics` line implies when no mask was seen. */
function nextMask(context: PvUnplugContext, event: PvUnplugEvent): number {
  if (event.type === 'pv.mask') return (context.mask ?? 0) | (event.value & 0xffff);
  if (event.type === 'pv.unplug') {
    if (context.mask !== undefined) return context.mask;
    return event.what === 'disks' ? UNPLUG_IDE_DISKS : UNPLUG_NICS;
  }
  return context.mask ?? 0;
}

function mergeDisappeared(before: EmulatedDevice[], now: EmulatedDevice[]): EmulatedDevice[] {
  const seen = new Set(before.map((d) => d.id));
  return [...before, ...now.filter((d) => !seen.has(d.id))];
}

export const pvUnplugMachine = setup({
  types: {
    context: {} as PvUnplugContext,
    events: {} as PvUnplugEvent,
    input: {} as PvUnplugInput,
  },
  guards: {
    isBlacklistMagic: ({ event }) => event.type === 'pv.magic' && event.value === MAGIC_BLACKLISTED,
    isPlatformMagic: ({ event }) => event.type === 'pv.magic' && event.value === MAGIC,
    hasProduct: ({ context }) => context.product !== undefined && context.product !== 0,
  },
  actions: {
    /** Why: the start of a handshake is where an incident range begins. */
    markSince: assign({
      since: ({ context, event }) => context.since ?? event.seq,
    }),
    /** Why: the magic read tells whether the drivers were told to stop; upstream QEMU never answers 0xd249. */
    recordMagic: assign(({ context, event }) => {
      assertEvent(event, 'pv.magic');
      let notes = context.notes;
      if (event.value !== MAGIC && event.value !== MAGIC_BLACKLISTED)
        notes = addNote(notes, `magic ${hex(event.value)} is not the platform device's: drivers stop`);
      else if (event.value === MAGIC_BLACKLISTED && context.profile === 'upstream')
        notes = addNote(notes, `magic ${hex(event.value)} from a device model expected to be upstream QEMU`);
      else if (event.value === MAGIC && context.blacklisted)
        notes = addNote(notes, `magic ${hex(event.value)} read after the drivers were blacklisted`);
      return { magic: event.value, notes };
    }),
    /** Why: version 0 means the drivers skip product and build and go straight to the mask. */
    recordVersion: assign(({ event }) => {
      assertEvent(event, 'pv.version');
      return { protocolVersion: event.value };
    }),
    /** Why: the product decides whether a later build is accepted and names the drivers in summaries. */
    recordProduct: assign(({ context, event }) => {
      assertEvent(event, 'pv.product');
      const notes =
        context.protocolVersion === 0
          ? addNote(context.notes, `product ${event.value} written after protocol version 0`)
          : context.notes;
      return { product: event.value, notes };
    }),
    /** Why: the build identifies the driver release that was (or was not) blacklisted. */
    recordBuild: assign(({ event }) => {
      assertEvent(event, 'pv.build');
      return { build: event.value >>> 0 };
    }),
    /** Why: seed 003 ignores a build written before a (non-zero) product and logs it; Xendeck keeps that note. */
    ignoreBuild: assign(({ context, event }) => {
      const value = event.type === 'pv.build' || event.type === 'pv.build.ignored' ? event.value >>> 0 : 0;
      return { notes: addNote(context.notes, `build ${value} written before the product number: ignored`) };
    }),
    /** Why: a blacklisted driver must not load; the flag stays until the device model restarts. */
    markBlacklisted: assign(({ context }) => {
      // qemu-traditional only looks up /mh/driver-blacklist/xensource-windows/<build> (product 1).
      const unexpected = context.profile === 'seed' && context.product !== undefined && context.product !== 1;
      return {
        blacklisted: true,
        notes: unexpected ? addNote(context.notes, `product ${context.product} blacklisted, though only product 1 has a blacklist`) : context.notes,
      };
    }),
    /** Why: a blacklist answer after the devices went cannot bring them back; say so. */
    noteLateBlacklist: assign(({ context }) => ({
      blacklisted: true,
      notes: addNote(context.notes, 'drivers blacklisted after the unplug mask was written'),
    })),
    /** Why: the mask decides which emulated devices disappear from the guest. */
    applyMask: assign(({ context, event }) => {
      const mask = nextMask(context, event);
      let notes = context.notes;
      if (event.type === 'pv.mask') {
        if (context.blacklisted) notes = addNote(notes, `unplug mask ${hex(event.value)} written by blacklisted drivers`);
        else if (context.protocolVersion !== undefined && context.protocolVersion !== 0 && context.product === undefined)
          notes = addNote(notes, `unplug mask ${hex(event.value)} written before a product number`);
      }
      return { mask, notes, disappeared: mergeDisappeared(context.disappeared, unplugEffect(mask, context.devices)) };
    }),
    /** Why: guest log lines are kept only within the bucket's budget, and the rest counted. */
    takeLogLine: assign(({ context, event }) => {
      assertEvent(event, 'pv.log');
      const bytes = utf8Length(event.text);
      const t = TokenBucket.take(context.bucket, bytes, event.ts);
      if (!t.ok) {
        return { bucket: t.state, logDropped: context.logDropped + 1, logBytesDropped: context.logBytesDropped + bytes };
      }
      const log = [...context.log, { seq: event.seq, ts: event.ts, text: event.text }];
      return {
        bucket: t.state,
        logLines: context.logLines + 1,
        log: log.length > LOG_KEEP ? log.slice(log.length - LOG_KEEP) : log,
      };
    }),
    /** Why: lines the host dropped before recording still count against what the guest said. */
    countDroppedLines: assign(({ context, event }) => {
      assertEvent(event, 'pv.log.dropped');
      return {
        logDropped: context.logDropped + event.count,
        logBytesDropped: context.logBytesDropped + event.bytes,
      };
    }),
    /** Why: qemu-traditional blocks a flooding guest; a person should know the guest was slowed. */
    markThrottled: assign({ throttled: true }),
    /** Why: the emulated twins of the domain's disks and NICs are what an unplug can remove. */
    upsertDevice: assign(({ context, event }) => {
      assertEvent(event, 'pv.device');
      const isNic = event.device.kind === 'nic';
      const same = (d: EmulatedDevice) =>
        d.id === event.device.id || (d.devid !== undefined && d.devid === event.device.devid && (d.kind === 'nic') === isNic);
      const i = context.devices.findIndex(same);
      const devices = [...context.devices];
      if (i < 0) devices.push(event.device);
      else devices[i] = event.device;
      return { devices };
    }),
    /** Why: a removed backend has no emulated twin left to unplug. */
    removeDevice: assign(({ context, event }) => {
      assertEvent(event, 'pv.device.removed');
      const devices = context.devices.filter((d) => {
        const isNic = d.kind === 'nic';
        if (isNic !== (event.kind === 'nic')) return true;
        return event.devid !== undefined && d.devid !== event.devid;
      });
      return { devices };
    }),
    /** Why: QEMU's DEVICE_DELETED confirms a device is really gone. */
    recordDeleted: assign(({ context, event }) => {
      assertEvent(event, 'pv.device.deleted');
      if (context.deleted.includes(event.device)) return {};
      const deleted = [...context.deleted, event.device];
      return { deleted: deleted.length > DELETED_KEEP ? deleted.slice(deleted.length - DELETED_KEEP) : deleted };
    }),
    /** Why: the keys loaded drivers publish show which driver release runs in the guest. */
    recordDriverKey: assign(({ context, event }) => {
      assertEvent(event, 'pv.driver.key');
      if (!(event.key in context.driverKeys) && Object.keys(context.driverKeys).length >= DRIVER_KEYS_KEEP) return {};
      return { driverKeys: { ...context.driverKeys, [event.key]: event.value } };
    }),
    /** Why: the device model's flavour decides what to expect (only qemu-traditional blacklists). */
    setProfile: assign(({ event }) => {
      assertEvent(event, 'pv.profile');
      return { profile: event.profile };
    }),
    /** Why: a new domain instance starts a new device model whose platform device knows nothing yet. */
    resetHandshake: assign(({ context, event }) => {
      assertEvent(event, 'pv.reset');
      const sameInstance = context.domid === event.domid;
      return {
        ...freshHandshake(),
        domid: event.domid,
        devices: sameInstance ? context.devices : [],
        driverKeys: sameInstance ? context.driverKeys : {},
      };
    }),
  },
}).createMachine({
  id: 'pvUnplug',
  context: ({ input }) => initialPvUnplugContext(input),
  initial: 'emulated',
  on: {
    'pv.log': { actions: 'takeLogLine' },
    'pv.log.dropped': { actions: 'countDroppedLines' },
    'pv.throttled': { actions: 'markThrottled' },
    'pv.device': { actions: 'upsertDevice' },
    'pv.device.removed': { actions: 'removeDevice' },
    'pv.device.deleted': { actions: 'recordDeleted' },
    'pv.driver.key': { actions: 'recordDriverKey' },
    'pv.profile': { actions: 'setProfile' },
    'pv.reset': { target: '.emulated', actions: 'resetHandshake' },
    'pv.mask': { target: '.unplugged', actions: ['markSince', 'applyMask'] },
    'pv.unplug': { target: '.unplugged', actions: ['markSince', 'applyMask'] },
    'pv.build.ignored': { actions: ['markSince', 'ignoreBuild'] },
  },
  states: {
    emulated: {
      on: {
        'pv.magic': [
          { guard: 'isBlacklistMagic', target: 'blacklisted', actions: ['markSince', 'recordMagic', 'markBlacklisted'] },
          { guard: 'isPlatformMagic', target: 'probed', actions: ['markSince', 'recordMagic'] },
          { actions: ['markSince', 'recordMagic'] },
        ],
        'pv.version': { target: 'probed', actions: ['markSince', 'recordVersion'] },
        'pv.product': { target: 'probed', actions: ['markSince', 'recordProduct'] },
        'pv.build': [
          { guard: 'hasProduct', target: 'probed', actions: ['markSince', 'recordBuild'] },
          { target: 'probed', actions: ['markSince', 'ignoreBuild'] },
        ],
        'pv.build.ignored': { target: 'probed', actions: ['markSince', 'ignoreBuild'] },
        'pv.blacklisted': { target: 'blacklisted', actions: ['markSince', 'markBlacklisted'] },
      },
    },
    probed: {
      on: {
        'pv.magic': [
          { guard: 'isBlacklistMagic', target: 'blacklisted', actions: ['recordMagic', 'markBlacklisted'] },
          { actions: 'recordMagic' },
        ],
        'pv.version': { actions: 'recordVersion' },
        'pv.product': { actions: 'recordProduct' },
        'pv.build': [{ guard: 'hasProduct', actions: 'recordBuild' }, { actions: 'ignoreBuild' }],
        'pv.blacklisted': { target: 'blacklisted', actions: 'markBlacklisted' },
      },
    },
    blacklisted: {
      on: {
        'pv.magic': { actions: 'recordMagic' },
        'pv.version': { actions: 'recordVersion' },
        'pv.product': { actions: 'recordProduct' },
        'pv.build': [{ guard: 'hasProduct', actions: 'recordBuild' }, { actions: 'ignoreBuild' }],
      },
    },
    unplugged: {
      on: {
        'pv.magic': { actions: 'recordMagic' },
        'pv.version': { actions: 'recordVersion' },
        'pv.product': { actions: 'recordProduct' },
        'pv.build': [{ guard: 'hasProduct', actions: 'recordBuild' }, { actions: 'ignoreBuild' }],
        'pv.blacklisted': { actions: 'noteLateBlacklist' },
      },
    },
  },
});
