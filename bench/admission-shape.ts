// The bare shape of a LOW admission (issue 13, item 2), derived once from a recorded history and
// committed as bench/admission-shape.json. `tsx bench/admission-shape.ts --record` runs one LOW
// admission over HTTP on the chaos stack (test/chaos/stack.ts), fetches its workflow history and
// writes the file; without `--record` it records again and only compares with the committed shape
// (exit 1 when they differ). The shape changes only with a note in docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { workflowIdFor } from '../domain/identity';
import { Mailbox } from '../test/chaos/mailbox';
import { admitPartner } from '../test/chaos/partner';
import { startChaosStack, type ChaosStack } from '../test/chaos/stack';
import type { AdmissionShape, BareStep } from './bare/shape';
import { deriveShape, type HistoryEvent } from './shape-derive';

export const SHAPE_FILE = fileURLToPath(new URL('./admission-shape.json', import.meta.url));

/** One LOW admission over HTTP, as a partner and its contacts do it; its history once the lifecycle waits in monitoring. */
export async function recordAdmission(stack: ChaosStack, index = 1): Promise<HistoryEvent[]> {
  const mailbox = new Mailbox(stack.mailDir);
  const run = await admitPartner({ webUrl: stack.webUrl, registry: stack.registry, mailbox, index });
  if (run.error !== undefined) throw new Error(`the recorded admission failed: ${run.error}`);
  const handle = stack.temporal.workflow.getHandle(workflowIdFor(run.applicationId));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const events = (await handle.fetchHistory()).events ?? [];
    try {
      deriveShape(events);
      return events;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function loadShape(file = SHAPE_FILE): Promise<AdmissionShape> {
  return JSON.parse(await readFile(file, 'utf8')) as AdmissionShape;
}

function commitOf(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' }).trim();
  const head = git('rev-parse', 'HEAD');
  return git('status', '--porcelain', '--', 'workflows', 'activities').length > 0 ? `${head} (workflows/ or activities/ modified)` : head;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { record: { type: 'boolean', default: false } } });
  const stack = await startChaosStack({});
  const close = () => void stack.close().finally(() => process.exit(130));
  process.once('SIGINT', close);
  process.once('SIGTERM', close);
  let derived: ReturnType<typeof deriveShape>;
  try {
    derived = deriveShape(await recordAdmission(stack));
  } finally {
    await stack.close();
  }
  const shape: AdmissionShape = {
    note: 'The bare shape of a LOW admission (issue 13): derived by `tsx bench/admission-shape.ts --record`; change it only with a note in docs/benchmarks.md.',
    recordedAt: new Date().toISOString(),
    commit: commitOf(),
    ...derived,
  };
  console.log(JSON.stringify(shape.counts, null, 2));
  if (values.record) {
    // Formatted as `npm run format:check` wants it.
    await writeFile(SHAPE_FILE, await format(JSON.stringify(shape, null, 2), { ...(await resolveConfig(SHAPE_FILE)), filepath: SHAPE_FILE }));
    console.log(`written to ${SHAPE_FILE}`);
    return;
  }
  const committed = await loadShape();
  // Durations move with the clock (a deadline is computed from the stage's start): compare the rest.
  const signature = (steps: BareStep[]) =>
    JSON.stringify(
      steps.map((s) =>
        s.kind === 'activities' || s.kind === 'localActivities'
          ? s
          : { kind: s.kind, name: 'name' in s ? s.name : undefined, deadline: 'deadlineMs' in s },
      ),
    );
  const same = signature(committed.steps) === signature(shape.steps);
  console.log(
    same
      ? `the committed shape (recorded ${committed.recordedAt}) still holds`
      : `the shape has changed since ${committed.recordedAt} (commit ${committed.commit}): record it again with --record and note why in docs/benchmarks.md`,
  );
  if (!same) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  });
}
