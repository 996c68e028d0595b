// X.509 client certificate verification: path building to a configured trust store and RFC 5280
// path validation with Admit's stricter profile (see docs/anchors.md for the exact rules).
import { sameBytes } from './der';
import { keyFingerprint } from './fingerprint';
import { PemError, decodePem } from './pem';
import { signatureAlgorithmProblem } from './crypto-policy';
import { reason } from './reasons';
import type { Reason } from './reasons';
import { AnchorConfigError, refuse } from './result';
import { BoundedCache } from './key-cache';
import type { VerificationResult } from './result';
import { checkRevocation, parseCrl } from './revocation';
import type { ParsedCrl, RevocationSources } from './revocation';
import type { SafeFetcher } from './safe-fetch';
import { AnchorFetchError } from './safe-fetch';
import { CertParseError, KU, OID, parseCertificate, signedWith } from './x509-cert';
import type { ParsedCert } from './x509-cert';
import { expectedNameProblem, nameConstraintViolation } from './x509-names';
import type { ExpectedName } from './x509-names';

export type Material = Uint8Array | string;
export type EkuRequirement = 'clientAuth' | 'serverAuth' | 'any';

export interface X509Input {
  /** PEM (or one DER certificate): the leaf first, further certificates are untrusted intermediates. */
  chain: Material;
  intermediates?: Material[];
  trustStore: Material[];
  crls?: Material[];
  ocspResponses?: Uint8Array[];
  eku?: EkuRequirement;
  expectedName?: ExpectedName;
  /** Most intermediates allowed between the leaf and the trust anchor. */
  maxDepth?: number;
  at?: Date;
  /** Allowed clock difference for OCSP thisUpdate/nextUpdate, in seconds (default 300). */
  ocspSkewSeconds?: number;
  /** Enables CRL distribution point and OCSP responder fetching. */
  fetcher?: SafeFetcher;
}

export const DEFAULT_MAX_DEPTH = 8;
/** Per material (one PEM file or DER blob); the CLI applies the same cap before reading further. */
export const MAX_MATERIAL_BYTES = 1024 * 1024;
const MAX_CERTIFICATES = 256;
/** Bounds path building over hostile graphs (cycles, many same-name CAs). */
const MAX_ISSUER_CANDIDATES = 1000;
const MAX_COMPLETE_PATHS = 32;
/** Intermediates of any kind on one path (self-issued ones do not count against --max-depth). */
const MAX_INTERMEDIATES = 32;

