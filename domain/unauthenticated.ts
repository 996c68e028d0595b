/**
 * What a Temporal payload that Admit did not encrypt becomes.
 *
 * Every payload Admit puts into Temporal is sealed with AES-256-GCM
 * (temporal/codec.ts), which authenticates as well as hides. A payload that is
 * not sealed with Admit's key (sent in clear with the `temporal` CLI, sealed
 * with another key, tampered with or truncated) was not written by Admit, so
 * its content must not be believed. Throwing in the codec would fail the
 * workflow task, and a signal stays in history, so the lifecycle would fail on
 * every replay; instead the codec decodes such a payload to this marker, and
 * every message handler and Update validator refuses it.
 *
 * Pure (no I/O), so workflow code may import it.
 */
export const UNAUTHENTICATED_PAYLOAD_KEY = '__admitUnauthenticatedPayload';

export interface UnauthenticatedPayload {
  readonly [UNAUTHENTICATED_PAYLOAD_KEY]: true;
}

/** The value the codec decodes an unauthenticated payload to (as JSON). */
export const UNAUTHENTICATED_PAYLOAD: UnauthenticatedPayload = Object.freeze({ [UNAUTHENTICATED_PAYLOAD_KEY]: true });

/** True for the marker the codec substitutes for a payload Admit did not seal. */
export function isUnauthenticatedPayload(value: unknown): value is UnauthenticatedPayload {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && (value as Record<string, unknown>)[UNAUTHENTICATED_PAYLOAD_KEY] === true
  );
}

/** True when any of a message's arguments is the marker: the message as a whole must be refused. */
export function hasUnauthenticatedPayload(args: readonly unknown[]): boolean {
  return args.some(isUnauthenticatedPayload);
}

/** The refusal every Update validator gives for a marked message. */
export const UNAUTHENTICATED_MESSAGE =
  'This message was not sealed with Admit’s payload key (sent in clear, with another key, or altered), so it was ignored.';
