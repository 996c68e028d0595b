// One load-generator process of the decisions benchmark (bench/decisions.ts): autocannon with N
// keep-alive connections, cycling through the given request bodies for a fixed time. Latencies are
// kept at 10 µs resolution (autocannon's own histogram keeps whole milliseconds), so the parent can
// merge several generators exactly. Reads its job as JSON on stdin; writes one JSON line to stdout.
import autocannon from 'autocannon';
import { BUCKET_MS, type LoadJob, type LoadResult } from './decisions-load-job';

let input = '';
for await (const chunk of process.stdin) input += String(chunk);
const job = JSON.parse(input) as LoadJob;
const counts = new Map<number, number>();
let ok = 0;
let failed = 0;
const cpuBefore = process.cpuUsage();
const instance = autocannon(
  {
    url: job.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...job.headers },
    requests: job.bodies.map((body) => ({ body })),
    connections: job.connections,
    duration: job.seconds,
    pipelining: 1,
    timeout: 10,
  },
  () => undefined,
);
instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
  if (statusCode !== 200) {
    failed += 1;
    return;
  }
  ok += 1;
  const bucket = Math.floor(responseTime / BUCKET_MS);
  counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
});
instance.on('reqError', () => (failed += 1));
instance.on('done', (result: autocannon.Result) => {
  const cpu = process.cpuUsage(cpuBefore);
  const out: LoadResult = {
    ok,
    failed: failed + result.timeouts,
    seconds: result.duration,
    buckets: [...counts.entries()],
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`, () => process.exit(0));
});
