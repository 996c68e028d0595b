import { describe, expect, it } from 'vitest';
import {
  admissionConditions,
  isKnownScope,
  lowestTierHolding,
  minimalGrant,
  outsideCeiling,
  probationMs,
  RISK_TIERS,
  SCOPE_CATALOGUE,
  scopeDefinition,
  SENSITIVITY_WEIGHTS,
  TIER_TEMPLATES,
  tierTemplate,
  unknownScopes,
  withinCeiling,
} from '../../domain';

const MINUTE = 60_000;

describe('scope catalogue', () => {
  it('has unique scopes, each described and weighted', () => {
    const names = SCOPE_CATALOGUE.map((definition) => definition.scope);
    expect(new Set(names).size).toBe(names.length);
    for (const definition of SCOPE_CATALOGUE) {
      expect(definition.description.length).toBeGreaterThan(5);
      expect(['low', 'medium', 'high']).toContain(definition.sensitivity);
    }
  });

  it('weights reads low, writes medium, money movement and PII high', () => {
    expect(scopeDefinition('accounts:read')?.sensitivity).toBe('low');
    expect(scopeDefinition('accounts:balances:read')?.sensitivity).toBe('low');
    expect(scopeDefinition('webhooks:manage')?.sensitivity).toBe('medium');
    expect(scopeDefinition('payments:initiate')?.sensitivity).toBe('high');
    expect(scopeDefinition('customers:pii:read')?.sensitivity).toBe('high');
    expect(SENSITIVITY_WEIGHTS).toEqual({ low: 1, medium: 3, high: 6 });
  });

  it('marks exactly the money-moving scopes', () => {
    const moving = SCOPE_CATALOGUE.filter((definition) => definition.movesMoney).map((definition) => definition.scope);
    expect(moving).toEqual(['payments:initiate', 'payments:bulk:initiate', 'refunds:initiate']);
  });

  it('cannot be mutated', () => {
    expect(Object.isFrozen(SCOPE_CATALOGUE)).toBe(true);
    expect(() => (SCOPE_CATALOGUE as unknown as unknown[]).push({})).toThrow(TypeError);
    expect(() => {
      (SCOPE_CATALOGUE[0] as { sensitivity: string }).sensitivity = 'high';
    }).toThrow(TypeError);
  });
});

describe('isKnownScope', () => {
  it('matches catalogue scopes exactly', () => {
    expect(isKnownScope('accounts:read')).toBe(true);
    expect(isKnownScope('Accounts:Read')).toBe(false);
    expect(isKnownScope(' accounts:read')).toBe(false);
    expect(isKnownScope('accounts:*')).toBe(false);
    expect(isKnownScope('')).toBe(false);
    expect(isKnownScope(undefined)).toBe(false);
    expect(isKnownScope('constructor')).toBe(false);
  });
});

describe('unknownScopes', () => {
  it('lists unknown scopes once each, in the order asked', () => {
    expect(unknownScopes(['zeta:write', 'accounts:read', 'alpha:read', 'zeta:write'])).toEqual(['zeta:write', 'alpha:read']);
  });
  it('is empty for an empty or fully known request', () => {
    expect(unknownScopes([])).toEqual([]);
    expect(unknownScopes(['accounts:read', 'payments:initiate'])).toEqual([]);
  });
});

describe('tier templates', () => {
  it('exist for every tier, named for it', () => {
    for (const tier of RISK_TIERS) expect(tierTemplate(tier).tier).toBe(tier);
  });

  it('keep minimal inside ceiling, and ceilings widening with scrutiny up to HIGH', () => {
    for (const tier of RISK_TIERS) {
      const template = TIER_TEMPLATES[tier];
      expect(template.minimal.every((scope) => template.ceiling.includes(scope))).toBe(true);
      expect(template.minimal.length).toBeGreaterThan(0);
    }
    expect(TIER_TEMPLATES.LOW.ceiling.every((scope) => TIER_TEMPLATES.MEDIUM.ceiling.includes(scope))).toBe(true);
    expect(TIER_TEMPLATES.MEDIUM.ceiling.every((scope) => TIER_TEMPLATES.HIGH.ceiling.includes(scope))).toBe(true);
  });

  it('cap LOW at read-only scopes and MEDIUM below money movement and PII', () => {
    expect(TIER_TEMPLATES.LOW.ceiling.every((scope) => scopeDefinition(scope)?.sensitivity === 'low')).toBe(true);
    expect(TIER_TEMPLATES.MEDIUM.ceiling.some((scope) => scopeDefinition(scope)?.sensitivity === 'high')).toBe(false);
    expect(TIER_TEMPLATES.HIGH.ceiling).toHaveLength(SCOPE_CATALOGUE.length);
  });

  it('leave LOW something to earn through expansion', () => {
    expect(TIER_TEMPLATES.LOW.minimal).toEqual(['accounts:read', 'transactions:read', 'payments:status:read']);
    expect(TIER_TEMPLATES.LOW.ceiling.length).toBeGreaterThan(TIER_TEMPLATES.LOW.minimal.length);
  });

  it('issue short credentials, shortest for the riskiest tiers', () => {
    expect(TIER_TEMPLATES.LOW.credentialLifetimeMs).toBe(15 * MINUTE);
    expect(TIER_TEMPLATES.MEDIUM.credentialLifetimeMs).toBe(10 * MINUTE);
    expect(TIER_TEMPLATES.HIGH.credentialLifetimeMs).toBe(5 * MINUTE);
    expect(TIER_TEMPLATES.STRATEGIC.credentialLifetimeMs).toBe(5 * MINUTE);
    expect(TIER_TEMPLATES.REGULATED.credentialLifetimeMs).toBe(5 * MINUTE);
  });

  it('are deeply frozen', () => {
    expect(Object.isFrozen(TIER_TEMPLATES.HIGH.minimal)).toBe(true);
    expect(Object.isFrozen(TIER_TEMPLATES.HIGH.defaultConditions.maxAmount)).toBe(true);
    expect(() => (TIER_TEMPLATES.LOW.minimal as string[]).push('payments:initiate')).toThrow(TypeError);
  });
});

