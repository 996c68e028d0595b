// `npm run bench:admission` (issue 13, item 2): LOW admissions driven over HTTP exactly as partners
// and their contacts do (test/chaos/partner.ts), against a bare workflow of the same shape
// (bench/admission-shape.json, run by bench/bare/), in the same run on the same Temporal server and
// PostgreSQL (the chaos stack, test/chaos/stack.ts). At each concurrency it alternates Admit and bare
// batches per round and reports latency, throughput and CPU per admission (worker, web, Temporal),
// and the ratios Admit ÷ bare with their range over rounds. Not part of `npm test`
// (docs/benchmarks.md, "Admission against the bare shape").
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import pg from 'pg';
import { REPO_ROOT } from '../config/env';
import { startProcess, type ManagedProcess } from '../stack/processes';
import { Mailbox } from '../test/chaos/mailbox';
import { admitPartner } from '../test/chaos/partner';
import { startChaosStack, type ChaosStack } from '../test/chaos/stack';
import { loadShape } from './admission-shape';
import { BARE_TABLE } from './bare/activities';
import type { BareStep } from './bare/shape';
import { bareAdmission, bareSignal, bareUpdate } from './bare/workflows';
import { pool, procStat } from './processes';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '1,8,32' },
    admissions: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '2' },
    'poll-ms': { type: 'string', default: '250' },
    profile: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const whole = (name: string, text: string, min = 1): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} takes a whole number ≥ ${min}, not ${JSON.stringify(text)}`);
  return n;
};
const CONCURRENCY = values.concurrency.split(',').map((c) => whole('concurrency', c.trim()));
const ADMISSIONS = whole('admissions', values.admissions);
const ROUNDS = whole('rounds', values.rounds);
const POLL_MS = whole('poll-ms', values['poll-ms'], 10);
const BARE_QUEUE = 'admit-bare';
const RESULTS = fileURLToPath(new URL('./results/admission-latest.json', import.meta.url));
const log = (line: string): void => void process.stderr.write(`bench:admission: ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The partners' HTTP requests, counted as they leave this process: status reads (`GET
 * /applications/:id`, a registry read plus a Temporal describe and query each) and the rest.
 */
const http = { statusReads: 0, other: 0 };
const realFetch = globalThis.fetch;
globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  if ((init?.method ?? 'GET') === 'GET' && /^\/applications\/[^/]+$/.test(url.pathname)) http.statusReads += 1;
  else http.other += 1;
  return realFetch(input, init);
}) as typeof fetch;

const cpuSeconds = async (pid: number): Promise<number> => (await procStat(pid)).cpuSeconds;

type Side = 'admit' | 'bare';
interface Pids {
  worker: number;
  web?: number;
  temporal: number[];
}
interface Batch {
  side: Side;
  round: number;
  concurrency: number;
  admissions: number;
  failures: string[];
  seconds: number;
  latencyMs: { p50: number; p99: number; max: number };
  throughput: number;
  /** CPU seconds per admission: the side's worker (and, for Admit, its web), and the Temporal server. */
  cpuPerAdmission: { worker: number; web: number; temporal: number; total: number };
  /** The measured processes, and the batch's window on the monotonic clock V8's CPU profiles use (µs), for bench/profile-summary.ts. */
  pids: Pids;
  monotonicUs: { start: number; end: number };
  /** The partners' HTTP requests per admission (Admit's side; the bare driver makes none). */
  httpPerAdmission: { statusReads: number; other: number };
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number);
}

async function measure(
  side: Side,
  round: number,
  concurrency: number,
  n: number,
  pids: () => Pids,
  one: () => Promise<{ ms: number; error?: string }>,
): Promise<Batch> {
  const at = pids();
  const cpu = async (p: Pids) => ({
    worker: await cpuSeconds(p.worker),
    web: p.web === undefined ? 0 : await cpuSeconds(p.web),
    temporal: (await Promise.all(p.temporal.map(cpuSeconds))).reduce((a, b) => a + b, 0),
  });
  const before = await cpu(at);
  const http0 = { ...http };
  const t0 = performance.now();
  const mono0 = Number(process.hrtime.bigint() / 1000n);
  const runs = await pool(n, concurrency, () => one());
  const mono1 = Number(process.hrtime.bigint() / 1000n);
  const seconds = (performance.now() - t0) / 1000;
  const after = await cpu(at);
  if (JSON.stringify(pids()) !== JSON.stringify(at)) throw new Error(`a measured process was restarted during the ${side} batch`);
  const ok = runs.filter((r) => r.error === undefined).map((r) => r.ms);
  ok.sort((a, b) => a - b);
  const per = (k: 'worker' | 'web' | 'temporal') => (after[k] - before[k]) / n;
  const cpuPerAdmission = { worker: per('worker'), web: per('web'), temporal: per('temporal'), total: 0 };
  cpuPerAdmission.total = cpuPerAdmission.worker + cpuPerAdmission.web + cpuPerAdmission.temporal;
  return {
    side,
    round,
    concurrency,
    admissions: n,
    failures: runs.flatMap((r) => (r.error === undefined ? [] : [r.error])),
    seconds,
    latencyMs: { p50: quantile(ok, 0.5), p99: quantile(ok, 0.99), max: ok.at(-1) ?? NaN },
    throughput: ok.length / seconds,
    cpuPerAdmission,
    pids: at,
    monotonicUs: { start: mono0, end: mono1 },
    httpPerAdmission: { statusReads: (http.statusReads - http0.statusReads) / n, other: (http.other - http0.other) / n },
  };
}

/** The bare side's driver: start, then each Update (or signal) once the activities before it have written their rows, then the result. */
function bareDriver(client: Client, db: pg.Pool, steps: BareStep[], runId: string) {
  // For each message, how many activity rows precede it: the driver's analogue of a partner's mail arriving.
  const gates: { step: Extract<BareStep, { kind: 'update' | 'signal' }>; rows: number }[] = [];
  let rows = 0;
  for (const step of steps) {
    if (step.kind === 'activities' || step.kind === 'localActivities') rows += step.types.length;
    if (step.kind === 'update' || step.kind === 'signal') gates.push({ step, rows });
  }
  let next = 0;
  return async (): Promise<{ ms: number; error?: string; workflowId: string }> => {
    const workflowId = `bare-${runId}-${(next += 1)}`;
    const t0 = performance.now();
    try {
      const handle = await client.workflow.start(bareAdmission, { taskQueue: BARE_QUEUE, workflowId, args: [steps] });
      for (const gate of gates) {
        for (;;) {
          const { rows: found } = await db.query(`select count(*)::int as n from ${BARE_TABLE} where workflow_id = $1`, [workflowId]);
          if ((found[0] as { n: number }).n >= gate.rows) break;
          await sleep(POLL_MS);
        }
        if (gate.step.kind === 'update') await handle.executeUpdate(bareUpdate, { args: [gate.step.name] });
        else await handle.signal(bareSignal, gate.step.name);
      }
      await handle.result();
      return { ms: performance.now() - t0, workflowId };
    } catch (error) {
      return { ms: performance.now() - t0, error: error instanceof Error ? error.message : String(error), workflowId };
    }
  };
}

function startBareWorker(stack: ChaosStack): ManagedProcess {
  return startProcess('bare-worker', process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bench/bare/worker.ts')], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      DATABASE_URL: stack.databaseUrl,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      BARE_TASK_QUEUE: BARE_QUEUE,
      ...(values.profile === undefined ? {} : { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.resolve(values.profile, 'bare-worker')}` }),
    },
    cwd: REPO_ROOT,
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const range = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

