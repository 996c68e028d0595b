/**
 * Whether an email address is at `domain` or below it (`ops@eu.bank.example`
 * is below `bank.example`; `ops@notbank.example` is not). Case-insensitive,
 * a trailing dot ignored; addresses are compared as the IdP and the registry
 * hold them, in ASCII (A-label) form. Pure, so the workflow can use it.
 */
export function isEmailAtOrBelow(email: string, domain: string): boolean {
  const at = email.lastIndexOf('@');
  if (at < 1) return false;
  const host = fold(email.slice(at + 1));
  const base = fold(domain);
  if (host === '' || base === '') return false;
  return host === base || host.endsWith(`.${base}`);
}

function fold(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** An address as people other than its owner may see it: the first letter and the domain (`b***@bank.example`). */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  const local = at < 0 ? email : email.slice(0, at);
  const domain = at < 0 ? '' : email.slice(at + 1);
  return `${local.slice(0, 1)}***@${domain}`;
}
