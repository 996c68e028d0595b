// The measuring loop shared by every benchmark: warm-up, then several timed rounds of a fixed number
// of operations for Admit's side and for the baseline's, interleaved (ABBA…) so drift in the machine
// (CPU frequency, the database's caches) falls on both; then one untimed pass per side for memory.
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** One operation; `i` is unique within a benchmark's whole run (warm-up, rounds, memory pass). */
/** The i-th operation, run by writer `writer` (0 … concurrency − 1): one writer runs one operation at a time. */
export type Operation = (i: number, writer: number) => Promise<unknown>;

export interface Benchmark {
  name: string;
  /** What the baseline does, in a few words, for the table. */
  baseline: string;
  admit: Operation;
  base: Operation;
  /** Operations in flight at once (1 = sequential). */
  concurrency: number;
  warmup: number;
  /** Operations per side per round. */
  iterations: number;
  rounds: number;
  /** Called before each round of either side (e.g. a fresh replay store); not timed. */
  beforeRound?: () => Promise<void> | void;
}

export interface SideResult {
  /** Median of the rounds. */
  opsPerSec: number;
  /** Every round, in order. */
  roundsOpsPerSec: number[];
  /** Median wall time of one operation (round time / iterations × concurrency), microseconds. */
  meanLatencyUs: number;
  memory: MemoryResult;
}

export interface MemoryResult {
  /** Peak heapUsed during the pass minus heapUsed right after a full GC at its start, bytes. */
  peakHeapGrowth: number;
  /** Highest resident set size seen during the pass, bytes (process-wide). */
  peakRss: number;
}

export interface BenchmarkResult {
  name: string;
  baseline: string;
  concurrency: number;
  iterations: number;
  rounds: number;
  admit: SideResult;
  base: SideResult;
  /**
   * Admit ops/s ÷ baseline ops/s (below 1: Admit is slower by that factor): the median of the
   * per-round ratios, each round pairing the two sides run back to back, so slow drift cancels.
   */
  ratio: number;
  /** The lowest and highest per-round ratio. */
  ratioRange: [number, number];
  /** Admit's peak heap growth ÷ the baseline's. */
  heapRatio: number;
  /** Admit's peak RSS ÷ the baseline's. */
  rssRatio: number;
}

/** A full collection, so each memory pass starts from the same floor. */
const collect: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

export function indexesNeeded(b: Pick<Benchmark, 'warmup' | 'iterations' | 'rounds'>): number {
  // warm-up + timed rounds + the memory pass, per side.
  return b.warmup + b.iterations * b.rounds + b.iterations;
}

async function runOps(op: Operation, start: number, count: number, concurrency: number, sample?: () => void): Promise<void> {
  let next = start;
  const end = start + count;
  const worker = async (writer: number): Promise<void> => {
    while (next < end) {
      const i = next++;
      await op(i, writer);
      sample?.();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, (_, writer) => worker(writer)));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function memoryPass(op: Operation, start: number, b: Benchmark): Promise<MemoryResult> {
  collect();
  const floor = process.memoryUsage();
  let peakHeap = floor.heapUsed;
  let peakRss = floor.rss;
  const sample = (): void => {
    const m = process.memoryUsage();
    if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
    if (m.rss > peakRss) peakRss = m.rss;
  };
  await runOps(op, start, b.iterations, b.concurrency, sample);
  sample();
  return { peakHeapGrowth: peakHeap - floor.heapUsed, peakRss };
}

export async function measure(b: Benchmark, log: (line: string) => void = () => undefined): Promise<BenchmarkResult> {
  // Each side gets its own range of indexes, so unique inputs (jti, idempotency keys) never collide.
  const offset = { admit: 0, base: indexesNeeded(b) };
  const cursor = { admit: 0, base: 0 };
  const take = (side: 'admit' | 'base', count: number): number => {
    const start = offset[side] + cursor[side];
    cursor[side] += count;
    return start;
  };
  const ops = { admit: b.admit, base: b.base };

  await b.beforeRound?.();
  for (const side of ['base', 'admit'] as const) await runOps(ops[side], take(side, b.warmup), b.warmup, b.concurrency);

  const times: Record<'admit' | 'base', number[]> = { admit: [], base: [] };
  for (let round = 0; round < b.rounds; round++) {
    const order = round % 2 === 0 ? (['base', 'admit'] as const) : (['admit', 'base'] as const);
    for (const side of order) {
      await b.beforeRound?.();
      const start = take(side, b.iterations);
      const t0 = performance.now();
      await runOps(ops[side], start, b.iterations, b.concurrency);
      times[side].push(performance.now() - t0);
    }
  }

  const memory: Partial<Record<'admit' | 'base', MemoryResult>> = {};
  for (const side of ['base', 'admit'] as const) {
    await b.beforeRound?.();
    memory[side] = await memoryPass(ops[side], take(side, b.iterations), b);
  }

  const side = (s: 'admit' | 'base'): SideResult => {
    const perSec = times[s].map((ms) => (b.iterations / ms) * 1000);
    return {
      opsPerSec: median(perSec),
      roundsOpsPerSec: perSec,
      meanLatencyUs: (median(times[s]) * 1000 * Math.min(b.concurrency, b.iterations)) / b.iterations,
      memory: memory[s]!,
    };
  };
  const admit = side('admit');
  const base = side('base');
  const ratios = admit.roundsOpsPerSec.map((a, round) => a / base.roundsOpsPerSec[round]!);
  const result: BenchmarkResult = {
    name: b.name,
    baseline: b.baseline,
    concurrency: b.concurrency,
    iterations: b.iterations,
    rounds: b.rounds,
    admit,
    base,
    ratio: median(ratios),
    ratioRange: [Math.min(...ratios), Math.max(...ratios)],
    heapRatio: admit.memory.peakHeapGrowth / Math.max(1, base.memory.peakHeapGrowth),
    rssRatio: admit.memory.peakRss / base.memory.peakRss,
  };
  log(`${b.name}: ${fmt(admit.opsPerSec)} vs ${fmt(base.opsPerSec)} ops/s (×${result.ratio.toFixed(3)})`);
  return result;
}

export function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1);
}