describe('probationMs', () => {
  it('scales the configured base by tier', () => {
    expect(probationMs('LOW', 1000)).toBe(1000);
    expect(probationMs('MEDIUM', 1000)).toBe(1000);
    expect(probationMs('HIGH', 1000)).toBe(2000);
    expect(probationMs('STRATEGIC', 1000)).toBe(2000);
    expect(probationMs('REGULATED', 1000)).toBe(3000);
  });
});

describe('admissionConditions', () => {
  it("pins the grant to the application's environment on top of the tier defaults", () => {
    expect(admissionConditions('LOW', 'sandbox')).toEqual({ environments: ['sandbox'] });
    expect(admissionConditions('HIGH', 'production')).toEqual({
      environments: ['production'],
      transactionTypes: ['domestic-transfer'],
      maxAmount: { value: 10_000, currency: 'EUR' },
    });
  });
  it('returns a mutable copy that does not alias the template', () => {
    const conditions = admissionConditions('REGULATED', 'production');
    conditions.transactionTypes?.push('international-transfer');
    expect(TIER_TEMPLATES.REGULATED.defaultConditions.transactionTypes).toEqual(['domestic-transfer']);
  });
});

describe('minimalGrant', () => {
  it('grants requested ∩ minimal, in catalogue order, and explains every dropped scope', () => {
    const result = minimalGrant('LOW', ['transactions:read', 'accounts:balances:read', 'payments:initiate', 'made:up', 'accounts:read']);
    expect(result.granted).toEqual(['accounts:read', 'transactions:read']);
    expect(result.dropped).toEqual([
      { scope: 'accounts:balances:read', code: 'NOT_IN_MINIMAL', message: expect.stringContaining('monitored expansion') as string },
      { scope: 'payments:initiate', code: 'OUTSIDE_CEILING', message: expect.stringContaining('LOW') as string },
      { scope: 'made:up', code: 'SCOPE_UNKNOWN', message: expect.stringContaining('"made:up"') as string },
    ]);
  });

  it('never grants more than asked', () => {
    expect(minimalGrant('HIGH', ['accounts:read'])).toEqual({ granted: ['accounts:read'], dropped: [] });
  });

  it('grants nothing for an empty request', () => {
    expect(minimalGrant('STRATEGIC', [])).toEqual({ granted: [], dropped: [] });
  });

  it('counts duplicates once', () => {
    const result = minimalGrant('MEDIUM', ['webhooks:manage', 'webhooks:manage', 'payees:manage', 'payees:manage']);
    expect(result.granted).toEqual(['webhooks:manage']);
    expect(result.dropped.map((dropped) => dropped.scope)).toEqual(['payees:manage']);
  });

  it('grants the money scope at admission only from HIGH up', () => {
    expect(minimalGrant('MEDIUM', ['payments:initiate']).dropped[0]?.code).toBe('OUTSIDE_CEILING');
    for (const tier of ['HIGH', 'STRATEGIC', 'REGULATED'] as const) {
      expect(minimalGrant(tier, ['payments:initiate']).granted).toEqual(['payments:initiate']);
    }
    expect(minimalGrant('HIGH', ['payments:bulk:initiate']).dropped[0]?.code).toBe('NOT_IN_MINIMAL');
  });
});

describe('withinCeiling and outsideCeiling', () => {
  it('accepts scopes inside the ceiling and the empty set', () => {
    expect(withinCeiling('LOW', ['accounts:read', 'statements:read'])).toBe(true);
    expect(withinCeiling('LOW', [])).toBe(true);
  });
  it('rejects scopes beyond the ceiling and unknown scopes', () => {
    expect(withinCeiling('LOW', ['accounts:read', 'webhooks:manage'])).toBe(false);
    expect(withinCeiling('REGULATED', ['made:up'])).toBe(false);
    expect(outsideCeiling('MEDIUM', ['refunds:initiate', 'accounts:read', 'made:up', 'refunds:initiate'])).toEqual(['refunds:initiate', 'made:up']);
  });
});

describe('lowestTierHolding', () => {
  it('is the least tier whose ceiling holds the known scopes', () => {
    expect(lowestTierHolding([])).toBe('LOW');
    expect(lowestTierHolding(['accounts:read'])).toBe('LOW');
    expect(lowestTierHolding(['accounts:read', 'webhooks:manage'])).toBe('MEDIUM');
    expect(lowestTierHolding(['customers:pii:read'])).toBe('HIGH');
    expect(lowestTierHolding(['made:up'])).toBe('LOW');
  });
});
