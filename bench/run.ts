// `npm run bench`: Admit's hot paths against the irreducible work beneath each, measured in the same
// process and run, reported as ratios (see README "Benchmarks"). It starts its own private PostgreSQL
// in a temporary directory and stops it on every exit path, Ctrl-C included.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
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
import { DEFAULT_DECISIONS_OPTIONS, decisionsBenchmark, decisionsTable, P99_BUDGET_MS } from './decisions';

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

/** The value of `--name value` on the command line, as a number, else the default. */
function numberOption(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index < 0 ? undefined : Number(process.argv[index + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

/**
 * `npm run bench -- --only decisions [--generators N] [--rounds N] [--seconds N] [--clients N]`:
 * POST /decisions against OPA over the same facts, both over HTTP (bench/decisions.ts).
 */
async function decisionsOnly(started: number): Promise<void> {
  workDir = await mkdtemp(path.join(tmpdir(), 'admit-bench-'));
  log(`starting PostgreSQL in ${workDir}`);
  postgres = await startLocalPostgres({ dataDir: path.join(workDir, 'postgres'), binDir: process.env.POSTGRES_BIN_DIR });
  await postgres.ensureDatabase('bench');
  await applyMigrations(postgres.url('bench'));
  registry = createRegistry(postgres.url('bench'), { maxConnections: 4 });
  const options = {
    ...DEFAULT_DECISIONS_OPTIONS,
    generators: numberOption('generators', DEFAULT_DECISIONS_OPTIONS.generators),
    rounds: numberOption('rounds', DEFAULT_DECISIONS_OPTIONS.rounds),
    seconds: numberOption('seconds', DEFAULT_DECISIONS_OPTIONS.seconds),
    clients: numberOption('clients', DEFAULT_DECISIONS_OPTIONS.clients),
  };
  const result = await decisionsBenchmark(registry, postgres.url('bench'), log, options);
  const seconds = (Date.now() - started) / 1000;
  const report = {
    at: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    // Other work on the machine moves every figure: the load average says how much there was.
    loadAverage: loadavg(),
    seconds,
    decisions: result,
  };
  const resultsFile = RESULTS.replace(/latest\.json$/, 'decisions-latest.json');
  await mkdir(path.dirname(resultsFile), { recursive: true });
  await writeFile(resultsFile, JSON.stringify(report, null, 2) + '\n');
  const rounds = result.rounds
    .map((round, i) => `round ${i + 1}: Admit ${Math.round(round.admit.best?.opsPerSec ?? 0)}, OPA ${Math.round(round.opa.best?.opsPerSec ?? 0)}`)
    .join('; ');
  const ratio =
    result.ratio === null || result.ratioRange === null
      ? 'no round had both sides within the budget'
      : `${result.ratio.toFixed(2)}× (rounds ${result.ratioRange.map((v) => v.toFixed(2)).join('–')})`;
  process.stdout.write(`${decisionsTable(result)}\n\n`);
  process.stdout.write(
    `Highest throughput with p99 ≤ ${P99_BUDGET_MS} ms, decisions/s (0: no step within it): ${rounds}. ` +
      `Median: Admit ${Math.round(result.admitBestOpsPerSec)}, OPA ${Math.round(result.opaBestOpsPerSec)}; Admit ÷ OPA ${ratio} (target ≥ 1.50×)\n`,
  );
  const cpuPerDecision = (side: 'admit' | 'opa') => {
    const values = result.rounds.flatMap((round) => round[side].steps.map((s) => (s.serverCores / s.opsPerSec) * 1e6)).sort((a, b) => a - b);
    return values[Math.floor(values.length / 2)] ?? Number.NaN;
  };
  process.stdout.write(
    `Server CPU per decision (median over every step): Admit ${cpuPerDecision('admit').toFixed(0)} µs (one Node.js process), OPA ${cpuPerDecision('opa').toFixed(0)} µs (all its threads)\n`,
  );
  const r = result.revocation;
  process.stdout.write(
    `Revocation to deny under ${r.connections} connections (${Math.round(r.loadOpsPerSec)} decisions/s, p99 ${r.loadP99Ms.toFixed(2)} ms meanwhile; ` +
      `closeApplication → the first deny, ${r.samples} samples): p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, max ${r.maxMs.toFixed(1)} ms (target p99 ≤ 1000 ms); ` +
      `from its return: p50 ${r.afterCommitP50Ms.toFixed(1)} ms, p99 ${r.afterCommitP99Ms.toFixed(1)} ms\n`,
  );
  process.stdout.write(`Decision cache at the end: ${JSON.stringify(result.cache)}\n`);
  if (result.generatorSaturated) {
    process.stdout.write(
      `A load generator used ≥ 0.9 of a core at a best step: it may be the limit; rerun with --generators ${result.generators + 1}.\n`,
    );
  }
  process.stdout.write(
    `${cpus().length} CPUs (load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(', ')} at the end), Node ${process.version}, ${seconds.toFixed(0)} s. JSON: ${path.relative(process.cwd(), resultsFile)}\n`,
  );
}

/** Writes the run's JSON record; a partial run (`--only`) does not replace the full run's. */
async function writeResults(only: string | undefined, started: number, results: BenchmarkResult[], extra: object = {}): Promise<string> {
  const report = {
    at: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    seconds: (Date.now() - started) / 1000,
    results,
    ...extra,
  };
  const resultsFile = only ? RESULTS.replace(/latest\.json$/, `${only}-latest.json`) : RESULTS;
  await mkdir(path.dirname(resultsFile), { recursive: true });
  await writeFile(resultsFile, JSON.stringify(report, null, 2) + '\n');
  return resultsFile;
}

const ONLY = ['oauth', 'audit', 'x509', 'assertion', 'decisions'] as const;

async function main(): Promise<void> {
  const started = Date.now();
  const results: BenchmarkResult[] = [];
  // `npm run bench -- --only <part>`: one part alone. x509 and assertion need no database.
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  if (only !== undefined && !(ONLY as readonly string[]).includes(only)) throw new Error(`--only takes ${ONLY.join(', ')}, not ${only}`);
  if (only === 'decisions') return decisionsOnly(started);
  const onlyOauth = only === 'oauth';
  const onlyAudit = only === 'audit';
  if (only === undefined || only === 'x509') {
    log('X.509 client-certificate verification');
    results.push(await measure(await x509Benchmark(), log));
  }
  if (only === undefined || only === 'assertion') {
    log('signed-assertion verification');
    results.push(await measure(await assertionBenchmark(), log));
  }
  if (only === 'x509' || only === 'assertion') {
    await writeResults(only, started, results);
    process.stdout.write(
      `${table(results)}\n\nOps/s are medians of the rounds, ratios the median of per-round ratios; ${cpus().length} CPUs, Node ${process.version}.\n`,
    );
    return;
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
    log(`audit-log append, ${WRITERS} concurrent writers, each in a transaction`);
    results.push(await measure(auditBenchmark(registry, `t${WRITERS}`, WRITERS, 'transaction'), log));
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
  const resultsFile = await writeResults(onlyOauth ? 'oauth' : onlyAudit ? 'audit' : undefined, started, results, { revocationToDeny: revocation });

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
