// What the scale and admission benchmarks share: reading a process's CPU and memory from /proc, and
// running tasks a few at a time.
import { readFile } from 'node:fs/promises';

const TICKS_PER_SECOND = 100;

/** A process's resident memory and its utime + stime in seconds (proc(5): status VmRSS; stat fields 14 and 15). */
export async function procStat(pid: number): Promise<{ rssBytes: number; cpuSeconds: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  // After the command name, utime and stime are the 12th and 13th fields.
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return { rssBytes: rssKb * 1024, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
}

/** Runs `task` for 0…n-1, `concurrency` at a time; the results in order. */
export async function pool<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        const i = next;
        next += 1;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}
