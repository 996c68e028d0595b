// Name syntax and matching for subjectAltName, name constraints (RFC 5280 4.2.1.10) and the
// expected-identity check. Only SAN names identify the peer; the subject CN is never used as a name.
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { getPublicSuffix } from 'tldts';
import type { GeneralName, GeneralSubtree, Name } from '@peculiar/asn1-x509';
import type { ParsedCert, Subtrees } from './x509-cert';

/** ASCII letters and digits (RFC 1123 2.1 LDH labels). */
function isLetterOrDigit(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
}

/** name[start, end) is an LDH label: 1 to 63 letters, digits and hyphens, starting and ending with a letter or digit. */
function isLabel(name: string, start: number, end: number): boolean {
  const length = end - start;
  if (length < 1 || length > 63 || !isLetterOrDigit(name.charCodeAt(start)) || !isLetterOrDigit(name.charCodeAt(end - 1))) return false;
  for (let i = start + 1; i < end - 1; i++) {
    const c = name.charCodeAt(i);
    if (c !== 0x2d && !isLetterOrDigit(c)) return false;
  }
  return true;
}

/** Dot-separated LDH labels, at most 253 characters; with `allowWildcard`, a leftmost "*" label before at least one other. */
export function isValidDnsName(name: string, allowWildcard: boolean): boolean {
  if (name.length === 0 || name.length > 253) return false;
  let start = allowWildcard && name.startsWith('*.') ? 2 : 0;
  for (let i = start; i <= name.length; i++) {
    if (i === name.length || name.charCodeAt(i) === 0x2e) {
      if (!isLabel(name, start, i)) return false;
      start = i + 1;
    }
  }
  return true;
}

export function isValidDnsConstraint(constraint: string): boolean {
  return constraint === '' || isValidDnsName(constraint, false);
}

export function isValidEmail(address: string): boolean {
  const parts = address.split('@');
  if (parts.length !== 2) return false;
  const [local = '', domain = ''] = parts;
  return /^[\x21-\x7e]+$/.test(local) && isValidDnsName(domain, false);
}

export function isValidEmailConstraint(constraint: string): boolean {
  if (constraint.includes('@')) return isValidEmail(constraint);
  return isValidDnsName(constraint.startsWith('.') ? constraint.slice(1) : constraint, false);
}

export function isValidUriConstraint(constraint: string): boolean {
  return isValidDnsName(constraint.startsWith('.') ? constraint.slice(1) : constraint, false);
}

function withinDomain(name: string, domain: string): boolean {
  return domain === '' || name === domain || name.endsWith(`.${domain}`);
}

/** A wildcard SAN stands for every name one label under its base, so it is inside a permitted subtree only if its base is. */
function dnsPermitted(name: string, constraint: string): boolean {
  const n = name.toLowerCase();
  const c = constraint.toLowerCase();
  return n.startsWith('*.') ? withinDomain(n.slice(2), c) : withinDomain(n, c);
}

/** ...and it collides with an excluded subtree if any name it stands for is inside it. */
function dnsExcluded(name: string, constraint: string): boolean {
  const n = name.toLowerCase();
  const c = constraint.toLowerCase();
  if (!n.startsWith('*.')) return withinDomain(n, c);
  const base = n.slice(2);
  if (withinDomain(base, c)) return true;
  const dot = c.indexOf('.');
  return dot > 0 && c.slice(dot + 1) === base;
}

function emailMatches(address: string, constraint: string): boolean {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  if (constraint.includes('@')) {
    const cAt = constraint.lastIndexOf('@');
    return local === constraint.slice(0, cAt) && domain === constraint.slice(cAt + 1).toLowerCase();
  }
  const c = constraint.toLowerCase();
  return c.startsWith('.') ? domain.endsWith(c) : domain === c;
}

/** A URI without a DNS host cannot be placed in a URI subtree: it is outside every permission and inside every exclusion. */
function uriMatches(uri: string, constraint: string, forExclusion: boolean): boolean {
  let host: string;
  try {
    host = new URL(uri).hostname.toLowerCase();
  } catch {
    return forExclusion;
  }
  if (host === '' || isIP(host.replace(/^\[|\]$/g, '')) !== 0) return forExclusion;
  const c = constraint.toLowerCase();
  return c.startsWith('.') ? host.endsWith(c) : host === c;
}

