/**
 * Every lifecycle machine the host router runs, in routing order. Adding a
 * machine means adding its binding here; its version goes into bundle manifests.
 */
import type { MachineBinding } from './binding.ts';

export const ALL_BINDINGS: MachineBinding[] = [];

/** `machines` of a bundle manifest: kind → version. */
export function machineVersions(bindings: MachineBinding[] = ALL_BINDINGS): Record<string, string> {
  return Object.fromEntries(bindings.map((b) => [b.kind, b.version]));
}
