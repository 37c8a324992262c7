/**
 * Every lifecycle machine the host router runs, in routing order. Adding a
 * machine means adding its binding here; its version goes into bundle manifests.
 * The domain comes first so that device machines see a record after the domain has.
 */
import type { MachineBinding } from './binding.ts';
import { domainBinding } from '../domain/domain.binding.ts';
import { xenbusBinding } from '../xenbus/xenbus.binding.ts';
import { ninepfsBinding } from '../ninepfs/ninepfs.binding.ts';
import { cdromBinding } from '../cdrom/cdrom.binding.ts';
import { pvUnplugBinding } from '../pvunplug/pvunplug.binding.ts';
import { ioreqBinding } from '../ioreq/ioreq.binding.ts';

export const ALL_BINDINGS: MachineBinding[] = [domainBinding, xenbusBinding, ninepfsBinding, cdromBinding, pvUnplugBinding, ioreqBinding];

/** `machines` of a bundle manifest: kind → version. */
export function machineVersions(bindings: MachineBinding[] = ALL_BINDINGS): Record<string, string> {
  return Object.fromEntries(bindings.map((b) => [b.kind, b.version]));
}
