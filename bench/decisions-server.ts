// The web service as `npm run bench -- --only decisions` runs it: its own process, the app of
// web/app.ts with its production defaults (LOG_LEVEL info, the decision cache from the ADMIT_DECISION_CACHE_*
// variables), over the bench's registry. Temporal is never called by /decisions: the client is lazy
// and never connects. Prints `listening <port>` once ready; on SIGTERM prints the cache's status and closes.
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import { loadConfig, required } from '../config/env';
import { createRegistry } from '../registry/client';
import { buildApp } from '../web/app';

const config = loadConfig();
const databaseUrl = required(config.DATABASE_URL, 'DATABASE_URL', 'the bench passes it');
const registry = createRegistry(databaseUrl);
const app = buildApp({
  temporal: new Client(),
  registry,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  publicUrl: config.publicUrl,
  production: false,
  linkSecret: randomBytes(32),
  sessionSecret: randomBytes(32),
  oidc: { issuer: 'https://idp.bench.invalid', clientId: 'admit-console', rolesClaim: 'roles' },
  logLevel: config.LOG_LEVEL,
  gatewayTokens: config.gatewayTokens,
  clockSkewMs: config.clockSkewMs,
  decisionCache: { ...config.decisionCache, databaseUrl, log: (message) => console.error(`web: ${message}`) },
});
await app.listen({ host: '127.0.0.1', port: config.PORT });
process.stdout.write(`listening ${config.PORT}\n`);

process.once('SIGTERM', () => {
  // The cache's counters (hits, misses, flushes, …) for the bench's report.
  process.stdout.write(`cache ${JSON.stringify(app.decisionCache?.status() ?? null)}\n`);
  void (async () => {
    await app.close();
    await registry.$disconnect();
    process.exit(0);
  })();
});
