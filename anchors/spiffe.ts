// SPIFFE workload identity: SPIFFE ID syntax, X.509-SVIDs and JWT-SVIDs against a trust bundle.
import { verifyJwt } from './assertion';
import { keyFingerprint } from './fingerprint';
import { parseKeySet } from './jwk';
import type { KeySet } from './jwk';
import { encodePem } from './pem';
import { reason } from './reasons';
import type { Reason } from './reasons';
import { AnchorConfigError, refuse } from './result';
import type { VerificationResult } from './result';
import { verifyX509 } from './x509';
import type { Material } from './x509';
import { KU, parseCertificate } from './x509-cert';

export interface SpiffeId {
  id: string;
  trustDomain: string;
  path: string;
}

const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Parses per the SPIFFE ID specification (section 2); undefined when `text` is not a SPIFFE ID. */
export function parseSpiffeId(text: string): SpiffeId | undefined {
  if (text.length > 2048 || !text.startsWith('spiffe://')) return undefined;
  const rest = text.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash);
  if (trustDomain.length === 0 || trustDomain.length > 255 || !TRUST_DOMAIN.test(trustDomain)) return undefined;
  if (path !== '') {
    const segments = path.slice(1).split('/');
    if (segments.some((s) => s === '' || s === '.' || s === '..' || !SEGMENT.test(s))) return undefined;
  }
  return { id: text, trustDomain, path };
}

export interface TrustBundle {
  x509Authorities: string[];
  jwtKeys: KeySet;
}

/**
 * A SPIFFE bundle (a JWKS whose keys have use "x509-svid" with one x5c certificate, or use "jwt-svid"),
 * or PEM CA certificates (X.509 authorities only). Bundles are operator configuration.
 */
export async function parseTrustBundle(material: Material): Promise<TrustBundle> {
  const text = typeof material === 'string' ? material : Buffer.from(material).toString('utf8');
  if (!text.trimStart().startsWith('{')) return { x509Authorities: [text], jwtKeys: { keys: [] } };
  let doc: { keys?: unknown };
  try {
    doc = JSON.parse(text) as { keys?: unknown };
  } catch {
    throw new AnchorConfigError('the trust bundle is neither PEM nor JSON');
  }
  if (!Array.isArray(doc.keys)) throw new AnchorConfigError('the trust bundle has no keys array');
  const x509Authorities: string[] = [];
  const jwt: unknown[] = [];
  for (const key of doc.keys as Record<string, unknown>[]) {
    if (key.use === 'x509-svid') {
      const x5c = key.x5c;
      if (!Array.isArray(x5c) || x5c.length !== 1 || typeof x5c[0] !== 'string')
        throw new AnchorConfigError('an x509-svid bundle key needs exactly one x5c certificate');
      x509Authorities.push(encodePem(Buffer.from(x5c[0], 'base64')));
    } else if (key.use === 'jwt-svid') {
      if (typeof key.kid !== 'string') throw new AnchorConfigError('a jwt-svid bundle key needs a kid');
      const { use: _use, ...publicKey } = key;
      jwt.push(publicKey);
    }
  }
  const jwtKeys = jwt.length > 0 ? await parseKeySet({ keys: jwt }) : { keys: [] };
  if ('code' in jwtKeys) throw new AnchorConfigError(`the trust bundle jwt-svid keys are invalid: ${jwtKeys.message}`);
  return { x509Authorities, jwtKeys };
}

export interface SpiffeInput {
  bundle: TrustBundle;
  /** The SPIFFE ID the workload is registered as; its trust domain must be the bundle's. */
  expectedId: string;
  x509Svid?: Material;
  jwtSvid?: string;
  /** Required for JWT-SVIDs. */
  audience?: string;
  at?: Date;
}

export async function verifySpiffe(input: SpiffeInput): Promise<VerificationResult> {
  const expected = parseSpiffeId(input.expectedId);
  if (!expected) return refuse('spiffe', [reason('SPIFFE_ID_INVALID', 'the expected SPIFFE ID')]);
  if (input.x509Svid !== undefined) return verifyX509Svid(input, expected, input.x509Svid);
  if (input.jwtSvid !== undefined) return verifyJwtSvid(input, expected, input.jwtSvid);
  throw new AnchorConfigError('an X.509-SVID or a JWT-SVID is needed');
}

