import { ApplicationFailure } from '@temporalio/common';
import { epochMs } from '../domain/time';

/**
 * Activity failures are typed: a `nonRetryable` failure means retrying cannot
 * help (the input is wrong, or the registry says no), anything else is
 * retried by Temporal's policy. The `type` is stable, for the workflow to branch on.
 */
export function invalidRegistryInput(message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type: 'InvalidRegistryInput', message, nonRetryable: true, details: [details] });
}

export const ACTIVITY_FAILURES = {
  /** The input cannot mean anything (a bad date, an unknown scope…). */
  INVALID_INPUT: 'InvalidActivityInput',
  APPLICATION_NOT_FOUND: 'ApplicationNotFound',
  /** The application has ended (offboarded, rejected, expired): nothing more may be granted. */
  APPLICATION_CLOSED: 'ApplicationClosed',
  ANCHOR_NOT_BOUND: 'AnchorNotBound',
  NO_ACTIVE_GRANT: 'NoActiveGrant',
  NOT_SUSPENDED: 'NotSuspended',
  CONFIRMATION_UNKNOWN: 'ConfirmationUnknown',
  CONFIRMATION_LINK_EXPIRED: 'ConfirmationLinkExpired',
  /** The primary domain cannot be proven: not a domain name, or a public suffix. */
  DOMAIN_NOT_ACCEPTABLE: 'DomainNotAcceptable',
  /** checkDomainControl for a challenge that was never issued. */
  DOMAIN_CHALLENGE_UNKNOWN: 'DomainChallengeUnknown',
  /**
   * PostgreSQL refused the data itself (too long, out of range, a byte it cannot
   * store, a check constraint): the same write fails on every attempt, so it is
   * not retried (activities/data-errors.ts). The workflow ends the lifecycle with
   * the failure's message as its reason.
   */
  REGISTRY_DATA_REJECTED: 'RegistryDataRejected',
} as const;

/** Retryable failures: Temporal tries again by the activity's retry policy. */
export const RETRYABLE_FAILURES = {
  /** GLEIF (or the configured mirror) did not answer usefully after the client's own retries. */
  LEI_SOURCE_UNAVAILABLE: 'LeiSourceUnavailable',
} as const;

export type ActivityFailureType = (typeof ACTIVITY_FAILURES)[keyof typeof ACTIVITY_FAILURES];

/** A failure no retry can fix; the message says what to change. */
export function permanentFailure(type: ActivityFailureType, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

/** A Date from an ISO-8601 input, or a non-retryable failure naming the field. */
export function instant(value: string, field: string): Date {
  // The domain's parser: ISO-8601 with an offset, never the host's time zone.
  const ms = typeof value === 'string' ? epochMs(value) : undefined;
  if (ms === undefined) {
    throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, `${field} must be an ISO-8601 instant, not ${JSON.stringify(value)}.`);
  }
  return new Date(ms);
}
