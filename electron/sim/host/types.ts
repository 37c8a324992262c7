/**
 * Domain specs and host settings shared by the simulated toolstack, the xl
 * command and the scenario runner. A DomainSpec is the `domains[]` entry of a
 * scenario (DESIGN.md section 7) and what `xl create` builds from a config file.
 */
import { z } from 'zod';

export const diskSpecSchema = z.object({
  vdev: z.string(),
  target: z.string().optional(),
  cdrom: z.boolean().optional(),
  format: z.enum(['raw', 'qcow', 'qcow2', 'vhd', 'qed']).optional(),
  access: z.enum(['r', 'w']).optional(),
});
export type DiskSpec = z.infer<typeof diskSpecSchema>;

export const p9SpecSchema = z.object({
  tag: z.string(),
  path: z.string(),
  security_model: z.string().optional(),
  backend: z.enum(['xen_9pfsd', 'qemu']).optional(),
  /** What the guest's 9pfs frontend writes; defaults are a well-behaved Linux frontend. */
  frontend: z
    .object({
      version: z.string().optional(),
      num_rings: z.number().int().optional(),
      ring_order: z.number().int().optional(),
      event_channel: z.number().int().optional(),
      ring_ref: z.number().int().optional(),
      /** Grant the backend cannot map (ring-ref present but unmappable). */
      bad_grant: z.boolean().optional(),
      /** Event channel the backend cannot bind. */
      bad_evtchn: z.boolean().optional(),
    })
    .optional(),
});
export type P9Spec = z.infer<typeof p9SpecSchema>;

export const actionSchema = z.enum(['destroy', 'restart', 'rename-restart', 'preserve', 'coredump-destroy', 'coredump-restart', 'soft-reset']);
export type ShutdownAction = z.infer<typeof actionSchema>;

export const domainSpecSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/),
  type: z.enum(['pv', 'pvh', 'hvm']),
  memory: z.number().int().positive().default(1024),
  vcpus: z.number().int().positive().default(1),
  uuid: z.string().optional(),
  stubdom: z.boolean().optional(),
  disks: z.array(diskSpecSchema).default([]),
  nics: z.number().int().nonnegative().default(0),
  p9: z.array(p9SpecSchema).default([]),
  /** PV drivers the guest loads (HVM): product, build, unplug mask; omit for none. PV/PVH guests always have PV drivers. */
  pv: z.object({ product: z.number().int(), build: z.number().int(), unplug: z.number().int() }).optional(),
  on: z
    .object({
      poweroff: actionSchema.optional(),
      reboot: actionSchema.optional(),
      watchdog: actionSchema.optional(),
      crash: actionSchema.optional(),
      soft_reset: actionSchema.optional(),
    })
    .default({}),
  autostart: z.boolean().default(true),
  /** Simulated ms from unpause until the guest kernel has its PV drivers up. */
  boot_ms: z.number().int().nonnegative().default(1500),
});
export type DomainSpec = z.infer<typeof domainSpecSchema>;
export type DomainSpecInput = z.input<typeof domainSpecSchema>;

export type Profile = 'seed' | 'upstream';

export interface HostInfo {
  xen: string;
  qemu: string;
  profile: Profile;
}

export const SHUTDOWN_REASONS = ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'] as const;
export type ShutdownReason = (typeof SHUTDOWN_REASONS)[number];

/** Hypervisor domain info, the fields `xl list` and the helper's `dominfo` show. */
export interface DomInfo {
  domid: number;
  uuid: string;
  name: string;
  running: boolean;
  blocked: boolean;
  paused: boolean;
  shutdown: boolean;
  dying: boolean;
  reason?: ShutdownReason;
  memkb: number;
  vcpus: number;
  cpuTime: number;
}

/** libxl error codes used in messages and exit statuses. */
export const ERROR = {
  FAIL: -3,
  INVAL: -6,
  TIMEDOUT: -9,
  NOPARAVIRT: -10,
  QMP_GENERIC_ERROR: -28,
  QMP_COMMAND_NOT_FOUND: -29,
  QMP_DEVICE_NOT_ACTIVE: -30,
  QMP_DEVICE_NOT_FOUND: -31,
} as const;
