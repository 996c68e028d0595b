// oidc-provider's own grant helpers (the ones its client_credentials grant uses), which custom
// grant types registered with registerGrantType do not receive. Typed here as far as Admit uses them.
declare module 'oidc-provider/lib/helpers/grants.js' {
  import type Provider from 'oidc-provider';
  import type { KoaContextWithOIDC } from 'oidc-provider';
  type Ctx = KoaContextWithOIDC;
  export interface DpopResult {
    thumbprint: string;
    jti: string;
    iat: number;
  }
  export function validateDpop(provider: Provider, ctx: Ctx): Promise<DpopResult | undefined>;
  export function checkDpopReplay(provider: Provider, ctx: Ctx, dPoP: DpopResult, clientId: string): Promise<void>;
  export function checkDpopRequired(provider: Provider, ctx: Ctx, dPoP: DpopResult | undefined): void;
  export function resolveRequestedResources(provider: Provider, ctx: Ctx): Promise<{ scope: string }[]>;
  export function validateClientScope(provider: Provider, ctx: Ctx): Set<string>;
  export function buildTokenResponse(
    provider: Provider,
    input: { accessToken: string; expiresIn: number; scope?: string | undefined; tokenType: string },
  ): Record<string, unknown>;
}
