// Request-time decisions against OPA (issue 13, docs/decisions.md): Admit's web `POST /decisions`
// (the thumbprint form) and OPA v1.22.4 running bench/decisions.rego over the same registry facts,
// both over HTTP, driven by the same load generator (bench/decisions-load.ts) in the same run.
// For each side: throughput and p99 at stepped connection counts, and the highest throughput whose
// p99 stays within the budget; then revocation-to-deny latency while Admit carries that load.
import { execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Registry } from '../registry/client';
import { loadDecisionFacts, type DecisionFacts } from '../registry/decision-facts';
import { closingActivities } from '../activities/closing';
import { SCOPE_CATALOGUE } from '../domain/scopes';
import { ENVIRONMENTS } from '../domain/environments';
import type { GrantConditions } from '../domain/policy';
import { freePort, startProcess, waitUntilReady, type ManagedProcess } from '../stack/processes';
import { isExecutable, onPath, userCacheDir } from '../stack/executables';
import { BUCKET_MS, type LoadJob, type LoadResult } from './decisions-load-job';

const run = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, '..');

export const OPA_VERSION = '1.22.4';
const GATEWAY = { name: 'bench', token: `bench-decisions-${randomBytes(16).toString('hex')}` };
/** The latency budget: the highest throughput whose p99 stays within it is each side's figure. */
export const P99_BUDGET_MS = 5;

type Log = (line: string) => void;

export interface DecisionsBenchOptions {
  /** Admitted clients in the registry (and in OPA's data); the load cycles through all of them. */
  clients: number;
  /** Connection counts stepped through, per side and round. */
  connections: number[];
  /** Seconds per step. */
  seconds: number;
  rounds: number;
  /** Load-generator processes per step (connections are split between them). */
  generators: number;
  revocationSamples: number;
}

export const DEFAULT_DECISIONS_OPTIONS: DecisionsBenchOptions = {
  clients: 1_000,
  connections: [1, 2, 4, 8, 16, 32],
  seconds: 5,
  rounds: 2,
  generators: 1,
  revocationSamples: 30,
};

export interface Step {
  connections: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  /** CPU of the server (all its threads) over the step, in cores. */
  serverCores: number;
  /** CPU of the load generators together, in cores. */
  generatorCores: number;
}

export interface SideRound {
  steps: Step[];
  /** The highest ops/s among steps with p99 ≤ the budget (0 if none). */
  best: Step | undefined;
}

export interface DecisionsBenchResult {
  clients: number;
  budgetMs: number;
  generators: number;
  /** `ratio` is null in a round where either side had no step within the budget. */
  rounds: { admit: SideRound; opa: SideRound; ratio: number | null }[];
  admitBestOpsPerSec: number;
  opaBestOpsPerSec: number;
  /** The median of the rounds' ratios (null when no round had both sides within the budget). */
  ratio: number | null;
  ratioRange: [number, number] | null;
  revocation: {
    connections: number;
    samples: number;
    /** From the start of closeApplication to the first deny (as the token benchmark counts). */
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    /** From closeApplication's return to the first deny. */
    afterCommitP50Ms: number;
    afterCommitP99Ms: number;
    loadOpsPerSec: number;
    loadP99Ms: number;
  };
  /** The web's decision cache counters at the end of the run. */
  cache: unknown;
  /** True when a generator used ≥ 0.9 of a core at a side's best step (the generator, not the server, may be the limit). */
  generatorSaturated: boolean;
}

