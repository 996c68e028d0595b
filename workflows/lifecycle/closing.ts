import { condition } from '@temporalio/workflow';
import type { NotificationTemplate } from '../../activities/contract';
import { APPROVER_ROLE, SECURITY_REVIEWER_ROLE } from '../../domain/approval';
import { CONTACT_ROLES } from '../../domain/contacts';
import { registry } from '../activities';
import { UPDATE_REFUSALS, type Actor, type KeyCompromiseInput, type OffboardInput, type OrganisationEvent } from '../messages';
import { abandonApproval } from './approval';
import { nowIso, refuse, type Lifecycle } from './context';
import { notify, syncAuthorizationServer, transition } from './effects';
import type { Termination } from './state';

/** The end of a lifecycle: the messages that ask for it, and the one place that closes. */

function directoryEntry(lc: Lifecycle, actor: Actor) {
  return lc.internal.directory.find((entry) => entry.approverId === actor?.subject);
}

export function validateOffboard(lc: Lifecycle, input: OffboardInput): void {
  if (lc.isRegistering) refuse(UPDATE_REFUSALS.WRONG_STAGE, 'This application is still being registered; try again in a moment.');
  if (lc.isClosed || lc.internal.termination !== null) refuse(UPDATE_REFUSALS.WRONG_STAGE, `This application is already ${lc.state.stage}.`);
  const entry = directoryEntry(lc, input?.by);
  if (entry === undefined || !entry.roles.includes(APPROVER_ROLE)) {
    refuse(UPDATE_REFUSALS.NOT_AUTHORISED, 'Only an approver in the directory can offboard a partner.');
  }
  if (typeof input.reason !== 'string' || input.reason.trim() === '') refuse(UPDATE_REFUSALS.INVALID_INPUT, 'Say why the partner is offboarded.');
}

export async function offboard(lc: Lifecycle, input: OffboardInput): Promise<void> {
  validateOffboard(lc, input);
  await terminate(lc, { stage: 'OFFBOARDED', trigger: 'manual', reason: input.reason.trim(), actor: input.by.subject });
}

export function validateKeyCompromise(lc: Lifecycle, input: KeyCompromiseInput): void {
  if (lc.isRegistering) refuse(UPDATE_REFUSALS.WRONG_STAGE, 'This application is still being registered; try again in a moment.');
  if (lc.isClosed) refuse(UPDATE_REFUSALS.WRONG_STAGE, `This application is already ${lc.state.stage}.`);
  const entry = directoryEntry(lc, input?.reportedBy);
  if (entry === undefined || !(entry.roles.includes(APPROVER_ROLE) || entry.roles.includes(SECURITY_REVIEWER_ROLE))) {
    refuse(UPDATE_REFUSALS.NOT_AUTHORISED, 'Only an approver or security reviewer in the directory can record a key compromise.');
  }
  if (typeof input.detail !== 'string' || input.detail.trim() === '') refuse(UPDATE_REFUSALS.INVALID_INPUT, 'Describe the compromise.');
}

/** Revokes at once: when this update returns, every grant and credential is revoked. */
export async function reportKeyCompromise(lc: Lifecycle, input: KeyCompromiseInput): Promise<void> {
  validateKeyCompromise(lc, input);
  await terminate(lc, { stage: 'OFFBOARDED', trigger: 'key-compromise', reason: input.detail.trim(), actor: input.reportedBy.subject });
}

export function organisationEvent(lc: Lifecycle, event: OrganisationEvent): void {
  if (lc.isClosed || lc.internal.termination !== null) return;
  lc.internal.termination = {
    stage: 'OFFBOARDED',
    trigger: `organisation-${event.kind}`,
    reason: event.reason,
    actor: event.by,
  };
  lc.wake = true;
}

/**
 * Asks the main loop to close the lifecycle and waits until it has: the
 * first trigger wins, and the update answers only once access is revoked.
 * It waits outside the mutex, which the main loop needs to close.
 */
async function terminate(lc: Lifecycle, termination: Termination): Promise<void> {
  lc.internal.termination ??= termination;
  lc.wake = true;
  await condition(() => lc.isClosed);
}

export async function close(lc: Lifecycle, termination: Termination): Promise<void> {
  const at = nowIso();
  await registry.closeApplication({
    applicationId: lc.state.applicationId,
    workflowId: lc.claimKey,
    status: termination.stage,
    trigger: termination.trigger,
    reason: termination.reason,
    actor: termination.actor,
    at,
  });
  await syncAuthorizationServer(lc, { kind: 'remove', at, reason: `${termination.trigger}: ${termination.reason}` });
  abandonApproval(lc);
  lc.state.outcome = { stage: termination.stage, trigger: termination.trigger, reason: termination.reason, at };
  lc.state.suspension = null;
  await transition(lc, termination.stage, `${termination.trigger}: ${termination.reason}`);
  await notify(lc, {
    to: [...CONTACT_ROLES],
    template: closingTemplate(termination),
    data: { trigger: termination.trigger, reason: termination.reason, at },
    key: 'closed',
  });
}

function closingTemplate(termination: Termination): NotificationTemplate {
  if (termination.trigger === 'entity-refused' || termination.trigger === 'domain-not-acceptable') return 'entity-refused';
  if (termination.stage === 'REJECTED') return 'admission-rejected';
  if (termination.stage === 'EXPIRED') return termination.trigger === 'contact-expiry' ? 'contacts-expired' : 'admission-expired';
  return 'offboarded';
}
