/** A mistake in how a command was called or an input that cannot be read: exit 2. */
export class UsageError extends Error {}
