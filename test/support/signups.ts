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

/** A valid signup body for a fresh organisation; override any part. */
export function signupBody(overrides: { lei?: string; name?: string; environment?: string } = {}) {
  const lei = overrides.lei ?? randomLei();
  const tag = lei.slice(0, 6).toLowerCase();
  return {
    organisation: {
      legalName: `Example Payments ${tag} Ltd`,
      lei,
      jurisdiction: 'GB',
      primaryDomain: `${tag}.example.com`,
    },
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
      business: { name: 'Bea Business', email: `bea+${tag}@example.com` },
      technical: { name: 'Theo Technical', email: `theo+${tag}@example.com` },
      security: { name: 'Sasha Security', email: `sasha+${tag}@example.com` },
    },
    requestedBy: `bea+${tag}@example.com`,
  };
}
