import { randomInt } from 'node:crypto';

/** A random, valid ISO 17442 LEI: 18 alphanumerics plus MOD 97-10 check digits. */
export function randomLei(): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  let base = '';
  for (let i = 0; i < 18; i += 1) base += alphabet[randomInt(alphabet.length)];
  let remainder = 0;
  for (const char of `${base}00`) {
    for (const digit of String(Number.parseInt(char, 36))) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return `${base}${String(98 - remainder).padStart(2, '0')}`;
}

/**
 * The organisation a test signup names for an LEI, as the test GLEIF stand-in
 * (test/support/entity.ts) also knows it: one place, so both agree.
 */
export function organisationFor(lei: string) {
  const tag = lei.slice(0, 6).toLowerCase();
  return { tag, legalName: `Example Payments ${tag} Ltd`, lei, jurisdiction: 'GB', primaryDomain: `${tag}.example.com` };
}

/** A valid signup body for a fresh organisation, its contacts at its domain; override any part. */
export function signupBody(overrides: { lei?: string; name?: string; environment?: string } = {}) {
  const { tag, legalName, lei, jurisdiction, primaryDomain } = organisationFor(overrides.lei ?? randomLei());
  return {
    organisation: { legalName, lei, jurisdiction, primaryDomain },
    application: {
      name: overrides.name ?? 'Treasury Sync',
      environment: overrides.environment ?? 'sandbox',
      purpose: 'Reconcile treasury balances every night.',
      requestedScopes: ['accounts:read'],
      dataSensitivity: 'internal',
      regulatedSector: false,
      strategic: false,
      expectedMonthlyCalls: 20_000,
      contractEndDate: '2028-06-30',
    },
    contacts: {
      business: { name: 'Bea Business', email: `bea+${tag}@${primaryDomain}` },
      technical: { name: 'Theo Technical', email: `theo+${tag}@${primaryDomain}` },
      security: { name: 'Sasha Security', email: `sasha+${tag}@${primaryDomain}` },
    },
    requestedBy: `bea+${tag}@${primaryDomain}`,
  };
}
