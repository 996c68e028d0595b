import path from 'node:path';
import type { Config } from '../config/env';
import type { Registry } from '../registry/client';
import type { SafeFetcher } from '../anchors';
import { generatedOnceKey } from '../config/key-file';
import { createAuthorizationServer, signingJwk } from './provider';
import { tokenVerifier } from './token-check';
import type { AuthorizationServer } from './plugin';
import type { WorkloadTrust } from './workload-grant';

export { createAuthorizationServer, OAUTH_ROUTES } from './provider';
export { registerAuthorizationServer, DISCOVERY_PATH, type AuthorizationServer } from './plugin';
export { startMtlsListener, developmentServerTls } from './mtls-listener';

/** ADMIT_OAUTH_SIGNING_KEY, or outside production one generated once into the data directory. */
export async function accessTokenSigningSeed(config: Pick<Config, 'ADMIT_OAUTH_SIGNING_KEY' | 'ADMIT_DATA_DIR' | 'NODE_ENV'>): Promise<Buffer> {
  if (config.ADMIT_OAUTH_SIGNING_KEY !== undefined) return Buffer.from(config.ADMIT_OAUTH_SIGNING_KEY, 'base64');
  if (config.NODE_ENV === 'production') throw new Error('ADMIT_OAUTH_SIGNING_KEY is required in production');
  return generatedOnceKey(path.join(config.ADMIT_DATA_DIR, 'oauth-signing.key'), 32);
}

/** The provider and the token checker /decisions uses, from configuration. */
export async function buildAuthorizationServer(
  config: Config,
  registry: Registry,
  options: { fetcher?: SafeFetcher; issuer?: string; signingSeed?: Uint8Array; workloads?: WorkloadTrust } = {},
): Promise<AuthorizationServer> {
  const signingSeed = options.signingSeed ?? (await accessTokenSigningSeed(config));
  const provider = await createAuthorizationServer({
    issuer: options.issuer ?? config.publicUrl,
    registry,
    sources: { gatewayTokens: config.gatewayTokens, ...(options.fetcher === undefined ? {} : { fetcher: options.fetcher }) },
    resourceServers: config.resourceServers,
    signingSeed,
    assertionMaxAgeSeconds: config.ADMIT_OAUTH_ASSERTION_MAX_AGE,
    mtlsUrl: config.mtlsUrl,
    ...(options.workloads === undefined ? {} : { workloads: options.workloads }),
  });
  return { provider, tokens: tokenVerifier(provider, { keys: [await signingJwk(signingSeed)] }) };
}
