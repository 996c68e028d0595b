// Domain names as Admit compares them: the organisation's primary domain, and whether a contact's
// email address lies at that domain or below it.
import { domainToASCII } from 'node:url';
import { isIP } from 'node:net';
import { parse as parseDomain } from 'tldts';

/**
 * The ASCII (A-label) form of a host name: UTS-46 mapped (case folded, full-width and other
 * compatibility forms mapped, Unicode labels to punycode), one trailing dot dropped. Undefined
 * when it is no valid host name.
 */
export function canonicalDomain(input: string): string | undefined {
  let name = input.trim();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '' || name.startsWith('.') || name.includes('..') || isIP(name.replace(/^\[|\]$/g, '')) !== 0) return undefined;
  const ascii = domainToASCII(name);
  if (ascii === '' || ascii.length > 253) return undefined;
  if (!ascii.split('.').every((label) => /^(?!-)[a-z0-9-]{1,63}(?<!-)$/.test(label))) return undefined;
  return ascii;
}

export type PrimaryDomainCheck =
  { ok: true; domain: string; registrable: string } | { ok: false; code: 'DOMAIN_INVALID' | 'DOMAIN_IS_PUBLIC_SUFFIX'; message: string };

/**
 * A primary domain must be a host name at or below a registrable domain. A public suffix
 * (`com`, `co.uk`, and the private suffixes of the Public Suffix List such as `github.io`) is
 * refused: a TXT record or web page there proves control of a shared namespace, not of an organisation.
 */
export function checkPrimaryDomain(input: string): PrimaryDomainCheck {
  const domain = canonicalDomain(input);
  if (domain === undefined || !domain.includes('.'))
    return { ok: false, code: 'DOMAIN_INVALID', message: `${JSON.stringify(input)} is not a domain name.` };
  const parsed = parseDomain(domain, { allowPrivateDomains: true });
  if (parsed.isIp || parsed.domain === null || parsed.publicSuffix === domain) {
    return {
      ok: false,
      code: 'DOMAIN_IS_PUBLIC_SUFFIX',
      message: `${domain} is a public suffix (shared by many owners), not an organisation’s domain.`,
    };
  }
  return { ok: true, domain, registrable: parsed.domain };
}

/** True when the domain of `email` is `primaryDomain` or a name below it, compared in canonical form. */
export function emailWithinDomain(email: string, primaryDomain: string): boolean {
  const at = email.lastIndexOf('@');
  if (at <= 0) return false;
  const mailDomain = canonicalDomain(email.slice(at + 1));
  const primary = canonicalDomain(primaryDomain);
  if (mailDomain === undefined || primary === undefined) return false;
  return mailDomain === primary || mailDomain.endsWith(`.${primary}`);
}

/** The contacts whose addresses are outside the organisation's domain: each is an exception an approver must accept. */
export function contactsOutsideDomain<T extends { email: string }>(
  contacts: Record<string, T>,
  primaryDomain: string,
): { role: string; email: string }[] {
  return Object.entries(contacts)
    .filter(([, c]) => !emailWithinDomain(c.email, primaryDomain))
    .map(([role, c]) => ({ role, email: c.email }));
}
