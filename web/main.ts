import { configuredAnchorKinds, loadConfig, required } from '../config/env';
import { linkSecrets } from '../links/link-secret';
import { createRegistry } from '../registry/client';
import { connectTemporal, createTemporalClient } from '../temporal/connection';
import { buildApp } from './app';
import { sessionSecrets } from './secrets';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadAnchorTrust } from '../activities/anchor-trust';
import { buildAuthorizationServer, developmentServerTls, startMtlsListener } from '../oauth';
import { collectProcessMetrics } from '../observability/metrics';
import { startTracing } from '../observability/tracing';
import { evidenceKeyring } from '../evidence/keys';

async function main(): Promise<void> {
  const config = loadConfig();
  collectProcessMetrics();
  const tracing = await startTracing(config, 'admit-web');
  if (tracing !== undefined) console.error(`web: traces to ${config.OTEL_EXPORTER_OTLP_ENDPOINT}`);
  const databaseUrl = required(config.DATABASE_URL, 'DATABASE_URL', 'Point it at the registry database, or run `npm start`.');
  const registry = createRegistry(databaseUrl);
  const connection = await connectTemporal(config);
  const temporal = await createTemporalClient(config, connection);
  const production = config.NODE_ENV === 'production';
  // The partners' authorization server: clients from the registry, JWK anchors fetched by URL through the SSRF-safe fetcher.
  const trust = await loadAnchorTrust(config);
  // With Keycloak as the authorization server (docs/keycloak.md), Admit issues no tokens itself.
  const embedded = config.ADMIT_AUTHORIZATION_SERVER === 'embedded';
  const authorizationServer = embedded
    ? await buildAuthorizationServer(config, registry, {
        fetcher: trust.fetcher,
        workloads: { spiffeBundles: trust.spiffeBundles, oidcIssuers: trust.oidcIssuers, fetcher: trust.fetcher },
      })
    : undefined;
  const serverTls = !embedded
    ? undefined
    : config.ADMIT_OAUTH_TLS_CERT !== undefined && config.ADMIT_OAUTH_TLS_KEY !== undefined
      ? { certPem: await readFile(config.ADMIT_OAUTH_TLS_CERT, 'utf8'), keyPem: await readFile(config.ADMIT_OAUTH_TLS_KEY, 'utf8') }
      : production
        ? undefined
        : await developmentServerTls(path.join(config.ADMIT_DATA_DIR, 'oauth-tls'));
  const app = buildApp({
    temporal,
    registry,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    publicUrl: config.publicUrl,
    production,
    linkSecret: await linkSecrets(config),
    sessionSecret: await sessionSecrets(config),
    oidc: {
      issuer: config.ADMIT_OIDC_ISSUER,
      clientId: config.ADMIT_OIDC_CLIENT_ID,
      clientSecret: config.ADMIT_OIDC_CLIENT_SECRET,
      rolesClaim: config.ADMIT_OIDC_ROLES_CLAIM,
    },
    // The outbox reads the embedded SMTP sink's directory; it exists only in development.
    mailDir: production ? undefined : config.mailDir,
    logLevel: config.LOG_LEVEL,
    gatewayTokens: config.gatewayTokens,
    clockSkewMs: config.clockSkewMs,
    anchorKinds: configuredAnchorKinds(config),
    trustedProxies: config.ADMIT_TRUST_PROXY,
    ...(config.ADMIT_METRICS_TOKEN === undefined ? {} : { metricsToken: config.ADMIT_METRICS_TOKEN }),
    lifecycleDurations: config.lifecycle.durations,
    decisionCache: { ...config.decisionCache, databaseUrl, log: (message) => console.error(`web: ${message}`) },
    evidence: { keyring: await evidenceKeyring(config), checkpointDir: config.evidenceDir },
    ...(authorizationServer === undefined ? {} : { authorizationServer }),
  });
  await app.listen({ host: config.ADMIT_HTTP_HOST, port: config.PORT });
  console.error(`web: listening on http://${config.ADMIT_HTTP_HOST}:${config.PORT} (public URL ${config.publicUrl})`);
  const mtls =
    serverTls === undefined || authorizationServer === undefined
      ? undefined
      : await startMtlsListener({
          provider: authorizationServer.provider,
          gatewayTokens: config.gatewayTokens,
          tls: serverTls,
          clientCas: trust.trustStore,
          host: config.ADMIT_HTTP_HOST,
          port: config.ADMIT_OAUTH_MTLS_PORT,
        });
  if (!embedded) console.error('web: partners get their tokens from Keycloak (ADMIT_AUTHORIZATION_SERVER=keycloak)');
  else if (mtls === undefined)
    console.error('web: no mTLS listener (set ADMIT_OAUTH_TLS_CERT and ADMIT_OAUTH_TLS_KEY); certificate-anchored partners cannot get tokens');
  else
    console.error(
      `web: authorization server mTLS endpoints on https://${config.ADMIT_HTTP_HOST}:${config.ADMIT_OAUTH_MTLS_PORT} (${config.mtlsUrl})`,
    );
  // SIGTERM: stop accepting (new requests on open connections get 503, so /readyz fails), let the
  // requests in flight finish, then close the connections; past ADMIT_SHUTDOWN_GRACE, exit anyway.
  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.error('web: draining');
    setTimeout(() => {
      console.error('web: requests still running after ADMIT_SHUTDOWN_GRACE; exiting');
      process.exit(1);
    }, config.shutdownGraceMs).unref();
    await mtls?.close();
    await app.close();
    await connection.close();
    await registry.$disconnect();
    await tracing?.shutdown();
    console.error('web: drained and stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
