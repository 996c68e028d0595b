// The worker bundles this module into Temporal's deterministic sandbox:
// everything reachable from here must be free of I/O, clocks and randomness
// outside Temporal's APIs.
export { partnerLifecycle } from './partner-lifecycle';