/** OPA: OPA_PATH, `opa` on PATH, the per-user cache, else `go install` into that cache (as the Temporal CLI). */
export async function ensureOpa(log: Log): Promise<string> {
  const configured = process.env.OPA_PATH;
  if (configured !== undefined && configured !== '') {
    if (await isExecutable(configured)) return configured;
    throw new Error(`OPA_PATH=${configured} is not an executable file.`);
  }
  const binDir = userCacheDir(`opa-${OPA_VERSION}`);
  const cached = path.join(binDir, 'opa');
  if (await isExecutable(cached)) return cached;
  const fromPath = await onPath('opa');
  if (fromPath !== undefined) {
    const { stdout } = await run(fromPath, ['version']);
    if (stdout.includes(`Version: ${OPA_VERSION}`)) return fromPath;
  }
  const go = await onPath('go');
  if (go === undefined) throw new Error(`OPA ${OPA_VERSION} is needed: install Go (it is built with go install), or set OPA_PATH.`);
  await mkdir(binDir, { recursive: true });
  log(`building OPA ${OPA_VERSION} with \`go install\` into ${binDir} (once per machine; several minutes on 2 cores)`);
  const started = Date.now();
  await run(go, ['install', `github.com/open-policy-agent/opa@v${OPA_VERSION}`], {
    env: { ...process.env, GOBIN: binDir, CGO_ENABLED: '0' },
    maxBuffer: 64 * 1024 * 1024,
  });
  log(`  built in ${Math.round((Date.now() - started) / 1000)} s`);
  if (!(await isExecutable(cached))) throw new Error(`OPA was not found at ${cached} after go install.`);
  return cached;
}

interface BenchClient {
  clientId: string;
  applicationId: string;
  workflowId: string;
  body: Record<string, unknown>;
}

const ALL_WEEK = [0, 1, 2, 3, 4, 5, 6];

/**
 * Admitted applications, each with an anchor-bound credential and a grant, written as grantAccess
 * writes them. One in five is a payments client whose grant limits transaction types and amounts
 * and opens a time window; the others read accounts in one environment.
 */
async function seedClients(registry: Registry, count: number, tag: string): Promise<BenchClient[]> {
  const made: BenchClient[] = [];
  const organisations = [];
  const applications = [];
  const grants = [];
  const credentials = [];
  for (let i = 0; i < count; i += 1) {
    const organisationId = randomUUID();
    const applicationId = `app-bench-${tag}-${i}-${randomUUID()}`;
    const workflowId = `partner-lifecycle-${applicationId}`;
    const payments = i % 5 === 4;
    const environment = i % 3 === 0 ? 'production' : 'sandbox';
    const thumbprint = randomBytes(32).toString('base64url');
    const clientId = `admit-${randomBytes(16).toString('base64url')}`;
    const conditions: GrantConditions = payments
      ? {
          environments: [environment],
          transactionTypes: ['domestic-transfer'],
          maxAmount: { value: 10_000, currency: 'EUR' },
          timeWindows: [{ days: ALL_WEEK, start: '00:00', end: '24:00', timeZone: 'UTC' }],
        }
      : { environments: [environment] };
    organisations.push({
      id: organisationId,
      legalName: `Bench ${tag} ${i}`,
      lei: `B${tag}${randomBytes(9).toString('hex')}`.slice(0, 20).toUpperCase(),
      jurisdiction: 'GB',
      primaryDomain: `b${i}.bench.example`,
    });
    applications.push({
      id: applicationId,
      organisationId,
      name: `Bench ${i}`,
      nameKey: `bench ${i}`,
      environment,
      purpose: 'bench',
      requestedScopes: payments ? ['accounts:read', 'payments:initiate'] : ['accounts:read'],
      dataSensitivity: 'internal',
      regulatedSector: false,
      strategic: false,
      expectedMonthlyCalls: 1000,
      contractEndDate: new Date('2030-01-01'),
      requestedBy: 'bench@example.com',
      status: 'ADMITTED' as const,
      tier: payments ? 'HIGH' : 'LOW',
      admittedAt: new Date(),
      workflowId,
    });
    grants.push({
      applicationId,
      scopes: payments ? ['accounts:read', 'payments:initiate'] : ['accounts:read', 'transactions:read', 'payments:status:read'],
      conditions: conditions as object,
      tier: payments ? 'HIGH' : 'LOW',
      approvedBy: [],
      grantedAt: new Date(),
    });
    credentials.push({
      clientId,
      applicationId,
      anchorFingerprint: `jwk-sha256:${thumbprint}`,
      confirmationMethod: 'jkt',
      confirmationValue: thumbprint,
      tokenLifetimeSeconds: 900,
    });
    const body: Record<string, unknown> = {
      clientId,
      confirmation: { method: 'jkt', value: thumbprint },
      scope: payments ? 'payments:initiate' : 'accounts:read',
      environment,
      ...(payments ? { transactionType: 'domestic-transfer', amount: { value: 250 + i, currency: 'EUR' } } : {}),
    };
    made.push({ clientId, applicationId, workflowId, body });
  }
  for (let from = 0; from < count; from += 500) {
    await registry.organisation.createMany({ data: organisations.slice(from, from + 500) });
    await registry.application.createMany({ data: applications.slice(from, from + 500) });
    await registry.grant.createMany({ data: grants.slice(from, from + 500) });
    await registry.clientCredential.createMany({ data: credentials.slice(from, from + 500) });
  }
  return made;
}

