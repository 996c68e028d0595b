/**
 * The bare shape of a LOW admission (bench/admission-shape.json): what Temporal is asked to do, in
 * order, derived from a recorded history by bench/admission-shape.ts. Types only, so the bare
 * workflow (bench/bare/workflows.ts) can import them inside Temporal's sandbox.
 */
export type BareStep =
  /** Activities scheduled by one workflow task (in parallel when more than one). */
  | { kind: 'activities'; types: string[] }
  /** Local activities recorded by one workflow task. */
  | { kind: 'localActivities'; types: string[] }
  /** A timer that fired. */
  | { kind: 'sleep'; ms: number }
  /** An Update is accepted; `deadlineMs` when a timer (cancelled by it) bounded the wait. */
  | { kind: 'update'; name: string; deadlineMs?: number }
  /** A signal is received; `deadlineMs` as for an Update. */
  | { kind: 'signal'; name: string; deadlineMs?: number };

export interface AdmissionShapeCounts {
  /** Activity tasks scheduled, and by type. */
  activities: number;
  activitiesByType: Record<string, number>;
  /** Local activities (core_local_activity markers), and by type. */
  localActivities: number;
  localActivitiesByType: Record<string, number>;
  updatesAccepted: number;
  updatesByName: Record<string, number>;
  signals: number;
  timersStarted: number;
  timersFired: number;
  timersCancelled: number;
  workflowTasks: number;
  /** Not part of the bare shape, reported for context: search-attribute upserts, patch markers, history events. */
  searchAttributeUpserts: number;
  patchMarkers: number;
  events: number;
}

export interface AdmissionShape {
  note: string;
  recordedAt: string;
  commit: string;
  /** Where the recorded admission was cut: what came after ADMITTED and is not part of the shape. */
  cut: string;
  counts: AdmissionShapeCounts;
  steps: BareStep[];
}
