import { applyVote, approvalOutcome, closeApprovalStage, openApprovalStage, validateVote as checkVote } from '../../domain/approval';
import { isEmailAtOrBelow } from '../../domain/email-domain';
import { recertificationIntervalMs } from '../../domain/offboarding';
import { registry } from '../activities';
import { UPDATE_REFUSALS, type ApprovalView, type VoteInput } from '../messages';
import { admit } from './admitted';
import { addMs, nowIso, refuse, sentence, type Lifecycle } from './context';
import { audit, notify, publishSearchAttributes, refreshTriggers, refreshWaitingFor, transition, waitUntil } from './effects';
import { entityNeedsApprover, recordEntityDecision } from './entity';
import { applyExpansion, notifyExpansion } from './expansion';
import type { OpenApproval } from './state';

/** Stage 4 and every later decision by people: admission, expansion and recertification approvals. */

export async function enterApproval(lc: Lifecycle): Promise<void> {
  const byTier = openApprovalStage({ tier: lc.state.tier, requesterEmails: lc.internal.requesterEmails }).required;
  // A first enrolment, a doubtful LEI or contacts outside the domain need a person, whatever the tier.
  const required = entityNeedsApprover(lc) ? Math.max(byTier, 1) : byTier;
  if (required === 0) {
    // LOW: the tier's pre-approved template decides; no person is needed.
    await registry.recordAudit({
      applicationId: lc.state.applicationId,
      idempotencyKey: `${lc.claimKey}:auto-approved`,
      type: 'admission.approved',
      actor: 'template',
      occurredAt: nowIso(),
      data: { tier: lc.state.tier, template: lc.state.tier, score: lc.state.risk.score },
    });
    return admit(lc, []);
  }
  // The stage is ready to take votes before anyone can see it is waiting for them.
  await prepareApproval(lc, 'admission', required);
  await transition(lc, 'AWAITING_APPROVAL', 'trust anchor verified');
  await announceApproval(lc);
}

export async function openApproval(
  lc: Lifecycle,
  purpose: OpenApproval['purpose'],
  required: number,
  extra: Partial<OpenApproval> = {},
): Promise<void> {
  await prepareApproval(lc, purpose, required, extra);
  publishSearchAttributes(lc);
  await announceApproval(lc);
}

async function prepareApproval(lc: Lifecycle, purpose: OpenApproval['purpose'], required: number, extra: Partial<OpenApproval> = {}): Promise<void> {
  lc.internal.directory = await registry.loadApproverDirectory();
  const openedAt = nowIso();
  lc.internal.approval = {
    purpose,
    state: openApprovalStage({ tier: lc.state.tier, requesterEmails: lc.internal.requesterEmails, required }),
    openedAt,
    escalatesAt: addMs(openedAt, lc.durations.approvalEscalationMs),
    expiresAt: addMs(openedAt, lc.durations.approvalExpiryMs),
    escalated: false,
    ...extra,
  };
  publishApproval(lc);
  refreshWaitingFor(lc);
}

async function announceApproval(lc: Lifecycle): Promise<void> {
  const approval = lc.internal.approval;
  if (approval === null) return;
  await notify(lc, {
    to: ['approvers'],
    template: approval.purpose === 'recertification' ? 'recertification-due' : 'approval-requested',
    data: {
      purpose: approval.purpose,
      tier: lc.state.tier,
      required: approval.state.required,
      scopes: approval.scopes ?? lc.state.requestedScopes,
      expiresAt: approval.expiresAt,
    },
    key: `approval-opened:${approval.purpose}:${approval.openedAt}`,
  });
}

export function publishApproval(lc: Lifecycle): void {
  const approval = lc.internal.approval;
  lc.state.approval =
    approval === null
      ? null
      : {
          purpose: approval.purpose,
          required: approval.state.required,
          votes: approval.state.votes.map((v) => ({
            approverSubject: v.approverId,
            approverEmail: lc.internal.directory.find((d) => d.approverId === v.approverId)?.email ?? '',
            decision: v.decision,
            comment: v.comment,
            at: v.at,
          })),
          outcome: approvalOutcome(approval.state),
          openedAt: approval.openedAt,
          escalatesAt: approval.escalatesAt,
          expiresAt: approval.expiresAt,
          ...(approval.scopes === undefined ? {} : { scopes: approval.scopes }),
        };
}