export function ipToBytes(ip: string): Uint8Array | undefined {
  const kind = isIP(ip);
  if (kind === 4) return Uint8Array.from(ip.split('.').map(Number));
  if (kind !== 6) return undefined;
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    text = text.slice(0, v4.index) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

function ipMatches(address: Uint8Array, constraint: Uint8Array): boolean {
  if (constraint.length !== address.length * 2) return false;
  for (let i = 0; i < address.length; i++) {
    const mask = constraint[address.length + i]!;
    if ((address[i]! & mask) !== (constraint[i]! & mask)) return false;
  }
  return true;
}

/**
 * RDNs compared as RFC 5280 7.1 asks (case-insensitive, whitespace-folded, whatever the string type), so a
 * different encoding of an excluded name cannot slip past the exclusion. Non-string values compare as DER.
 */
function rdns(name: Name): string[] {
  return name.map((rdn) =>
    rdn
      .map((atv) => {
        const text = atv.value.anyValue
          ? `#${Buffer.from(atv.value.anyValue).toString('hex')}`
          : atv.value.toString().trim().replace(/\s+/g, ' ').toLowerCase();
        return `${atv.type}=${text}`;
      })
      .sort()
      .join('+'),
  );
}

function dnMatches(name: string[], constraint: string[]): boolean {
  return constraint.length <= name.length && constraint.every((rdn, i) => rdn === name[i]);
}

type Kind = 'dns' | 'email' | 'ip' | 'uri' | 'dn' | 'other';

function kindOf(name: GeneralName): Kind {
  if (name.dNSName !== undefined) return 'dns';
  if (name.rfc822Name !== undefined) return 'email';
  if (name.iPAddress !== undefined) return 'ip';
  if (name.uniformResourceIdentifier !== undefined) return 'uri';
  if (name.directoryName !== undefined) return 'dn';
  return 'other';
}

/** Go's limit: constraint checking is quadratic, and a hostile chain should not buy CPU time with it. */
const MAX_COMPARISONS = 250_000;

/** Undefined when `cert` satisfies `nc`; otherwise the first violation. */
export function nameConstraintViolation(cert: ParsedCert, nc: Subtrees): string | undefined {
  const names: { kind: Kind; value: GeneralName | string[] }[] = (cert.san ?? []).map((n) => ({ kind: kindOf(n), value: n }));
  if (cert.subject.length > 0) names.push({ kind: 'dn', value: rdns(cert.subject) });

  const total = (nc.permitted.length + nc.excluded.length) * names.length;
  if (total > MAX_COMPARISONS) return `checking ${total} name/constraint pairs exceeds the limit`;

  const ipIndex = { permitted: 0, excluded: 0 };
  const typed = (list: GeneralSubtree[], ips: Uint8Array[], which: 'permitted' | 'excluded') =>
    list.map((s) => {
      const kind = kindOf(s.base);
      return { kind, base: s.base, ip: kind === 'ip' ? ips[ipIndex[which]++] : undefined };
    });
  const permitted = typed(nc.permitted, nc.permittedIps, 'permitted');
  const excluded = typed(nc.excluded, nc.excludedIps, 'excluded');

  const matches = (name: { kind: Kind; value: GeneralName | string[] }, c: (typeof permitted)[number], forExclusion: boolean): boolean => {
    const n = name.value;
    if (name.kind === 'dn') {
      const nameRdns = Array.isArray(n) ? n : rdns(n.directoryName!);
      return dnMatches(nameRdns, rdns(c.base.directoryName!));
    }
    const g = n as GeneralName;
    switch (name.kind) {
      case 'dns':
        return forExclusion ? dnsExcluded(g.dNSName!, c.base.dNSName!) : dnsPermitted(g.dNSName!, c.base.dNSName!);
      case 'email':
        return emailMatches(g.rfc822Name!, c.base.rfc822Name!);
      case 'uri':
        return uriMatches(g.uniformResourceIdentifier!, c.base.uniformResourceIdentifier!, forExclusion);
      case 'ip': {
        const bytes = ipToBytes(g.iPAddress!);
        return bytes !== undefined && c.ip !== undefined && ipMatches(bytes, c.ip);
      }
      default:
        // A name form Admit cannot evaluate under a constraint of that form: treat it as matching, so that
        // an exclusion refuses it and a permission is never granted by accident (see below).
        return forExclusion;
    }
  };

  for (const name of names) {
    const sameKindPermitted = permitted.filter((c) => c.kind === name.kind);
    if (sameKindPermitted.length > 0) {
      if (name.kind === 'other') return 'a name of a form Admit does not evaluate is under a name constraint';
      if (!sameKindPermitted.some((c) => matches(name, c, false))) return `${describe(name)} is not in a permitted subtree`;
    }
    for (const c of excluded) {
      if (c.kind === name.kind && matches(name, c, true)) return `${describe(name)} is in an excluded subtree`;
    }
  }
  return undefined;
}

function describe(name: { kind: Kind; value: GeneralName | string[] }): string {
  if (Array.isArray(name.value)) return 'the subject name';
  const g = name.value;
  return `${name.kind} name "${g.dNSName ?? g.rfc822Name ?? g.iPAddress ?? g.uniformResourceIdentifier ?? 'directoryName'}"`;
}

export interface ExpectedName {
  dns?: string;
  ip?: string;
}

/**
 * Undefined when the leaf names `expected` in its subjectAltName (RFC 9525 6.3: dNSName only, never the
 * subject CN; a wildcard is the whole leftmost label and stands for exactly one label; names compare
 * as A-labels, case-insensitively). A wildcard whose base is a public suffix (Public Suffix List,
 * ICANN and private sections, through tldts) matches nothing (CA/B BR 3.2.2.6).
 */
export function expectedNameProblem(
  cert: ParsedCert,
  expected: ExpectedName,
): { code: 'CERT_NAME_MISMATCH' | 'CERT_WILDCARD_INVALID'; message: string } | undefined {
  const san = cert.san ?? [];
  if (expected.dns !== undefined) {
    const want = toALabel(expected.dns);
    let publicSuffixWildcard: string | undefined;
    const ok =
      want !== undefined &&
      san.some((n) => {
        if (n.dNSName === undefined) return false;
        const pattern = n.dNSName.toLowerCase();
        const outcome = hostMatches(pattern, want);
        if (outcome === 'public-suffix') publicSuffixWildcard ??= n.dNSName;
        return outcome === true;
      });
    if (!ok && publicSuffixWildcard)
      return { code: 'CERT_WILDCARD_INVALID', message: `the wildcard "${publicSuffixWildcard}" covers a public suffix` };
    if (!ok) return { code: 'CERT_NAME_MISMATCH', message: `no subjectAltName dNSName matches ${expected.dns}` };
  }
  if (expected.ip !== undefined) {
    const want = ipToBytes(expected.ip);
    const ok =
      want !== undefined &&
      san.some((n) => {
        const b = n.iPAddress !== undefined ? ipToBytes(n.iPAddress) : undefined;
        return b !== undefined && Buffer.from(b).equals(Buffer.from(want));
      });
    if (!ok) return { code: 'CERT_NAME_MISMATCH', message: `no subjectAltName iPAddress matches ${expected.ip}` };
  }
  return undefined;
}

/** The expected name as lowercase A-labels (UTS #46 through WHATWG URL's domainToASCII), without a trailing dot. */
export function toALabel(name: string): string | undefined {
  const ascii = domainToASCII(name.replace(/\.$/, '')).toLowerCase();
  return ascii === '' ? undefined : ascii;
}

function hostMatches(pattern: string, host: string): boolean | 'public-suffix' {
  if (!pattern.startsWith('*.')) return pattern === host;
  const base = pattern.slice(2);
  const dot = host.indexOf('.');
  // The wildcard is one whole label: it never matches the base itself, an empty label, or several labels.
  if (dot <= 0 || host.slice(dot + 1) !== base) return false;
  // "*.com" or "*.s3.amazonaws.com" would stand for every registrant under a public suffix.
  if (!base.includes('.') || isPublicSuffix(base)) return 'public-suffix';
  return true;
}

function isPublicSuffix(domain: string): boolean {
  const suffix = getPublicSuffix(domain, { allowPrivateDomains: true });
  return suffix === domain;
}
