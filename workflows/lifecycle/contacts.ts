import { condition } from '@temporalio/workflow';
import { CONTACT_ROLES, type ContactRoleKey } from '../../domain/contacts';
import { mail, registry } from '../activities';
import { UPDATE_REFUSALS, type ContactConfirmationInput } from '../messages';
import { enterAnchor } from './anchor';
import { addMs, isDue, nowIso, refuse, type Lifecycle } from './context';
import { refreshWaitingFor, transition, waitUntil } from './effects';
import { unconfirmedRoles } from './state';

/** Stage 2: business, technical and security contacts each confirm by a single-use, expiring, signed link. */

export async function enterContacts(lc: Lifecycle): Promise<void> {
  const deadline = addMs(nowIso(), lc.durations.contactExpiryMs);
  lc.state.contactsDeadline = deadline;
  await transition(lc, 'AWAITING_CONTACTS', 'registry entry written');
  await sendConfirmations(lc, [...CONTACT_ROLES]);
}

async function sendConfirmations(lc: Lifecycle, roles: ContactRoleKey[]): Promise<void> {
  const deadline = lc.state.contactsDeadline ?? nowIso();
  lc.internal.sendingConfirmations = true;
  let sent;
  try {
    sent = await mail.sendContactConfirmations({
      // Links are per claim. For a first claim this is the workflow id, which the activity also
      // falls back to without it: no lifecycle already running sees a different link.
      workflowId: lc.claimKey,
      applicationId: lc.state.applicationId,
      roles,
      round: lc.internal.contactRound,
      expiresAt: deadline,
    });
  } finally {
    lc.internal.sendingConfirmations = false;
  }
  for (const { role, tokenHash } of sent) {
    // A reminder's link replaces the role's earlier ones.
    for (const earlier of lc.internal.confirmations) if (earlier.role === role) earlier.superseded = true;
    lc.internal.confirmations.push({ role, tokenHash, expiresAt: deadline, used: false, superseded: false });
  }
  lc.internal.contactRound += 1;
  const reminder = addMs(nowIso(), lc.durations.contactReminderMs);
  lc.internal.nextReminderAt = reminder < deadline ? reminder : null;
}

export async function awaitContacts(lc: Lifecycle): Promise<void> {
  const deadline = lc.state.contactsDeadline ?? nowIso();
  const until = lc.internal.nextReminderAt ?? deadline;
  await waitUntil(lc, () => unconfirmedRoles(lc.state).length === 0, until);
  await lc.exclusive(() => actOnContacts(lc, deadline));
}

async function actOnContacts(lc: Lifecycle, deadline: string): Promise<void> {
  if (lc.internal.termination !== null || lc.state.stage !== 'AWAITING_CONTACTS') return;
  if (unconfirmedRoles(lc.state).length === 0) return enterAnchor(lc);
  if (isDue(deadline)) {
    lc.internal.termination = {
      stage: 'EXPIRED',
      trigger: 'contact-expiry',
      reason: `not every contact confirmed by ${deadline} (waiting for: ${unconfirmedRoles(lc.state).join(', ')})`,
      actor: 'workflow',
    };
    return;
  }
  if (isDue(lc.internal.nextReminderAt)) {
    await sendConfirmations(lc, unconfirmedRoles(lc.state));
    refreshWaitingFor(lc);
  }
}

export function validateContactConfirmation(lc: Lifecycle, input: ContactConfirmationInput, linksInFlight = lc.internal.sendingConfirmations): void {
  if (lc.isRegistering) refuse(UPDATE_REFUSALS.WRONG_STAGE, 'This application is still being registered; try again in a moment.');
  const issued = lc.internal.confirmations.find((c) => c.tokenHash === input?.tokenHash);
  // A link being mailed right now is checked by the handler once its hash has arrived.
  if (issued === undefined && linksInFlight) return;
  if (issued === undefined || issued.role !== input.role) {
    refuse(UPDATE_REFUSALS.CONFIRMATION_INVALID, 'This confirmation link is not valid for this application.');
  }
  if (issued.used || lc.state.contacts[issued.role].confirmedAt !== null) {
    refuse(UPDATE_REFUSALS.CONFIRMATION_USED, `The ${issued.role} contact has already confirmed; this link cannot be used again.`);
  }
  if (issued.superseded) {
    refuse(UPDATE_REFUSALS.CONFIRMATION_EXPIRED, 'A newer confirmation link was sent to you; use the link in the latest email.');
  }
  if (lc.state.stage !== 'AWAITING_CONTACTS') {
    refuse(UPDATE_REFUSALS.CONFIRMATION_EXPIRED, 'Contact confirmation for this application has closed.');
  }
  if (Date.now() >= Date.parse(issued.expiresAt)) {
    refuse(UPDATE_REFUSALS.CONFIRMATION_EXPIRED, `This link expired at ${issued.expiresAt}.`);
  }
}

export async function confirmContact(lc: Lifecycle, input: ContactConfirmationInput): Promise<{ role: ContactRoleKey; allConfirmed: boolean }> {
  // Under the mutex no link is being mailed while this runs; before it, wait for the mail to finish.
  if (!lc.serialised) await condition(() => !lc.internal.sendingConfirmations);
  validateContactConfirmation(lc, input, false);
  const issued = lc.internal.confirmations.find((c) => c.tokenHash === input.tokenHash);
  if (issued === undefined) refuse(UPDATE_REFUSALS.CONFIRMATION_INVALID, 'Unknown confirmation link.');
  issued.used = true;
  const confirmedAt = nowIso();
  lc.state.contacts[issued.role].confirmedAt = confirmedAt;
  await registry.recordContactConfirmation({
    applicationId: lc.state.applicationId,
    workflowId: lc.claimKey,
    role: issued.role,
    tokenHash: issued.tokenHash,
    confirmedAt,
  });
  refreshWaitingFor(lc);
  lc.wake = true;
  return { role: issued.role, allConfirmed: unconfirmedRoles(lc.state).length === 0 };
}