export async function verifyX509(input: X509Input): Promise<VerificationResult> {
  const at = floorToSecond(input.at ?? new Date());
  const trust = parseTrustStore(input.trustStore);

  if (
    tooLarge(input.chain) ||
    (input.intermediates !== undefined && input.intermediates.some(tooLarge)) ||
    (input.crls !== undefined && input.crls.some(tooLarge)) ||
    (input.ocspResponses !== undefined && input.ocspResponses.some(tooLarge))
  )
    return refuse('x509', [reason('INPUT_TOO_LARGE', `more than ${MAX_MATERIAL_BYTES} bytes`)]);

  let leaf: ParsedCert;
  let intermediates: ParsedCert[];
  try {
    // The leaf's key only needs checking (it verifies nothing here); the others verify signatures.
    const chain = decodePem(input.chain).map((der, i) => parseCertificate(der, i > 0));
    const extra = (input.intermediates ?? []).flatMap((m) => decodePem(m).map((der) => parseCertificate(der)));
    leaf = chain[0]!;
    intermediates = [...chain.slice(1), ...extra];
    if (chain.length + extra.length > MAX_CERTIFICATES)
      return refuse('x509', [reason('INPUT_TOO_LARGE', `more than ${MAX_CERTIFICATES} certificates`)]);
  } catch (err) {
    return refuse('x509', [materialReason(err)]);
  }

  let crls: ParsedCrl[];
  try {
    crls = (input.crls ?? []).flatMap((m) => decodeCrls(m).map(parseCrl));
  } catch {
    return refuse('x509', [reason('CRL_INVALID', 'a supplied CRL cannot be decoded')]);
  }
  const revocation: RevocationSources = {
    crls,
    ocspResponses: input.ocspResponses ?? [],
    ...(input.ocspSkewSeconds !== undefined ? { ocspSkewSeconds: input.ocspSkewSeconds } : {}),
    ...(input.fetcher ? { fetcher: input.fetcher } : {}),
  };
  const maxDepth = input.maxDepth ?? DEFAULT_MAX_DEPTH;
  const policy: PathPolicy = { at, eku: input.eku ?? 'clientAuth', ...(input.expectedName ? { expectedName: input.expectedName } : {}) };

  const built = buildPaths(leaf, intermediates, trust, maxDepth);
  let firstFailure: Reason[] | undefined;
  for (const path of built.paths) {
    const reasons = validatePath(path, policy);
    let revocationStatus: string[] = [];
    // With no CRL, OCSP response or fetcher there is nothing to consult: every status is 'not-checked'.
    if (reasons.length === 0 && (crls.length > 0 || revocation.ocspResponses.length > 0 || revocation.fetcher)) {
      const outcome = await revocationReasons(path, at, revocation);
      if (Array.isArray(outcome)) reasons.push(...outcome);
      else revocationStatus = outcome.status;
    }
    if (reasons.length === 0) {
      // The RFC 7638 thumbprint is synchronous for RSA, EC and OKP keys; keyFingerprint covers the rest.
      const thumbprint = path[0]!.keyThumbprint;
      return accepted(path, revocationStatus, thumbprint !== undefined ? `jwk-sha256:${thumbprint}` : await keyFingerprint(path[0]!.publicJwk));
    }
    firstFailure ??= reasons;
  }

  const leafProblems = [...leaf.problems, ...validityReasons(leaf, at)];
  if (firstFailure) return refuse('x509', firstFailure, describeLeaf(leaf));
  const chainReason = built.depthExceeded
    ? reason('CERT_CHAIN_TOO_LONG', `more than ${maxDepth} intermediates`)
    : built.signatureFailure
      ? reason('CERT_SIGNATURE_INVALID', built.signatureFailure)
      : reason('CERT_UNTRUSTED', built.exhausted ? 'path building gave up on an over-complex set of certificates' : undefined);
  return refuse('x509', [chainReason, ...leafProblems], describeLeaf(leaf));
}

function tooLarge(material: Material): boolean {
  return material.length > MAX_MATERIAL_BYTES;
}