/** The registry's facts as OPA data: per client, exactly what Admit's decision cache holds. */
async function exportFacts(registry: Registry, clients: BenchClient[]) {
  const facts: Record<string, DecisionFacts> = {};
  for (const c of clients) {
    const f = await loadDecisionFacts(registry, c.clientId);
    if (f !== null) facts[c.clientId] = f;
  }
  return {
    clients: facts,
    gateways: { [GATEWAY.name]: { environments: [...ENVIRONMENTS] } },
    scopes: Object.fromEntries(SCOPE_CATALOGUE.map((s) => [s.scope, { movesMoney: s.movesMoney }])),
    environments: [...ENVIRONMENTS],
  };
}

interface Side {
  name: 'admit' | 'opa';
  url: string;
  headers: Record<string, string>;
  /** The request body this side is sent for a gateway's decision body. */
  wire(body: Record<string, unknown>): string;
  pid(): number | undefined;
  decide(body: Record<string, unknown>): Promise<{ allow: boolean; codes: string[]; applicationId?: string }>;
}

function admitSide(port: number, process: ManagedProcess): Side {
  const url = `http://127.0.0.1:${port}/decisions`;
  const headers = { authorization: `Bearer ${GATEWAY.token}` };
  return {
    name: 'admit',
    url,
    headers,
    wire: (body) => JSON.stringify(body),
    pid: () => process.child.pid,
    async decide(body) {
      const response = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (response.status !== 200) throw new Error(`Admit answered ${response.status}: ${await response.text()}`);
      const json = (await response.json()) as { allow: boolean; reasons: { code: string }[]; applicationId?: string };
      return {
        allow: json.allow,
        codes: json.reasons.map((r) => r.code).sort(),
        ...(json.applicationId ? { applicationId: json.applicationId } : {}),
      };
    },
  };
}

function opaSide(port: number, process: ManagedProcess): Side {
  const url = `http://127.0.0.1:${port}/v1/data/admit/decisions/decision`;
  const wire = (body: Record<string, unknown>) => JSON.stringify({ input: { ...body, gateway: GATEWAY.name } });
  return {
    name: 'opa',
    url,
    headers: {},
    wire,
    pid: () => process.child.pid,
    async decide(body) {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: wire(body) });
      if (response.status !== 200) throw new Error(`OPA answered ${response.status}: ${await response.text()}`);
      const json = (await response.json()) as { result?: { allow: boolean; reasons: { code: string }[]; applicationId?: string } };
      if (json.result === undefined) throw new Error('OPA returned no result: is the policy loaded?');
      return {
        allow: json.result.allow,
        codes: json.result.reasons.map((r) => r.code).sort(),
        ...(json.result.applicationId ? { applicationId: json.result.applicationId } : {}),
      };
    },
  };
}

/** Requests built to break each rule, beside every client's allowed request: both sides must agree on all. */
function equivalenceCases(clients: BenchClient[]): Record<string, unknown>[] {
  const low = clients.find((c) => c.body.scope === 'accounts:read')!.body;
  const pay = clients.find((c) => c.body.scope === 'payments:initiate')!.body;
  const confirmation = low.confirmation as { method: string; value: string };
  const otherEnvironment = low.environment === 'sandbox' ? 'production' : 'sandbox';
  return [
    ...clients.map((c) => c.body),
    { ...low, clientId: 'admit-nobody-at-all' },
    { ...low, confirmation: { ...confirmation, value: 'A'.repeat(43) } },
    { ...low, confirmation: { method: 'x5t#S256', value: confirmation.value } },
    { ...low, scope: 'payments:initiate' },
    { ...low, scope: 'no:such:scope' },
    { ...low, environment: otherEnvironment },
    { ...low, environment: 'staging' },
    { ...pay, transactionType: 'international-transfer' },
    { ...pay, transactionType: undefined },
    { ...pay, amount: undefined },
    { ...pay, amount: { value: 10_001, currency: 'EUR' } },
    { ...pay, amount: { value: 10, currency: 'USD' } },
    { ...pay, amount: { value: 10, currency: 'USD' }, environment: otherEnvironment, scope: 'accounts:read' },
  ].map((b) => JSON.parse(JSON.stringify(b)) as Record<string, unknown>);
}

