import { describe, expect, it } from 'vitest';
import type { RiskAnswers } from '../../domain';
import {
  allowedAnchorKinds,
  ANCHOR_KINDS,
  approvalsRequired,
  DEFAULT_RISK_THRESHOLDS,
  DomainInputError,
  expansionApprovalsRequired,
  isAnchorKindAllowed,
  recertificationRequired,
  riskThresholdProblems,
  scoreRisk,
} from '../../domain';

const READS = ['accounts:read', 'transactions:read', 'payments:status:read'];

function answers(overrides: Partial<RiskAnswers> = {}): RiskAnswers {
  return {
    requestedScopes: READS,
    dataSensitivity: 'internal',
    regulatedSector: false,
    strategic: false,
    expectedMonthlyCalls: 50_000,
    environment: 'production',
    ...overrides,
  };
}

describe('scoreRisk', () => {
  it('explains a read-only production integration as LOW, factor by factor', () => {
    const result = scoreRisk(answers(), DEFAULT_RISK_THRESHOLDS);
    expect(result.score).toBe(8);
    expect(result.tier).toBe('LOW');
    expect(result.reasons).toEqual([
      { factor: 'scope', points: 1, detail: 'accounts:read (low sensitivity)' },
      { factor: 'scope', points: 1, detail: 'transactions:read (low sensitivity)' },
      { factor: 'scope', points: 1, detail: 'payments:status:read (low sensitivity)' },
      { factor: 'data-sensitivity', points: 2, detail: 'internal data' },
      { factor: 'volume', points: 1, detail: '10,000 to 99,999 calls a month' },
      { factor: 'environment', points: 2, detail: 'production environment' },
    ]);
  });

  it('uses the default thresholds when none are given', () => {
    expect(DEFAULT_RISK_THRESHOLDS).toEqual({ medium: 10, high: 20 });
    expect(scoreRisk(answers())).toEqual(scoreRisk(answers(), DEFAULT_RISK_THRESHOLDS));
  });

  it('puts a score exactly at the medium threshold in MEDIUM and one below in LOW', () => {
    const atMedium = scoreRisk(answers({ dataSensitivity: 'confidential', expectedMonthlyCalls: 0 }));
    expect(atMedium.score).toBe(10);
    expect(atMedium.tier).toBe('MEDIUM');
    const belowMedium = scoreRisk(answers({ dataSensitivity: 'confidential', expectedMonthlyCalls: 10_000, environment: 'sandbox' }));
    expect(belowMedium.score).toBe(9);
    expect(belowMedium.tier).toBe('LOW');
  });

  it('puts a score exactly at the high threshold in HIGH and one below in MEDIUM', () => {
    const base = { dataSensitivity: 'restricted', expectedMonthlyCalls: 100_000 } as const;
    const atHigh = scoreRisk(answers({ ...base, requestedScopes: ['webhooks:manage', 'payees:manage', 'accounts:read'] }));
    expect(atHigh.score).toBe(20);
    expect(atHigh.tier).toBe('HIGH');
    const belowHigh = scoreRisk(answers({ ...base, requestedScopes: ['webhooks:manage', 'payees:manage'] }));
    expect(belowHigh.score).toBe(19);
    expect(belowHigh.tier).toBe('MEDIUM');
  });

  it('honours configured thresholds', () => {
    expect(scoreRisk(answers(), { medium: 8, high: 9 }).tier).toBe('MEDIUM');
    expect(scoreRisk(answers(), { medium: 3, high: 8 }).tier).toBe('HIGH');
    expect(scoreRisk(answers(), { medium: 50, high: 100 }).tier).toBe('LOW');
  });

  it('raises the tier to one whose ceiling holds the requested scopes, and says so', () => {
    const result = scoreRisk(
      answers({ requestedScopes: ['payments:initiate'], dataSensitivity: 'public', expectedMonthlyCalls: 0, environment: 'sandbox' }),
    );
    expect(result.score).toBe(6);
    expect(result.tier).toBe('HIGH');
    expect(result.reasons.at(-1)).toEqual({
      factor: 'scope-floor',
      points: 0,
      detail: 'raised from LOW to HIGH: only HIGH and above may hold the requested scopes',
    });
    const write = scoreRisk(answers({ requestedScopes: ['webhooks:manage'], dataSensitivity: 'public', expectedMonthlyCalls: 0 }));
    expect(write.tier).toBe('MEDIUM');
  });

  it('adds no floor reason when the score already reaches the floor', () => {
    const result = scoreRisk(answers({ requestedScopes: ['payments:initiate', 'customers:pii:read'], dataSensitivity: 'restricted' }));
    expect(result.tier).toBe('HIGH');
    expect(result.reasons.some((reason) => reason.factor === 'scope-floor')).toBe(false);
  });

  it('forces REGULATED for a regulated sector whatever the score', () => {
    const result = scoreRisk(
      answers({ regulatedSector: true, requestedScopes: [], dataSensitivity: 'public', expectedMonthlyCalls: 0, environment: 'sandbox' }),
    );
    expect(result.score).toBe(0);
    expect(result.tier).toBe('REGULATED');
    expect(result.reasons).toContainEqual({ factor: 'regulated-sector', points: 0, detail: 'regulated sector: REGULATED regardless of score' });
  });

  it('forces STRATEGIC for a strategic partner whatever the score', () => {
    expect(scoreRisk(answers({ strategic: true })).tier).toBe('STRATEGIC');
    expect(scoreRisk(answers({ strategic: true, requestedScopes: ['payments:initiate'], dataSensitivity: 'restricted' })).tier).toBe('STRATEGIC');
  });

  it('lets REGULATED win when both are declared', () => {
    const result = scoreRisk(answers({ strategic: true, regulatedSector: true }));
    expect(result.tier).toBe('REGULATED');
    expect(result.reasons.filter((reason) => reason.points === 0).map((reason) => reason.factor)).toEqual(['regulated-sector', 'strategic']);
    expect(result.reasons.at(-1)?.detail).toBe('strategic partner, but REGULATED takes precedence');
  });

  it('counts a repeated scope once', () => {
    expect(scoreRisk(answers({ requestedScopes: ['payments:initiate', 'payments:initiate'] })).score).toBe(
      scoreRisk(answers({ requestedScopes: ['payments:initiate'] })).score,
    );
  });

  it('lists unknown scopes with no points', () => {
    const result = scoreRisk(answers({ requestedScopes: ['made:up'] }));
    expect(result.reasons[0]).toEqual({ factor: 'unknown-scope', points: 0, detail: '"made:up" is not in the catalogue and will not be granted' });
    expect(result.tier).toBe('LOW');
  });

  it('scores an empty request on the other factors alone', () => {
    const result = scoreRisk(answers({ requestedScopes: [] }));
    expect(result.score).toBe(5);
    expect(result.reasons.map((reason) => reason.factor)).toEqual(['data-sensitivity', 'volume', 'environment']);
  });

  it('gives points that always sum to the score', () => {
    const result = scoreRisk(
      answers({
        requestedScopes: [...READS, 'payments:initiate', 'webhooks:manage'],
        dataSensitivity: 'restricted',
        expectedMonthlyCalls: 2_000_000,
      }),
    );
    expect(result.reasons.reduce((sum, reason) => sum + reason.points, 0)).toBe(result.score);
    expect(result.score).toBe(3 + 6 + 3 + 8 + 5 + 2);
  });

  it.each([
    [0, 0],
    [9_999, 0],
    [10_000, 1],
    [99_999, 1],
    [100_000, 3],
    [999_999, 3],
    [1_000_000, 5],
    [50_000_000, 5],
  ])('scores %i expected monthly calls as %i points', (calls, points) => {
    const volume = scoreRisk(answers({ expectedMonthlyCalls: calls })).reasons.find((reason) => reason.factor === 'volume');
    expect(volume?.points).toBe(points);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('scores an invalid volume (%s) as the top band', (calls) => {
    const volume = scoreRisk(answers({ expectedMonthlyCalls: calls })).reasons.find((reason) => reason.factor === 'volume');
    expect(volume?.points).toBe(5);
    expect(volume?.detail).toMatch(/not a valid count/);
  });

  it.each([
    ['public', 0],
    ['internal', 2],
    ['confidential', 5],
    ['restricted', 8],
  ] as const)('scores %s data as %i points', (dataSensitivity, points) => {
    expect(scoreRisk(answers({ dataSensitivity })).reasons.find((reason) => reason.factor === 'data-sensitivity')?.points).toBe(points);
  });

  it('scores unvalidated sensitivity and environment values as the worst case', () => {
    const result = scoreRisk(answers({ dataSensitivity: 'secret' as never, environment: 'staging' as never }));
    expect(result.reasons.find((reason) => reason.factor === 'data-sensitivity')?.points).toBe(8);
    expect(result.reasons.find((reason) => reason.factor === 'environment')?.points).toBe(2);
  });

  it('scores sandbox lower than production', () => {
    expect(scoreRisk(answers({ environment: 'production' })).score - scoreRisk(answers({ environment: 'sandbox' })).score).toBe(2);
  });

  it('refuses thresholds that are out of order or not positive', () => {
    expect(() => scoreRisk(answers(), { medium: 20, high: 20 })).toThrow(DomainInputError);
    expect(() => scoreRisk(answers(), { medium: 20, high: 10 })).toThrow(/medium must be below high/);
    expect(riskThresholdProblems({ medium: 0, high: Number.NaN })).toEqual(['medium must be a positive number', 'high must be a positive number']);
    expect(riskThresholdProblems(null)).toEqual(['thresholds must be an object']);
    expect(riskThresholdProblems(DEFAULT_RISK_THRESHOLDS)).toEqual([]);
  });
});

describe('per-tier requirements', () => {
  it('requires 0, 1 or 2 approvers', () => {
    expect(approvalsRequired('LOW')).toBe(0);
    expect(approvalsRequired('MEDIUM')).toBe(1);
    expect(approvalsRequired('HIGH')).toBe(2);
    expect(approvalsRequired('STRATEGIC')).toBe(2);
    expect(approvalsRequired('REGULATED')).toBe(2);
  });

  it('requires at least one approver for any expansion sent to approval', () => {
    expect(expansionApprovalsRequired('LOW')).toBe(1);
    expect(expansionApprovalsRequired('MEDIUM')).toBe(1);
    expect(expansionApprovalsRequired('HIGH')).toBe(2);
    expect(expansionApprovalsRequired('REGULATED')).toBe(2);
  });

  it('accepts a bare JWK assertion only up to MEDIUM', () => {
    expect(allowedAnchorKinds('LOW')).toEqual(ANCHOR_KINDS);
    expect(allowedAnchorKinds('MEDIUM')).toEqual(['x509', 'jwk', 'spiffe', 'oidc']);
    for (const tier of ['HIGH', 'STRATEGIC', 'REGULATED'] as const) {
      expect(allowedAnchorKinds(tier)).toEqual(['x509', 'spiffe', 'oidc']);
      expect(isAnchorKindAllowed(tier, 'jwk')).toBe(false);
      expect(isAnchorKindAllowed(tier, 'x509')).toBe(true);
    }
    expect(isAnchorKindAllowed('LOW', 'jwk')).toBe(true);
    expect(isAnchorKindAllowed('LOW', 'api-key')).toBe(false);
  });

  it('recertifies only STRATEGIC and REGULATED', () => {
    expect(recertificationRequired('LOW')).toBe(false);
    expect(recertificationRequired('MEDIUM')).toBe(false);
    expect(recertificationRequired('HIGH')).toBe(false);
    expect(recertificationRequired('STRATEGIC')).toBe(true);
    expect(recertificationRequired('REGULATED')).toBe(true);
  });
});
