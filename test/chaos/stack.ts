import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { REPO_ROOT } from '../../config/env';
import { createRegistry, type Registry } from '../../registry/client';
import { applyMigrations } from '../../registry/migrate';
import { startLocalPostgres, type LocalPostgres } from '../../stack/postgres';
import { freePort, startProcess, type ManagedProcess } from '../../stack/processes';
import { startSmtpSink, type SmtpSink } from '../../stack/smtp-sink';
import { supervise, type SupervisedProcess } from '../../stack/supervise';
import { startTemporalDevServer, type TemporalDevServer } from '../../stack/temporal';
import { startTemporalCluster, type TemporalCluster } from '../../stack/temporal-cluster';
import { dataConverter } from '../../temporal/connection';
import { startEntityWorld, type EntityWorld } from '../support/entity';
import { TEST_PAYLOAD_KEY } from '../support/keys';
import { eventually } from '../support/wait';

/**
 * The whole system as a deployment runs it, on one machine, each part a
 * process of its own that a fault can hit: PostgreSQL (persistent), the
 * Temporal dev server (persisting to SQLite), the SMTP sink, and the worker
 * and the web, supervised and restarted with backoff as `npm start` does
 * (stack/supervise.ts). GLEIF and the partners' DNS are the tests' stand-ins.
 */
export interface ChaosStack {
  readonly webUrl: string;
  readonly mailDir: string;
  readonly registry: Registry;
  readonly temporal: Client;
  readonly taskQueue: string;
  readonly entity: EntityWorld;
  readonly worker: SupervisedProcess;
  readonly web: SupervisedProcess;
  /** SIGKILL to the worker; its supervisor restarts it. */
  killWorker(): Promise<void>;
  /** SIGKILL to the web, whatever requests it is serving; its supervisor restarts it. */
  killWeb(): Promise<void>;
  /** SIGKILL to the Temporal server (every node of a cluster), then a restart on the same ports and database. */
  restartTemporal(): Promise<void>;
  /** SIGKILL to one node of the cluster while the other serves; it is restarted `downMs` later. */
  killTemporalNode(downMs: number): Promise<void>;
  /** PostgreSQL's immediate shutdown (SIGQUIT: no checkpoint, crash recovery on start), then a restart. */
  restartPostgres(): Promise<void>;
  /** The SMTP server gone for `ms`, then back on the same port. */
  smtpOutage(ms: number): Promise<void>;
  /** What the faults did, for the report. */
  readonly log: string[];
  /** The Temporal server processes (one dev server, or the cluster's nodes), for measurements. */
  temporalPids(): number[];
  /** The databases Temporal persists to: a SQLite file, or PostgreSQL databases on the stack's server. */
  readonly temporalStore: { sqliteFile: string } | { databases: string[] };
  readonly databaseUrl: string;
  /** The Temporal frontend the worker and the web use (for another worker beside them, e.g. the admission benchmark's bare one). */
  readonly temporalAddress: string;
  close(): Promise<void>;
}

const say = (log: string[]) => (message: string) => log.push(`${new Date().toISOString()} ${message}`);

/** `dev`: the Temporal dev server (SQLite); `cluster`: two Temporal servers on PostgreSQL behind a TCP balancer. */
export type ChaosTemporal = 'dev' | 'cluster';

