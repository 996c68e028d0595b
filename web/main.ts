import { configuredAnchorKinds, loadConfig, required } from '../config/env';
import { linkSecret } from '../links/link-secret';
import { createRegistry } from '../registry/client';
import { connectTemporal, createTemporalClient } from '../temporal/connection';
import { buildApp } from './app';
import { sessionSecret } from './secrets';

async function main(): Promise<void> {
  const config = loadConfig();
  const registry = createRegistry(
    required(config.DATABASE_URL, 'DATABASE_URL', 'Point it at the registry database, or run `npm start`.'),
  );
  const connection = await connectTemporal(config);
  const temporal = await createTemporalClient(config, connection);
  const production = config.NODE_ENV === 'production';
  const app = buildApp({
    temporal,
    registry,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    publicUrl: config.publicUrl,
    production,
    linkSecret: await linkSecret(config),
    sessionSecret: await sessionSecret(config),
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
  });
  await app.listen({ host: config.ADMIT_HTTP_HOST, port: config.PORT });
  console.error(`web: listening on http://${config.ADMIT_HTTP_HOST}:${config.PORT} (public URL ${config.publicUrl})`);
  const shutdown = async (): Promise<void> => {
    await app.close();
    await connection.close();
    await registry.$disconnect();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
