// `npm run bench:scale`: what each parked lifecycle costs. It parks signups at AWAITING_CONTACTS and
// admitted partners in monitoring on a stack of real processes (test/chaos/stack.ts), measuring at
// checkpoints the worker's and Temporal's memory, the stores' sizes and idle CPU, and then the cost of
// waking lifecycles the worker has evicted. Not part of `npm test` (docs/benchmarks.md, "Scale").
import { stat, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { workflowIdFor } from '../domain/identity';
import { stateQuery } from '../workflows/messages';
import { Mailbox } from '../test/chaos/mailbox';
import { admitPartner } from '../test/chaos/partner';
import { startChaosStack, type ChaosStack, type ChaosTemporal } from '../test/chaos/stack';
import { establishOrganisation } from '../test/support/entity';
import { signupBody } from '../test/support/signups';
import { pool, procStat } from './processes';

const { values } = parseArgs({
  options: {
    parked: { type: 'string', default: '10000' },
    admitted: { type: 'string', default: '1000' },
    checkpoints: { type: 'string', default: '4' },
    'cache-size': { type: 'string', default: '500' },
    wakes: { type: 'string', default: '50' },
    temporal: { type: 'string', default: process.env.ADMIT_TEMPORAL ?? 'dev' },
  },
});
const count = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} takes a whole number, not ${JSON.stringify(values[name])}`);
  return n;
};
if (values.temporal !== 'dev' && values.temporal !== 'cluster') throw new Error('--temporal takes dev or cluster');
const PARKED = count('parked');
const ADMITTED = count('admitted');
const CHECKPOINTS = Math.max(1, count('checkpoints'));
const WAKES = count('wakes');
const RESULTS = fileURLToPath(new URL('./results/scale-latest.json', import.meta.url));
const log = (line: string): void => void process.stderr.write(`bench:scale: ${line}\n`);

interface Sample {
  parked: number;
  admitted: number;
  workerRss: number;
  temporalRss: number;
  temporalStoreBytes: number;
  registryBytes: number;
}

async function sample(stack: ChaosStack, parked: number, admitted: number): Promise<Sample> {
  const worker = await procStat(stack.worker.current().child.pid as number);
  const temporal = await Promise.all(stack.temporalPids().map(procStat));
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    // VACUUM-free sizes of what is really on disk (tables, indexes, TOAST).
    const size = async (database: string) => Number((await client.query('select pg_database_size($1) as n', [database])).rows[0].n);
    const store = stack.temporalStore;
    const temporalStoreBytes =
      'sqliteFile' in store
        ? (await stat(store.sqliteFile)).size +
          (await stat(`${store.sqliteFile}-wal`).then(
            (s) => s.size,
            () => 0,
          ))
        : (await Promise.all(store.databases.map(size))).reduce((a, b) => a + b, 0);
    return {
      parked,
      admitted,
      workerRss: worker.rssBytes,
      temporalRss: temporal.reduce((sum, t) => sum + t.rssBytes, 0),
      temporalStoreBytes,
      registryBytes: await size('admit'),
    };
  } finally {
    await client.end();
  }
}

async function waitForCount(stack: ChaosStack, query: string, target: number, what: string): Promise<void> {
  const deadline = Date.now() + Math.max(600_000, target * 2_000);
  for (;;) {
    const { count: n } = await stack.temporal.workflow.count(query);
    if (n >= target) return;
    if (Date.now() > deadline) throw new Error(`only ${n} of ${target} ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

async function park(stack: ChaosStack, from: number, to: number): Promise<void> {
  await pool(to - from, 16, async (k) => {
    const body = signupBody({ name: `Parked ${from + k}` });
    await establishOrganisation(stack.registry, body.organisation);
    for (;;) {
      const response = await fetch(`${stack.webUrl}/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.200.${((from + k) >> 8) & 255}.${(from + k) & 255}` },
        body: JSON.stringify(body),
      }).catch(() => undefined);
      if (response?.status === 202) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  });
  await waitForCount(stack, `TaskQueue = "${stack.taskQueue}" AND AdmitStage = "AWAITING_CONTACTS" AND ExecutionStatus = "Running"`, to, 'parked');
}

