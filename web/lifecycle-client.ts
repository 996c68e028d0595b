import {
  ApplicationFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Signup } from '../domain/signup';
import type { Registry } from '../registry/client';
import { applicationIdFor, workflowIdFor } from '../domain/identity';
import { partnerLifecycle } from '../workflows/partner-lifecycle';
import { stateQuery, type LifecycleState, type Stage } from '../workflows/messages';

/**
 * The HTTP service's conversation with the partner-lifecycle workflow: start
 * it, ask for its state, send it updates. Rules live in the workflow; this
 * only translates its answers into something the pages can show.
 */
const WORKFLOW_ID_PREFIX = workflowIdFor('');

export type ApplicationState = LifecycleState & { status: string };

export class AdmissionClosedError extends Error {
  override name = 'AdmissionClosedError';
  constructor(readonly applicationId: string) {
    super(`The admission of ${applicationId} has ended; its record stays for audit. Contact your partner manager to re-admit it.`);
  }
}

/**
 * How many claims of this application id ended unverified (rejected or expired, never admitted),
 * or null when its record says it may not be claimed again (admitted once, or still open).
 */
async function releasedClaims(registry: Registry, applicationId: string): Promise<number | null> {
  const record = await registry.application.findUnique({ where: { id: applicationId }, select: { status: true, admittedAt: true } });
  // A closed run that never registered anything (a start Admit did not seal) claimed nothing.
  if (record === null) return 0;
  if (record.admittedAt !== null || (record.status !== 'REJECTED' && record.status !== 'EXPIRED')) return null;
  return registry.auditEvent.count({ where: { applicationId, type: 'application.registered' } });
}

export async function startAdmission(
  temporal: Client,
  taskQueue: string,
  signup: Signup,
  submittedAt: Date,
  registry: Registry,
): Promise<{ applicationId: string; workflowId: string }> {
  const applicationId = applicationIdFor(signup.organisation.lei, signup.application.name, signup.application.environment);
  const workflowId = workflowIdFor(applicationId);
  const start = (claim: number | undefined) =>
    temporal.workflow.start(partnerLifecycle, {
      taskQueue,
      workflowId,
      args: [{ applicationId, signup, submittedAt: submittedAt.toISOString(), ...(claim === undefined ? {} : { claim }) }],
      // A repeated signup joins the running lifecycle instead of starting another.
      workflowIdConflictPolicy: 'USE_EXISTING',
      // A closed lifecycle is not silently restarted, except a claim that ended unverified: it released the id.
      workflowIdReusePolicy: claim === undefined ? 'REJECT_DUPLICATE' : 'ALLOW_DUPLICATE',
    });
  try {
    await start(undefined);
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    const released = await releasedClaims(registry, applicationId);
    if (released === null) throw new AdmissionClosedError(applicationId);
    await start(released + 1);
  }
  return { applicationId, workflowId };
}

/** The workflow exists but no worker answered its state query (a restart, an outage): try again shortly. */
export class StateUnavailableError extends Error {
  override name = 'StateUnavailableError';
  readonly statusCode = 503;
  constructor(readonly status: string) {
    super('No worker answered just now; the application’s state will show again shortly. Nothing was changed.');
  }
}

/** The workflow's status and state; null when there is no such workflow. */
export async function readState(temporal: Client, applicationId: string): Promise<ApplicationState | null> {
  const handle = temporal.workflow.getHandle(workflowIdFor(applicationId));
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
  try {
    return { ...(await handle.query(stateQuery)), status };
  } catch {
    // Queries need a worker; a restart or an outage must not look like a missing application.
    throw new StateUnavailableError(status);
  }
}

export type UpdateOutcome<T> = { ok: true; result: T } | { ok: false; code: string; message: string };

/** Sends an update; a refusal by the workflow comes back as its stable code and its message for people. */
export async function sendUpdate<Ret, Args extends unknown[]>(
  temporal: Client,
  applicationId: string,
  update: UpdateDefinition<Ret, Args>,
  args: Args,
): Promise<UpdateOutcome<Ret>> {
  const handle = temporal.workflow.getHandle(workflowIdFor(applicationId));
  try {
    const result = await (handle.executeUpdate as (def: UpdateDefinition<Ret, Args>, options: { args: Args }) => Promise<Ret>)(update, { args });
    return { ok: true, result };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      return { ok: false, code: error.cause.type ?? 'REFUSED', message: error.cause.message };
    }
    if (error instanceof WorkflowNotFoundError) {
      return { ok: false, code: 'NOT_RUNNING', message: 'This application’s admission is not running any more, so it cannot take this action.' };
    }
    throw error;
  }
}

/** Running lifecycles on this task queue in the given stages, newest first (Temporal visibility). */
export async function listApplicationIds(temporal: Client, taskQueue: string, stages: readonly Stage[], limit = 100): Promise<string[]> {
  const stageList = stages.map((stage) => JSON.stringify(stage)).join(', ');
  const query = `ExecutionStatus = "Running" AND TaskQueue = ${JSON.stringify(taskQueue)} AND AdmitStage IN (${stageList})`;
  const ids: string[] = [];
  for await (const execution of temporal.workflow.list({ query, pageSize: limit })) {
    if (execution.workflowId.startsWith(WORKFLOW_ID_PREFIX)) ids.push(execution.workflowId.slice(WORKFLOW_ID_PREFIX.length));
    if (ids.length >= limit) break;
  }
  return ids;
}