export async function startChaosStack(
  options: { keep?: boolean; temporal?: ChaosTemporal; /** More configuration for the worker and the web. */ env?: Record<string, string> } = {},
): Promise<ChaosStack> {
  const root = await mkdtemp(path.join(tmpdir(), 'admit-chaos-'));
  const log: string[] = [];
  const note = say(log);
  const ports = { postgres: await freePort(), temporal: await freePort(), smtp: await freePort(), web: await freePort(), mtls: await freePort() };

  let postgres: LocalPostgres = await startLocalPostgres({ dataDir: path.join(root, 'postgres'), port: ports.postgres });
  await postgres.ensureDatabase('admit');
  const databaseUrl = postgres.url('admit');
  await applyMigrations(databaseUrl);

  const temporalDb = path.join(root, 'temporal', 'temporal.db');
  const startTemporal = () => startTemporalDevServer({ dbFile: temporalDb, port: ports.temporal, headless: true });
  let temporalServer: TemporalDevServer | undefined;
  let cluster: TemporalCluster | undefined;
  if (options.temporal === 'cluster') {
    cluster = await startTemporalCluster({ postgres, dir: path.join(root, 'temporal-cluster'), nodes: 2, log: note });
  } else {
    temporalServer = await startTemporal();
  }
  const temporalAddress = cluster?.address ?? (temporalServer as TemporalDevServer).address;

  const mailDir = path.join(root, 'mail');
  await mkdir(mailDir, { recursive: true });
  let smtp: SmtpSink | undefined = await startSmtpSink({ dir: mailDir, port: ports.smtp });

  const entity = await startEntityWorld({ dir: path.join(root, 'entity') });
  const webUrl = `http://127.0.0.1:${ports.web}`;
  const taskQueue = 'admit-chaos';
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    ADMIT_DATA_DIR: path.join(root, 'data'),
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    SMTP_URL: `smtp://127.0.0.1:${ports.smtp}`,
    ADMIT_PAYLOAD_KEY: TEST_PAYLOAD_KEY,
    PORT: String(ports.web),
    ADMIT_HTTP_HOST: '127.0.0.1',
    ADMIT_PUBLIC_URL: webUrl,
    ADMIT_OAUTH_MTLS_PORT: String(ports.mtls),
    // The worker's probe and metrics port: a free one (a restarted worker takes another).
    ADMIT_WORKER_HTTP_PORT: '0',
    // Each simulated partner comes from an address of its own, through this loopback "proxy",
    // so the per-address budgets apply to each as they would in production.
    ADMIT_TRUST_PROXY: '127.0.0.1',
    ...entity.env,
    ...options.env,
  };
  const processLog = (name: string) => (message: string) => note(`${name}: ${message}`);
  const start = (name: string, entry: string) => (): ManagedProcess =>
    startProcess(name, process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, entry)], { env, cwd: REPO_ROOT });
  const worker = supervise('worker', start('worker', 'worker/main.ts'), { log: processLog('supervisor'), initialBackoffMs: 500 });
  const web = supervise('web', start('web', 'web/main.ts'), { log: processLog('supervisor'), initialBackoffMs: 500 });

  const registry = createRegistry(databaseUrl, { maxConnections: 8 });
  const connection = await Connection.connect({ address: temporalAddress });
  const temporal = new Client({ connection, dataConverter: dataConverter(Buffer.from(TEST_PAYLOAD_KEY, 'base64')) });
  entity.autoProve(temporal, taskQueue);

  const webAnswers = async () => (await fetch(`${webUrl}/healthz`).catch(() => undefined))?.ok === true || undefined;
  const workerPolls = () => worker.current().recentOutput().includes('polling task queue') || undefined;
  await eventually(webAnswers, 120_000, 'the web to answer');
  await eventually(async () => workerPolls(), 120_000, 'the worker to poll');

  async function kill(target: SupervisedProcess): Promise<void> {
    const before = target.restarts();
    const victim = target.current();
    victim.child.kill('SIGKILL');
    await victim.exited;
    note(`${target.name}: SIGKILL to pid ${victim.child.pid ?? '?'}`);
    await eventually(async () => (target.restarts() > before ? true : undefined), 60_000, `${target.name} to be restarted`);
  }

  return {
    webUrl,
    mailDir,
    registry,
    temporal,
    taskQueue,
    entity,
    worker,
    web,
    log,
    databaseUrl,
    temporalAddress,
    temporalStore: cluster === undefined ? { sqliteFile: temporalDb } : { databases: ['temporal', 'temporal_visibility'] },
    temporalPids: () =>
      (cluster === undefined ? [temporalServer?.process.child.pid] : cluster.nodes.map((n) => n.process().child.pid)).filter(
        (pid): pid is number => pid !== undefined,
      ),
    async killWorker() {
      await kill(worker);
    },
    async killWeb() {
      await kill(web);
      await eventually(webAnswers, 60_000, 'the restarted web to answer');
    },
    async restartTemporal() {
      if (cluster !== undefined) {
        await Promise.all(cluster.nodes.map((node) => node.kill()));
        note('temporal: SIGKILL to every node');
        for (const node of cluster.nodes) await node.restart();
        note('temporal: restarted every node on the same database');
        return;
      }
      const server = temporalServer as TemporalDevServer;
      server.process.child.kill('SIGKILL');
      await server.process.exited;
      note('temporal: SIGKILL');
      temporalServer = await startTemporal();
      note('temporal: restarted on the same database file');
    },
    async killTemporalNode(downMs) {
      const node = cluster?.nodes[0];
      if (node === undefined) throw new Error('the temporal-node fault needs the cluster (--temporal cluster)');
      await node.kill();
      note(`temporal: SIGKILL to ${node.name}; the other node serves for ${downMs / 1000}s`);
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await node.restart();
      note(`temporal: ${node.name} restarted`);
    },
    async restartPostgres() {
      postgres.process.child.kill('SIGQUIT');
      await postgres.process.exited;
      note('postgres: immediate shutdown (SIGQUIT)');
      postgres = await startLocalPostgres({ dataDir: path.join(root, 'postgres'), port: ports.postgres });
      note('postgres: restarted (crash recovery)');
    },
    async smtpOutage(ms) {
      await smtp?.stop();
      smtp = undefined;
      note(`smtp: down for ${ms / 1000}s`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      smtp = await startSmtpSink({ dir: mailDir, port: ports.smtp });
      note('smtp: back');
    },
    async close() {
      await entity.close();
      await Promise.allSettled([worker.stop(), web.stop()]);
      await connection.close().catch(() => undefined);
      await registry.$disconnect().catch(() => undefined);
      await smtp?.stop();
      await temporalServer?.stop();
      await cluster?.stop();
      await postgres.stop();
      if (options.keep !== true) await rm(root, { recursive: true, force: true });
    },
  };
}
