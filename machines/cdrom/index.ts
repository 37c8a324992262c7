export { cdromMachine } from './cdrom.machine.ts';
export { cdromBinding, routeCdrom, cdromIncident, cdromActorId } from './cdrom.binding.ts';
export {
  vdevToDevid,
  tryVdevToDevid,
  stubdomFdset,
  tryStubdomFdset,
  mediaPathOf,
  devidOfQmpId,
  STUBDOM_FDSET_CD,
} from './cdrom.vdev.ts';
export {
  parseXlStep,
  verdictOf,
  isLockedText,
  TIMELINE_MAX,
  MAX_CHANGE_RETRIES,
  CHANGE_RETRY_MS,
  CD_OPERATION_TIMEOUT_MS,
  ERROR_QMP_GENERIC_ERROR,
} from './cdrom.steps.ts';
export type * from './cdrom.types.ts';