async function main(): Promise<void> {
  const started = Date.now();
  const shape = await loadShape();
  const profileEnv: Record<string, string> =
    values.profile === undefined ? {} : { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.resolve(values.profile, 'admit')}` };
  const stack = await startChaosStack({ keep: values.keep, env: profileEnv });
  const bare = startBareWorker(stack);
  const db = new pg.Pool({ connectionString: stack.databaseUrl, max: 4 });
  const stop = async () => {
    await bare.stop();
    await db.end();
    await stack.close();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop().finally(() => process.exit(130)));
  try {
    for (let t = 0; !bare.recentOutput().includes('polling task queue'); t += 1) {
      if (t > 600) throw new Error(`the bare worker did not start: ${bare.recentOutput()}`);
      await sleep(200);
    }
    const bareClient = new Client({ connection: stack.temporal.connection });
    const mailbox = new Mailbox(stack.mailDir);
    let partnerIndex = 0;
    const admitOne = async (): Promise<{ ms: number; error?: string }> => {
      const t0 = performance.now();
      const run = await admitPartner({ webUrl: stack.webUrl, registry: stack.registry, mailbox, index: (partnerIndex += 1), pauseMs: POLL_MS });
      return { ms: performance.now() - t0, ...(run.error === undefined ? {} : { error: `${run.applicationId}: ${run.error}` }) };
    };
    const bareOne = bareDriver(bareClient, db, shape.steps, String(started));
    const admitPids = (): Pids => ({
      worker: stack.worker.current().child.pid as number,
      web: stack.web.current().child.pid as number,
      temporal: stack.temporalPids(),
    });
    const barePids = (): Pids => ({ worker: bare.child.pid as number, temporal: stack.temporalPids() });

    // Warm-up, not measured: both workers bundle, connect and JIT; one of each, then a few at the highest concurrency.
    log(
      `stack up; warming up (shape: ${shape.counts.activities} activities, ${shape.counts.updatesAccepted} Updates, ${shape.counts.timersStarted} timers)`,
    );
    const warmAdmit = await admitOne();
    const warmBare = await bareOne();
    if (warmAdmit.error !== undefined || warmBare.error !== undefined) throw new Error(`warm-up failed: ${warmAdmit.error ?? warmBare.error ?? ''}`);
    const warm = Math.max(...CONCURRENCY, 1);
    await pool(Math.min(warm, 8), warm, admitOne);
    await pool(Math.min(warm, 8), warm, bareOne);
    // The bare workflow's own history, for the docs: how many workflow tasks and timers the shape costs bare.
    const bareEvents = (await bareClient.workflow.getHandle(warmBare.workflowId).fetchHistory()).events ?? [];
    const bareHistory = {
      events: bareEvents.length,
      workflowTasks: bareEvents.filter((e) => e.workflowTaskCompletedEventAttributes).length,
      activities: bareEvents.filter((e) => e.activityTaskScheduledEventAttributes).length,
      updatesAccepted: bareEvents.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length,
      timersStarted: bareEvents.filter((e) => e.timerStartedEventAttributes).length,
    };
    log(`bare history: ${JSON.stringify(bareHistory)}`);
    const { activities, updatesAccepted, timersStarted } = shape.counts;
    if (bareHistory.activities !== activities || bareHistory.updatesAccepted !== updatesAccepted || bareHistory.timersStarted !== timersStarted)
      log(
        `WARNING: the bare history differs from the shape (${activities} activities, ${updatesAccepted} Updates, ${timersStarted} timers); a timer started and cancelled in one activation is not recorded`,
      );

    // Temporal's own idle CPU (the stack's entity stand-in lists workflows every 400 ms): context for small batches.
    const idleT = stack.temporalPids();
    const idle0 = (await Promise.all(idleT.map(cpuSeconds))).reduce((a, b) => a + b, 0);
    await sleep(5_000);
    const temporalIdleCpuPercent = (((await Promise.all(idleT.map(cpuSeconds))).reduce((a, b) => a + b, 0) - idle0) / 5) * 100;

    const batches: Batch[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const concurrency of CONCURRENCY) {
        const n = Math.max(ADMISSIONS, concurrency);
        const order: Side[] = (round + CONCURRENCY.indexOf(concurrency)) % 2 === 1 ? ['admit', 'bare'] : ['bare', 'admit'];
        for (const side of order) {
          const batch =
            side === 'admit'
              ? await measure('admit', round, concurrency, n, admitPids, admitOne)
              : await measure('bare', round, concurrency, n, barePids, bareOne);
          batches.push(batch);
          log(
            `round ${round}, concurrency ${concurrency}, ${side}: ${n} in ${batch.seconds.toFixed(1)} s, p50 ${batch.latencyMs.p50.toFixed(0)} ms, ` +
              `${batch.throughput.toFixed(2)}/s, CPU ${batch.cpuPerAdmission.total.toFixed(3)} s each` +
              `${side === 'admit' ? ` (${batch.httpPerAdmission.statusReads.toFixed(1)} status reads, ${batch.httpPerAdmission.other.toFixed(1)} other requests each)` : ''}${batch.failures.length > 0 ? `, ${batch.failures.length} FAILED: ${batch.failures[0] ?? ''}` : ''}`,
          );
          await sleep(1_000);
        }
      }
    }

    const summary = CONCURRENCY.map((concurrency) => {
      const rounds = Array.from({ length: ROUNDS }, (_, i) => {
        const a = batches.find((b) => b.side === 'admit' && b.round === i + 1 && b.concurrency === concurrency) as Batch;
        const b = batches.find((x) => x.side === 'bare' && x.round === i + 1 && x.concurrency === concurrency) as Batch;
        return {
          admit: a,
          bare: b,
          ratio: {
            latencyP50: a.latencyMs.p50 / b.latencyMs.p50,
            latencyP99: a.latencyMs.p99 / b.latencyMs.p99,
            throughput: a.throughput / b.throughput,
            cpuPerAdmission: a.cpuPerAdmission.total / b.cpuPerAdmission.total,
            workerCpu: (a.cpuPerAdmission.worker + a.cpuPerAdmission.web) / b.cpuPerAdmission.worker,
            temporalCpu: a.cpuPerAdmission.temporal / b.cpuPerAdmission.temporal,
          },
        };
      });
      const over = <T>(pick: (r: (typeof rounds)[number]) => T) => rounds.map(pick);
      const side = (s: 'admit' | 'bare') => ({
        latencyP50Ms: range(over((r) => r[s].latencyMs.p50)),
        latencyP99Ms: range(over((r) => r[s].latencyMs.p99)),
        throughput: range(over((r) => r[s].throughput)),
        cpuWorker: range(over((r) => r[s].cpuPerAdmission.worker)),
        cpuWeb: range(over((r) => r[s].cpuPerAdmission.web)),
        cpuTemporal: range(over((r) => r[s].cpuPerAdmission.temporal)),
        cpuTotal: range(over((r) => r[s].cpuPerAdmission.total)),
        statusReads: range(over((r) => r[s].httpPerAdmission.statusReads)),
      });
      return {
        concurrency,
        admissionsPerBatch: Math.max(ADMISSIONS, concurrency),
        admit: side('admit'),
        bare: side('bare'),
        ratio: {
          latencyP50: range(over((r) => r.ratio.latencyP50)),
          latencyP99: range(over((r) => r.ratio.latencyP99)),
          throughput: range(over((r) => r.ratio.throughput)),
          cpuPerAdmission: range(over((r) => r.ratio.cpuPerAdmission)),
          workerCpu: range(over((r) => r.ratio.workerCpu)),
          temporalCpu: range(over((r) => r.ratio.temporalCpu)),
        },
      };
    });
    const failures = batches.reduce((sum, b) => sum + b.failures.length, 0);
    const result = {
      startedAt: new Date(started).toISOString(),
      options: { concurrency: CONCURRENCY, admissions: ADMISSIONS, rounds: ROUNDS, pollMs: POLL_MS },
      shape: { recordedAt: shape.recordedAt, commit: shape.commit, counts: shape.counts },
      bareHistory,
      temporalIdleCpuPercent,
      summary,
      batches,
      failures,
      seconds: (Date.now() - started) / 1000,
    };
    await mkdir(path.dirname(RESULTS), { recursive: true });
    await writeFile(RESULTS, `${JSON.stringify(result, null, 2)}\n`);

    const f = (x: number, d = 2) => x.toFixed(d);
    const r = (x: { median: number; min: number; max: number }, d = 2) => `${f(x.median, d)} (${f(x.min, d)}–${f(x.max, d)})`;
    console.log(`\nAdmission against the bare shape: ${ROUNDS} rounds, polling every ${POLL_MS} ms; median (range over rounds)`);
    console.log('| concurrency | side | p50 ms | p99 ms | admissions/s | CPU s/admission: worker (+web) | Temporal | total |');
    console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const s of summary) {
      for (const side of ['admit', 'bare'] as const) {
        const x = s[side];
        const worker = side === 'admit' ? `${r(x.cpuWorker, 3)} + ${r(x.cpuWeb, 3)}` : r(x.cpuWorker, 3);
        console.log(
          `| ${s.concurrency} | ${side === 'admit' ? 'Admit' : 'bare'} | ${r(x.latencyP50Ms, 0)} | ${r(x.latencyP99Ms, 0)} | ${r(x.throughput)} | ${worker} | ${r(x.cpuTemporal, 3)} | ${r(x.cpuTotal, 3)} |`,
        );
      }
    }
    console.log(
      '\n| concurrency | p50 latency, Admit ÷ bare | throughput, Admit ÷ bare | CPU per admission, Admit ÷ bare | worker(+web) CPU | Temporal CPU |',
    );
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const s of summary)
      console.log(
        `| ${s.concurrency} | ${r(s.ratio.latencyP50)}× | ${r(s.ratio.throughput)}× | ${r(s.ratio.cpuPerAdmission)}× | ${r(s.ratio.workerCpu)}× | ${r(s.ratio.temporalCpu)}× |`,
      );
    console.log(
      `\nAdmit's partners' status reads per admission: ${summary.map((s) => `${r(s.admit.statusReads, 1)} at concurrency ${s.concurrency}`).join(', ')}`,
    );
    const at = summary.find((s) => s.concurrency === 32);
    if (at !== undefined) {
      const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
      console.log(
        `\ntargets at concurrency 32 (medians): p50 ≤ 1.2×: ${met(at.ratio.latencyP50.median <= 1.2)}; throughput ≥ 0.9×: ${met(at.ratio.throughput.median >= 0.9)}; CPU per admission ≤ 1.3×: ${met(at.ratio.cpuPerAdmission.median <= 1.3)}`,
      );
    }
    console.log(
      `${failures} failed admissions; Temporal idle ${f(temporalIdleCpuPercent, 1)}% CPU; ${f(result.seconds, 0)} s; ${path.relative(process.cwd(), RESULTS)}`,
    );
    if (failures > 0) process.exitCode = 1;
  } finally {
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
