import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { loadConfig, required } from '../config/env';
import { createRegistry } from '../registry/client';
import { createMailer } from '../mail/transport';
import { createActivities } from '../activities';
import { loadAnchorTrust } from '../activities/anchor-trust';
import { payloadKeys } from '../temporal/connection';
import { linkSecrets } from '../links/link-secret';
import { connectWorker, createAdmitWorker } from './create-worker';
import { collectProcessMetrics } from '../observability/metrics';
import { registryCheck, smtpCheck, temporalCheck } from '../observability/health';
import { startWorkerHttp, type WorkerHttp } from '../observability/worker-http';
import { refreshLifecycleGauges } from '../observability/lifecycle-gauges';
import { startTracing } from '../observability/tracing';
import { evidenceKeyring } from '../evidence/keys';
import { startCheckpointer } from '../evidence/checkpoint';

/**
 * Runs an Admit worker until SIGINT/SIGTERM. Temporal's Runtime catches both and shuts the worker
 * down: it stops polling, lets in-flight activities finish within ADMIT_SHUTDOWN_GRACE (then
 * cancels them), and `run()` returns. Meanwhile `/readyz` on the worker's port says 503.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const metricsAddress = config.ADMIT_TEMPORAL_METRICS_ADDRESS;
  Runtime.install({
    logger: new DefaultLogger(config.LOG_LEVEL.toUpperCase() as LogLevel),
    // The Runtime's own metrics (task latencies, pollers, slots, sticky cache), on their own port.
    ...(metricsAddress === undefined ? {} : { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress } } } }),
  });
  collectProcessMetrics();
  const tracing = await startTracing(config, 'admit-worker');
  const databaseUrl = required(config.DATABASE_URL, 'DATABASE_URL', 'Point it at the registry database, or run `npm start`.');
  const smtpUrl = required(config.SMTP_URL, 'SMTP_URL', 'Point it at an SMTP server, or run `npm start`.');
  const registry = createRegistry(databaseUrl);
  const mailer = createMailer(smtpUrl, config.MAIL_FROM);
  const smtp = smtpCheck(smtpUrl);
  const connection = await connectWorker(config);
  let http: WorkerHttp | undefined;
  // Signed checkpoints over every audit chain's head, in the database and in ADMIT_EVIDENCE_DIR (docs/evidence.md).
  const checkpointer = startCheckpointer(registry, await evidenceKeyring(config), config.evidenceDir, config.checkpointEveryMs);
  try {
    const worker = await createAdmitWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      activities: createActivities({ registry, mailer, config, ...(await linkSecretsFor(config)), trust: await loadAnchorTrust(config) }),
      payloadKey: await payloadKeys(config),
      shutdownGraceMs: config.shutdownGraceMs,
      ...(tracing === undefined ? {} : { tracing }),
      cache: { maxCachedWorkflows: config.ADMIT_WORKFLOW_CACHE_SIZE, stickyQueueTimeoutMs: config.ADMIT_STICKY_QUEUE_TIMEOUT },
    });
    if (config.workerHttpPort !== undefined) {
      http = await startWorkerHttp({
        host: config.ADMIT_HTTP_HOST,
        port: config.workerHttpPort,
        alive: () => worker.getState() !== 'FAILED',
        accepting: () => worker.getState() === 'RUNNING' || worker.getState() === 'INITIALIZED',
        checks: { temporal: temporalCheck(connection), registry: registryCheck(registry), smtp },
        beforeScrape: () => refreshLifecycleGauges(registry, config),
      });
      console.error(`worker: /healthz, /readyz and /metrics on http://${config.ADMIT_HTTP_HOST}:${http.port}`);
    }
    if (tracing !== undefined) console.error(`worker: traces to ${config.OTEL_EXPORTER_OTLP_ENDPOINT}`);
    if (metricsAddress !== undefined) console.error(`worker: Temporal runtime metrics on http://${metricsAddress}/metrics`);
    console.error(`worker: polling task queue ${config.TEMPORAL_TASK_QUEUE} on ${config.TEMPORAL_ADDRESS}`);
    await worker.run();
    console.error('worker: drained and stopped');
  } finally {
    await http?.close();
    await checkpointer.stop();
    await connection.close();
    await registry.$disconnect();
    mailer.close();
    smtp.close();
    await tracing?.shutdown();
  }
}

/** The newest link secret signs; the older ones still verify domain challenges issued under them. */
async function linkSecretsFor(config: Parameters<typeof linkSecrets>[0]) {
  const [linkSecret, ...previousLinkSecrets] = await linkSecrets(config);
  return { linkSecret: linkSecret as Uint8Array, previousLinkSecrets };
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
