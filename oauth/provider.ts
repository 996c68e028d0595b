import { createPrivateKey, type X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { calculateJwkThumbprint, decodeProtectedHeader, type JWK } from 'jose';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Registry } from '../registry/client';
import type { ResourceServerEntry } from '../config/env';
import { SCOPE_CATALOGUE } from '../domain/scopes';
import { RegistryAdapter } from './adapter';
import { certificateThumbprint, type ClientSources } from './clients';
import { registerWorkloadGrant, type WorkloadTrust } from './workload-grant';

/** Where the provider's endpoints live, under the issuer (the public URL). */
export const OAUTH_ROUTES = {
  token: '/oauth/token',
  introspection: '/oauth/introspect',
  revocation: '/oauth/revoke',
  jwks: '/oauth/jwks',
} as const;

/** Client assertion algorithms: the FAPI 2.0 set, and RS256 for partners whose anchors use it (non-FAPI). */
export const CLIENT_AUTH_ALGS = ['PS256', 'ES256', 'EdDSA', 'Ed25519', 'RS256'] as const;
const FAPI_ALGS = new Set(['PS256', 'ES256', 'EdDSA', 'Ed25519']);
/** DPoP proofs are signed with the anchor key, so every algorithm an anchor key may use. */
export const DPOP_ALGS = ['ES256', 'PS256', 'EdDSA', 'Ed25519', 'RS256'] as const;

export interface AuthorizationServerOptions {
  /** The issuer identifier: Admit's public URL. */
  issuer: string;
  registry: Registry;
  sources: ClientSources;
  resourceServers: readonly ResourceServerEntry[];
  /** 32-byte Ed25519 seed of the key that signs JWT access tokens (ADMIT_OAUTH_SIGNING_KEY). */
  signingSeed: Uint8Array;
  /** Longest accepted client assertion lifetime, seconds (ADMIT_OAUTH_ASSERTION_MAX_AGE). */
  assertionMaxAgeSeconds: number;
  /** Where the mutual-TLS endpoints are reached, for discovery's mtls_endpoint_aliases (RFC 8705 §5). */
  mtlsUrl?: string;
  /** SPIFFE bundles and OIDC issuers whose workload tokens the JWT bearer grant accepts; none, no such grant. */
  workloads?: WorkloadTrust;
}

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The private JWK of the access-token signing key, derived from its seed. */
export async function signingJwk(seed: Uint8Array): Promise<JWK> {
  if (seed.length !== 32) throw new Error('the access-token signing key seed must be 32 bytes');
  const key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const jwk = key.export({ format: 'jwk' }) as JWK;
  return { ...jwk, alg: 'EdDSA', use: 'sig', kid: await calculateJwkThumbprint(jwk) };
}

/** The certificate the client presented on this TLS connection, if any. */
export function peerCertificate(socket: unknown): X509Certificate | undefined {
  const tls = socket as Partial<TLSSocket>;
  if (tls.encrypted !== true || typeof tls.getPeerX509Certificate !== 'function') return undefined;
  return tls.getPeerX509Certificate() ?? undefined;
}

function extras(client: { metadata(): Record<string, unknown> } | undefined): Record<string, unknown> {
  return client?.metadata() ?? {};
}

function boundThumbprints(ctx: KoaContextWithOIDC): string[] {
  const bound = extras(ctx.oidc.client).admit_bound;
  return Array.isArray(bound) ? bound.filter((v): v is string => typeof v === 'string') : [];
}

function presentedCertificateIsBound(ctx: KoaContextWithOIDC): boolean {
  const cert = peerCertificate(ctx.req.socket);
  return cert !== undefined && boundThumbprints(ctx).includes(certificateThumbprint(cert));
}

/**
 * Admit's embedded authorization server: oidc-provider with the
 * client_credentials grant, clients read from the registry, sender-constrained
 * tokens only (DPoP for key anchors, mTLS certificate binding for
 * certificates), audiences from the resource catalogue.
 */
