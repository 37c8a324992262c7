// Property tests explore new inputs on every local run; in CI (CI=true) they replay one fixed
// seed so a result can be reproduced, and FC_SEED=<n> replays any seed a failure printed.
import fc from 'fast-check';

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : process.env.CI ? 20261121 : undefined;
if (seed !== undefined && Number.isFinite(seed)) fc.configureGlobal({ seed });
