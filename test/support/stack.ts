import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import pg from 'pg';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import './quiet-runtime';
import { loadConfig, type Config } from '../../config/env';
import { startEntityWorld, type EntityWorld } from './entity';
import { createRegistry, type Registry } from '../../registry/client';
import { createMailer, type Mailer } from '../../mail/transport';
import { createActivities } from '../../activities';
import { loadAnchorTrust, type AnchorTrust } from '../../activities/anchor-trust';
import { dataConverter } from '../../temporal/connection';
import { linkSecret as loadLinkSecret } from '../../links/link-secret';
import { createAdmitWorker } from '../../worker/create-worker';

/** A fresh registry database for one test file, copied from the migrated template. */
export async function createTestDatabase(): Promise<string> {
  const name = `t_${randomUUID().replace(/-/g, '')}`;
  const admin = new pg.Client({ connectionString: inject('postgresAdminUrl') });
  await admin.connect();
  try {
    await admin.query(`create database ${pg.escapeIdentifier(name)} template ${pg.escapeIdentifier(inject('templateDatabase'))}`);
  } finally {
    await admin.end();
  }
  return inject('postgresAdminUrl').replace(/\/postgres$/, `/${name}`);
}

/** Configuration as a deployed process would read it, pointed at the test stack. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    SMTP_URL: inject('smtpUrl'),
    ADMIT_PAYLOAD_KEY: inject('payloadKey'),
    ADMIT_DATA_DIR: inject('scratchDir'),
    ...overrides,
  });
}

export interface TestStack {
  databaseUrl: string;
  registry: Registry;
  mailer: Mailer;
  /** What the in-process worker's activities were configured with. */
  config: Config;
  linkSecret: Uint8Array;
  trust: AnchorTrust;
  temporal: Client;
  taskQueue: string;
  /** GLEIF and DNS as entity verification finds them (test/support/entity.ts). */
  entity: EntityWorld;
  /** The environment the worker was configured with, for workers started as processes. */
  workerEnv: Record<string, string>;
  /** Starts a worker on this file's task queue; stopped by `close()`. */
  startWorker(): Promise<Worker>;
  close(): Promise<void>;
}

export interface TestStackOptions {
  /** Another Temporal server than the suite's (e.g. one with special dynamic config). */
  temporalAddress?: string;
}

/**
 * Registry, mailer, Temporal client and an in-process worker for one test
 * file; `env` configures the worker as environment variables would.
 */
export async function createTestStack(env: Record<string, string> = {}, options: TestStackOptions = {}): Promise<TestStack> {
  const temporalAddress = options.temporalAddress ?? inject('temporalAddress');
  const databaseUrl = await createTestDatabase();
  const registry = createRegistry(databaseUrl, { maxConnections: 5 });
  const mailer = createMailer(inject('smtpUrl'), 'Admit tests <admit@localhost>');
  const payloadKey = Buffer.from(inject('payloadKey'), 'base64');
  const connection = await Connection.connect({ address: temporalAddress });
  const temporal = new Client({ connection, dataConverter: dataConverter(payloadKey) });
  const taskQueue = `test-${randomUUID()}`;
  const entity = await startEntityWorld();
  const workerEnv = { ...entity.env, ...env };
  const config = testConfig({ TEMPORAL_ADDRESS: temporalAddress, ...workerEnv });
  const linkSecret = await loadLinkSecret(config);
  const trust = await loadAnchorTrust(config);
  const workers: { worker: Worker; running: Promise<void>; connection: NativeConnection }[] = [];
  entity.autoProve(temporal, taskQueue);

  return {
    databaseUrl,
    registry,
    mailer,
    config,
    linkSecret,
    trust,
    temporal,
    taskQueue,
    entity,
    workerEnv,
    async startWorker() {
      const workerConnection = await NativeConnection.connect({ address: temporalAddress });
      const worker = await createAdmitWorker({
        connection: workerConnection,
        namespace: 'default',
        taskQueue,
        activities: createActivities({ registry, mailer, config, linkSecret, trust }),
        payloadKey,
        workflowBundle: { codePath: inject('workflowBundlePath') },
      });
      workers.push({ worker, running: worker.run(), connection: workerConnection });
      return worker;
    },
    async close() {
      // The TXT publisher queries workflows: stopped first, while their worker still answers,
      // since a query to a workflow with no worker waits out its whole deadline.
      await entity.close();
      for (const { worker, running, connection: c } of workers) {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
        await c.close();
      }
      await connection.close();
      await registry.$disconnect();
      mailer.close();
    },
  };
}