function floorToSecond(d: Date): Date {
  // Certificate times have whole seconds; comparing a fractional instant against them rounds the wrong way.
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

function materialReason(err: unknown): Reason {
  if (err instanceof PemError) return reason('PEM_MALFORMED', err.message);
  if (err instanceof CertParseError) return reason(err.code, err.message);
  throw err;
}

/** The trust store, parsed and indexed by subject once per configuration (its material text). */
export interface TrustStore {
  certs: ParsedCert[];
  /** Hex of the subject DER → trust anchors with that name. */
  bySubject: Map<string, ParsedCert[]>;
  sha256: Set<string>;
}

const trustStores = new BoundedCache<string, TrustStore>(16);

function trustStoreKey(materials: Material[]): string {
  return materials
    .map((m) => (typeof m === 'string' ? `s${m}` : `b${Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString('base64')}`))
    .join('\u0000');
}

/**
 * The last store parsed from each trust-store array, with the strings it held: a configuration passes
 * the same array on every call, so the lookup by text (which hashes the whole store) is skipped while
 * the array still holds the same strings. Byte materials can change in place and always take the
 * lookup by text.
 */
const byArray = new WeakMap<Material[], { held: string[]; store: TrustStore }>();

function parseTrustStore(materials: Material[]): TrustStore {
  const seen = byArray.get(materials);
  if (seen && seen.held.length === materials.length && seen.held.every((m, i) => m === materials[i])) return seen.store;
  const store = trustStoreByText(materials);
  if (materials.every((m) => typeof m === 'string')) byArray.set(materials, { held: [...materials], store });
  return store;
}

function trustStoreByText(materials: Material[]): TrustStore {
  const key = trustStoreKey(materials);
  const hit = trustStores.get(key);
  if (hit) return hit;
  let certs: ParsedCert[];
  try {
    certs = materials.flatMap((m) => decodePem(m).map((der) => parseCertificate(der)));
  } catch (err) {
    throw new AnchorConfigError(`the trust store cannot be read: ${(err as Error).message}`);
  }
  if (certs.length === 0) throw new AnchorConfigError('the trust store is empty');
  const bySubject = new Map<string, ParsedCert[]>();
  for (const c of certs) {
    const name = c.subjectDer.toString('hex');
    bySubject.set(name, [...(bySubject.get(name) ?? []), c]);
  }
  return trustStores.set(key, { certs, bySubject, sha256: new Set(certs.map((c) => c.sha256)) });
}

function decodeCrls(material: Material): Buffer[] {
  // "CRL" is a common non-standard label (RFC 7468 says "X509 CRL").
  return decodePem(material, ['X509 CRL', 'CRL']);
}

interface BuiltPaths {
  /** Each path runs leaf first and ends with a trust-store certificate. */
  paths: ParsedCert[][];
  depthExceeded: boolean;
  signatureFailure?: string;
  exhausted: boolean;
}

function buildPaths(leaf: ParsedCert, intermediates: ParsedCert[], trust: TrustStore, maxDepth: number): BuiltPaths {
  const builder = new PathBuilder(trust, intermediates, maxDepth);
  builder.extend([leaf]);
  return builder.out;
}

/** Depth-first path building from the leaf to any trust anchor, within the bounds above. */
class PathBuilder {
  readonly out: BuiltPaths = { paths: [], depthExceeded: false, exhausted: false };
  private readonly trusted: Set<string>;
  private readonly supplied: ParsedCert[];
  /** Signature checks already made, by child and parent fingerprint. */
  private readonly signatures = new Map<string, boolean>();
  private budget = MAX_ISSUER_CANDIDATES;

  constructor(
    private readonly trust: TrustStore,
    intermediates: ParsedCert[],
    private readonly maxDepth: number,
  ) {
    this.trusted = trust.sha256;
    this.supplied = intermediates.filter((c) => !this.trusted.has(c.sha256));
  }

  /** Trust anchors first (from the index), then the supplied intermediates with that name, in the order given. */
  private issuersOf(cert: ParsedCert): ParsedCert[] {
    const anchors = this.trust.bySubject.get(cert.issuerDer.toString('hex')) ?? [];
    const named = this.supplied.filter((c) => sameBytes(c.subjectDer, cert.issuerDer));
    return named.length === 0 ? anchors : [...anchors, ...named];
  }

  private signedBy(child: ParsedCert, parent: ParsedCert): boolean {
    const key = `${child.sha256}/${parent.sha256}`;
    let ok = this.signatures.get(key);
    if (ok === undefined) {
      ok = signedWith(child, parent.publicKey, parent.publicKeyType);
      this.signatures.set(key, ok);
    }
    return ok;
  }

  extend(path: ParsedCert[]): void {
    const { out, trusted } = this;
    const current = path[path.length - 1]!;
    if (trusted.has(current.sha256)) {
      out.paths.push(path);
      return;
    }
    for (const candidate of this.issuersOf(current)) {
      if (out.paths.length >= MAX_COMPLETE_PATHS) return;
      if (current.akiKeyId && candidate.ski && !sameBytes(current.akiKeyId, candidate.ski)) continue;
      // A certificate (or the same name and key under another serial) may appear once: this cuts cycles.
      if (
        path.some(
          (p) =>
            p.sha256 === candidate.sha256 || (sameBytes(p.subjectDer, candidate.subjectDer) && sameBytes(p.publicKeyBits, candidate.publicKeyBits)),
        )
      )
        continue;
      if (this.budget-- <= 0) {
        out.exhausted = true;
        return;
      }
      if (!this.signedBy(current, candidate)) {
        out.signatureFailure ??= `the signature of "${current.subjectText}" does not verify with the key of "${candidate.subjectText}"`;
        continue;
      }
      // --max-depth counts the intermediates between the leaf and the anchor that are not self-issued
      // (RFC 5280 6.1.4 (l), and x509-limbo's max_chain_depth: pathlen::max-chain-depth-1-self-issued);
      // self-issued ones are bounded by MAX_INTERMEDIATES instead.
      if (!trusted.has(candidate.sha256)) {
        const counted = path.slice(1).filter((c) => !c.selfIssued).length + (candidate.selfIssued ? 0 : 1);
        if (counted > this.maxDepth || path.length > MAX_INTERMEDIATES) {
          out.depthExceeded = true;
          continue;
        }
      }
      this.extend([...path, candidate]);
    }
  }
}

interface PathPolicy {
  at: Date;
  eku: EkuRequirement;
  expectedName?: ExpectedName;
}

function validityReasons(cert: ParsedCert, at: Date): Reason[] {
  if (cert.notBefore.getTime() > at.getTime())
    return [reason('CERT_NOT_YET_VALID', `"${cert.subjectText}" is valid from ${cert.notBefore.toISOString()}`)];
  if (cert.notAfter.getTime() < at.getTime()) return [reason('CERT_EXPIRED', `"${cert.subjectText}" expired at ${cert.notAfter.toISOString()}`)];
  return [];
}

/** RFC 5280 6.1 over a built path (leaf first, trust anchor last), with Admit's profile. */
function validatePath(path: ParsedCert[], policy: PathPolicy): Reason[] {
  const reasons: Reason[] = [];
  const anchorIndex = path.length - 1;
  const leaf = path[0]!;

  path.forEach((cert, i) => {
    reasons.push(...cert.problems);
    if (cert.unknownCritical.length > 0) reasons.push(reason('CERT_UNKNOWN_CRITICAL_EXTENSION', cert.unknownCritical.join(', ')));
    reasons.push(...validityReasons(cert, policy.at));
    const weak = cert.keyProblem;
    if (weak) reasons.push(reason('CERT_WEAK_KEY', `"${cert.subjectText}": ${weak}`));
    // The trust anchor's own signature is not part of the path: only its name and key are trusted.
    if (i < anchorIndex) {
      // RFC 5280 4.2.1.1: every certificate but a self-signed one names its issuer key. A self-issued
      // certificate under a different key (a key rollover) still needs it.
      const selfSigned = cert.selfIssued && sameBytes(cert.publicKeyBits, path[i + 1]!.publicKeyBits);
      if (!selfSigned && !cert.akiKeyId)
        reasons.push(reason('CERT_AKI_MISSING', `"${cert.subjectText}" has no authorityKeyIdentifier keyIdentifier`));
      const alg = signatureAlgorithmProblem(cert.signatureAlgorithm);
      if (alg) reasons.push(reason('CERT_WEAK_SIGNATURE_ALGORITHM', `"${cert.subjectText}": ${alg}`));
    } else if (cert.akiKeyId && cert.ski && cert.selfIssued && !sameBytes(cert.akiKeyId, cert.ski)) {
      reasons.push(reason('CERT_MALFORMED', 'a self-signed trust anchor names another key in authorityKeyIdentifier'));
    }
    if (i > 0) reasons.push(...issuerReasons(cert, policy.eku));
  });

  // Path length (6.1.4 l/m): counted from the anchor down, self-issued intermediates are free.
  let remaining = Infinity;
  for (let i = anchorIndex; i >= 1; i--) {
    const cert = path[i]!;
    if (i < anchorIndex && !cert.selfIssued) {
      if (remaining <= 0) reasons.push(reason('CERT_PATH_LENGTH_EXCEEDED', `"${cert.subjectText}" exceeds a pathLenConstraint`));
      remaining--;
    }
    if (cert.basicConstraints?.pathLen !== undefined) remaining = Math.min(remaining, cert.basicConstraints.pathLen);
  }

  // Name constraints apply to everything below the CA, except self-issued intermediates (6.1.3 b/c).
  for (let i = 1; i <= anchorIndex; i++) {
    const nc = path[i]!.nameConstraints;
    if (!nc) continue;
    for (let j = 0; j < i; j++) {
      if (j > 0 && path[j]!.selfIssued) continue;
      const violation = nameConstraintViolation(path[j]!, nc);
      if (violation) reasons.push(reason('CERT_NAME_CONSTRAINTS_VIOLATED', violation));
    }
  }

  reasons.push(...leafReasons(leaf, policy));
  return reasons;
}

function issuerReasons(cert: ParsedCert, eku: EkuRequirement): Reason[] {
  const reasons: Reason[] = [];
  const bc = cert.basicConstraints;
  if (!bc || !bc.ca) reasons.push(reason('CERT_NOT_CA', `"${cert.subjectText}" issues certificates but is not a CA`));
  else if (!bc.critical) reasons.push(reason('CERT_NOT_CA', `"${cert.subjectText}" has a non-critical basicConstraints`));
  if (cert.keyUsage !== undefined && !(cert.keyUsage & KU.keyCertSign)) {
    reasons.push(reason('CERT_KEY_USAGE_INVALID', `"${cert.subjectText}" keyUsage lacks keyCertSign`));
  }
  // A CA limited to other purposes cannot vouch for this one (the nesting rule of Go and OpenSSL).
  if (eku !== 'any' && cert.eku && !cert.eku.includes(OID[eku]) && !cert.eku.includes(OID.anyEku)) {
    reasons.push(reason('CERT_EKU_MISSING', `the CA "${cert.subjectText}" is restricted to other extended key usages`));
  }
  return reasons;
}

function leafReasons(leaf: ParsedCert, policy: PathPolicy): Reason[] {
  const reasons: Reason[] = [];
  if (policy.eku !== 'any') {
    // A client (or server) identity is an end entity: a CA certificate in the leaf position could issue
    // further identities under the partner's name (CA/B BR 7.1.2.7.8; RFC 5280 alone allows it, --eku any).
    if (leaf.basicConstraints?.ca) reasons.push(reason('CERT_LEAF_IS_CA', `"${leaf.subjectText}" has basicConstraints cA true`));
    // CA/B BR 7.1.2.7.10 (as webpki): a subscriber certificate's extKeyUsage is not critical.
    if (leaf.ekuCritical) reasons.push(reason('CERT_EKU_CRITICAL', 'the certificate marks extKeyUsage critical'));
    // Admit requires the purpose to be stated: no EKU (RFC 5280's "any purpose") and anyExtendedKeyUsage are refused.
    if (!leaf.eku || !leaf.eku.includes(OID[policy.eku])) reasons.push(reason('CERT_EKU_MISSING', `the certificate does not list ${policy.eku}`));
    else if (leaf.eku.includes(OID.anyEku)) reasons.push(reason('CERT_EKU_MISSING', `anyExtendedKeyUsage is refused; list only ${policy.eku}`));
    const needed = policy.eku === 'clientAuth' ? KU.digitalSignature : KU.digitalSignature | KU.keyEncipherment | KU.keyAgreement;
    if (leaf.keyUsage !== undefined && !(leaf.keyUsage & needed)) {
      reasons.push(reason('CERT_KEY_USAGE_INVALID', 'the certificate keyUsage does not allow signing'));
    }
  }
  if (policy.expectedName) {
    const problem = expectedNameProblem(leaf, policy.expectedName);
    if (problem) reasons.push(reason(problem.code, problem.message));
  }
  return reasons;
}

async function revocationReasons(path: ParsedCert[], at: Date, sources: RevocationSources): Promise<Reason[] | { status: string[] }> {
  const status: string[] = [];
  for (let i = 0; i < path.length - 1; i++) {
    let outcome;
    try {
      outcome = await checkRevocation(path[i]!, path[i + 1]!, at, sources);
    } catch (err) {
      // The partner's distribution point refusing to be fetched is the partner's problem; a timeout is ours.
      if (err instanceof AnchorFetchError && !err.retryable) return [reason(err.code, err.message)];
      throw err;
    }
    if (Array.isArray(outcome)) return outcome;
    status.push(outcome);
  }
  return { status };
}

function describeLeaf(leaf: ParsedCert): { fingerprint: string; subject: string } {
  return { fingerprint: `sha256:${leaf.sha256}`, subject: leaf.subjectText };
}

function accepted(path: ParsedCert[], revocation: string[], keyFingerprint: string): VerificationResult {
  const leaf = path[0]!;
  let notAfter = Infinity;
  const chain: { subject: string; fingerprint: string }[] = [];
  const status: { subject: string; status: string }[] = [];
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    notAfter = Math.min(notAfter, c.notAfter.getTime());
    chain.push({ subject: c.subjectText, fingerprint: `sha256:${c.sha256}` });
    if (i < path.length - 1) status.push({ subject: c.subjectText, status: revocation[i] ?? 'not-checked' });
  }
  const sanUris: string[] = [];
  for (const n of leaf.san ?? []) if (n.uniformResourceIdentifier) sanUris.push(n.uniformResourceIdentifier);
  return {
    ok: true,
    kind: 'x509',
    ...describeLeaf(leaf),
    keyFingerprint,
    notAfter: new Date(notAfter).toISOString(),
    reasons: [],
    details: { chain, revocation: status, sanUris },
  };
}
