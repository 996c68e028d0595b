import { describe, expect, it } from 'vitest';
import type { ExpansionInput } from '../../domain';
import { decideExpansion, DEFAULT_EXPANSION_POLICY, expansionPolicyProblems } from '../../domain';

const PROBATION_ENDS = '2027-01-01T00:00:00.000Z';

function input(overrides: Partial<ExpansionInput> = {}): ExpansionInput {
  return {
    tier: 'LOW',
    currentScopes: ['accounts:read', 'transactions:read'],
    requestedScopes: ['accounts:balances:read'],
    probationEndsAt: PROBATION_ENDS,
    now: '2027-01-02T00:00:00.000Z',
    usage: { calls: 10_000, denials: 10, errors: 20, anomalies: 0, lastSeenAt: '2027-01-01T23:00:00.000Z' },
    policy: DEFAULT_EXPANSION_POLICY,
    ...overrides,
  };
}

const codes = (result: ReturnType<typeof decideExpansion>) => result.reasons.map((reason) => reason.code);

describe('decideExpansion', () => {
  it('auto-grants LOW within its ceiling after a clean probation, with the evidence', () => {
    const result = decideExpansion(input());
    expect(result.decision).toBe('auto-grant');
    expect(result.scopes).toEqual(['accounts:balances:read']);
    expect(result.reasons).toEqual([
      { code: 'CLEAN_PROBATION', message: 'LOW tier within its ceiling after a clean probation' },
      {
        code: 'USAGE_EVIDENCE',
        message: '10000 calls, 10 denials (0.10%), 20 errors (0.20%), 0 anomalies, last seen 2027-01-01T23:00:00.000Z',
      },
    ]);
  });

  it('decides only about scopes not already held, each once', () => {
    const result = decideExpansion(input({ requestedScopes: ['accounts:read', 'statements:read', 'statements:read'] }));
    expect(result.scopes).toEqual(['statements:read']);
    expect(result.decision).toBe('auto-grant');
  });

  it('refuses a request for nothing new, including an empty one', () => {
    expect(decideExpansion(input({ requestedScopes: ['accounts:read'] }))).toEqual({
      decision: 'refuse',
      scopes: [],
      reasons: [{ code: 'NOTHING_NEW', message: 'every requested scope is already held' }],
    });
    expect(decideExpansion(input({ requestedScopes: [] })).reasons[0]?.code).toBe('NOTHING_NEW');
  });

  it('refuses the whole request when any scope is beyond the ceiling', () => {
    const result = decideExpansion(input({ requestedScopes: ['statements:read', 'webhooks:manage'] }));
    expect(result.decision).toBe('refuse');
    expect(result.reasons).toEqual([{ code: 'OUTSIDE_CEILING', message: 'beyond the LOW ceiling: webhooks:manage' }]);
  });

  it('refuses unknown scopes without also calling them beyond the ceiling', () => {
    const result = decideExpansion(input({ tier: 'HIGH', requestedScopes: ['made:up'] }));
    expect(result.decision).toBe('refuse');
    expect(result.reasons).toEqual([{ code: 'SCOPE_UNKNOWN', message: 'not in the scope catalogue: made:up' }]);
  });

  it('refuses during probation, and reports every refusal reason together', () => {
    const result = decideExpansion(input({ now: '2026-12-31T23:59:59.999Z', requestedScopes: ['made:up', 'payments:initiate'] }));
    expect(result.decision).toBe('refuse');
    expect(codes(result)).toEqual(['SCOPE_UNKNOWN', 'OUTSIDE_CEILING', 'IN_PROBATION']);
    expect(result.reasons[2]?.message).toBe('probation runs until 2027-01-01T00:00:00.000Z');
  });

  it('treats probation as over at exactly its end', () => {
    expect(decideExpansion(input({ now: PROBATION_ENDS })).decision).toBe('auto-grant');
    expect(decideExpansion(input({ now: new Date(PROBATION_ENDS), probationEndsAt: new Date(PROBATION_ENDS) })).decision).toBe('auto-grant');
  });

  it('refuses when the times are not valid instants', () => {
    expect(codes(decideExpansion(input({ now: 'soon' })))).toEqual(['TIME_INVALID']);
    expect(codes(decideExpansion(input({ probationEndsAt: new Date(Number.NaN) })))).toEqual(['TIME_INVALID']);
  });

  it('sends LOW to approvers when there are too few calls to be evidence', () => {
    const result = decideExpansion(input({ usage: { calls: 499, denials: 0, errors: 0, anomalies: 0 } }));
    expect(result.decision).toBe('needs-approval');
    expect(codes(result)).toEqual(['USAGE_EVIDENCE', 'TOO_FEW_CALLS']);
    expect(result.reasons[0]?.message).toContain('last seen never');
    expect(decideExpansion(input({ usage: { calls: 500, denials: 0, errors: 0, anomalies: 0 } })).decision).toBe('auto-grant');
  });

  it('allows rates exactly at the limits and not above', () => {
    const atLimits = { calls: 1000, denials: 10, errors: 20, anomalies: 0 };
    expect(decideExpansion(input({ usage: atLimits })).decision).toBe('auto-grant');
    const denials = decideExpansion(input({ usage: { ...atLimits, denials: 11 } }));
    expect(denials.decision).toBe('needs-approval');
    expect(codes(denials)).toEqual(['USAGE_EVIDENCE', 'DENIAL_RATE_HIGH']);
    expect(denials.reasons[1]?.message).toBe('denial rate 1.10% is above 1.00%');
    const errors = decideExpansion(input({ usage: { ...atLimits, errors: 21 } }));
    expect(codes(errors)).toEqual(['USAGE_EVIDENCE', 'ERROR_RATE_HIGH']);
  });

  it('sends LOW to approvers after any anomaly', () => {
    const result = decideExpansion(input({ usage: { calls: 10_000, denials: 0, errors: 0, anomalies: 1 } }));
    expect(result.decision).toBe('needs-approval');
    expect(codes(result)).toEqual(['USAGE_EVIDENCE', 'ANOMALIES_SEEN']);
  });

  it('lists every failed condition', () => {
    const result = decideExpansion(input({ usage: { calls: 10, denials: 5, errors: 5, anomalies: 2 } }));
    expect(codes(result)).toEqual(['USAGE_EVIDENCE', 'TOO_FEW_CALLS', 'DENIAL_RATE_HIGH', 'ERROR_RATE_HIGH', 'ANOMALIES_SEEN']);
  });

  it.each([
    { calls: -1, denials: 0, errors: 0, anomalies: 0 },
    { calls: 10, denials: 11, errors: 0, anomalies: 0 },
    { calls: 10, denials: 0, errors: 11, anomalies: 0 },
    { calls: 1.5, denials: 0, errors: 0, anomalies: 0 },
    { calls: 1000, denials: 0, errors: 0, anomalies: Number.NaN },
  ])('never auto-grants on unusable telemetry %j', (usage) => {
    const result = decideExpansion(input({ usage }));
    expect(result.decision).toBe('needs-approval');
    expect(codes(result)).toEqual(['USAGE_INVALID']);
  });

  it('sends every other tier to approvers, even with clean evidence', () => {
    for (const tier of ['MEDIUM', 'HIGH', 'STRATEGIC', 'REGULATED'] as const) {
      const result = decideExpansion(input({ tier, requestedScopes: ['statements:read'] }));
      expect(result.decision).toBe('needs-approval');
      expect(codes(result)).toEqual(['TIER_NEEDS_APPROVAL', 'USAGE_EVIDENCE']);
      expect(result.reasons[0]?.message).toBe(`${tier} expansions are decided by approvers`);
    }
  });

  it('refuses beyond the ceiling for other tiers too', () => {
    expect(decideExpansion(input({ tier: 'MEDIUM', requestedScopes: ['payments:initiate'] })).decision).toBe('refuse');
    expect(decideExpansion(input({ tier: 'HIGH', requestedScopes: ['payments:bulk:initiate'] })).decision).toBe('needs-approval');
  });

  it('never auto-grants under an invalid policy', () => {
    const result = decideExpansion(input({ policy: { maxDenialRate: 2, maxErrorRate: 0.02, minCalls: 0 } }));
    expect(result.decision).toBe('needs-approval');
    expect(codes(result)).toEqual(['USAGE_EVIDENCE', 'POLICY_INVALID']);
  });

  it('accepts a zero-call probation only when the policy asks for no calls', () => {
    const policy = { ...DEFAULT_EXPANSION_POLICY, minCalls: 0 };
    const result = decideExpansion(input({ policy, usage: { calls: 0, denials: 0, errors: 0, anomalies: 0 } }));
    expect(result.decision).toBe('auto-grant');
  });
});

describe('expansionPolicyProblems', () => {
  it('accepts the defaults and names each problem', () => {
    expect(expansionPolicyProblems(DEFAULT_EXPANSION_POLICY)).toEqual([]);
    expect(expansionPolicyProblems({ maxDenialRate: -0.1, maxErrorRate: Number.NaN, minCalls: 2.5 })).toEqual([
      'maxDenialRate must be between 0 and 1',
      'maxErrorRate must be between 0 and 1',
      'minCalls must be a non-negative integer',
    ]);
  });
});
