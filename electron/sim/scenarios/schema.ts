/**
 * Scenario format v1 (DESIGN.md section 7), parsed with zod. Additions to the
 * documented vocabulary: `host.files` / `host.dirs` (the host file system the
 * backends see), `xenstore` (nodes present at start, e.g. a driver blacklist),
 * `end` (ms after which the scenario is over), `expect` (the final state the
 * scenario tests check), and the `arg` of a guest action.
 */
import { z } from 'zod';
import { domainSpecSchema } from '../host/types.ts';

const at = z.number().nonnegative();

export const stepSchema = z.union([
  z.object({ at, xl: z.array(z.string()).min(1) }),
  z.object({ at, guest: z.string(), do: z.string(), arg: z.string().optional() }),
  z.object({ at, fault: z.literal('qmp-change-fails'), domain: z.string(), count: z.number().int().positive().default(1) }),
  z.object({ at, fault: z.literal('backend-stall'), domain: z.string(), device: z.string() }),
  z.object({ at, fault: z.literal('frontend-write'), domain: z.string(), path: z.string(), value: z.string() }),
  z.object({ at, fault: z.literal('hotplug-error'), domain: z.string(), device: z.string(), message: z.string().default('hotplug script failed') }),
  z.object({ at, fault: z.literal('ioreq-create'), domain: z.string(), count: z.number().int().positive().default(1), emulator: z.number().int().nonnegative().default(0) }),
  z.object({ at, fault: z.literal('helper-kill') }),
  z.object({ at, fault: z.literal('xenstored-restart') }),
  z.object({ at, fault: z.literal('qemu-kill'), domain: z.string() }),
  z.object({ at, fault: z.literal('guest-flood'), domain: z.string(), path: z.string(), rate: z.number().positive(), ms: z.number().positive() }),
  /** The host's wall clock steps back by `ms` (an NTP correction, a person setting the clock): the host flags it (`host.clock`). */
  z.object({ at, fault: z.literal('clock-back'), ms: z.number().int().positive() }),
  /** The filesystem holding the host's data dir (outbox) fills up; only on a small filesystem (a test's tmpfs), never a real disk. */
  z.object({ at, fault: z.literal('disk-fill') }),
  /** Space returns: what disk-fill wrote is removed. */
  z.object({ at, fault: z.literal('disk-free') }),
]);
export type Step = z.infer<typeof stepSchema>;

export const scenarioSchema = z.object({
  format: z.literal('xendeck-scenario'),
  version: z.literal(1),
  name: z.string(),
  description: z.string().optional(),
  host: z
    .object({
      xen: z.string().default('4.17.7'),
      qemu: z.string().default('7.2.22'),
      profile: z.enum(['seed', 'upstream']).default('seed'),
      files: z.record(z.string(), z.number()).default({}),
      dirs: z.array(z.string()).default([]),
    })
    .default({ xen: '4.17.7', qemu: '7.2.22', profile: 'seed', files: {}, dirs: [] }),
  xenstore: z.record(z.string(), z.string()).default({}),
  domains: z.array(domainSpecSchema).default([]),
  steps: z.array(stepSchema).default([]),
  end: z.number().nonnegative().optional(),
  /**
   * What the simulated host looks like once the scenario has played (checked by
   * the scenario tests): domain states by name (`running`, `shutdown`, `paused`,
   * `gone`), domids, xenstore values, and lines the logs must contain.
   */
  expect: z
    .object({
      domains: z.record(z.string(), z.enum(['running', 'shutdown', 'paused', 'gone'])).default({}),
      domids: z.record(z.string(), z.number().int()).default({}),
      xenstore: z.record(z.string(), z.string()).default({}),
      logs: z.record(z.string(), z.array(z.string())).default({}),
    })
    .optional(),
});
export type Scenario = z.infer<typeof scenarioSchema>;

export function parseScenario(json: unknown): Scenario {
  return scenarioSchema.parse(json);
}
