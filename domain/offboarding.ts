import type { LifecycleDurations } from './durations';
import { DomainInputError } from './errors';
import { recertificationRequired } from './risk';
import type { RiskTier } from './tiers';
import type { Instant } from './time';
import { epochMs, isDateOnly, isoFromEpochMs, MS_PER_DAY } from './time';

export const OFFBOARDING_TRIGGER_KINDS = [
  'contract-end',
  'inactivity',
  'anchor-reverification',
  'recertification',
  'key-compromise',
  'manual',
] as const;

export type OffboardingTriggerKind = (typeof OFFBOARDING_TRIGGER_KINDS)[number];

/**
 * One armed trigger. Timed ones carry `dueAt` (a durable timer); periodic ones also `everyMs`;
 * event-driven ones (key compromise, manual) carry neither and fire on a signal.
 */
export interface OffboardingTrigger {
  kind: OffboardingTriggerKind;
  dueAt?: string;
  everyMs?: number;
  /** Inactivity only: how long without calls offboards. `dueAt` is its first deadline, moved on by each call. */
  windowMs?: number;
  /** Contract end only: when to notify the contacts that access is ending. */
  noticeAt?: string;
  description: string;
}

export type TriggerDurations = Pick<
  LifecycleDurations,
  'inactivityMs' | 'anchorReverificationEveryMs' | 'recertificationStrategicMs' | 'recertificationRegulatedMs' | 'contractEndNoticeMs'
>;

/**
 * The offboarding triggers for a newly admitted application, as data for the workflow to arm.
 * A date-only contract end ("2027-06-30") means the contract runs through that day, so the trigger
 * fires at 00:00 UTC the day after; a full timestamp is used as given. A contract end already past
 * is returned as is (its timer fires at once). No contract end date (open-ended contract): no
 * contract-end trigger. Throws DomainInputError on an unparseable date.
 */
export function armTriggers({
  tier,
  contractEndDate,
  admittedAt,
  durations,
}: {
  tier: RiskTier;
  contractEndDate?: Instant | null;
  admittedAt: Instant;
  durations: TriggerDurations;
}): OffboardingTrigger[] {
  const admitted = epochMs(admittedAt);
  if (admitted === undefined) throw new DomainInputError('ADMITTED_AT_INVALID', `admittedAt ${String(admittedAt)} is not a valid instant`);
  const triggers: OffboardingTrigger[] = [];

  if (contractEndDate !== undefined && contractEndDate !== null) {
    const end = contractEndMs(contractEndDate);
    const noticeAt = Math.max(admitted, end - durations.contractEndNoticeMs);
    triggers.push({
      kind: 'contract-end',
      dueAt: isoFromEpochMs(end),
      noticeAt: isoFromEpochMs(noticeAt),
      description: `offboard when the contract ends (${isoFromEpochMs(end)}); contacts are notified from ${isoFromEpochMs(noticeAt)}`,
    });
  }
  triggers.push({
    kind: 'inactivity',
    dueAt: isoFromEpochMs(admitted + durations.inactivityMs),
    windowMs: durations.inactivityMs,
    description: `offboard after ${days(durations.inactivityMs)} without a call; each call restarts the window`,
  });
  triggers.push({
    kind: 'anchor-reverification',
    dueAt: isoFromEpochMs(admitted + durations.anchorReverificationEveryMs),
    everyMs: durations.anchorReverificationEveryMs,
    description: `re-verify the trust anchor every ${days(durations.anchorReverificationEveryMs)}; expiry, revocation, unreachable or rotated keys suspend access`,
  });
  const recertifyEveryMs = recertificationIntervalMs(tier, durations);
  if (recertifyEveryMs !== undefined) {
    triggers.push({
      kind: 'recertification',
      dueAt: isoFromEpochMs(admitted + recertifyEveryMs),
      everyMs: recertifyEveryMs,
      description: `${tier} partners are recertified by approvers every ${days(recertifyEveryMs)}; offboard if not recertified`,
    });
  }
  triggers.push({ kind: 'key-compromise', description: 'offboard immediately when a key compromise is reported' });
  triggers.push({ kind: 'manual', description: 'offboard when an approver or security operations decides to' });
  return triggers;
}

/** How often a tier is recertified, or undefined when it is not. */
export function recertificationIntervalMs(
  tier: RiskTier,
  durations: Pick<LifecycleDurations, 'recertificationStrategicMs' | 'recertificationRegulatedMs'>,
): number | undefined {
  if (!recertificationRequired(tier)) return undefined;
  return tier === 'REGULATED' ? durations.recertificationRegulatedMs : durations.recertificationStrategicMs;
}

/**
 * Inactive once a full window has passed since the last call, boundary included: the inactivity
 * timer is set for exactly `lastSeenAt + inactivityMs`, and must find the application inactive when it fires.
 * An unparseable `lastSeenAt` counts as inactive; pass the admission time when it has never been seen.
 */
export function isInactive(lastSeenAt: Instant, now: Instant, inactivityMs: number): boolean {
  const last = epochMs(lastSeenAt);
  const at = epochMs(now);
  if (at === undefined) throw new DomainInputError('NOW_INVALID', 'now is not a valid instant');
  if (last === undefined) return true;
  return at - last >= inactivityMs;
}

/** When the inactivity trigger is next due, given the last call (or the admission time). */
export function inactivityDueAt(lastSeenAt: Instant, inactivityMs: number): string {
  const last = epochMs(lastSeenAt);
  if (last === undefined) throw new DomainInputError('LAST_SEEN_INVALID', 'lastSeenAt is not a valid instant');
  return isoFromEpochMs(last + inactivityMs);
}

export type AnchorHealth = 'healthy' | 'expiring' | 'expired';

/**
 * X.509 validity includes notAfter itself (RFC 5280 §4.1.2.5), so an anchor is expired only after
 * it. It is expiring from `noticeMs` before notAfter, inclusive, when the notice timer fires.
 * An unparseable notAfter is treated as expired.
 */
export function anchorHealth({ notAfter, now, noticeMs }: { notAfter: Instant; now: Instant; noticeMs: number }): AnchorHealth {
  const expiry = epochMs(notAfter);
  const at = epochMs(now);
  if (at === undefined) throw new DomainInputError('NOW_INVALID', 'now is not a valid instant');
  if (expiry === undefined || at > expiry) return 'expired';
  return expiry - at <= noticeMs ? 'expiring' : 'healthy';
}

function contractEndMs(contractEndDate: Instant): number {
  const ms = epochMs(contractEndDate);
  if (ms === undefined) throw new DomainInputError('CONTRACT_END_INVALID', `contract end date ${String(contractEndDate)} is not a valid date`);
  return isDateOnly(contractEndDate) ? ms + MS_PER_DAY : ms;
}

function days(ms: number): string {
  const count = ms / MS_PER_DAY;
  if (Number.isInteger(count)) return count === 1 ? '1 day' : `${count} days`;
  return `${ms} ms`;
}