async function checkEquivalence(admit: Side, opa: Side, cases: Record<string, unknown>[]): Promise<void> {
  for (const body of cases) {
    const [a, o] = await Promise.all([admit.decide(body), opa.decide(body)]);
    if (JSON.stringify(a) !== JSON.stringify(o)) {
      throw new Error(`Admit and OPA disagree on ${JSON.stringify(body)}: Admit ${JSON.stringify(a)}, OPA ${JSON.stringify(o)}`);
    }
  }
}

/** CPU seconds a process has used (all threads), from /proc; undefined where there is no /proc. */
async function cpuSecondsOf(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

function runGenerator(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // The job goes on stdin: a thousand bodies exceed what one argument may hold.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'decisions-load.ts')], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end(JSON.stringify(job));
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as LoadResult);
      } catch (error) {
        reject(new Error(`a load generator failed (${(error as Error).message}): ${err.slice(-2000)}`));
      }
    });
  });
}

function percentileOf(buckets: Map<number, number>, total: number, p: number): number {
  const rank = Math.ceil((p / 100) * total);
  let seen = 0;
  for (const bucket of [...buckets.keys()].sort((a, b) => a - b)) {
    seen += buckets.get(bucket)!;
    if (seen >= rank) return (bucket + 1) * BUCKET_MS;
  }
  return Number.NaN;
}

/** One step: `connections` connections split across the generators, for `seconds`. */
async function step(side: Side, bodies: string[], connections: number, seconds: number, generators: number): Promise<Step> {
  const processes = Math.max(1, Math.min(generators, connections));
  const jobs: LoadJob[] = Array.from({ length: processes }, (_, g) => ({
    url: side.url,
    headers: side.headers,
    // Each generator starts at another place in the client list.
    bodies: [...bodies.slice((g * bodies.length) / processes), ...bodies.slice(0, (g * bodies.length) / processes)],
    connections: Math.floor(connections / processes) + (g < connections % processes ? 1 : 0),
    seconds,
  }));
  const cpuBefore = await cpuSecondsOf(side.pid());
  const results = await Promise.all(jobs.map(runGenerator));
  const cpuAfter = await cpuSecondsOf(side.pid());
  // The server idles while the generators start, so its CPU over the step is CPU under load.
  const duration = Math.max(...results.map((r) => r.seconds));
  const merged = new Map<number, number>();
  let ok = 0;
  let failed = 0;
  for (const r of results) {
    ok += r.ok;
    failed += r.failed;
    for (const [bucket, count] of r.buckets) merged.set(bucket, (merged.get(bucket) ?? 0) + count);
  }
  return {
    connections,
    opsPerSec: ok / duration,
    p50Ms: percentileOf(merged, ok, 50),
    p99Ms: percentileOf(merged, ok, 99),
    failed,
    serverCores: cpuBefore === undefined || cpuAfter === undefined ? Number.NaN : (cpuAfter - cpuBefore) / duration,
    generatorCores: results.reduce((sum, r) => sum + r.cpuSeconds, 0) / duration,
  };
}

