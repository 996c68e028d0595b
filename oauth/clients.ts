import { X509Certificate, createHash } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { AdapterPayload } from 'oidc-provider';
import type { Registry } from '../registry/client';
import type { TrustAnchor } from '../generated/prisma/client';
import type { SafeFetcher } from '../anchors';
import type { GatewayToken } from '../config/env';

/**
 * Admit's registry as oidc-provider's client store. A partner client is
 * derived, on every lookup, from its ClientCredential, the application, the
 * active grant and the trust anchors in service (ACTIVE, and ROTATING_OUT
 * during a rotation overlap):
 *
 * - JWK anchor → `private_key_jwt` with exactly the bound key(s), DPoP
 *   required (`dpop_bound_access_tokens`), and the DPoP key must be one of
 *   those keys (checked in oauth/provider.ts).
 * - X.509 anchor → `tls_client_auth`: the certificate chains to the trust
 *   store on the TLS handshake, its subject DN matches, and its SHA-256
 *   (x5t#S256) is the bound one — a DN match alone is not enough.
 * - SPIFFE X.509-SVID → `self_signed_tls_client_auth` pinned to the SVID.
 * - SPIFFE JWT-SVID and OIDC workloads → no client authentication of their
 *   own; they get tokens only by the JWT bearer grant with a workload token
 *   that names them (oauth/workload-grant.ts).
 *
 * Nothing else exists: no secrets, no client registered any other way. The
 * API gateways are clients of the introspection and revocation endpoints
 * only (no grant type), authenticated by their ADMIT_GATEWAY_TOKENS token.
 */

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const GATEWAY_CLIENT_PREFIX = 'gateway:';

/** Extra client metadata Admit sets (declared in the provider's extraClientMetadata). */
export interface AdmitClientExtras {
  /** The credential's token lifetime (the tier template's), in seconds. */
  admit_token_lifetime?: number;
  /** Thumbprints the client may present: `jkt` values for key anchors, `x5t#S256` for certificates. */
  admit_bound?: string[];
  /** `fapi2` when every bound key uses PS256, ES256 or EdDSA; `non-fapi` (RS256) otherwise. */
  admit_profile?: 'fapi2' | 'non-fapi';
  /** The workload identity (`spiffe-id` or `oidc-sub` binding value) for the JWT bearer grant. */
  admit_workload?: string;
  /** Marks the API gateways' introspection clients. */
  admit_gateway?: boolean;
}

export interface ClientSources {
  gatewayTokens: readonly GatewayToken[];
  /** The SSRF-safe fetcher, for JWK anchors given by URL; without it such clients are refused. */
  fetcher?: SafeFetcher;
}

const FAPI_ALGS = new Set(['PS256', 'ES256', 'EdDSA', 'Ed25519']);

function material(anchor: TrustAnchor): Record<string, unknown> {
  const m = anchor.material;
  return typeof m === 'object' && m !== null && !Array.isArray(m) ? (m as Record<string, unknown>) : {};
}

function bareThumbprint(anchor: TrustAnchor): string {
  return (anchor.keyFingerprint ?? anchor.fingerprint).replace(/^jwk-sha256:/, '');
}

async function anchorKeys(anchor: TrustAnchor, sources: ClientSources): Promise<JWK[]> {
  const m = material(anchor);
  let set: unknown = m.jwks;
  if (set === undefined && typeof m.jwksUrl === 'string') {
    if (sources.fetcher === undefined) return [];
    try {
      const { body } = await sources.fetcher.fetch(m.jwksUrl, { accept: 'application/json' });
      set = JSON.parse(body.toString('utf8'));
    } catch {
      return [];
    }
  }
  const candidates: unknown[] =
    typeof set === 'object' && set !== null && Array.isArray((set as { keys?: unknown }).keys) ? (set as { keys: unknown[] }).keys : [set];
  const wanted = bareThumbprint(anchor);
  const keys: JWK[] = [];
  for (const candidate of candidates) {
    if (typeof candidate !== 'object' || candidate === null) continue;
    const jwk = candidate as JWK;
    // Only the very key the anchor verified, and only its public part.
    if ((await calculateJwkThumbprint(jwk, 'sha256').catch(() => '')) !== wanted) continue;
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, k: _k, ...publicJwk } = jwk as JWK & { oth?: unknown };
    keys.push({ ...publicJwk, use: 'sig' });
  }
  return keys;
}

/** The algorithm a JWK signs with, as far as the profile is concerned. */
function profileOf(keys: JWK[]): 'fapi2' | 'non-fapi' {
  return keys.every(
    (k) => (k.kty === 'EC' && k.crv === 'P-256') || (k.kty === 'OKP' && k.crv === 'Ed25519') || (k.kty === 'RSA' && k.alg === 'PS256'),
  )
    ? 'fapi2'
    : 'non-fapi';
}

