export { ninepfsMachine } from './ninepfs.machine.ts';
export { ninepfsBinding, ninepfsIncident, ninepfsActorId, isTrackedFrontendKey, BACKEND_KEYS } from './ninepfs.binding.ts';
export type { TransitionInfo, IncidentHit } from './ninepfs.binding.ts';
export { reduceNinepfs, initialNinepfsContext } from './ninepfs.logic.ts';
export {
  uintFromString,
  daemonFrontendState,
  checkSecurityModel,
  checkHostPath,
  probeBackend,
  checkFrontend,
  PUBLISHED_KEYS,
  UNOBSERVED_CLOSE,
} from './ninepfs.rules.ts';
export * from './ninepfs.types.ts';
