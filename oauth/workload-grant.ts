import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type Provider from 'oidc-provider';
import * as grantHelpers from 'oidc-provider/lib/helpers/grants.js';
import { parseSpiffeId, verifyAnchor, type SafeFetcher, type TrustBundle } from '../anchors';
import { JWT_BEARER } from './clients';

/**
 * Workload identity through the JWT bearer grant (RFC 7523 §2.1): a SPIFFE
 * JWT-SVID, or an OIDC workload token from a federated issuer, is the
 * authorization grant of the workload client it names. private_key_jwt cannot
 * carry these (it needs iss = client_id and the client's own keys).
 *
 * - The client sends `client_id` (its Admit client id; no client secret exists)
 *   and `assertion`. The assertion is verified by Admit's anchor verifiers
 *   (bundle keys for JWT-SVIDs, the issuer's JWKS via the SSRF-safe fetcher for
 *   OIDC), with `aud` = this issuer, and must name exactly the identity the
 *   client's credential is bound to (`spiffe-id`, or `oidc-sub` issuer + subject).
 * - Each assertion is accepted once (its `jti`, or its digest when it has none).
 * - The access token is DPoP-bound (`cnf.jkt`) to whatever key the workload
 *   proves on this request: a workload has no long-lived key of its own, so its
 *   tokens are sender-constrained to a key it generates, and the identity stays
 *   the SVID/OIDC subject.
 */
export interface WorkloadTrust {
  spiffeBundles: ReadonlyMap<string, TrustBundle>;
  oidcIssuers: readonly string[];
  fetcher?: SafeFetcher;
}

export function registerWorkloadGrant(provider: Provider, trust: WorkloadTrust): void {
  const h = {
    validateDpop: (ctx: KoaContextWithOIDC) => grantHelpers.validateDpop(provider, ctx),
    checkDpopReplay: (ctx: KoaContextWithOIDC, d: grantHelpers.DpopResult, clientId: string) =>
      grantHelpers.checkDpopReplay(provider, ctx, d, clientId),
    checkDpopRequired: (ctx: KoaContextWithOIDC, d: grantHelpers.DpopResult | undefined) => grantHelpers.checkDpopRequired(provider, ctx, d),
    resolveRequestedResources: (ctx: KoaContextWithOIDC) => grantHelpers.resolveRequestedResources(provider, ctx),
    validateClientScope: (ctx: KoaContextWithOIDC) => grantHelpers.validateClientScope(provider, ctx),
  };

  async function verifyWorkload(assertion: string, binding: string): Promise<{ ok: boolean; reasons: string[] }> {
    const space = binding.indexOf(' ');
    const method = binding.slice(0, space);
    const value = binding.slice(space + 1);
    const now = new Date();
    if (method === 'spiffe-id') {
      const id = parseSpiffeId(value);
      const bundle = id === undefined ? undefined : trust.spiffeBundles.get(id.trustDomain);
      if (bundle === undefined) return { ok: false, reasons: ['SPIFFE_TRUST_DOMAIN_NOT_TRUSTED'] };
      const result = await verifyAnchor({ kind: 'spiffe', bundle, expectedId: value, jwtSvid: assertion, audience: provider.issuer, at: now });
      return { ok: result.ok, reasons: result.reasons.map((r) => r.code) };
    }
    if (method === 'oidc-sub') {
      const split = value.indexOf(' ');
      const issuer = value.slice(0, split);
      const subject = value.slice(split + 1);
      if (!trust.oidcIssuers.includes(issuer)) return { ok: false, reasons: ['OIDC_ISSUER_NOT_TRUSTED'] };
      const result = await verifyAnchor({
        kind: 'oidc',
        token: assertion,
        issuer,
        subject,
        audience: provider.issuer,
        ...(trust.fetcher === undefined ? {} : { fetcher: trust.fetcher }),
        now,
      });
      return { ok: result.ok, reasons: result.reasons.map((r) => r.code) };
    }
    return { ok: false, reasons: ['NOT_A_WORKLOAD_CLIENT'] };
  }

  provider.registerGrantType(
    JWT_BEARER,
    async (ctx: KoaContextWithOIDC) => {
      const client = ctx.oidc.client;
      if (client === undefined) throw new errors.InvalidClient('client not found');
      const binding = client.metadata().admit_workload;
      if (typeof binding !== 'string') throw new errors.UnauthorizedClient('only workload clients use the JWT bearer grant');
      const assertion = ctx.oidc.params?.assertion;
      if (typeof assertion !== 'string' || assertion.length === 0 || assertion.length > 16 * 1024)
        throw new errors.InvalidRequest('missing or oversized assertion');
      let claims: ReturnType<typeof decodeJwt>;
      try {
        claims = decodeJwt(assertion);
      } catch {
        throw new errors.InvalidGrant('the assertion is not a JWT');
      }
      const verified = await verifyWorkload(assertion, binding);
      if (!verified.ok) throw new errors.InvalidGrant(`the workload assertion was refused (${verified.reasons.join(', ')})`);
      // Proofs first, so a refused request consumes nothing.
      const dPoP = await h.validateDpop(ctx);
      h.checkDpopRequired(ctx, dPoP);
      const resourceServers = await h.resolveRequestedResources(ctx);
      const scopes = [...h.validateClientScope(ctx)];
      const jti = typeof claims.jti === 'string' ? claims.jti : createHash('sha256').update(assertion).digest('base64url');
      const exp = typeof claims.exp === 'number' ? claims.exp : Math.floor(Date.now() / 1000) + 300;
      const models = provider as unknown as { ReplayDetection: { unique(iss: string, jti: string, exp: number): Promise<boolean> } };
      if (!(await models.ReplayDetection.unique(`workload:${binding}`, jti, exp)))
        throw new errors.InvalidGrant('this workload assertion was already used');

      const token = new provider.ClientCredentials({ client, scope: scopes.join(' ') || undefined });
      const [resourceServer] = resourceServers;
      if (resourceServers.length > 1) throw new errors.InvalidTarget('only a single resource indicator value is supported for this grant type');
      if (resourceServer !== undefined) {
        (token as unknown as { resourceServer: unknown }).resourceServer = resourceServer;
        const allowed = new Set(resourceServer.scope.split(' '));
        token.scope = scopes.filter((s) => allowed.has(s)).join(' ') || undefined;
      }
      if (dPoP !== undefined) {
        await h.checkDpopReplay(ctx, dPoP, client.clientId);
        (token as unknown as { setThumbprint(kind: string, value: string): void }).setThumbprint('jkt', dPoP.thumbprint);
      }
      ctx.oidc.entity('ClientCredentials', token);
      const value = await token.save();
      ctx.body = grantHelpers.buildTokenResponse(provider, {
        accessToken: value,
        expiresIn: token.expiration,
        scope: token.scope || undefined,
        tokenType: token.tokenType,
      });
    },
    ['assertion', 'scope', 'resource'],
    ['resource'],
  );
}
