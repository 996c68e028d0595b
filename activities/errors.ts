import { ApplicationFailure } from '@temporalio/common';

/**
 * Activity failures are typed: a `nonRetryable` failure means retrying cannot
 * help (the input is wrong), anything else is retried by Temporal's policy.
 */
export function invalidRegistryInput(message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type: 'InvalidRegistryInput', message, nonRetryable: true, details: [details] });
}
