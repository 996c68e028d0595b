import {
  ApplicationFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Signup } from '../domain/signup';
import type { Registry } from '../registry/client';
import { applicationIdFor, workflowIdFor } from '../domain/identity';
import { partnerLifecycle } from '../workflows/partner-lifecycle';
import { noteCompetingSignupUpdate, stateQuery, type LifecycleState, type Stage } from '../workflows/messages';
import { CONTACT_ROLES } from '../domain/contacts';
import { REGISTRY_CONTACT_ROLE } from '../registry/contact-roles';

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
 * Whether this application id's last claim released it: the record says the
 * claim ended before admission (rejected or expired). Then how many claims it
 * has had; null when it is held (open, or admitted once), undefined when no
 * claim was ever registered.
 */
async function releasedClaims(registry: Registry, applicationId: string): Promise<number | null | undefined> {
  const record = await registry.application.findUnique({ where: { id: applicationId }, select: { status: true, admittedAt: true } });
  if (record === null) return undefined;
  if (record.admittedAt !== null || (record.status !== 'REJECTED' && record.status !== 'EXPIRED')) return null;
  return registry.auditEvent.count({ where: { applicationId, type: 'application.registered' } });
}

/**
 * A signup that joined a claim it does not match (another requester, other contacts, another
 * domain) competes with it: the claim records it, shows it to approvers and tells
 * its people. The same signup sent again changes nothing.
 */
async function noteIfCompeting(registry: Registry, handle: WorkflowHandle, applicationId: string, signup: Signup, at: Date): Promise<void> {
  const record = await registry.application.findUnique({ where: { id: applicationId }, include: { contacts: true, organisation: true } });
  if (record === null) return;
  const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();
  const contactsMatch = CONTACT_ROLES.every((role) => {
    const held = record.contacts.find((c) => c.role === REGISTRY_CONTACT_ROLE[role]);
    return held !== undefined && same(held.email, signup.contacts[role].email);
  });
  // The legal name is not compared: once verified, the record holds GLEIF's spelling, not the signup's.
  const organisationMatches = same(record.organisation.primaryDomain, signup.organisation.primaryDomain);
  if (same(record.requestedBy, signup.requestedBy) && contactsMatch && organisationMatches) return;
  try {
    await handle.executeUpdate(noteCompetingSignupUpdate, {
      args: [{ at: at.toISOString(), requestedBy: signup.requestedBy, organisation: signup.organisation, contacts: signup.contacts }],
    });
  } catch (error) {
    // A claim that has just closed or is still registering records nothing; the signup itself was accepted.
    if (!(error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError)) throw error;
  }
}

/** How long a signup waits for a released claim's lifecycle to finish closing (its last mail) before it claims again. */
const CLOSING_WAIT_MS = 15_000;

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
  let joined;
  try {
    joined = await start(undefined);
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    const released = await releasedClaims(registry, applicationId);
    // A closed run that never registered anything (a start Admit did not seal) claimed nothing.
    if (released === null) throw new AdmissionClosedError(applicationId);
    await start((released ?? 0) + 1);
    return { applicationId, workflowId };
  }
  // Joined a lifecycle whose claim has just ended unverified and is still closing: once it has
  // closed, this signup makes the next claim.
  const released = await releasedClaims(registry, applicationId);
  if (released === null) await noteIfCompeting(registry, joined, applicationId, signup, submittedAt);
  if (typeof released === 'number') {
    await Promise.race([joined.result().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, CLOSING_WAIT_MS))]);
    try {
      await start(released + 1);
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      throw new AdmissionClosedError(applicationId);
    }
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
