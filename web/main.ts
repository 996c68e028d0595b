import { loadConfig, required } from '../config/env';
import { createRegistry } from '../registry/client';
import { connectTemporal, createTemporalClient } from '../temporal/connection';
import { buildApp } from './app';

async function main(): Promise<void> {
  const config = loadConfig();
  const registry = createRegistry(
    required(config.DATABASE_URL, 'DATABASE_URL', 'Point it at the registry database, or run `npm start`.'),
  );
  const connection = await connectTemporal(config);
  const temporal = await createTemporalClient(config, connection);
  const app = buildApp({
    temporal,
    registry,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    logLevel: config.LOG_LEVEL,
    gatewayTokens: config.gatewayTokens,
  });
  await app.listen({ host: config.ADMIT_HTTP_HOST, port: config.PORT });
  console.error(`web: listening on http://${config.ADMIT_HTTP_HOST}:${config.PORT}`);
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
