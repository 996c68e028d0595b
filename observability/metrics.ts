import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Admit's Prometheus metrics (prom-client). One registry per process: the web
 * serves it on `/metrics` of its port, the worker on its small HTTP port
 * (observability/worker-http.ts). The Temporal Runtime's own metrics (task
 * latencies, pollers, sticky cache) are a separate endpoint, the Runtime's
 * Prometheus exporter (ADMIT_TEMPORAL_METRICS_ADDRESS).
 *
 * Workflow code never touches these (it must stay deterministic): lifecycle
 * metrics are counted by the activities that record the workflow's
 * transitions, once per transition actually written (a retried activity whose
 * event already exists counts nothing).
 */
export const metricsRegistry = new Registry();

let processMetrics = false;
/** Node.js process metrics (CPU, memory, event-loop lag, GC), prefixed `admit_`; once per process. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: metricsRegistry, prefix: 'admit_' });
}

const registers = [metricsRegistry];
/** Stage durations run from seconds (a signup registered) to weeks (an approval that waits for a committee). */
const STAGE_BUCKETS = [1, 10, 60, 600, 3600, 6 * 3600, 86_400, 3 * 86_400, 7 * 86_400, 14 * 86_400, 30 * 86_400, 90 * 86_400];

export const admissionsStarted = new Counter({
  name: 'admit_admissions_started_total',
  help: 'Admissions whose signup the registry recorded (the lifecycle left REGISTERING), by risk tier.',
  labelNames: ['tier'] as const,
  registers,
});

export const admissionsEnded = new Counter({
  name: 'admit_admissions_ended_total',
  help: 'Admissions that ended: outcome admitted, rejected or expired (offboarded lifecycles count under admit_lifecycle_transitions_total), by risk tier.',
  labelNames: ['tier', 'outcome'] as const,
  registers,
});

export const lifecycleTransitions = new Counter({
  name: 'admit_lifecycle_transitions_total',
  help: 'Lifecycle stage transitions, by stage left and stage entered.',
  labelNames: ['from', 'to'] as const,
  registers,
});

export const stageDuration = new Histogram({
  name: 'admit_stage_duration_seconds',
  help: 'Time a lifecycle spent in a stage, observed when it left the stage.',
  labelNames: ['stage'] as const,
  buckets: STAGE_BUCKETS,
  registers,
});

export const anchorVerifications = new Counter({
  name: 'admit_anchor_verifications_total',
  help: 'Trust-anchor verifications: phase submission (result verified or refused) or reverification (result healthy, expiring, revoked…).',
  labelNames: ['phase', 'kind', 'result'] as const,
  registers,
});

export const anchorVerificationReasons = new Counter({
  name: 'admit_anchor_verification_reasons_total',
  help: 'Reason codes of refused submissions and unhealthy re-verifications (anchors/reasons.ts), one per code reported.',
  labelNames: ['phase', 'reason'] as const,
  registers,
});

export const decisions = new Counter({
  name: 'admit_decisions_total',
  help: 'Authorization decisions answered on POST /decisions, by outcome (allow or deny) and the first reason code.',
  labelNames: ['outcome', 'reason'] as const,
  registers,
});

export const revocations = new Counter({
  name: 'admit_revocations_total',
  help: 'Client credentials revoked when a lifecycle closed, by what closed it.',
  labelNames: ['trigger'] as const,
  registers,
});

export const revocationToDeny = new Histogram({
  name: 'admit_revocation_to_deny_seconds',
  help: 'From a credential’s revocation to the first decision this web process denied for it.',
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
  registers,
});

export const mailSent = new Counter({ name: 'admit_mail_sent_total', help: 'Messages handed to the SMTP relay.', registers });

export const mailFailures = new Counter({
  name: 'admit_mail_failures_total',
  help: 'Messages the SMTP relay refused or could not be reached for (the activity retries them).',
  labelNames: ['kind'] as const,
  registers,
});

/** Set by the worker's collector (observability/lifecycle-gauges.ts) on each scrape, from the registry. */
export const pendingLifecycles = new Gauge({
  name: 'admit_lifecycles_pending',
  help: 'Admissions waiting in each stage (registry, at scrape time).',
  labelNames: ['stage'] as const,
  registers,
});

export const oldestStageAge = new Gauge({
  name: 'admit_lifecycle_stage_oldest_age_seconds',
  help: 'How long the admission waiting longest in each stage has been there (registry, at scrape time).',
  labelNames: ['stage'] as const,
  registers,
});

export const stageDeadline = new Gauge({
  name: 'admit_lifecycle_stage_deadline_seconds',
  help: 'The configured deadline of each waiting stage (ADMIT_CONTACT_EXPIRY, ADMIT_ANCHOR_SUBMISSION, ADMIT_APPROVAL_EXPIRY…).',
  labelNames: ['stage'] as const,
  registers,
});

export const anchorsExpiringSoonest = new Gauge({
  name: 'admit_trust_anchor_soonest_expiry_seconds',
  help: 'Seconds until the first active trust anchor expires (negative: one has expired); absent when no anchor expires.',
  registers,
});

export const anchorsExpired = new Gauge({
  name: 'admit_trust_anchors_expired',
  help: 'Active trust anchors past their notAfter.',
  registers,
});

export const anchorExpiryNotice = new Gauge({
  name: 'admit_trust_anchor_expiry_notice_seconds',
  help: 'How long before an anchor expires its partner is warned (ADMIT_ANCHOR_EXPIRY_NOTICE).',
  registers,
});

export const httpRequestDuration = new Histogram({
  name: 'admit_http_request_duration_seconds',
  help: 'HTTP requests the web answered, by method, route pattern and status code.',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers,
});
