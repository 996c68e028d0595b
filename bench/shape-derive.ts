// Derives the bare shape of a LOW admission from its workflow history (bench/admission-shape.ts
// records one). Pure: no services, so a unit test can check it (test/bench/admission-shape.test.ts).
import type { temporal } from '@temporalio/proto';
import type { AdmissionShapeCounts, BareStep } from './bare/shape';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

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
