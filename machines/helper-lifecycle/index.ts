/** The helper lifecycle machine (driven by the host, not routed from records). */
export { helperLifecycleMachine, DEFAULT_DELAYS_MS, DEFAULT_MAX_ATTEMPTS, DEFAULT_STABLE_MS } from './helper-lifecycle.machine.ts';
export type { HelperLifecycleMachine } from './helper-lifecycle.machine.ts';
export type { HelperLifecycleContext, HelperLifecycleEvent, HelperLifecycleInput, HelperLifecycleState } from './helper-lifecycle.types.ts';
export { HELPER_LIFECYCLE_STATES } from './helper-lifecycle.types.ts';