export async function awaitAdmissionApproval(lc: Lifecycle): Promise<void> {
  const approval = lc.internal.approval;
  if (approval === null) return lc.exclusive(() => enterApproval(lc));
  const decided = (): boolean => approvalOutcome(approval.state) !== 'pending';
  await waitUntil(lc, decided, approval.escalated ? approval.expiresAt : approval.escalatesAt);
  await lc.exclusive(() => actOnAdmissionApproval(lc, approval));
}

async function actOnAdmissionApproval(lc: Lifecycle, approval: OpenApproval): Promise<void> {
  if (lc.internal.termination !== null || lc.state.stage !== 'AWAITING_APPROVAL') return;
  const outcome = approvalOutcome(approval.state);
  if (outcome === 'approved') {
    lc.internal.approval = null;
    publishApproval(lc);
    const approvals = approval.state.votes.filter((v) => v.decision === 'approve');
    await recordEntityDecision(lc, true, approvals.map((v) => v.approverId).join(', '), approvals.map((v) => v.comment).join(' / '));
    return admit(
      lc,
      approvals.map((v) => v.approverId),
    );
  }
  if (outcome === 'rejected') {
    const rejection = approval.state.votes.find((v) => v.decision === 'reject');
    await recordEntityDecision(lc, false, rejection?.approverId ?? 'approver', rejection?.comment ?? 'rejected');
    lc.internal.termination = {
      stage: 'REJECTED',
      trigger: 'approval-rejected',
      reason: rejection?.comment ?? 'rejected by an approver',
      actor: rejection?.approverId ?? 'approver',
    };
    return;
  }
  if (!approval.escalated && Date.now() >= Date.parse(approval.escalatesAt)) return escalate(lc, approval);
  if (Date.now() >= Date.parse(approval.expiresAt)) {
    approval.state = closeApprovalStage(approval.state);
    publishApproval(lc);
    lc.internal.termination = {
      stage: 'EXPIRED',
      trigger: 'approval-expiry',
      reason: `no decision by ${approval.expiresAt}`,
      actor: 'workflow',
    };
  }
}

export async function escalate(lc: Lifecycle, approval: OpenApproval): Promise<void> {
  approval.escalated = true;
  await notify(lc, {
    to: ['approvers'],
    template: 'approval-escalated',
    data: {
      purpose: approval.purpose,
      tier: lc.state.tier,
      votesSoFar: approval.state.votes.length,
      required: approval.state.required,
      expiresAt: approval.expiresAt,
    },
    key: `approval-escalated:${approval.openedAt}`,
  });
}

export function validateVote(lc: Lifecycle, input: VoteInput) {
  const approval = lc.internal.approval;
  if (approval === null) {
    refuse('APPROVAL_STAGE_CLOSED', `Nothing is waiting for a decision on this application (it is ${lc.state.stage}).`);
  }
  if (typeof input !== 'object' || input === null || typeof input.approver?.subject !== 'string') {
    refuse(UPDATE_REFUSALS.INVALID_INPUT, 'A vote names its approver, decision and comment.');
  }
  const validation = checkVote(
    approval.state,
    { approverId: input.approver.subject, decision: input.decision, comment: input.comment ?? '', at: nowIso() },
    lc.internal.directory,
  );
  if (!validation.ok) refuse(validation.refusal.code, sentence(validation.refusal.message));
  // Accepting what entity verification could not settle is a decision with a reason, kept as evidence.
  if (approval.purpose === 'admission' && input.decision === 'approve' && entityNeedsApprover(lc) && (input.comment ?? '').trim() === '') {
    refuse('COMMENT_REQUIRED', `Say why you accept: ${lc.state.entity?.approvalReasons.join('; ')}.`);
  }
  // Independence by verified identity: the IdP's email of the approver, and the one on record, against
  // the organisation's domain, not only against the addresses the signup declared.
  if (lc.serialised) {
    const onRecord = lc.internal.directory.find((d) => d.approverId === input.approver.subject)?.email ?? '';
    if ([input.approver.email, onRecord].some((email) => typeof email === 'string' && isEmailAtOrBelow(email, lc.internal.primaryDomain))) {
      refuse(
        'APPROVER_OF_APPLICANT',
        `${input.approver.subject} belongs to the applying organisation (${lc.internal.primaryDomain}) and cannot decide on its admission.`,
      );
    }
  }
  return { approval, vote: validation.vote };
}

