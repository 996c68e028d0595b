import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { loadConfig, required } from '../config/env';
import { createRegistry } from '../registry/client';
import { createMailer } from '../mail/transport';
import { createActivities } from '../activities';
import { loadAnchorTrust } from '../activities/anchor-trust';
import { payloadKey } from '../temporal/connection';
import { linkSecret } from '../links/link-secret';
import { connectWorker, createAdmitWorker } from './create-worker';
import { evidenceKeyring } from '../evidence/keys';
import { startCheckpointer } from '../evidence/checkpoint';

/** Runs an Admit worker until SIGINT/SIGTERM (Temporal's Runtime handles both). */
async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger(config.LOG_LEVEL.toUpperCase() as LogLevel) });
  const databaseUrl = required(config.DATABASE_URL, 'DATABASE_URL', 'Point it at the registry database, or run `npm start`.');
  const smtpUrl = required(config.SMTP_URL, 'SMTP_URL', 'Point it at an SMTP server, or run `npm start`.');
  const registry = createRegistry(databaseUrl);
  const mailer = createMailer(smtpUrl, config.MAIL_FROM);
  const connection = await connectWorker(config);
  // Signed checkpoints over every audit chain's head, in the database and in ADMIT_EVIDENCE_DIR (docs/evidence.md).
  const checkpointer = startCheckpointer(registry, await evidenceKeyring(config), config.evidenceDir, config.checkpointEveryMs);
  try {
    const worker = await createAdmitWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      activities: createActivities({ registry, mailer, config, linkSecret: await linkSecret(config), trust: await loadAnchorTrust(config) }),
      payloadKey: await payloadKey(config),
    });
    console.error(`worker: polling task queue ${config.TEMPORAL_TASK_QUEUE} on ${config.TEMPORAL_ADDRESS}`);
    await worker.run();
  } finally {
    await checkpointer.stop();
    await connection.close();
    await registry.$disconnect();
    mailer.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