export async function createAuthorizationServer(options: AuthorizationServerOptions): Promise<Provider> {
  const catalogue = new Map(options.resourceServers.map((r) => [r.uri, r]));
  const defaultResource = options.resourceServers[0]?.uri;
  const allScopes = SCOPE_CATALOGUE.map((s) => s.scope);

  const configuration: Configuration = {
    adapter: (name: string) => new RegistryAdapter(name, options.registry, options.sources),
    clients: [],
    jwks: { keys: [await signingJwk(options.signingSeed)] },
    scopes: allScopes,
    claims: {},
    responseTypes: [],
    // No ID tokens are issued; the default must still name a key the provider holds.
    clientDefaults: { id_token_signed_response_alg: 'EdDSA', grant_types: ['client_credentials'], response_types: [] },
    clientAuthMethods: ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'client_secret_basic', 'none'],
    enabledJWA: {
      clientAuthSigningAlgValues: [...CLIENT_AUTH_ALGS],
      dPoPSigningAlgValues: [...DPOP_ALGS],
    },
    clockTolerance: 5,
    routes: { ...OAUTH_ROUTES },
    extraClientMetadata: {
      properties: ['admit_token_lifetime', 'admit_bound', 'admit_profile', 'admit_workload', 'admit_gateway'],
    },
    ttl: {
      ClientCredentials(_ctx, _token, client) {
        const lifetime = extras(client).admit_token_lifetime;
        return typeof lifetime === 'number' && lifetime > 0 ? lifetime : 300;
      },
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Only API gateways introspect; a partner cannot learn about tokens, not even its own.
        allowedPolicy: (_ctx, client) => extras(client).admit_gateway === true,
      },
      revocation: {
        enabled: true,
        // Gateways may revoke any token; a partner its own.
        allowedPolicy: (_ctx, client, token) => extras(client).admit_gateway === true || token.clientId === client.clientId,
      },
      dPoP: { enabled: true },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate: (ctx) => peerCertificate(ctx.req.socket) as unknown as string | undefined,
        // Chained to the trust store on the handshake, and the very certificate the anchor verified.
        certificateAuthorized: (ctx) => (ctx.req.socket as TLSSocket).authorized === true && presentedCertificateIsBound(ctx),
        // The DN is not enough: another certificate can carry it. The pin decides.
        certificateSubjectMatches: (ctx, property, expected) =>
          property === 'tls_client_auth_subject_dn' && presentedCertificateIsBound(ctx) && typeof expected === 'string',
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => defaultResource as string,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          const entry = catalogue.get(indicator);
          if (entry === undefined) throw new errors.InvalidTarget(`${indicator} is not an API in Admit's resource catalogue`);
          return {
            scope: allScopes.join(' '),
            audience: entry.uri,
            accessTokenFormat: entry.format,
            ...(entry.format === 'jwt' ? { jwt: { sign: { alg: 'EdDSA' as const } } } : {}),
          };
        },
      },
    },
    async assertJwtClientAuthClaimsAndHeader(ctx, claims, header, client) {
      // RFC 7523bis / FAPI 2.0: the audience is the issuer identifier, as a single value.
      if (claims.aud !== ctx.oidc.issuer) throw new errors.InvalidClientAuth('audience (aud) must be the issuer identifier alone');
      const now = Math.floor(Date.now() / 1000);
      const iat = claims.iat;
      const exp = claims.exp;
      if (typeof iat !== 'number' || typeof exp !== 'number') throw new errors.InvalidClientAuth('the client assertion must carry iat and exp');
      if (iat > now + 5) throw new errors.InvalidClientAuth('the client assertion was issued in the future');
      if (exp - iat > options.assertionMaxAgeSeconds || now - iat > options.assertionMaxAgeSeconds) {
        throw new errors.InvalidClientAuth(`client assertions may live at most ${options.assertionMaxAgeSeconds} seconds`);
      }
      const profile = extras(client).admit_profile;
      if (profile === 'fapi2' && !FAPI_ALGS.has(String(header.alg))) {
        throw new errors.InvalidClientAuth('this client is FAPI 2.0 conformant: sign with PS256, ES256 or EdDSA');
      }
      // For JWK anchors the DPoP key must be the anchor key (the token's jkt is then the anchor's).
      if (client.dpopBoundAccessTokens === true) {
        const proof = ctx.get('DPoP');
        if (proof !== '') {
          let jwk: JWK | undefined;
          try {
            jwk = decodeProtectedHeader(proof).jwk;
          } catch {
            jwk = undefined;
          }
          const thumbprint = jwk === undefined ? '' : await calculateJwkThumbprint(jwk).catch(() => '');
          if (!boundThumbprints(ctx).includes(thumbprint)) {
            throw new errors.InvalidDpopProof('the DPoP proof must be signed with the client’s bound anchor key');
          }
        }
      }
    },
  };

  const provider = new Provider(options.issuer, configuration);
  if (options.workloads !== undefined && (options.workloads.spiffeBundles.size > 0 || options.workloads.oidcIssuers.length > 0)) {
    registerWorkloadGrant(provider, options.workloads);
  }
  if (options.mtlsUrl !== undefined) {
    const mtls = options.mtlsUrl.replace(/\/$/, '');
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.oidc?.route === 'discovery' && typeof ctx.body === 'object' && ctx.body !== null) {
        const body = ctx.body as Record<string, unknown>;
        body.mtls_endpoint_aliases = {
          token_endpoint: `${mtls}${OAUTH_ROUTES.token}`,
          introspection_endpoint: `${mtls}${OAUTH_ROUTES.introspection}`,
          revocation_endpoint: `${mtls}${OAUTH_ROUTES.revocation}`,
        };
      }
    });
  }
  return provider;
}
