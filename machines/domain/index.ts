/** The domain lifecycle machine: machine, binding (route + incidents), types and xl log parser. */
export { domainMachine } from './domain.machine.ts';
export type { DomainMachine } from './domain.machine.ts';
export { domainBinding, routeDomain, domainIncident, domainActorId } from './domain.binding.ts';
export type { DomainContext, DomainEvent, DomainEventType, DomainInput, OnActions, ShutdownRequest } from './domain.types.ts';
export { SHUTDOWN_REQUESTS } from './domain.types.ts';
export { parseXlLogLine, ON_SHUTDOWN_ACTIONS, REASON_BY_CODE } from './xl-log.ts';
export type { XlDecision, OnShutdownAction, ReasonName } from './xl-log.ts';
