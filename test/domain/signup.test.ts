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

describe('signup validation agrees with the registry (issue 9, item 5)', () => {
  type Body = ReturnType<typeof signupBody>;
  const TEXT_FIELDS: [string, (b: Body, v: string) => void][] = [
    ['organisation.legalName', (b, v) => (b.organisation.legalName = `Acme ${v} Ltd`)],
    ['application.name', (b, v) => (b.application.name = `Treasury ${v} Sync`)],
    ['application.purpose', (b, v) => (b.application.purpose = `Reconcile ${v} treasury balances.`)],
    ['contacts.business.name', (b, v) => (b.contacts.business.name = `Bea ${v} Business`)],
    ['contacts.technical.name', (b, v) => (b.contacts.technical.name = `Theo ${v}`)],
    ['contacts.security.name', (b, v) => (b.contacts.security.name = `Sasha ${v}`)],
    ['contacts.security.email', (b, v) => (b.contacts.security.email = `sa${v}sha@example.com`)],
    ['requestedBy', (b, v) => (b.requestedBy = `be${v}a@example.com`)],
  ];
  const BAD = [
    ['NUL', '\u0000'],
    ['a C0 control', '\u001B'],
    ['DEL', '\u007F'],
    ['a C1 control', '\u0085'],
    ['a lone high surrogate', '\uD83D'],
    ['a lone low surrogate', '\uDE00'],
    ['right-to-left override', '\u202E'],
    ['left-to-right embedding', '\u202A'],
    ['first-strong isolate', '\u2068'],
    ['pop directional isolate', '\u2069'],
    ['right-to-left mark', '\u200F'],
    ['Arabic letter mark', '\u061C'],
  ] as const;

  for (const [field, set] of TEXT_FIELDS) {
    it.each(BAD)(`refuses ${field} with %s, naming the field`, (_what, char) => {
      const body = signupBody();
      set(body, char);
      expect(errorsFor(body)[field]).toBeDefined();
    });
  }

  it('keeps line breaks and tabs in the purpose, and well-formed non-Latin text everywhere', () => {
    const body = signupBody();
    body.application.purpose = 'Reconcile balances.\r\n\tEvery night 🌙.';
    body.organisation.legalName = 'شركة المدفوعات ذ.م.م';
    body.contacts.business.name = 'Zoë 李';
    expect(validateSignup(body, today).ok).toBe(true);
  });

  it('refuses a line break in a one-line field', () => {
    const body = signupBody();
    body.contacts.business.name = 'Bea\nBusiness';
    expect(errorsFor(body)['contacts.business.name']).toMatch(/U\+000A/);
  });

  it('refuses expected monthly calls beyond the registry integer, accepts its limit', () => {
    const body = signupBody();
    body.application.expectedMonthlyCalls = 3_000_000_000;
    expect(errorsFor(body)['application.expectedMonthlyCalls']).toMatch(/2,147,483,647/);
    body.application.expectedMonthlyCalls = 2_147_483_648;
    expect(errorsFor(body)['application.expectedMonthlyCalls']).toBeDefined();
    body.application.expectedMonthlyCalls = 2_147_483_647;
    expect(validateSignup(body, today).ok).toBe(true);
  });

  it('measures the name on its folded form: 80 × "㎉" folds to 320 characters and is refused', () => {
    const body = signupBody();
    body.application.name = '㎉'.repeat(80);
    expect(applicationIdFor(body.organisation.lei, body.application.name, 'sandbox')).toHaveLength(353);
    expect(errorsFor(body)['application.name']).toMatch(/folded/);
    body.application.name = '㎉'.repeat(20); // folds to exactly 80
    expect(nameKey(body.application.name)).toHaveLength(80);
    expect(validateSignup(body, today).ok).toBe(true);
  });
});
