// `npm run bench`: Admit's hot paths against the irreducible work beneath each, measured in the same
// process and run, reported as ratios (see README "Benchmarks"). It starts its own private PostgreSQL
// in a temporary directory and stops it on every exit path, Ctrl-C included.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyAuditChain } from '../registry/audit';
import { applyMigrations } from '../registry/migrate';
import { createRegistry, type Registry } from '../registry/client';
import { startLocalPostgres, type LocalPostgres } from '../stack/postgres';
import { assertionBenchmark } from './assertion';
import { auditBenchmark, createScratchTable } from './audit';
import { fmt, measure, type BenchmarkResult } from './harness';
import { x509Benchmark } from './x509';
import { authorizationServerBench } from './oauth';

const RESULTS = fileURLToPath(new URL('./results/latest.json', import.meta.url));
const WRITERS = 8;
const REVOCATION_SAMPLES = 40;

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

let postgres: LocalPostgres | undefined;
let registry: Registry | undefined;
let workDir: string | undefined;
let cleaning: Promise<void> | undefined;
let interrupted = false;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await registry?.$disconnect().catch(() => undefined);
    await postgres?.stop().catch(() => undefined);
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    log(`${signal}: stopping`);
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

function table(results: BenchmarkResult[]): string {
  const x = (r: number): string => `${r.toFixed(2)}×`;
  const rows = results.map((r) =>
    [
      r.name,
      fmt(r.admit.opsPerSec),
      `${fmt(r.base.opsPerSec)} (${r.baseline})`,
      `${x(r.ratio)} (${r.ratioRange.map((v) => v.toFixed(2)).join('–')})`,
      `${x(r.heapRatio)} (${mib(r.admit.memory.peakHeapGrowth)} / ${mib(r.base.memory.peakHeapGrowth)})`,
      x(r.rssRatio),
    ].join(' | '),
  );
  return [
    '| benchmark | Admit ops/s | baseline ops/s | ratio (Admit ÷ baseline; round range) | heap ratio (peak growth, MiB) | RSS ratio |',
    '| --- | ---: | --- | ---: | ---: | ---: |',
    ...rows.map((row) => `| ${row} |`),
  ].join('\n');
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const results: BenchmarkResult[] = [];

  // `npm run bench -- --only oauth` runs the authorization server's part alone, `--only audit` the audit log's.
  const onlyOauth = process.argv.includes('--only') && process.argv.includes('oauth');
  const onlyAudit = process.argv.includes('--only') && process.argv.includes('audit');
  if (!onlyOauth && !onlyAudit) {
    log('X.509 client-certificate verification');
    results.push(await measure(await x509Benchmark(), log));
    log('signed-assertion verification');
    results.push(await measure(await assertionBenchmark(), log));
  }

  workDir = await mkdtemp(path.join(tmpdir(), 'admit-bench-'));
  log(`starting PostgreSQL in ${workDir}`);
  postgres = await startLocalPostgres({ dataDir: path.join(workDir, 'postgres'), binDir: process.env.POSTGRES_BIN_DIR });
  await postgres.ensureDatabase('bench');
  await applyMigrations(postgres.url('bench'));
  registry = createRegistry(postgres.url('bench'), { maxConnections: WRITERS + 2 });
  await createScratchTable(registry);

  if (!onlyOauth) {
    log('audit-log append, sequential');
    results.push(await measure(auditBenchmark(registry, 'seq', 1), log));
    log(`audit-log append, ${WRITERS} concurrent writers`);
    results.push(await measure(auditBenchmark(registry, `c${WRITERS}`, WRITERS), log));
  }

  let revocation: Awaited<ReturnType<Awaited<ReturnType<typeof authorizationServerBench>>['revocation']>> | undefined;
  if (!onlyAudit) {
    log('authorization server: token issuance');
    const as = await authorizationServerBench(registry);
    try {
      results.push(await measure(as.issuance, log));
      log('authorization server: revocation-to-deny latency');
      revocation = await as.revocation(REVOCATION_SAMPLES);
    } finally {
      await as.close();
    }
  }
  // A fast append that broke the chain would be no result at all.
  const chain = await verifyAuditChain(registry);
  if (!chain.ok)
    throw new Error(
      `the audit chain written by the bench does not verify: ${JSON.stringify(chain.brokenAt, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`,
    );
  log(`audit chain of ${chain.events} events verifies`);

  const seconds = (Date.now() - started) / 1000;
  const report = {
    at: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    seconds,
    results,
    revocationToDeny: revocation,
  };
  // A partial run does not replace the full run's record.
  const resultsFile = onlyOauth
    ? RESULTS.replace(/latest\.json$/, 'oauth-latest.json')
    : onlyAudit
      ? RESULTS.replace(/latest\.json$/, 'audit-latest.json')
      : RESULTS;
  await mkdir(path.dirname(resultsFile), { recursive: true });
  await writeFile(resultsFile, JSON.stringify(report, null, 2) + '\n');

  process.stdout.write(`${table(results)}\n\n`);
  if (revocation !== undefined)
    process.stdout.write(
      `Revocation to deny (closeApplication → a gateway's introspection says inactive, ${revocation.samples} samples): ` +
        `p50 ${revocation.p50Ms.toFixed(1)} ms, p99 ${revocation.p99Ms.toFixed(1)} ms, max ${revocation.maxMs.toFixed(1)} ms (target ≤ 1000 ms)\n\n`,
    );
  process.stdout.write(
    `Ops/s are medians of the rounds, ratios the median of per-round ratios (both sides in this process); ${cpus().length} CPUs, Node ${process.version}, ` +
      `${seconds.toFixed(0)} s. JSON: ${path.relative(process.cwd(), resultsFile)}\n`,
  );
}

try {
  await main();
} catch (error) {
  process.exitCode = 1;
  // Work in flight fails once the database is stopping: that is the interruption, not an error.
  if (!interrupted) log(error instanceof Error ? (error.stack ?? error.message) : String(error));
} finally {
  await cleanup();
}
