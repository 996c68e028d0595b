import { createHash } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import type { Actor } from '../../workflows/messages';
import { randomToken } from './session';

/**
 * The OpenID Connect relying party for approvers: authorization code flow
 * with PKCE (S256), state and nonce; the ID token is checked with jose for
 * signature (issuer's JWKS), issuer, audience, expiry and nonce. The same code
 * runs against the built-in development provider and a real one.
 */
export interface OidcClientOptions {
  issuer: string;
  clientId: string;
  /** Confidential clients authenticate with client_secret_basic; public ones rely on PKCE alone. */
  clientSecret?: string;
  redirectUri: string;
  /** The ID token claim that carries the approver's roles. */
  rolesClaim: string;
  /** Discovery and token requests; injectable only for the timeout. */
  fetchTimeoutMs?: number;
}

const discoverySchema = z.object({
  issuer: z.string(),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  jwks_uri: z.url(),
  id_token_signing_alg_values_supported: z.array(z.string()).optional(),
});

type Discovery = z.infer<typeof discoverySchema>;

/** Asymmetric algorithms only: an ID token MAC'd with the client secret is not accepted. */
const ID_TOKEN_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];

export class OidcError extends Error {
  override name = 'OidcError';
  readonly statusCode: number = 401;
}

/** The identity provider did not answer (down, unreachable, timed out): a 503, not the approver's fault. */
export class IdentityProviderUnreachable extends OidcError {
  override name = 'IdentityProviderUnreachable';
  override readonly statusCode = 503;
}

/** `fetch`, with a network failure or timeout turned into IdentityProviderUnreachable naming the issuer. */
async function reach(issuer: string, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const reason = error instanceof Error && error.name === 'TimeoutError' ? 'it did not answer in time' : 'it could not be reached';
    throw new IdentityProviderUnreachable(
      `The sign-in service (${issuer}) is unavailable just now: ${reason}. Nothing was changed; try signing in again in a few minutes.`,
    );
  }
}

export interface AuthorizationRequest {
  url: string;
  state: string;
  nonce: string;
  verifier: string;
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export class OidcClient {
  private discovery: Promise<Discovery> | undefined;
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(private readonly options: OidcClientOptions) {}

  get issuer(): string {
    return this.options.issuer;
  }

  private async discover(): Promise<Discovery> {
    this.discovery ??= (async () => {
      const url = `${this.options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const response = await reach(this.options.issuer, url, {
        signal: AbortSignal.timeout(this.options.fetchTimeoutMs ?? 10_000),
        redirect: 'error',
      });
      if (!response.ok) throw new OidcError(`The identity provider's discovery document answered ${response.status}.`);
      const parsed = discoverySchema.safeParse(await response.json());
      if (!parsed.success) throw new OidcError('The identity provider published an unusable discovery document.');
      // OpenID Connect Discovery §4.3: the document must name exactly the issuer we asked for.
      if (parsed.data.issuer !== this.options.issuer) throw new OidcError('The identity provider names a different issuer.');
      return parsed.data;
    })();
    try {
      return await this.discovery;
    } catch (error) {
      this.discovery = undefined; // Try again next time: the provider may only have been down.
      throw error;
    }
  }

  async authorizationRequest(): Promise<AuthorizationRequest> {
    const discovery = await this.discover();
    const state = randomToken();
    const nonce = randomToken();
    const verifier = randomToken(48);
    const url = new URL(discovery.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.options.clientId,
      redirect_uri: this.options.redirectUri,
      scope: 'openid email profile',
      state,
      nonce,
      code_challenge: pkceChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString();
    return { url: url.toString(), state, nonce, verifier };
  }

  /** Exchanges the code and returns the approver the verified ID token names. */
  async completeSignIn(code: string, pending: { nonce: string; verifier: string }): Promise<Actor> {
    const discovery = await this.discover();
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: this.options.redirectUri,
      code_verifier: pending.verifier,
      client_id: this.options.clientId,
    });
    if (this.options.clientSecret !== undefined) {
      const credentials = `${encodeURIComponent(this.options.clientId)}:${encodeURIComponent(this.options.clientSecret)}`;
      headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
    }
    const response = await reach(this.options.issuer, discovery.token_endpoint, {
      method: 'POST',
      headers,
      body: form.toString(),
      signal: AbortSignal.timeout(this.options.fetchTimeoutMs ?? 10_000),
      redirect: 'error',
    });
    const body = (await response.json().catch(() => ({}))) as { id_token?: unknown; error?: unknown };
    if (!response.ok || typeof body.id_token !== 'string') {
      throw new OidcError(`The identity provider refused the sign-in (${typeof body.error === 'string' ? body.error : response.status}).`);
    }
    this.jwks ??= createRemoteJWKSet(new URL(discovery.jwks_uri));
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(body.id_token, this.jwks, {
        issuer: this.options.issuer,
        audience: this.options.clientId,
        algorithms: ID_TOKEN_ALGORITHMS,
        requiredClaims: ['sub', 'exp', 'iat', 'nonce'],
        clockTolerance: 30,
      }));
    } catch (error) {
      throw new OidcError(`The identity provider's ID token did not verify (${error instanceof Error ? error.message : 'unknown reason'}).`);
    }
    if (payload.nonce !== pending.nonce) throw new OidcError('The ID token was issued for another sign-in (nonce mismatch).');
    return actorFromClaims(payload, this.options.issuer, this.options.rolesClaim);
  }
}

export function actorFromClaims(payload: JWTPayload, issuer: string, rolesClaim: string): Actor {
  const rawRoles = payload[rolesClaim];
  const roles = Array.isArray(rawRoles)
    ? rawRoles.filter((role): role is string => typeof role === 'string')
    : typeof rawRoles === 'string'
      ? rawRoles.split(/\s+/).filter(Boolean)
      : [];
  const email = typeof payload.email === 'string' ? payload.email : '';
  return {
    subject: `${issuer} ${payload.sub ?? ''}`,
    email,
    name: typeof payload.name === 'string' && payload.name !== '' ? payload.name : email || (payload.sub ?? ''),
    roles,
  };
}
