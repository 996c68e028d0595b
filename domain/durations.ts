import { DomainInputError } from './errors';
import { MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE } from './time';

const SHORTHAND_UNIT_MS = {
  ms: 1,
  s: 1000,
  m: MS_PER_MINUTE,
  h: MS_PER_HOUR,
  d: MS_PER_DAY,
  w: 7 * MS_PER_DAY,
} as const satisfies Record<string, number>;

const ACCEPTED_FORMS =
  "use a number with a unit (ms, s, m, h, d, w), e.g. '15m', '36h', '30d', '1h30m', " +
  "or ISO-8601 without years or months, e.g. 'PT15M', 'P30D', 'P1DT12H', 'P2W'";

export class DurationParseError extends DomainInputError {
  constructor(
    readonly input: string,
    problem: string,
  ) {
    super('DURATION_INVALID', `Invalid duration ${JSON.stringify(input)}: ${problem}; ${ACCEPTED_FORMS}.`);
  }
}

const SHORTHAND = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w)\s*)+$/;
const SHORTHAND_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;
// Years and months are refused rather than approximated: their length depends on the calendar date.
const ISO_WEEKS = /^P(\d+(?:[.,]\d+)?)W$/;
const ISO_DAY_TIME = /^P(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;

/**
 * Milliseconds in a human or ISO-8601 duration. Bare numbers are refused: "900" could be seconds
 * or milliseconds, and a silent factor-of-1000 error on a security timer is worse than an error.
 */
export function parseDuration(input: string): number {
  if (typeof input !== 'string') throw new DurationParseError(String(input), 'not a string');
  const text = input.trim();
  if (text === '') throw new DurationParseError(input, 'empty');
  if (/^[+-]?\d+(?:\.\d+)?$/.test(text)) throw new DurationParseError(input, 'a bare number has no unit');
  if (text.startsWith('-')) throw new DurationParseError(input, 'negative durations are not allowed');

  const ms = text.toUpperCase().startsWith('P') ? parseIso(input, text.toUpperCase()) : parseShorthand(input, text);
  if (!Number.isSafeInteger(ms)) throw new DurationParseError(input, 'too large');
  return ms;
}

function parseShorthand(input: string, text: string): number {
  if (!SHORTHAND.test(text)) {
    throw new DurationParseError(input, 'not a recognised form (units are lower-case; months and years are not supported)');
  }
  let total = 0;
  for (const [, amount, unit] of text.matchAll(SHORTHAND_PART)) {
    total += Number(amount) * SHORTHAND_UNIT_MS[unit as keyof typeof SHORTHAND_UNIT_MS];
  }
  return Math.round(total);
}

function parseIso(input: string, text: string): number {
  const datePart = text.slice(1).split('T')[0] ?? '';
  if (/[YM]/.test(datePart)) {
    throw new DurationParseError(input, 'years and months have no fixed length');
  }
  const weeks = ISO_WEEKS.exec(text);
  if (weeks) return Math.round(isoNumber(weeks[1]) * SHORTHAND_UNIT_MS.w);

  const dayTime = ISO_DAY_TIME.exec(text);
  if (!dayTime || text === 'P' || text.endsWith('T')) {
    throw new DurationParseError(input, 'not a valid ISO-8601 duration');
  }
  const [, days, hours, minutes, seconds] = dayTime;
  return Math.round(isoNumber(days) * MS_PER_DAY + isoNumber(hours) * MS_PER_HOUR + isoNumber(minutes) * MS_PER_MINUTE + isoNumber(seconds) * 1000);
}

function isoNumber(part: string | undefined): number {
  return part === undefined ? 0 : Number(part.replace(',', '.'));
}

/**
 * Every lifecycle timing in one object, in milliseconds, so the workflow receives one value and the
 * config module overrides it from the environment. `anchorResubmissionLimit` is the one count among
 * them; it lives here because it is tuned together with the timings (how long a partner may retry).
 */
export interface LifecycleDurations {
  /** Resend the contact-confirmation link after this long without a confirmation. */
  contactReminderMs: number;
  /** Admission ends if any contact has not confirmed within this long. */
  contactExpiryMs: number;
  /** Admission ends if no trust anchor has been verified within this long after the contacts confirmed. */
  anchorSubmissionMs: number;
  /** Escalate to further approvers after this long without a decision. */
  approvalEscalationMs: number;
  /** Admission ends (not approved) after this long without a decision. */
  approvalExpiryMs: number;
  /** Base probation after admission; tiers scale it (see `probationMs` in scopes). */
  probationMs: number;
  /** No calls for this long offboards the application. */
  inactivityMs: number;
  /** How often the trust anchor is re-verified (expiry, revocation, reachability, rotation). */
  anchorReverificationEveryMs: number;
  /** Warn contacts this long before the anchor's notAfter. */
  anchorExpiryNoticeMs: number;
  /** A suspended application is offboarded if not reinstated within this long. */
  suspensionGraceMs: number;
  recertificationStrategicMs: number;
  recertificationRegulatedMs: number;
  /** Notify contacts this long before the contract end date. */
  contractEndNoticeMs: number;
  /** During key rotation the old and new anchors are both accepted for this long. */
  rotationOverlapMs: number;
  /** How often the workflow looks for the domain-control proof while verifying the entity. */
  domainCheckEveryMs: number;
  /** How often an admitted organisation's LEI is checked again (a lapsed or ended LEI is a trigger). */
  leiRecheckEveryMs: number;
  /** How many times a refused trust anchor may be resubmitted before admission ends. */
  anchorResubmissionLimit: number;
}

export const DEFAULT_LIFECYCLE_DURATIONS: Readonly<LifecycleDurations> = Object.freeze({
  contactReminderMs: 2 * MS_PER_DAY,
  contactExpiryMs: 7 * MS_PER_DAY,
  anchorSubmissionMs: 14 * MS_PER_DAY,
  approvalEscalationMs: 2 * MS_PER_DAY,
  approvalExpiryMs: 14 * MS_PER_DAY,
  probationMs: 30 * MS_PER_DAY,
  inactivityMs: 90 * MS_PER_DAY,
  anchorReverificationEveryMs: 1 * MS_PER_DAY,
  anchorExpiryNoticeMs: 30 * MS_PER_DAY,
  suspensionGraceMs: 14 * MS_PER_DAY,
  recertificationStrategicMs: 180 * MS_PER_DAY,
  recertificationRegulatedMs: 90 * MS_PER_DAY,
  contractEndNoticeMs: 30 * MS_PER_DAY,
  rotationOverlapMs: 7 * MS_PER_DAY,
  domainCheckEveryMs: 10 * 60 * 1000,
  leiRecheckEveryMs: 30 * MS_PER_DAY,
  anchorResubmissionLimit: 3,
});

export type LifecycleSetting = keyof LifecycleDurations;

export const LIFECYCLE_SETTINGS = Object.keys(DEFAULT_LIFECYCLE_DURATIONS) as readonly LifecycleSetting[];

/** Consistency checks: every timing positive, and each reminder/escalation before its expiry. */
export function lifecycleDurationProblems(durations: Readonly<LifecycleDurations>): string[] {
  const problems: string[] = [];
  for (const setting of LIFECYCLE_SETTINGS) {
    const value = durations[setting];
    if (setting === 'anchorResubmissionLimit') {
      if (!Number.isSafeInteger(value) || value < 0) problems.push(`${setting} must be a non-negative integer`);
    } else if (!Number.isSafeInteger(value) || value <= 0) {
      problems.push(`${setting} must be a positive whole number of milliseconds`);
    }
  }
  if (durations.contactReminderMs >= durations.contactExpiryMs) {
    problems.push('contactReminderMs must be shorter than contactExpiryMs');
  }
  if (durations.approvalEscalationMs >= durations.approvalExpiryMs) {
    problems.push('approvalEscalationMs must be shorter than approvalExpiryMs');
  }
  return problems;
}
