/**
 * Thrown when a domain function is handed input that cannot mean anything (a malformed duration,
 * thresholds out of order, a contract end date that is not a date). Inside workflow code an
 * ordinary Error fails the workflow task and retries forever, so callers at the workflow boundary
 * should validate first (these functions share the checks) or convert this into an ApplicationFailure.
 */
export class DomainInputError extends Error {
  override readonly name = 'DomainInputError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
