import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { describeConfig, loadConfig, REPO_ROOT } from '../config/env';
import { applyMigrations } from '../registry/migrate';
import { payloadKey } from '../temporal/connection';
import { linkSecret } from '../links/link-secret';
import { createRegistry } from '../registry/client';
import { seedDevelopmentApprovers } from './dev-approvers';
import { startSmtpSink } from './smtp-sink';
import { startLocalPostgres } from './postgres';
import { startTemporalDevServer } from './temporal';
import { startProcess, waitUntilReady, type ManagedProcess } from './processes';
import { supervise, type SupervisedProcess } from './supervise';

/**
 * `npm start`: the whole system on one machine. Each service whose address is
 * not configured is started here on embedded defaults (Temporal dev server,
 * PostgreSQL, SMTP sink), with data under ADMIT_DATA_DIR so the next start
 * finds everything again; then the worker and the HTTP service, which are
 * supervised (restarted with backoff when they die) until Ctrl-C or SIGTERM.
 */
const log = (message: string): void => console.error(message);
const stops: { name: string; stop: () => Promise<void> }[] = [];
const supervised: SupervisedProcess[] = [];

async function assertPortFree(port: number, variable: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', () =>
      reject(new Error(`Port ${port} is already in use (another Admit, Temporal or PostgreSQL?). Stop it or set ${variable}.`)),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  await mkdir(config.ADMIT_DATA_DIR, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, ADMIT_DATA_DIR: config.ADMIT_DATA_DIR };
  const urls: string[] = [];

  if (config.TEMPORAL_ADDRESS === undefined) {
    await assertPortFree(config.ADMIT_TEMPORAL_PORT, 'ADMIT_TEMPORAL_PORT');
    await assertPortFree(config.ADMIT_TEMPORAL_UI_PORT, 'ADMIT_TEMPORAL_UI_PORT');
    log('Starting the Temporal dev server…');
    const temporal = await startTemporalDevServer({
      dbFile: path.join(config.ADMIT_DATA_DIR, 'temporal', 'temporal.db'),
      port: config.ADMIT_TEMPORAL_PORT,
      uiPort: config.ADMIT_TEMPORAL_UI_PORT,
      namespace: config.TEMPORAL_NAMESPACE,
      cliPath: config.TEMPORAL_CLI_PATH,
      allowDownload: config.ADMIT_TEMPORAL_DOWNLOAD,
      log,
    });
    stops.push({ name: 'Temporal', stop: temporal.stop });
    env.TEMPORAL_ADDRESS = temporal.address;
    urls.push(`Temporal Web UI   ${temporal.uiUrl ?? '(headless)'}`, `Temporal frontend ${temporal.address}`);
  }

  if (config.DATABASE_URL === undefined) {
    await assertPortFree(config.ADMIT_POSTGRES_PORT, 'ADMIT_POSTGRES_PORT');
    log('Starting PostgreSQL…');
    const postgres = await startLocalPostgres({
      dataDir: path.join(config.ADMIT_DATA_DIR, 'postgres'),
      port: config.ADMIT_POSTGRES_PORT,
      binDir: config.POSTGRES_BIN_DIR,
    });
    stops.push({ name: 'PostgreSQL', stop: postgres.stop });
    await postgres.ensureDatabase('admit');
    env.DATABASE_URL = postgres.url('admit');
    urls.push(`PostgreSQL        ${env.DATABASE_URL}`);
  }
  const applied = await applyMigrations(env.DATABASE_URL ?? config.DATABASE_URL ?? '');
  log(applied.length === 0 ? 'Registry schema is up to date.' : `Applied migrations: ${applied.join(', ')}`);
  if (config.NODE_ENV !== 'production') {
    // People to sign in as on the development identity provider; never in production.
    const registry = createRegistry(env.DATABASE_URL ?? config.DATABASE_URL ?? '', { maxConnections: 1 });
    try {
      // Under the issuer the web's development provider really has, whatever PORT or ADMIT_PUBLIC_URL say.
      const enrolled = await seedDevelopmentApprovers(registry, loadConfig(env).publicUrl);
      log(`Development approvers enrolled: ${enrolled.map((a) => a.name).join(', ')} (issuer ${enrolled[0]?.subject.split(' ')[0] ?? '-'}).`);
    } finally {
      await registry.$disconnect();
    }
  }

  if (config.SMTP_URL === undefined) {
    await assertPortFree(config.ADMIT_SMTP_PORT, 'ADMIT_SMTP_PORT');
    const sink = await startSmtpSink({ dir: config.mailDir, port: config.ADMIT_SMTP_PORT });
    stops.push({ name: 'SMTP sink', stop: sink.stop });
    env.SMTP_URL = sink.url;
    urls.push(`SMTP sink         ${sink.url} (messages kept in ${path.relative(REPO_ROOT, sink.dir) || sink.dir})`);
  }

  // Created before the children start, so worker and web read the same keys.
  await payloadKey(loadConfig(env));
  await linkSecret(loadConfig(env));
  await assertPortFree(config.PORT, 'PORT');
  if (config.workerHttpPort !== undefined && config.workerHttpPort !== 0) await assertPortFree(config.workerHttpPort, 'ADMIT_WORKER_HTTP_PORT');

  // Worker and web are supervised: one that dies is restarted with backoff,
  // and only Ctrl-C or SIGTERM stops the stack.
  for (const [name, entry] of [
    ['worker', 'worker/main.ts'],
    ['web', 'web/main.ts'],
  ] as const) {
    const start = (): ManagedProcess =>
      startProcess(name, process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, entry)], { env, cwd: REPO_ROOT, echo: true });
    supervised.push(supervise(name, start, { log }));
  }
  const web = supervised[1] as SupervisedProcess;
  const httpUrl = `http://${config.ADMIT_HTTP_HOST}:${config.PORT}`;
  // The first start must succeed: a web that dies before it is ready is misconfigured, not crashed.
  await waitUntilReady(web.current(), async () => (await fetch(`${httpUrl}/healthz`)).ok, 60_000);
  urls.unshift(`Admit HTTP        ${httpUrl}`);
  if (config.workerHttpPort !== undefined && config.workerHttpPort !== 0) {
    urls.push(`Worker probes     http://${config.ADMIT_HTTP_HOST}:${config.workerHttpPort}/readyz (and /metrics)`);
  }

  log(`\nAdmit is running (configuration: ${JSON.stringify(describeConfig(loadConfig(env)))})\n`);
  for (const line of urls) log(`  ${line}`);
  log('\nPress Ctrl-C to stop everything.');
}

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('Stopping…');
  // Together, so that none is restarted while another stops (Ctrl-C reaches the children too).
  await Promise.all(supervised.map((child) => child.stop().catch((error: unknown) => log(`  could not stop ${child.name}: ${String(error)}`))));
  for (const { name, stop } of stops) {
    await stop().catch((error: unknown) => log(`  could not stop ${name}: ${String(error)}`));
  }
  process.exit(code);
}

process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));

main().catch(async (error: unknown) => {
  log(error instanceof Error ? error.message : String(error));
  await shutdown(1);
});