function leafOf(anchor: TrustAnchor): X509Certificate | undefined {
  const pem = material(anchor).chainPem;
  if (typeof pem !== 'string') return undefined;
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

export function certificateThumbprint(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('base64url');
}

export async function clientMetadataFor(registry: Registry, clientId: string, sources: ClientSources): Promise<AdapterPayload | undefined> {
  if (clientId.startsWith(GATEWAY_CLIENT_PREFIX)) {
    const gateway = sources.gatewayTokens.find((g) => `${GATEWAY_CLIENT_PREFIX}${g.name}` === clientId);
    if (gateway === undefined) return undefined;
    return {
      client_id: clientId,
      client_secret: gateway.token,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
      admit_gateway: true,
    };
  }
  if (clientId.length > 200) return undefined;
  const credential = await registry.clientCredential.findUnique({
    where: { clientId },
    include: {
      application: {
        include: {
          grants: { where: { status: 'ACTIVE' }, orderBy: { grantedAt: 'desc' }, take: 1 },
          trustAnchors: { where: { status: { in: ['ACTIVE', 'ROTATING_OUT'] } }, orderBy: { verifiedAt: 'desc' } },
        },
      },
    },
  });
  if (credential === null || credential.status !== 'ACTIVE' || credential.application.status !== 'ADMITTED') return undefined;
  const grant = credential.application.grants[0];
  if (grant === undefined) return undefined;
  const anchors = credential.application.trustAnchors;
  const common = {
    client_id: clientId,
    client_name: credential.application.name,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: grant.scopes.join(' '),
    admit_token_lifetime: credential.tokenLifetimeSeconds,
  };

  switch (credential.confirmationMethod) {
    case 'jkt': {
      const keys = (await Promise.all(anchors.filter((a) => a.kind === 'JWK').map((a) => anchorKeys(a, sources)))).flat();
      if (keys.length === 0) return undefined;
      const bound = await Promise.all(keys.map((k) => calculateJwkThumbprint(k, 'sha256')));
      return {
        ...common,
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys },
        dpop_bound_access_tokens: true,
        admit_bound: bound,
        admit_profile: profileOf(keys),
      };
    }
    case 'x5t#S256': {
      const certs = anchors
        .map((a) => ({ anchor: a, leaf: leafOf(a) }))
        .filter((c): c is { anchor: TrustAnchor; leaf: X509Certificate } => c.leaf !== undefined);
      if (certs.length === 0) return undefined;
      const bound = certs.map((c) => certificateThumbprint(c.leaf));
      const current = certs[0] as { anchor: TrustAnchor; leaf: X509Certificate };
      if (current.anchor.kind === 'SPIFFE') {
        const keys = certs.map((c) => ({
          ...(c.leaf.publicKey.export({ format: 'jwk' }) as JWK),
          x5c: [c.leaf.raw.toString('base64')],
          'x5t#S256': certificateThumbprint(c.leaf),
        }));
        return {
          ...common,
          token_endpoint_auth_method: 'self_signed_tls_client_auth',
          jwks: { keys },
          tls_client_certificate_bound_access_tokens: true,
          admit_bound: bound,
          admit_profile: 'fapi2',
        };
      }
      return {
        ...common,
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_subject_dn: current.leaf.subject,
        tls_client_certificate_bound_access_tokens: true,
        admit_bound: bound,
        admit_profile: 'fapi2',
      };
    }
    case 'spiffe-id':
    case 'oidc-sub':
      return {
        ...common,
        grant_types: [JWT_BEARER],
        token_endpoint_auth_method: 'none',
        dpop_bound_access_tokens: true,
        admit_workload: `${credential.confirmationMethod} ${credential.confirmationValue}`,
        admit_profile: 'fapi2',
      };
    default:
      return undefined;
  }
}

/**
 * Whether an application's tokens are issued under the FAPI 2.0 profile: its key anchors in
 * service all sign with PS256, ES256 or EdDSA. Certificate-anchored clients (mTLS) are; null when
 * the application has no anchor in service. Keys published only by URL are judged by what the URL
 * serves now, so without a fetcher they count as not known (null).
 */
export async function tokenProfileOf(
  registry: Registry,
  applicationId: string,
  sources: Pick<ClientSources, 'fetcher'> = {},
): Promise<'fapi2' | 'non-fapi' | null> {
  const anchors = await registry.trustAnchor.findMany({ where: { applicationId, status: { in: ['ACTIVE', 'ROTATING_OUT'] } } });
  if (anchors.length === 0) return null;
  const keyAnchors = anchors.filter((a) => a.kind === 'JWK');
  if (keyAnchors.length === 0) return 'fapi2';
  const keys = (await Promise.all(keyAnchors.map((a) => anchorKeys(a, { gatewayTokens: [], ...sources })))).flat();
  return keys.length === 0 ? null : profileOf(keys);
}

export { FAPI_ALGS };