export async function vote(lc: Lifecycle, input: VoteInput): Promise<{ outcome: ApprovalView['outcome'] }> {
  // Validators do not run on replay, so the handler checks again against the state it sees.
  const { approval, vote: accepted } = validateVote(lc, input);
  const applied = applyVote(approval.state, accepted);
  approval.state = applied.state;
  publishApproval(lc);
  refreshWaitingFor(lc);
  await registry.recordAudit({
    applicationId: lc.state.applicationId,
    idempotencyKey: `${lc.claimKey}:vote:${approval.purpose}:${approval.openedAt}:${accepted.approverId}`,
    type: `${approval.purpose}.vote`,
    actor: accepted.approverId,
    occurredAt: accepted.at,
    data: {
      decision: accepted.decision,
      comment: accepted.comment,
      roles: accepted.roles,
      tier: lc.state.tier,
      outcome: applied.outcome,
      ...(approval.scopes === undefined ? {} : { scopes: approval.scopes }),
    },
  });
  lc.wake = true;
  return { outcome: applied.outcome };
}

export async function concludeApprovalIfDecided(lc: Lifecycle): Promise<void> {
  const approval = lc.internal.approval;
  if (approval === null) return;
  const outcome = approvalOutcome(approval.state);
  if (outcome !== 'pending') await concludeApproval(lc, approval, outcome);
}

/** Ends an expansion or recertification decision taken while admitted. */
export async function concludeApproval(lc: Lifecycle, approval: OpenApproval, outcome: 'approved' | 'rejected' | 'expired'): Promise<void> {
  lc.internal.approval = null;
  publishApproval(lc);
  refreshWaitingFor(lc);
  // Operators list pending work by AdmitWaitingFor: it must stop naming a decision that was taken.
  if (lc.serialised) publishSearchAttributes(lc);
  if (approval.purpose === 'expansion') {
    const view = lc.state.expansions.find((e) => e.id === approval.expansionId);
    if (view === undefined) return;
    view.decision = outcome;
    if (outcome === 'approved') {
      await applyExpansion(
        lc,
        view,
        approval.state.votes.map((v) => v.approverId),
      );
    } else {
      await notifyExpansion(lc, view);
    }
    return;
  }
  if (approval.purpose === 'recertification') {
    if (outcome === 'approved') {
      // Tiers that are not recertified on a schedule come here after an LEI review only.
      const every = recertificationIntervalMs(lc.state.tier, lc.durations);
      lc.internal.timers.recertifyAt = every === undefined ? null : addMs(nowIso(), every);
      refreshTriggers(lc);
      await audit(lc, {
        key: `recertified:${approval.openedAt}`,
        type: 'recertification.approved',
        actor: approval.state.votes.map((v) => v.approverId).join(', '),
        data: { nextRecertificationAt: lc.internal.timers.recertifyAt },
      });
    } else {
      lc.internal.termination = {
        stage: 'OFFBOARDED',
        trigger: 'recertification',
        reason: outcome === 'rejected' ? 'recertification was refused' : `not recertified by ${approval.expiresAt}`,
        actor: outcome === 'rejected' ? (approval.state.votes.find((v) => v.decision === 'reject')?.approverId ?? 'approver') : 'workflow',
      };
    }
  }
}

/** Closes whatever decision is open when the lifecycle ends. */
export function abandonApproval(lc: Lifecycle): void {
  if (lc.internal.approval === null) return;
  lc.internal.approval.state = closeApprovalStage(lc.internal.approval.state);
  lc.internal.approval = null;
  publishApproval(lc);
}
