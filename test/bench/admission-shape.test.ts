import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { AdmissionShape } from '../../bench/bare/shape';
import { deriveShape, type HistoryEvent } from '../../bench/shape-derive';

const stage = (name: string): HistoryEvent => ({
  upsertWorkflowSearchAttributesEventAttributes: { searchAttributes: { indexedFields: { AdmitStage: { data: Buffer.from(JSON.stringify(name)) } } } },
});
const task: HistoryEvent = { workflowTaskCompletedEventAttributes: {} };
const activity = (name: string): HistoryEvent => ({ activityTaskScheduledEventAttributes: { activityType: { name } } });
type Duration = NonNullable<NonNullable<HistoryEvent['timerStartedEventAttributes']>['startToFireTimeout']>;
// Protobuf's seconds are a Long; the derivation reads them through String(), as it does a real Long.
const timer = (timerId: string, ms: number): HistoryEvent => ({
  timerStartedEventAttributes: { timerId, startToFireTimeout: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 } as unknown as Duration },
});

describe('the bare shape of an admission (bench/shape-derive.ts)', () => {
  it('follows a history in order, up to the first wait in monitoring after ADMITTED', () => {
    const history: HistoryEvent[] = [
      task,
      activity('register'),
      task,
      timer('1', 1),
      { timerFiredEventAttributes: { timerId: '1' } },
      task,
      activity('mailA'),
      activity('mailB'),
      task,
      timer('2', 172_800_000),
      task,
      { workflowExecutionUpdateAcceptedEventAttributes: { acceptedRequest: { input: { name: 'confirmContact' } } } },
      { timerCanceledEventAttributes: { timerId: '2' } },
      activity('recordContactConfirmation'),
      task,
      stage('ADMITTED'),
      activity('recordAudit'),
      task,
      timer('3', 86_400_000),
    ];
    const { counts, steps } = deriveShape(history);
    expect(steps).toEqual([
      { kind: 'activities', types: ['register'] },
      { kind: 'sleep', ms: 1 },
      { kind: 'activities', types: ['mailA', 'mailB'] },
      { kind: 'update', name: 'confirmContact', deadlineMs: 172_800_000 },
      { kind: 'activities', types: ['recordContactConfirmation'] },
      { kind: 'activities', types: ['recordAudit'] },
    ]);
    expect(counts).toMatchObject({
      activities: 5,
      updatesAccepted: 1,
      timersStarted: 2,
      timersFired: 1,
      timersCancelled: 1,
      workflowTasks: 7,
      signals: 0,
    });
  });

  it('refuses a history whose admission has not finished', () => {
    expect(() => deriveShape([task, activity('register')])).toThrow(/ADMITTED/);
  });

  it('is committed with counts that match its steps', async () => {
    const shape = JSON.parse(await readFile(new URL('../../bench/admission-shape.json', import.meta.url), 'utf8')) as AdmissionShape;
    const activities = shape.steps.flatMap((s) => (s.kind === 'activities' ? s.types : []));
    expect(activities.length).toBe(shape.counts.activities);
    expect(shape.steps.filter((s) => s.kind === 'update').length).toBe(shape.counts.updatesAccepted);
    expect(shape.steps.filter((s) => s.kind === 'sleep').length).toBe(shape.counts.timersFired);
    expect(shape.steps.filter((s) => (s.kind === 'update' || s.kind === 'signal') && s.deadlineMs !== undefined).length).toBe(
      shape.counts.timersCancelled,
    );
    expect(shape.counts.timersStarted).toBe(shape.counts.timersFired + shape.counts.timersCancelled);
    expect(shape.commit).toMatch(/^[0-9a-f]{40}/);
  });
});