function slope(a: Sample, b: Sample, key: keyof Sample, per: 'parked' | 'admitted'): number {
  const d = b[per] - a[per];
  return d === 0 ? 0 : (b[key] - a[key]) / d;
}

async function main(): Promise<void> {
  const started = Date.now();
  const stack = await startChaosStack({
    temporal: values.temporal as ChaosTemporal,
    env: { ADMIT_WORKFLOW_CACHE_SIZE: values['cache-size'] },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stack.close().finally(() => process.exit(130)));
  try {
    const samples: Sample[] = [await sample(stack, 0, 0)];
    log(`stack up (${values.temporal}); admitting ${ADMITTED} partners`);
    const mailbox = new Mailbox(stack.mailDir);
    const runs = await pool(ADMITTED, 8, (i) => admitPartner({ webUrl: stack.webUrl, registry: stack.registry, mailbox, index: i + 1 }));
    const failed = runs.filter((r) => r.error !== undefined);
    if (failed.length > 0) throw new Error(`${failed.length} admissions failed: ${failed[0]?.error ?? ''}`);
    samples.push(await sample(stack, 0, ADMITTED));
    for (let c = 1; c <= CHECKPOINTS; c += 1) {
      const from = Math.round(((c - 1) * PARKED) / CHECKPOINTS);
      const to = Math.round((c * PARKED) / CHECKPOINTS);
      const t0 = Date.now();
      await park(stack, from, to);
      samples.push(await sample(stack, to, ADMITTED));
      log(
        `${to}/${PARKED} parked (${((to - from) / ((Date.now() - t0) / 1000)).toFixed(1)}/s); worker RSS ${(samples.at(-1)!.workerRss / 2 ** 20).toFixed(0)} MiB`,
      );
    }

    // Idle: nothing is asked of the system for 60 s.
    const pids = { worker: stack.worker.current().child.pid as number, temporal: stack.temporalPids() };
    const before = { worker: await procStat(pids.worker), temporal: await Promise.all(pids.temporal.map(procStat)) };
    await new Promise((resolve) => setTimeout(resolve, 60_000));
    const after = { worker: await procStat(pids.worker), temporal: await Promise.all(pids.temporal.map(procStat)) };
    const idle = {
      workerCpuPercent: ((after.worker.cpuSeconds - before.worker.cpuSeconds) / 60) * 100,
      temporalCpuPercent: ((after.temporal.reduce((s, t) => s + t.cpuSeconds, 0) - before.temporal.reduce((s, t) => s + t.cpuSeconds, 0)) / 60) * 100,
    };

    // Waking evicted lifecycles: a fresh worker has none cached, so each query replays a whole history.
    await stack.killWorker();
    for (;;) {
      if (stack.worker.current().recentOutput().includes('polling task queue')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const wakePid = stack.worker.current().child.pid as number;
    // A worker that has just started compiles the SDK's and the workflow's code on its first replays; a
    // long-running worker waking an evicted lifecycle has done that long ago. The first partners woken
    // warm it up and are not counted; the rest are measured one at a time.
    const warmUp = Math.min(10, Math.floor(runs.length / 5));
    for (const run of runs.slice(0, warmUp)) await stack.temporal.workflow.getHandle(workflowIdFor(run.applicationId)).query(stateQuery);
    const measured = runs.slice(warmUp, warmUp + WAKES).map((r) => r.applicationId);
    const latencies: number[] = [];
    const cpuMs: number[] = [];
    const cpuBefore = (await procStat(wakePid)).cpuSeconds;
    for (const id of measured) {
      const cpu0 = (await procStat(wakePid)).cpuSeconds;
      const t0 = performance.now();
      await stack.temporal.workflow.getHandle(workflowIdFor(id)).query(stateQuery);
      latencies.push(performance.now() - t0);
      cpuMs.push(((await procStat(wakePid)).cpuSeconds - cpu0) * 1000);
    }
    const cpuPerWakeMs = measured.length === 0 ? 0 : (((await procStat(wakePid)).cpuSeconds - cpuBefore) * 1000) / measured.length;
    const historyEvents =
      measured.length === 0
        ? 0
        : ((await stack.temporal.workflow.getHandle(workflowIdFor(measured[0] as string)).fetchHistory()).events?.length ?? 0);
    const quantile = (values: number[], p: number) => {
      const sorted = [...values].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
    };
    const q = (p: number) => quantile(latencies, p);

    const parkedFrom = samples[1] as Sample;
    const last = samples.at(-1) as Sample;
    const result = {
      temporal: values.temporal,
      cacheSize: Number(values['cache-size']),
      parked: PARKED,
      admitted: ADMITTED,
      samples,
      perParkedLifecycle: {
        workerRssBytes: slope(parkedFrom, last, 'workerRss', 'parked'),
        temporalRssBytes: slope(parkedFrom, last, 'temporalRss', 'parked'),
        temporalStoreBytes: slope(parkedFrom, last, 'temporalStoreBytes', 'parked'),
        registryBytes: slope(parkedFrom, last, 'registryBytes', 'parked'),
      },
      perAdmittedPartner: {
        temporalStoreBytes: slope(samples[0] as Sample, parkedFrom, 'temporalStoreBytes', 'admitted'),
        registryBytes: slope(samples[0] as Sample, parkedFrom, 'registryBytes', 'admitted'),
      },
      idle,
      wake: {
        lifecycles: measured.length,
        warmUp,
        historyEvents,
        workerCpuMsPerWake: cpuPerWakeMs,
        // Per wake, from the process's CPU ticks (10 ms each): coarse, but a p99 over many wakes.
        workerCpuMs: { p50: quantile(cpuMs, 0.5), p99: quantile(cpuMs, 0.99) },
        latencyMs: { p50: q(0.5), p99: q(0.99) },
      },
      seconds: (Date.now() - started) / 1000,
    };
    await mkdir(path.dirname(RESULTS), { recursive: true });
    await writeFile(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
    const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
    console.log(
      `\nScale on Temporal ${values.temporal}, worker cache ${values['cache-size']}: ${PARKED} parked at AWAITING_CONTACTS, ${ADMITTED} admitted`,
    );
    console.log('| per parked lifecycle | worker RSS | Temporal RSS | Temporal store | registry |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    const per = result.perParkedLifecycle;
    console.log(`| slope | ${kib(per.workerRssBytes)} | ${kib(per.temporalRssBytes)} | ${kib(per.temporalStoreBytes)} | ${kib(per.registryBytes)} |`);
    console.log(
      `worker RSS with everything parked: ${(last.workerRss / 2 ** 20).toFixed(0)} MiB; Temporal RSS ${(last.temporalRss / 2 ** 20).toFixed(0)} MiB`,
    );
    console.log(
      `per admitted partner: Temporal store ${kib(result.perAdmittedPartner.temporalStoreBytes)}, registry ${kib(result.perAdmittedPartner.registryBytes)}`,
    );
    console.log(`idle CPU: worker ${idle.workerCpuPercent.toFixed(2)}%, Temporal ${idle.temporalCpuPercent.toFixed(2)}%`);
    console.log(
      `waking ${measured.length} evicted admitted lifecycles (${historyEvents} history events each; ${warmUp} woken first to warm the worker): ` +
        `${cpuPerWakeMs.toFixed(1)} ms of worker CPU each on average, p50 ${result.wake.workerCpuMs.p50.toFixed(0)} ms, p99 ${result.wake.workerCpuMs.p99.toFixed(0)} ms; ` +
        `latency p50 ${q(0.5).toFixed(0)} ms, p99 ${q(0.99).toFixed(0)} ms`,
    );
    console.log(`(${result.seconds.toFixed(0)} s; ${path.relative(process.cwd(), RESULTS)})`);
  } finally {
    await stack.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
