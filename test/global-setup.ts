import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig } from '../config/env';
import { startTemporalDevServer } from '../stack/temporal';
import { startLocalPostgres } from '../stack/postgres';
import { ensureTimeSkippingServer, type TimeSkippingServerRuntime } from '../stack/temporal-test-server';
import { startSmtpSink } from '../stack/smtp-sink';
import { applyMigrations } from '../registry/migrate';
import { workflowBundleOptions } from '../worker/bundle';
import { TEST_PAYLOAD_KEY } from './support/keys';

export const TEMPLATE_DATABASE = 'admit_template';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalCliPath: string;
    postgresAdminUrl: string;
    templateDatabase: string;
    smtpUrl: string;
    mailDir: string;
    workflowBundlePath: string;
    payloadKey: string;
    scratchDir: string;
    /** `java` and the jars of Temporal's time-skipping test server; see test/support/time-skipping.ts. */
    timeSkippingRuntime: TimeSkippingServerRuntime;
  }
}

/**
 * Starts the real services the tests use, each on a free port with its data
 * in a temporary directory: Temporal's dev server, PostgreSQL (with a migrated
 * template database each test file copies), and the SMTP sink; and makes
 * Temporal's time-skipping test server ready for the files that start one.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = loadConfig({ ...process.env, NODE_ENV: 'test' });
  const scratch = await mkdtemp(path.join(tmpdir(), 'admit-test-'));
  const log = (message: string): void => console.error(message);
  const started = Date.now();

  const results = await Promise.allSettled([
    startTemporalDevServer({ headless: true, cliPath: config.TEMPORAL_CLI_PATH, allowDownload: config.ADMIT_TEMPORAL_DOWNLOAD, log }),
    startLocalPostgres({ dataDir: path.join(scratch, 'postgres'), binDir: config.POSTGRES_BIN_DIR }),
    startSmtpSink({ dir: path.join(scratch, 'mail') }),
    bundleWorkflowCode({ ...workflowBundleOptions(), logger: quietLogger }),
    // Only the jars, once, here: a fetch on a fresh machine then happens once and
    // not in two test files at a time. The server itself is started per test file
    // (test/support/time-skipping.ts), because its clock is global: two files
    // skipping time on one server, in parallel on two workers, would fire each
    // other's timers. A JVM per using file costs ~1–3 s, and nothing for the rest.
    ensureTimeSkippingServer({ log }),
  ]);
  // If one service fails to start, the others must not outlive this run.
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure !== undefined) {
    await Promise.allSettled(
      results.flatMap((r) =>
        r.status === 'fulfilled' && typeof r.value === 'object' && r.value !== null && 'stop' in r.value
          ? [(r.value as { stop(): Promise<void> }).stop()]
          : [],
      ),
    );
    await rm(scratch, { recursive: true, force: true });
    throw failure.reason;
  }
  const [temporal, postgres, sink, bundle, timeSkippingRuntime] = results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
    Awaited<ReturnType<typeof startTemporalDevServer>>,
    Awaited<ReturnType<typeof startLocalPostgres>>,
    Awaited<ReturnType<typeof startSmtpSink>>,
    Awaited<ReturnType<typeof bundleWorkflowCode>>,
    Awaited<ReturnType<typeof ensureTimeSkippingServer>>,
  ];
  await postgres.ensureDatabase(TEMPLATE_DATABASE);
  await applyMigrations(postgres.url(TEMPLATE_DATABASE));
  const workflowBundlePath = path.join(scratch, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, bundle.code);
  log(`test stack ready in ${((Date.now() - started) / 1000).toFixed(1)}s (Temporal ${temporal.address})`);

  project.provide('temporalAddress', temporal.address);
  project.provide('temporalCliPath', temporal.cliPath);
  project.provide('postgresAdminUrl', postgres.url('postgres'));
  project.provide('templateDatabase', TEMPLATE_DATABASE);
  project.provide('smtpUrl', sink.url);
  project.provide('mailDir', sink.dir);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('payloadKey', TEST_PAYLOAD_KEY);
  project.provide('scratchDir', scratch);
  project.provide('timeSkippingRuntime', timeSkippingRuntime);

  return async () => {
    await Promise.allSettled([temporal.stop(), postgres.stop(), sink.stop()]);
    await rm(scratch, { recursive: true, force: true });
  };
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.error(message),
  error: (message: string) => console.error(message),
};
