// Summarises the CPU profiles `npm run bench:admission -- --profile DIR` writes (V8's --cpu-prof, one
// file per process, written when it exits): only the samples inside one batch's window, per
// process, by module (self time) and by feature (samples whose stack passes through it).
//   tsx bench/profile-summary.ts DIR [--side admit|bare] [--concurrency 32] [--round 1]
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}
interface BatchWindow {
  side: string;
  round: number;
  concurrency: number;
  admissions: number;
  pids: { worker: number; web?: number };
  monotonicUs: { start: number; end: number };
}

/** Features a sample is counted under when any frame of its stack matches. */
const FEATURES: [string, (url: string, fn: string) => boolean][] = [
  ['payload codec (temporal/codec.ts)', (u) => u.includes('/temporal/codec.ts')],
  ['Prisma client', (u) => u.includes('/@prisma/') || u.includes('/generated/')],
  ['pg driver', (u) => u.includes('/node_modules/pg')],
  ['audit append (registry/audit.ts)', (u) => u.includes('/registry/audit.ts')],
  ['mail: render (activities/mail-render.ts)', (u) => u.includes('/activities/mail-render.ts')],
  ['mail: nodemailer', (u) => u.includes('/nodemailer/')],
  ['OpenTelemetry', (u) => u.includes('opentelemetry')],
  ['workflow code (the sandbox)', (u) => u.includes('/workflows/') || u.includes('@temporalio/workflow') || u.includes('workflow-bundle')],
  ['search attributes', (u, f) => u.includes('search-attributes') || /searchattribute/i.test(f)],
  ['Temporal worker (JS)', (u) => u.includes('@temporalio/worker')],
  ['Temporal common (converters)', (u) => u.includes('@temporalio/common')],
  ['protobufjs', (u) => u.includes('protobufjs') || u.includes('@temporalio/proto')],
  ['trust anchors (anchors/)', (u) => /\/anchors\//.test(u) && !u.includes('node_modules')],
  ['jose', (u) => u.includes('/jose/')],
  ['Fastify', (u) => u.includes('/fastify/') || u.includes('/@fastify/')],
  ['zod', (u) => u.includes('/zod/')],
  ['tsx / esbuild', (u) => u.includes('/tsx/') || u.includes('esbuild')],
  ['garbage collector', (_u, f) => f === '(garbage collector)'],
];

function moduleOf(url: string, fn: string, root: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return 'node: internals';
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = file.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') === true ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? file);
  }
  return path.relative(root, file);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      side: { type: 'string', default: 'admit' },
      concurrency: { type: 'string', default: '32' },
      round: { type: 'string', default: '1' },
      results: { type: 'string', default: fileURLToPath(new URL('./results/admission-latest.json', import.meta.url)) },
      top: { type: 'string', default: '15' },
    },
  });
  const dir = positionals[0];
  if (dir === undefined) throw new Error('usage: tsx bench/profile-summary.ts DIR [--side admit|bare] [--concurrency 32] [--round 1]');
  const root = fileURLToPath(new URL('..', import.meta.url));
  const results = JSON.parse(await readFile(values.results, 'utf8')) as { batches: BatchWindow[] };
  const batch = results.batches.find(
    (b) => b.side === values.side && b.concurrency === Number(values.concurrency) && b.round === Number(values.round),
  );
  if (batch === undefined) throw new Error(`no ${values.side} batch at concurrency ${values.concurrency} in round ${values.round}`);
  const { start, end } = batch.monotonicUs;
  const names = new Map<number, string>([[batch.pids.worker, 'worker']]);
  if (batch.pids.web !== undefined) names.set(batch.pids.web, 'web');
  const sub = path.join(dir, values.side === 'admit' ? 'admit' : 'bare-worker');
  for (const file of (await readdir(sub)).filter((f) => f.endsWith('.cpuprofile'))) {
    // CPU.<date>.<time>.<pid>.<thread>.<sequence>.cpuprofile; thread 0 is the main thread (a worker's workflows run in a worker thread).
    const [, , , pidText, thread] = file.split('.');
    const pid = Number(pidText);
    const process = names.get(pid);
    if (process === undefined) continue;
    const name = thread === '0' ? process : `${process}, thread ${thread ?? '?'}`;
    const profile = JSON.parse(await readFile(path.join(sub, file), 'utf8')) as Profile;
    if (profile.endTime < start || profile.startTime > end) throw new Error(`${file} does not cover the batch's window`);
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const self = new Map<string, number>();
    const feature = new Map<string, number>();
    let t = profile.startTime;
    let busy = 0;
    let idle = 0;
    for (let i = 0; i < profile.samples.length; i += 1) {
      const delta = profile.timeDeltas[i] ?? 0;
      t += delta;
      if (t < start || t > end) continue;
      const leaf = byId.get(profile.samples[i] as number) as ProfileNode;
      const fn = leaf.callFrame.functionName;
      if (fn === '(idle)') {
        idle += delta;
        continue;
      }
      busy += delta;
      const m = moduleOf(leaf.callFrame.url, fn, root);
      self.set(m, (self.get(m) ?? 0) + delta);
      const hit = new Set<string>();
      for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
        const frame = (byId.get(id) as ProfileNode).callFrame;
        for (const [label, test] of FEATURES) if (!hit.has(label) && test(frame.url, frame.functionName)) hit.add(label);
      }
      for (const label of hit) feature.set(label, (feature.get(label) ?? 0) + delta);
    }
    const perAdmission = (us: number) => `${(us / 1000 / batch.admissions).toFixed(1)} ms`;
    const share = (us: number) => `${((100 * us) / busy).toFixed(1)}%`;
    console.log(
      `\n${values.side} ${name} (pid ${pid}), batch at concurrency ${batch.concurrency}, round ${batch.round}: ${perAdmission(busy)} of JS-thread CPU per admission sampled (idle ${perAdmission(idle)})`,
    );
    console.log('| feature (inclusive) | per admission | share |\n| --- | ---: | ---: |');
    for (const [label, us] of [...feature].sort((a, b) => b[1] - a[1])) console.log(`| ${label} | ${perAdmission(us)} | ${share(us)} |`);
    console.log('| module (self time) | per admission | share |\n| --- | ---: | ---: |');
    for (const [m, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top)))
      console.log(`| ${m} | ${perAdmission(us)} | ${share(us)} |`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
