export { pvUnplugMachine, initialPvUnplugContext } from './pvunplug.machine.ts';
export { pvUnplugBinding, routePvUnplug, pvUnplugIncident, PV_UNPLUG_KIND, PV_LOG_DROP_REASON } from './pvunplug.binding.ts';
export * from './pvunplug.types.ts';
export * from './unplug-effect.ts';
export * from './token-bucket.ts';
export * from './platform-lines.ts';
