import { describe, expect, it } from 'vitest';
import { validateSignup } from '../../domain/signup';
import { applicationIdFor, isValidLei, nameKey } from '../../domain/identity';
import { randomLei, signupBody } from '../support/signups';

const today = new Date('2026-12-01T12:00:00Z');

function errorsFor(body: unknown): Record<string, string> {
  const result = validateSignup(body, today);
  if (result.ok) return {};
  return Object.fromEntries(result.errors.map((e) => [e.field, e.message]));
}

describe('signup validation', () => {
  it('accepts a complete signup and normalises it', () => {
    const body = signupBody();
    body.contacts.security.email = '  Sasha@Example.COM ';
    body.application.requestedScopes = ['transactions:read', 'accounts:read', 'accounts:read'];
    const result = validateSignup(body, today);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.signup.contacts.security.email).toBe('sasha@example.com');
    expect(result.signup.application.requestedScopes).toEqual(['accounts:read', 'transactions:read']);
  });

  it.each([
    ['organisation.lei', (b: ReturnType<typeof signupBody>) => (b.organisation.lei = '5493001KJTIIGC8Y1R13')],
    ['organisation.jurisdiction', (b: ReturnType<typeof signupBody>) => (b.organisation.jurisdiction = 'Britain')],
    ['organisation.primaryDomain', (b: ReturnType<typeof signupBody>) => (b.organisation.primaryDomain = 'https://x.com/')],
    ['organisation.primaryDomain', (b: ReturnType<typeof signupBody>) => (b.organisation.primaryDomain = '10.0.0.1')],
    ['application.environment', (b: ReturnType<typeof signupBody>) => (b.application.environment = 'staging')],
    ['application.requestedScopes', (b: ReturnType<typeof signupBody>) => (b.application.requestedScopes = [])],
    ['application.requestedScopes.0', (b: ReturnType<typeof signupBody>) => (b.application.requestedScopes = ['ALL'])],
    ['application.requestedScopes.1', (b: ReturnType<typeof signupBody>) => (b.application.requestedScopes = ['accounts:read', 'accounts:write'])],
    ['application.expectedMonthlyCalls', (b: ReturnType<typeof signupBody>) => (b.application.expectedMonthlyCalls = -1)],
    ['application.contractEndDate', (b: ReturnType<typeof signupBody>) => (b.application.contractEndDate = '2026-11-30')],
    ['application.contractEndDate', (b: ReturnType<typeof signupBody>) => (b.application.contractEndDate = '2027-02-30')],
    ['application.name', (b: ReturnType<typeof signupBody>) => (b.application.name = '!!')],
    ['contacts.security.email', (b: ReturnType<typeof signupBody>) => (b.contacts.security.email = 'not-an-email')],
    ['requestedBy', (b: ReturnType<typeof signupBody>) => (b.requestedBy = '')],
  ])('reports %s when it is wrong', (field, spoil) => {
    const body = signupBody();
    spoil(body);
    expect(Object.keys(errorsFor(body))).toEqual([field]);
  });

  it('reports every missing field of an empty body at once', () => {
    expect(Object.keys(errorsFor({})).sort()).toEqual(['application', 'contacts', 'organisation', 'requestedBy']);
  });

  it('reports a body that is not an object', () => {
    expect(errorsFor('hello')).toHaveProperty('(body)');
    expect(errorsFor(null)).toHaveProperty('(body)');
  });
});

describe('application identity', () => {
  it('validates LEI check digits (ISO 7064 MOD 97-10)', () => {
    expect(isValidLei('5493001KJTIIGC8Y1R12')).toBe(true);
    expect(isValidLei('5493001KJTIIGC8Y1R21')).toBe(false);
    expect(isValidLei('5493001kjtiigc8y1r12')).toBe(false);
    for (let i = 0; i < 50; i += 1) expect(isValidLei(randomLei())).toBe(true);
  });

  it('derives one id for names that differ only in case, accents and punctuation', () => {
    expect(nameKey('  Café Pay — Europe! ')).toBe('cafe-pay-europe');
    expect(applicationIdFor('5493001KJTIIGC8Y1R12', 'Cafe  pay europe', 'sandbox')).toBe(
      applicationIdFor('5493001KJTIIGC8Y1R12', 'CAFÉ-PAY-EUROPE', 'sandbox'),
    );
    expect(applicationIdFor('5493001KJTIIGC8Y1R12', 'Cafe pay', 'sandbox')).not.toBe(
      applicationIdFor('5493001KJTIIGC8Y1R12', 'Cafe pay', 'production'),
    );
  });
});
