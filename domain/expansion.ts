import { distinct } from './collections';
import { isKnownScope, outsideCeiling } from './scopes';
import type { RiskTier } from './tiers';
import type { Instant } from './time';
import { epochMs } from './time';

export interface UsageTelemetry {
  calls: number;
  denials: number;
  errors: number;
  anomalies: number;
  lastSeenAt?: Instant;
}

/** What "clean probation" means; rates are fractions of calls (0.01 = 1%), limits inclusive. */
export interface ExpansionPolicy {
  maxDenialRate: number;
  maxErrorRate: number;
  /** Fewer calls than this is too little evidence to grant anything automatically. */
  minCalls: number;
}

export const DEFAULT_EXPANSION_POLICY: Readonly<ExpansionPolicy> = Object.freeze({
  maxDenialRate: 0.01,
  maxErrorRate: 0.02,
  minCalls: 500,
});

export type ExpansionDecision = 'auto-grant' | 'needs-approval' | 'refuse';

export type ExpansionReasonCode =
  | 'NOTHING_NEW'
  | 'SCOPE_UNKNOWN'
  | 'OUTSIDE_CEILING'
  | 'TIME_INVALID'
  | 'IN_PROBATION'
  | 'USAGE_EVIDENCE'
  | 'USAGE_INVALID'
  | 'TOO_FEW_CALLS'
  | 'DENIAL_RATE_HIGH'
  | 'ERROR_RATE_HIGH'
  | 'ANOMALIES_SEEN'
  | 'TIER_NEEDS_APPROVAL'
  | 'POLICY_INVALID'
  | 'CLEAN_PROBATION';

export interface ExpansionReason {
  code: ExpansionReasonCode;
  message: string;
}

export interface ExpansionInput {
  tier: RiskTier;
  currentScopes: readonly string[];
  requestedScopes: readonly string[];
  probationEndsAt: Instant;
  now: Instant;
  usage: UsageTelemetry;
  policy: ExpansionPolicy;
}

export interface ExpansionResult {
  decision: ExpansionDecision;
  /** The scopes the decision is about: requested and not already held, each once, in the order asked. */
  scopes: string[];
  reasons: ExpansionReason[];
}

/**
 * Whether a request for more scopes is granted, sent to approvers or refused. A request is judged
 * whole: if any scope in it is unknown or beyond the ceiling, all of it is refused, so a partner
 * never ends up with an unpredictable subset. Probation ends at `probationEndsAt` exactly.
 */
export function decideExpansion(input: ExpansionInput): ExpansionResult {
  const { tier, usage, policy } = input;
  const held = new Set(input.currentScopes);
  const scopes = distinct(input.requestedScopes).filter((scope) => !held.has(scope));
  const refusals: ExpansionReason[] = [];

  if (scopes.length === 0) {
    return { decision: 'refuse', scopes, reasons: [{ code: 'NOTHING_NEW', message: 'every requested scope is already held' }] };
  }
  const unknown = scopes.filter((scope) => !isKnownScope(scope));
  if (unknown.length > 0) refusals.push({ code: 'SCOPE_UNKNOWN', message: `not in the scope catalogue: ${unknown.join(', ')}` });
  const beyond = outsideCeiling(tier, scopes).filter(isKnownScope);
  if (beyond.length > 0) refusals.push({ code: 'OUTSIDE_CEILING', message: `beyond the ${tier} ceiling: ${beyond.join(', ')}` });

  const now = epochMs(input.now);
  const probationEndsAt = epochMs(input.probationEndsAt);
  if (now === undefined || probationEndsAt === undefined) {
    refusals.push({ code: 'TIME_INVALID', message: 'now and probationEndsAt must be valid instants' });
  } else if (now < probationEndsAt) {
    refusals.push({ code: 'IN_PROBATION', message: `probation runs until ${new Date(probationEndsAt).toISOString()}` });
  }
  if (refusals.length > 0) return { decision: 'refuse', scopes, reasons: refusals };

  const evidence = usageEvidence(usage, policy);
  const policyProblems = expansionPolicyProblems(policy);
  if (policyProblems.length > 0) {
    // A broken policy must not open the automatic path; a human can still decide on the evidence.
    evidence.clean = false;
    evidence.reasons.push({ code: 'POLICY_INVALID', message: `expansion policy is invalid: ${policyProblems.join('; ')}` });
  }
  if (tier !== 'LOW') {
    return {
      decision: 'needs-approval',
      scopes,
      reasons: [{ code: 'TIER_NEEDS_APPROVAL', message: `${tier} expansions are decided by approvers` }, ...evidence.reasons],
    };
  }
  if (!evidence.clean) return { decision: 'needs-approval', scopes, reasons: evidence.reasons };
  return {
    decision: 'auto-grant',
    scopes,
    reasons: [{ code: 'CLEAN_PROBATION', message: 'LOW tier within its ceiling after a clean probation' }, ...evidence.reasons],
  };
}

export function expansionPolicyProblems(policy: ExpansionPolicy): string[] {
  const problems: string[] = [];
  const isRate = (rate: unknown) => typeof rate === 'number' && rate >= 0 && rate <= 1;
  if (!isRate(policy.maxDenialRate)) problems.push('maxDenialRate must be between 0 and 1');
  if (!isRate(policy.maxErrorRate)) problems.push('maxErrorRate must be between 0 and 1');
  if (!Number.isSafeInteger(policy.minCalls) || policy.minCalls < 0) problems.push('minCalls must be a non-negative integer');
  return problems;
}

function usageEvidence(usage: UsageTelemetry, policy: ExpansionPolicy): { clean: boolean; reasons: ExpansionReason[] } {
  const { calls, denials, errors, anomalies } = usage;
  const counts = [calls, denials, errors, anomalies];
  if (!counts.every((count) => Number.isSafeInteger(count) && count >= 0) || denials > calls || errors > calls) {
    return {
      clean: false,
      reasons: [
        {
          code: 'USAGE_INVALID',
          message: `telemetry is not usable as evidence (calls ${calls}, denials ${denials}, errors ${errors}, anomalies ${anomalies})`,
        },
      ],
    };
  }
  const denialRate = calls === 0 ? 0 : denials / calls;
  const errorRate = calls === 0 ? 0 : errors / calls;
  const lastSeen = epochMs(usage.lastSeenAt);
  const reasons: ExpansionReason[] = [
    {
      code: 'USAGE_EVIDENCE',
      message:
        `${calls} calls, ${denials} denials (${percent(denialRate)}), ${errors} errors (${percent(errorRate)}), ` +
        `${anomalies} anomalies, last seen ${lastSeen === undefined ? 'never' : new Date(lastSeen).toISOString()}`,
    },
  ];
  if (calls < policy.minCalls) reasons.push({ code: 'TOO_FEW_CALLS', message: `${calls} calls is below the ${policy.minCalls} needed as evidence` });
  if (denialRate > policy.maxDenialRate) {
    reasons.push({ code: 'DENIAL_RATE_HIGH', message: `denial rate ${percent(denialRate)} is above ${percent(policy.maxDenialRate)}` });
  }
  if (errorRate > policy.maxErrorRate) {
    reasons.push({ code: 'ERROR_RATE_HIGH', message: `error rate ${percent(errorRate)} is above ${percent(policy.maxErrorRate)}` });
  }
  if (anomalies > 0) reasons.push({ code: 'ANOMALIES_SEEN', message: `${anomalies} anomalies were recorded` });
  return { clean: reasons.length === 1, reasons };
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(2)}%`;
}
