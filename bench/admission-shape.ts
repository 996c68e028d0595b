// The bare shape of a LOW admission (issue 13, item 2), derived once from a recorded history and
// committed as bench/admission-shape.json. `tsx bench/admission-shape.ts --record` runs one LOW
// admission over HTTP on the chaos stack (test/chaos/stack.ts), fetches its workflow history and
// writes the file; without `--record` it records again and only compares with the committed shape
// (exit 1 when they differ). The shape changes only with a note in docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { temporal } from '@temporalio/proto';
import { format, resolveConfig } from 'prettier';
import { workflowIdFor } from '../domain/identity';
import { Mailbox } from '../test/chaos/mailbox';
import { admitPartner } from '../test/chaos/partner';
import { startChaosStack, type ChaosStack } from '../test/chaos/stack';
import type { AdmissionShape, AdmissionShapeCounts, BareStep } from './bare/shape';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export const SHAPE_FILE = fileURLToPath(new URL('./admission-shape.json', import.meta.url));

const durationMs = (d: temporal.api.history.v1.ITimerStartedEventAttributes['startToFireTimeout']): number =>
  Number(String(d?.seconds ?? 0)) * 1000 + Math.round((d?.nanos ?? 0) / 1e6);

function stageOf(event: HistoryEvent): string | undefined {
  const field = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.AdmitStage;
  if (field?.data === undefined || field.data === null) return undefined;
  return JSON.parse(Buffer.from(field.data).toString('utf8')) as string;
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/**
 * What a LOW admission asks of Temporal, from its history: everything up to the workflow's wait in
 * monitoring, i.e. the first timer started after the ADMITTED search attribute that neither fired nor
 * was cancelled. That timer is not part of the shape: the bare workflow completes instead.
 */
export function deriveShape(events: HistoryEvent[]): { cut: string; counts: AdmissionShapeCounts; steps: BareStep[] } {
  const admittedAt = events.findIndex((e) => stageOf(e) === 'ADMITTED');
  if (admittedAt < 0) throw new Error('the history has no ADMITTED search attribute: the admission did not finish');
  const timerOutcome = new Map<string, 'fired' | 'cancelled'>();
  for (const e of events) {
    if (e.timerFiredEventAttributes?.timerId) timerOutcome.set(e.timerFiredEventAttributes.timerId, 'fired');
    if (e.timerCanceledEventAttributes?.timerId) timerOutcome.set(e.timerCanceledEventAttributes.timerId, 'cancelled');
  }
  const cutAt = events.findIndex(
    (e, i) => i > admittedAt && e.timerStartedEventAttributes && !timerOutcome.has(e.timerStartedEventAttributes.timerId ?? ''),
  );
  if (cutAt < 0) throw new Error('the lifecycle has not yet started waiting in monitoring after ADMITTED');
  const kept = events.slice(0, cutAt);

  const counts: AdmissionShapeCounts = {
    activities: 0,
    activitiesByType: {},
    localActivities: 0,
    localActivitiesByType: {},
    updatesAccepted: 0,
    updatesByName: {},
    signals: 0,
    timersStarted: 0,
    timersFired: 0,
    timersCancelled: 0,
    workflowTasks: 0,
    searchAttributeUpserts: 0,
    patchMarkers: 0,
    events: kept.length,
  };
  const steps: BareStep[] = [];
  let task = 0;
  let lastGroupTask = -1;
  // A timer cancelled by the next message it waited for: that message's wait gets it as a deadline.
  let pendingDeadline: { ms: number; timerId: string } | undefined;
  const push = (step: BareStep) => {
    if (pendingDeadline !== undefined && step.kind !== 'update' && step.kind !== 'signal')
      throw new Error(
        `timer ${pendingDeadline.timerId} was cancelled, but not by the message that came next: a shape the bare workflow cannot follow`,
      );
    if (pendingDeadline !== undefined && (step.kind === 'update' || step.kind === 'signal')) {
      step.deadlineMs = pendingDeadline.ms;
      pendingDeadline = undefined;
    }
    steps.push(step);
  };
  for (const e of kept) {
    if (e.workflowTaskCompletedEventAttributes) {
      counts.workflowTasks += 1;
      task += 1;
    } else if (e.activityTaskScheduledEventAttributes) {
      const type = e.activityTaskScheduledEventAttributes.activityType?.name ?? '?';
      counts.activities += 1;
      bump(counts.activitiesByType, type);
      const last = steps.at(-1);
      if (last?.kind === 'activities' && lastGroupTask === task) last.types.push(type);
      else push({ kind: 'activities', types: [type] });
      lastGroupTask = task;
    } else if (e.markerRecordedEventAttributes) {
      const marker = e.markerRecordedEventAttributes;
      if (marker.markerName === 'core_patch') counts.patchMarkers += 1;
      else if (marker.markerName === 'core_local_activity') {
        const data = marker.details?.data?.payloads?.[0]?.data;
        const type = data ? ((JSON.parse(Buffer.from(data).toString('utf8')) as { activityType?: string }).activityType ?? '?') : '?';
        counts.localActivities += 1;
        bump(counts.localActivitiesByType, type);
        const last = steps.at(-1);
        if (last?.kind === 'localActivities' && lastGroupTask === task) last.types.push(type);
        else push({ kind: 'localActivities', types: [type] });
        lastGroupTask = task;
      }
    } else if (e.timerStartedEventAttributes) {
      const timer = e.timerStartedEventAttributes;
      counts.timersStarted += 1;
      const ms = durationMs(timer.startToFireTimeout);
      if (timerOutcome.get(timer.timerId ?? '') === 'fired') {
        counts.timersFired += 1;
        push({ kind: 'sleep', ms });
      } else {
        counts.timersCancelled += 1;
        if (pendingDeadline !== undefined)
          throw new Error('two deadline timers without a message between them: a shape the bare workflow cannot follow');
        pendingDeadline = { ms, timerId: timer.timerId ?? '?' };
      }
    } else if (e.workflowExecutionUpdateAcceptedEventAttributes) {
      const name = e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest?.input?.name ?? '?';
      counts.updatesAccepted += 1;
      bump(counts.updatesByName, name);
      push({ kind: 'update', name });
    } else if (e.workflowExecutionSignaledEventAttributes) {
      counts.signals += 1;
      push({ kind: 'signal', name: e.workflowExecutionSignaledEventAttributes.signalName ?? '?' });
    } else if (e.upsertWorkflowSearchAttributesEventAttributes) {
      counts.searchAttributeUpserts += 1;
    }
  }
  if (pendingDeadline !== undefined) throw new Error(`timer ${pendingDeadline.timerId} was cancelled with no message after it`);
  const cut = `history events 1–${cutAt} of ${events.length}: up to the lifecycle's first wait in monitoring after ADMITTED (its timer is not counted; the bare workflow completes there)`;
  return { cut, counts, steps };
}

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
