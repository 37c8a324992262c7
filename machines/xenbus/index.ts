export { xenbusMachine } from './xenbus.machine.ts';
export { xenbusBinding, xenbusIncident, xenbusActorId, priorKeys, TRACKED_KEYS } from './xenbus.binding.ts';
export type { TransitionInfo, IncidentHit } from './xenbus.binding.ts';
export { reduceXenbus, linkOf, parseXenbusState, initialXenbusContext, isRemoved } from './xenbus.logic.ts';
export { parseDevicePath, deviceDir, devicesBelow, frontendKindOf } from './xenbus.paths.ts';
export type { DevicePath } from './xenbus.paths.ts';
export * from './xenbus.types.ts';
