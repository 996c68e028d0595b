import { condition, patched, upsertSearchAttributes } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { NotifyInput } from '../../activities/contract';
import { allowedAnchorKinds } from '../../domain/risk';
import type { AuditEventType } from '../../domain/audit-events';
import { authorizationServer, mail, registry } from '../activities';
import type { Stage } from '../messages';
import { STAGE_KEY, TIER_KEY, WAITING_FOR_KEY } from '../search-attributes';
import { msUntil, nowIso, type Lifecycle } from './context';
import { MAX_TRANSITIONS_KEPT, PATCHES, unconfirmedRoles } from './state';

/** What every stage does to the outside: transitions with evidence, mail, search attributes. */

/** Waits for `ready`, a message that needs the main loop, a termination, or `until`. */
export async function waitUntil(lc: Lifecycle, ready: () => boolean, until: string): Promise<void> {
  // `wake` is not cleared before waiting: a message that arrived while the loop was busy still counts.
  await condition(() => ready() || lc.wake || lc.internal.termination !== null || lc.isClosed, msUntil(until));
  lc.wake = false;
}

export async function transition(lc: Lifecycle, stage: Stage, reason: string): Promise<void> {
  const from = lc.state.stage;
  const at = nowIso();
  lc.state.stage = stage;
  lc.state.transitions.push({ stage, at, reason });
  if (lc.state.transitions.length > MAX_TRANSITIONS_KEPT) lc.state.transitions.shift();
  refreshWaitingFor(lc);
  publishSearchAttributes(lc);
  await registry.recordAudit({
    applicationId: lc.state.applicationId,
    idempotencyKey: `${lc.claimKey}:transition:${lc.state.transitions.length}:${stage}:${at}`,
    type: 'lifecycle.transition',
    actor: 'workflow',
    occurredAt: at,
    data: { from, to: stage, reason, tier: lc.state.tier },
  });
}

export async function audit(
  lc: Lifecycle,
  event: { key: string; type: AuditEventType; actor: string; occurredAt?: string; data: Record<string, unknown> },
): Promise<void> {
  await registry.recordAudit({
    applicationId: lc.state.applicationId,
    idempotencyKey: `${lc.claimKey}:${event.key}`,
    type: event.type,
    actor: event.actor,
    occurredAt: event.occurredAt ?? nowIso(),
    data: event.data,
  });
}

/** Mails contacts or approvers; `key` (after the workflow id) makes a retry send nothing twice. */
export async function notify(lc: Lifecycle, message: Omit<NotifyInput, 'applicationId' | 'idempotencyKey'> & { key: string }): Promise<void> {
  const { key, ...rest } = message;
  await mail.notify({ applicationId: lc.state.applicationId, ...rest, idempotencyKey: `${lc.claimKey}:${key}` });
}

function approvalText(lc: Lifecycle): string {
  const approval = lc.internal.approval;
  if (approval === null) return '';
  const approvals = approval.state.votes.filter((v) => v.decision === 'approve').length;
  const more = approval.state.required - approvals;
  const reviewer = lc.state.tier === 'REGULATED' ? ', one of them a security reviewer' : '';
  return `${more} more approval${more === 1 ? '' : 's'} from distinct approvers${reviewer} (${approval.purpose}), by ${approval.expiresAt}`;
}

/** What the lifecycle waits for: a code for the search attribute, and words for people. */
export function waitingFor(lc: Lifecycle): { code: string; text: string | null } {
  const approval = lc.internal.approval;
  switch (lc.state.stage) {
    case 'REGISTERING':
      return { code: 'registry', text: 'the registry entry to be written' };
    case 'VERIFYING_ENTITY': {
      const challenge = lc.state.entity?.domain.challenge;
      return {
        code: 'entity',
        text:
          challenge === undefined || challenge === null
            ? 'the legal entity to be checked at GLEIF'
            : `proof of control of ${challenge.domain}: a TXT record ${challenge.txtName} or the file at ${challenge.httpUrl}, by ${challenge.expiresAt}`,
      };
    }
    case 'AWAITING_CONTACTS':
      return { code: 'contacts', text: `confirmation from the ${unconfirmedRoles(lc.state).join(', ')} contact(s), by ${lc.state.contactsDeadline}` };
    case 'AWAITING_ANCHOR':
      return {
        code: 'anchor',
        text: `the technical contact to prove a trust anchor (${allowedAnchorKinds(lc.state.tier).join(', ')}), by ${lc.internal.anchorDeadline}`,
      };
    case 'AWAITING_APPROVAL':
      return { code: 'approval', text: approvalText(lc) };
    case 'ADMITTED':
      return approval === null ? { code: 'nothing', text: null } : { code: approval.purpose, text: approvalText(lc) };
    case 'SUSPENDED':
      return { code: 'anchor-renewal', text: `a renewed trust anchor before ${lc.state.suspension?.graceEndsAt}` };
    default:
      return { code: 'nothing', text: null };
  }
}

export function refreshWaitingFor(lc: Lifecycle): void {
  lc.state.waitingFor = waitingFor(lc).text;
}

export function publishSearchAttributes(lc: Lifecycle): void {
  const pairs: SearchAttributeUpdatePair[] = [
    { key: STAGE_KEY, value: lc.state.stage },
    { key: TIER_KEY, value: lc.state.tier },
    { key: WAITING_FOR_KEY, value: waitingFor(lc).code },
  ];
  upsertSearchAttributes(pairs);
}

/**
 * The armed triggers' public due dates follow the timers the loop really
 * waits on (they move: each call pushes inactivity on, each re-verification
 * and recertification schedules the next). Only state, no command.
 */
export function refreshTriggers(lc: Lifecycle): void {
  const timers = lc.internal.timers;
  const dueAt: Partial<Record<string, string | null>> = {
    inactivity: timers.inactivityDueAt,
    'anchor-reverification': timers.reverifyAt,
    recertification: timers.recertifyAt,
  };
  for (const trigger of lc.state.triggers) {
    const due = dueAt[trigger.kind];
    if (due === undefined) continue;
    if (due === null) delete trigger.dueAt;
    else trigger.dueAt = due;
  }
}

/**
 * Brings the authorization server's client in line with the registry after a
 * change to the application's access: `provision` after a grant, expansion,
 * reinstatement or rotation, `disable` after a suspension, `remove` after
 * closing (the Update that closes answers only once this is done).
 */
export async function syncAuthorizationServer(
  lc: Lifecycle,
  change: { kind: 'provision' } | { kind: 'disable' } | { kind: 'remove'; at: string; reason: string },
): Promise<void> {
  // Lifecycles from before this step replay without it.
  if (!patched(PATCHES.authorizationServer)) return;
  const target = { applicationId: lc.state.applicationId, workflowId: lc.claimKey };
  if (change.kind === 'provision') await authorizationServer.provisionKeycloakClient(target);
  else if (change.kind === 'disable') await authorizationServer.disableKeycloakClient(target);
  else await authorizationServer.removeKeycloakClient({ ...target, at: change.at, reason: change.reason });
}
