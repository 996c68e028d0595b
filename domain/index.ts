// The pure domain rules shared by the partner-lifecycle workflow and its activities. Everything
// here is deterministic and free of I/O, clocks and randomness, so it is safe inside workflow code.
export * from './tiers';
export * from './environments';
export * from './time';
export * from './errors';
export * from './durations';
export * from './scopes';
export * from './risk';
export * from './approval';
export * from './expansion';
export * from './policy';
export * from './offboarding';
export * from './unauthenticated';
