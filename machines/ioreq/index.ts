export { ioreqMachine, initialIoreqContext } from './ioreq.machine.ts';
export { ioreqBinding, routeIoreq, ioreqIncident, parseIoreqOp, IOREQ_KIND } from './ioreq.binding.ts';
export { ioreqModel, parseXenVersion } from './ioreq.rules.ts';
export type { IoreqModel, IoreqDomainState, IoreqExpectation, IoreqApplied, XenVersion } from './ioreq.rules.ts';
export * from './ioreq.types.ts';