function bestOf(steps: Step[]): Step | undefined {
  return steps.filter((s) => s.p99Ms <= P99_BUDGET_MS && s.failed === 0).sort((a, b) => b.opsPerSec - a.opsPerSec)[0];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/**
 * Revocation to deny under load: while the generators keep Admit at `connections`, a fresh client is
 * admitted and asked about (cached), then closeApplication (the closing activity of key compromise)
 * revokes it; a gateway asking without pause stops the clock at its first deny.
 */
async function revocationUnderLoad(
  registry: Registry,
  admit: Side,
  bodies: string[],
  connections: number,
  samples: number,
  options: DecisionsBenchOptions,
  log: Log,
) {
  const fresh = await seedClients(registry, samples, 'revoke');
  const closing = closingActivities(registry);
  const seconds = Math.max(10, Math.ceil(samples * 0.4) + 3);
  const load = step(admit, bodies, connections, seconds, options.generators);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const latencies: number[] = [];
  /** From the activity's return (its commit is inside it) to the first deny; 0 when the deny came first. */
  const afterCommit: number[] = [];
  for (const client of fresh) {
    for (let i = 0; i < 2; i += 1) if (!(await admit.decide(client.body)).allow) throw new Error('a fresh bench client was denied');
    const started = performance.now();
    let denied: number | undefined;
    const watcher = (async () => {
      while (denied === undefined) {
        if (!(await admit.decide(client.body)).allow) denied = performance.now();
      }
    })();
    await closing.closeApplication({
      applicationId: client.applicationId,
      workflowId: client.workflowId,
      status: 'OFFBOARDED',
      trigger: 'key-compromise',
      reason: 'bench',
      actor: 'bench',
      at: new Date().toISOString(),
    });
    const committed = performance.now();
    await watcher;
    latencies.push(denied! - started);
    afterCommit.push(Math.max(0, denied! - committed));
  }
  const loaded = await load;
  log(`revocation under ${connections} connections: ${loaded.opsPerSec.toFixed(0)} ops/s, p99 ${loaded.p99Ms.toFixed(2)} ms while revoking`);
  latencies.sort((a, b) => a - b);
  afterCommit.sort((a, b) => a - b);
  return {
    connections,
    samples,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? Number.NaN,
    afterCommitP50Ms: percentile(afterCommit, 50),
    afterCommitP99Ms: percentile(afterCommit, 99),
    loadOpsPerSec: loaded.opsPerSec,
    loadP99Ms: loaded.p99Ms,
  };
}

export async function decisionsBenchmark(
  registry: Registry,
  databaseUrl: string,
  log: Log,
  options: DecisionsBenchOptions = DEFAULT_DECISIONS_OPTIONS,
): Promise<DecisionsBenchResult> {
  const opaBinary = await ensureOpa(log);
  log(`seeding ${options.clients} admitted clients`);
  const clients = await seedClients(registry, options.clients, 'load');
  const data = await exportFacts(registry, clients);

  const admitPort = await freePort();
  // BENCH_ADMIT_CPU_PROFILE=<dir> writes a V8 CPU profile of the web process there (where its time goes).
  const profile = process.env.BENCH_ADMIT_CPU_PROFILE;
  const profiling = profile === undefined || profile === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`];
  const admitProcess = startProcess('admit-web', process.execPath, [...profiling, '--import', 'tsx', path.join(HERE, 'decisions-server.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'development',
      DATABASE_URL: databaseUrl,
      PORT: String(admitPort),
      ADMIT_GATEWAY_TOKENS: `${GATEWAY.name}:${GATEWAY.token}`,
      ADMIT_GATEWAY_ENVIRONMENTS: `${GATEWAY.name}:${ENVIRONMENTS.join('+')}`,
    },
  });
  const opaPort = await freePort();
  const opaProcess = startProcess(
    'opa',
    opaBinary,
    ['run', '--server', '--addr', `127.0.0.1:${opaPort}`, '--log-level', 'error', '--disable-telemetry', path.join(HERE, 'decisions.rego')],
    { cwd: ROOT },
  );
  try {
    await Promise.all([
      waitUntilReady(admitProcess, async () => admitProcess.recentOutput().includes(`listening ${admitPort}`), 60_000),
      waitUntilReady(opaProcess, async () => (await fetch(`http://127.0.0.1:${opaPort}/health`)).ok, 60_000),
    ]);
    const put = await fetch(`http://127.0.0.1:${opaPort}/v1/data/admit`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(data),
    });
    if (!put.ok) throw new Error(`OPA refused the data: ${put.status} ${await put.text()}`);
    const admit = admitSide(admitPort, admitProcess);
    const opa = opaSide(opaPort, opaProcess);

    const cases = equivalenceCases(clients);
    log(`equivalence: ${cases.length} requests (every client, and one built to break each rule) answered alike by both`);
    await checkEquivalence(admit, opa, cases);

    const bodies = { admit: clients.map((c) => admit.wire(c.body)), opa: clients.map((c) => opa.wire(c.body)) };
    const sides = { admit, opa };
    log('warm-up');
    for (const side of [opa, admit]) await step(side, bodies[side.name], 8, 2, options.generators);

    const rounds: DecisionsBenchResult['rounds'] = [];
    for (let round = 0; round < options.rounds; round += 1) {
      const steps: Record<'admit' | 'opa', Step[]> = { admit: [], opa: [] };
      for (const connections of options.connections) {
        const order = (round + options.connections.indexOf(connections)) % 2 === 0 ? (['opa', 'admit'] as const) : (['admit', 'opa'] as const);
        for (const name of order) {
          const s = await step(sides[name], bodies[name], connections, options.seconds, options.generators);
          steps[name].push(s);
          log(
            `round ${round + 1} ${name.padEnd(5)} c=${String(connections).padStart(3)}: ${s.opsPerSec.toFixed(0).padStart(6)} ops/s, p50 ${s.p50Ms.toFixed(2)} ms, p99 ${s.p99Ms.toFixed(2)} ms, server ${s.serverCores.toFixed(2)} cores, generator ${s.generatorCores.toFixed(2)} cores${s.failed > 0 ? `, ${s.failed} failed` : ''}`,
          );
        }
      }
      const admitRound = { steps: steps.admit, best: bestOf(steps.admit) };
      const opaRound = { steps: steps.opa, best: bestOf(steps.opa) };
      const ratio = admitRound.best !== undefined && opaRound.best !== undefined ? admitRound.best.opsPerSec / opaRound.best.opsPerSec : null;
      rounds.push({ admit: admitRound, opa: opaRound, ratio });
    }
    const ratios = rounds.map((r) => r.ratio).filter((r) => r !== null);
    const admitBest = median(rounds.map((r) => r.admit.best?.opsPerSec ?? 0));
    // Revocation under the load at which Admit did best (the most connections within budget, in the last round).
    const loadConnections = rounds.at(-1)?.admit.best?.connections ?? 1;
    log(`revocation to deny: ${options.revocationSamples} samples under ${loadConnections} connections`);
    const revocation = await revocationUnderLoad(registry, admit, bodies.admit, loadConnections, options.revocationSamples, options, log);
    const saturated = rounds.some((r) =>
      [r.admit.best, r.opa.best].some((b) => b !== undefined && b.generatorCores / Math.min(options.generators, b.connections) >= 0.9),
    );
    await admitProcess.stop();
    return {
      cache: cacheStatusOf(admitProcess),
      clients: options.clients,
      budgetMs: P99_BUDGET_MS,
      generators: options.generators,
      rounds,
      admitBestOpsPerSec: admitBest,
      opaBestOpsPerSec: median(rounds.map((r) => r.opa.best?.opsPerSec ?? 0)),
      ratio: ratios.length === 0 ? null : median(ratios),
      ratioRange: ratios.length === 0 ? null : [Math.min(...ratios), Math.max(...ratios)],
      revocation,
      generatorSaturated: saturated,
    };
  } finally {
    await Promise.all([admitProcess.stop(), opaProcess.stop()]);
  }
}

function cacheStatusOf(admitProcess: ManagedProcess): unknown {
  const line = admitProcess
    .recentOutput()
    .split('\n')
    .findLast((l) => l.startsWith('cache '));
  return line === undefined ? null : (JSON.parse(line.slice('cache '.length)) as unknown);
}

/** The report's table: per side, each step's figures, and the best within budget. */
export function decisionsTable(result: DecisionsBenchResult): string {
  const lines = [
    '| round | connections | Admit ops/s | Admit p99 ms | Admit server CPU µs/decision | OPA ops/s | OPA p99 ms | OPA server CPU µs/decision |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const cpu = (s: Step) => ((s.serverCores / s.opsPerSec) * 1e6).toFixed(0);
  result.rounds.forEach((round, r) => {
    round.admit.steps.forEach((a, i) => {
      const o = round.opa.steps[i]!;
      lines.push(
        `| ${r + 1} | ${a.connections} | ${a.opsPerSec.toFixed(0)} | ${a.p99Ms.toFixed(2)} | ${cpu(a)} | ${o.opsPerSec.toFixed(0)} | ${o.p99Ms.toFixed(2)} | ${cpu(o)} |`,
      );
    });
  });
  return lines.join('\n');
}
