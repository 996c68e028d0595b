// Every x509-limbo case through `admit anchor verify` itself (the CLI entry point, in process), with
// the case material written to files exactly as an operator would pass them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/admit';
import { Tally, loadCorpus } from './corpora';

interface LimboCase {
  id: string;
  features: string[] | null;
  validation_kind: 'SERVER' | 'CLIENT';
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  validation_time: string | null;
  extended_key_usage: string[];
  key_usage: string[];
  signature_algorithms: string[];
  expected_result: 'SUCCESS' | 'FAILURE';
  expected_peer_name: { kind: 'DNS' | 'IP' | 'RFC822'; value: string } | null;
  max_chain_depth: number | null;
  crls: string[];
}

/** Cases outside what the verifier claims, each with the reason it does not claim it. */
export const SKIPPED: Record<string, string> = {
  'webpki::cn::not-in-san':
    'Admit never reads the subject CN as a name (only subjectAltName identifies a peer), so a CN that disagrees with the SAN cannot mislead it; CA/B BR 7.1.4.3 is an issuance rule Admit does not lint.',
  'webpki::cn::ipv6-uppercase-mismatch': 'Same as webpki::cn::not-in-san: the subject CN is not used as a name.',
  'webpki::eku::root-has-eku':
    'CA/B forbids EKU in roots as an issuance rule; Admit instead applies EKU nesting (a CA EKU must include the required purpose), which this root satisfies.',
  'rfc5280::aki::cross-signed-root-missing-aki':
    'Trust-store certificates are trusted as a name and key (RFC 5280 6.1.1 d) and their own extensions such as AKI are not required; the corpus itself expects success for a trust anchor without AKI in cve::cve-2024-0567.',
};

/** SUCCESS cases Admit refuses on purpose, each with the reason. */
export const KNOWN_DEVIATIONS: Record<string, string> = {
  'webpki::nc::permitted-dns-match-noncritical':
    'Admit follows RFC 5280 4.2.1.10 (nameConstraints MUST be critical) and refuses a non-critical one; the corpus holds the opposite RFC 5280 expectation as rfc5280::nc::permitted-dns-match-noncritical.',
};

const EKU: Record<string, string> = { serverAuth: 'serverAuth', clientAuth: 'clientAuth' };

/**
 * An empty EKU list means no EKU constraint in limbo; a non-empty one names the purpose. A required
 * digitalSignature key usage has no flag of its own: Admit's --eku serverAuth/clientAuth includes it
 * (see leafReasons), so such cases run with the EKU of their validation kind, a stricter check.
 */
function ekuFor(c: LimboCase): string {
  if (c.extended_key_usage.length > 0) return EKU[c.extended_key_usage[0]!]!;
  if (c.key_usage.includes('digitalSignature')) return c.validation_kind === 'SERVER' ? 'serverAuth' : 'clientAuth';
  return 'any';
}

function argv(c: LimboCase, dir: string): string[] {
  const put = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const args = ['anchor', 'verify', '--kind', 'x509', '--json', '--cert', put('peer.pem', c.peer_certificate + c.untrusted_intermediates.join(''))];
  args.push('--trust-store', put('trusted.pem', c.trusted_certs.join('')));
  c.crls.forEach((crl, i) => args.push('--crl', put(`crl-${i}.pem`, crl)));
  args.push('--eku', ekuFor(c));
  if (c.expected_peer_name?.kind === 'DNS') args.push('--dns-name', c.expected_peer_name.value);
  if (c.expected_peer_name?.kind === 'IP') args.push('--ip-address', c.expected_peer_name.value);
  if (c.max_chain_depth !== null) args.push('--max-depth', String(c.max_chain_depth));
  if (c.validation_time) args.push('--at', c.validation_time);
  return args;
}

function unsupported(c: LimboCase): string | undefined {
  if (SKIPPED[c.id]) return SKIPPED[c.id];
  if (c.extended_key_usage.length > 1 || c.extended_key_usage.some((e) => !EKU[e])) return 'Admit checks one of clientAuth or serverAuth.';
  if (c.signature_algorithms.length > 0) return 'Admit has a fixed signature algorithm policy.';
  if (c.key_usage.some((u) => u !== 'digitalSignature')) return 'Admit checks only the digitalSignature key usage (through --eku).';
  if (c.expected_peer_name && c.expected_peer_name.kind !== 'DNS' && c.expected_peer_name.kind !== 'IP')
    return 'Only DNS and IP peer names are bound.';
  return undefined;
}

const corpus = loadCorpus<{ testcases: LimboCase[] }>('x509-limbo/limbo.json');

describe('x509-limbo through admit anchor verify', () => {
  it('has no false accepts, and every false reject is a listed deviation', async () => {
    const tally = new Tally();
    const falseAccepts: string[] = [];
    const unexpectedRejects: string[] = [];
    const deviationsSeen = new Set<string>();
    const skips: string[] = [];
    const root = mkdtempSync(path.join(tmpdir(), 'limbo-'));

    for (const c of corpus.testcases) {
      const category = c.id.split('::')[0]!;
      const skip = unsupported(c);
      if (skip) {
        tally.add(category, 'skipped');
        skips.push(`${c.id}: ${skip}`);
        continue;
      }
      const dir = mkdtempSync(path.join(root, 'c-'));
      let out = '';
      const code = await main(argv(c, dir), { out: (t) => (out += t), err: (t) => (out += t) });
      expect([0, 1], `${c.id} ended with usage exit ${code}: ${out}`).toContain(code);
      const accepted = code === 0;
      if (accepted === (c.expected_result === 'SUCCESS')) tally.add(category, 'agree');
      else if (accepted) {
        tally.add(category, 'false-accept');
        falseAccepts.push(c.id);
      } else {
        tally.add(category, 'false-reject');
        if (KNOWN_DEVIATIONS[c.id]) deviationsSeen.add(c.id);
        else unexpectedRejects.push(`${c.id}: ${out.trim()}`);
      }
    }

    console.log(`${tally.table(`x509-limbo agreement (${corpus.testcases.length} cases)`)}\n\nskipped:\n${skips.map((s) => `- ${s}`).join('\n')}\n`);
    expect(falseAccepts).toEqual([]);
    expect(unexpectedRejects).toEqual([]);
    expect([...deviationsSeen].sort()).toEqual(Object.keys(KNOWN_DEVIATIONS).sort());
    expect(tally.total('agree')).toBeGreaterThan(100);
  }, 120_000);
});