function idReasons(uri: string | undefined, expected: SpiffeId): Reason[] {
  const id = uri === undefined ? undefined : parseSpiffeId(uri);
  if (!id) return [reason('SPIFFE_ID_INVALID')];
  if (id.trustDomain !== expected.trustDomain) return [reason('SPIFFE_TRUST_DOMAIN_MISMATCH', `${id.trustDomain} is not ${expected.trustDomain}`)];
  if (id.id !== expected.id) return [reason('SPIFFE_ID_MISMATCH', `${id.id} is not ${expected.id}`)];
  return [];
}

async function verifyX509Svid(input: SpiffeInput, expected: SpiffeId, svid: Material): Promise<VerificationResult> {
  if (input.bundle.x509Authorities.length === 0) throw new AnchorConfigError('the trust bundle has no X.509 authorities');
  // X.509-SVIDs may carry either TLS usage, so the EKU is left to the SVID profile below.
  const chain = await verifyX509({ chain: svid, trustStore: input.bundle.x509Authorities, eku: 'any', ...(input.at ? { at: input.at } : {}) });
  if (!chain.ok) return { ...chain, kind: 'spiffe' };

  const leaf = parseCertificate(Buffer.from(chainLeafDer(svid)));
  const uris = (leaf.san ?? []).filter((n) => n.uniformResourceIdentifier !== undefined);
  const profile: Reason[] = [];
  if (uris.length !== 1) profile.push(reason('SVID_MALFORMED', `${uris.length} URI SANs (exactly one is required)`));
  if (leaf.basicConstraints?.ca) profile.push(reason('SVID_MALFORMED', 'the leaf is a CA'));
  if (leaf.keyUsage === undefined || !(leaf.keyUsage & KU.digitalSignature) || leaf.keyUsage & (KU.keyCertSign | KU.cRLSign)) {
    profile.push(reason('SVID_MALFORMED', 'keyUsage must include digitalSignature and not keyCertSign or cRLSign'));
  }
  if (profile.length === 0) profile.push(...idReasons(uris[0]?.uniformResourceIdentifier, expected));
  const described = { fingerprint: expected.id, keyFingerprint: await keyFingerprint(leaf.publicJwk), subject: expected.id };
  if (profile.length > 0) return refuse('spiffe', profile, described);
  return { ...chain, ...described, kind: 'spiffe', details: { ...chain.details, svid: 'x509', certificateFingerprint: chain.fingerprint } };
}

function chainLeafDer(svid: Material): Buffer {
  const text = typeof svid === 'string' ? svid : Buffer.from(svid).toString('latin1');
  const match = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/.exec(text);
  return match ? Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64') : Buffer.from(svid);
}

async function verifyJwtSvid(input: SpiffeInput, expected: SpiffeId, token: string): Promise<VerificationResult> {
  if (input.bundle.jwtKeys.keys.length === 0) throw new AnchorConfigError('the trust bundle has no jwt-svid keys');
  if (!input.audience) throw new AnchorConfigError('a JWT-SVID is checked against an audience');
  const verified = await verifyJwt({
    token,
    keys: input.bundle.jwtKeys,
    audience: input.audience,
    now: input.at ?? new Date(),
    requiredClaims: ['sub', 'aud', 'exp'],
  });
  if ('code' in verified) return refuse('spiffe', [verified]);
  const sub = typeof verified.payload.sub === 'string' ? verified.payload.sub : undefined;
  const problems = idReasons(sub, expected);
  const described = { fingerprint: expected.id, subject: expected.id };
  if (problems.length > 0) return refuse('spiffe', problems, described);
  return {
    ok: true,
    kind: 'spiffe',
    ...described,
    notAfter: new Date(verified.payload.exp! * 1000).toISOString(),
    reasons: [],
    details: { svid: 'jwt', kid: verified.signed.jwk.kid, bundleKeyFingerprint: await keyFingerprint(verified.signed.jwk) },
  };
}
