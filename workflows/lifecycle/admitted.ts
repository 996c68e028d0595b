import { ApplicationFailure, log } from '@temporalio/workflow';
import { CONTACT_ROLES } from '../../domain/contacts';
import { openApprovalStage, closeApprovalStage } from '../../domain/approval';
import { armTriggers, inactivityDueAt, isInactive, recertificationIntervalMs } from '../../domain/offboarding';
import { recertificationRequired } from '../../domain/risk';
import { admissionConditions, minimalGrant, probationMs, tierTemplate } from '../../domain/scopes';
import { registry, verifiers } from '../activities';
import { concludeApproval, concludeApprovalIfDecided, escalate, openApproval } from './approval';
import { addMs, isDue, nowIso, type Lifecycle } from './context';
import { leiRecheckDueAt, recheckLei } from './entity';
import { notify, refreshTriggers, syncAuthorizationServer, transition, waitUntil } from './effects';

/** Stages 5 to 7: the minimal grant, and the monitoring that keeps or ends it. */

export async function admit(lc: Lifecycle, approvedBy: string[]): Promise<void> {
  const anchor = lc.state.anchor;
  if (anchor === null) throw ApplicationFailure.create({ message: 'cannot grant without a verified anchor', nonRetryable: true });
  const tier = lc.state.tier;
  const template = tierTemplate(tier);
  const minimal = minimalGrant(tier, lc.state.requestedScopes);
  const conditions = admissionConditions(tier, lc.internal.environment);
  const grantedAt = nowIso();
  const credentialLifetimeSeconds = Math.round(template.credentialLifetimeMs / 1000);
  const { clientId } = await registry.grantAccess({
    applicationId: lc.state.applicationId,
    workflowId: lc.claimKey,
    tier,
    scopes: minimal.granted,
    conditions,
    anchorFingerprint: anchor.fingerprint,
    credentialLifetimeSeconds,
    approvedBy,
    grantedAt,
  });
  await syncAuthorizationServer(lc, { kind: 'provision' });
  lc.state.grant = { scopes: minimal.granted, conditions, clientId, grantedAt, credentialLifetimeSeconds };
  lc.internal.admittedAt = grantedAt;
  lc.state.probationEndsAt = addMs(grantedAt, probationMs(tier, lc.durations.probationMs));
  lc.state.triggers = armTriggers({ tier, contractEndDate: lc.internal.contractEndDate, admittedAt: grantedAt, durations: lc.durations });
  const timers = lc.internal.timers;
  timers.inactivityDueAt = addMs(grantedAt, lc.durations.inactivityMs);
  timers.reverifyAt = addMs(grantedAt, lc.durations.anchorReverificationEveryMs);
  timers.recertifyAt = recertificationRequired(tier) ? addMs(grantedAt, recertificationIntervalMs(tier, lc.durations) ?? 0) : null;
  lc.internal.directory = await registry.loadApproverDirectory();
  await transition(lc, 'ADMITTED', approvedBy.length === 0 ? `approved by the ${tier} template` : `approved by ${approvedBy.join(', ')}`);
  await notify(lc, {
    to: [...CONTACT_ROLES],
    template: 'admitted',
    data: {
      tier,
      scopes: minimal.granted,
      notGranted: minimal.dropped.map((d) => `${d.scope}: ${d.message}`),
      clientId,
      probationEndsAt: lc.state.probationEndsAt,
      triggers: lc.state.triggers.map((t) => t.description),
    },
    key: 'admitted',
  });
}

function contractTrigger(lc: Lifecycle) {
  return lc.state.triggers.find((t) => t.kind === 'contract-end');
}

/** One turn of the admitted loop: sleep until the next due timer or message, then act. */
export async function monitorOnce(lc: Lifecycle): Promise<void> {
  const timers = lc.internal.timers;
  const approval = lc.internal.approval;
  const contract = contractTrigger(lc);
  const candidates = [
    timers.contractNoticeSent ? undefined : contract?.noticeAt,
    contract?.dueAt,
    timers.inactivityDueAt,
    timers.reverifyAt,
    approval === null ? timers.recertifyAt : undefined,
    timers.retireRotatedAt,
    lc.state.suspension?.graceEndsAt,
    approval === null ? undefined : approval.escalated ? approval.expiresAt : approval.escalatesAt,
    leiRecheckDueAt(lc),
  ].filter((at): at is string => typeof at === 'string');
  const next = candidates.reduce((a, b) => (a < b ? a : b), addMs(nowIso(), 365 * 24 * 3600 * 1000));
  await waitUntil(lc, () => false, next);
  await lc.exclusive(() => actWhileAdmitted(lc));
}

async function actWhileAdmitted(lc: Lifecycle): Promise<void> {
  if (lc.internal.termination !== null || lc.isClosed) return;
  const reinstatement = lc.internal.reinstatement;
  if (reinstatement !== undefined && reinstatement !== null) {
    if (lc.state.stage === 'SUSPENDED') await reinstate(lc, reinstatement);
    // Cleared once done: the rotation's Update answers when this is null.
    lc.internal.reinstatement = null;
  }
  await concludeApprovalIfDecided(lc);
  await runDueTimers(lc);
  refreshTriggers(lc);
}

async function runDueTimers(lc: Lifecycle): Promise<void> {
  const timers = lc.internal.timers;
  const contract = contractTrigger(lc);
  if (!timers.contractNoticeSent && isDue(contract?.noticeAt)) {
    timers.contractNoticeSent = true;
    await notify(lc, {
      to: [...CONTACT_ROLES],
      template: 'contract-ending',
      data: { contractEndsAt: contract?.dueAt ?? null },
      key: 'contract-ending',
    });
  }
  if (isDue(contract?.dueAt)) {
    lc.internal.termination = {
      stage: 'OFFBOARDED',
      trigger: 'contract-end',
      reason: `the contract ended (${lc.internal.contractEndDate})`,
      actor: 'workflow',
    };
    return;
  }
  if (isDue(lc.state.suspension?.graceEndsAt)) {
    lc.internal.termination = {
      stage: 'OFFBOARDED',
      trigger: 'anchor-failure',
      reason: `suspended since ${lc.state.suspension?.since} (${lc.state.suspension?.reason}) and not reinstated within the grace period`,
      actor: 'workflow',
    };
    return;
  }
  if (isDue(timers.inactivityDueAt)) await checkInactivity(lc);
  if (lc.internal.termination !== null) return;
  if (isDue(timers.reverifyAt)) await reverifyAnchor(lc);
  if (lc.internal.termination !== null) return;
  if (isDue(timers.retireRotatedAt)) {
    timers.retireRotatedAt = null;
    await registry.retireRotatedAnchors({ applicationId: lc.state.applicationId, workflowId: lc.claimKey });
    // The retired key stops authenticating at the authorization server too.
    if (lc.state.stage === 'ADMITTED') await syncAuthorizationServer(lc, { kind: 'provision' });
  }
  if (isDue(leiRecheckDueAt(lc))) {
    const action = await recheckLei(lc);
    if (lc.internal.termination !== null) return;
    // A lapsed or doubtful LEI: approvers recertify the partner, or it is offboarded.
    if (action === 'review' && lc.internal.approval === null) {
      await openApproval(lc, 'recertification', Math.max(1, openApprovalStage({ tier: lc.state.tier, requesterEmails: [] }).required));
    }
  }
  if (lc.internal.approval === null && isDue(timers.recertifyAt)) {
    timers.recertifyAt = null;
    await openApproval(lc, 'recertification', openApprovalStage({ tier: lc.state.tier, requesterEmails: [] }).required);
  }
  const approval = lc.internal.approval;
  if (approval !== null && !approval.escalated && isDue(approval.escalatesAt)) await escalate(lc, approval);
  if (approval !== null && isDue(approval.expiresAt)) {
    approval.state = closeApprovalStage(approval.state);
    await concludeApproval(lc, approval, 'expired');
  }
}

async function checkInactivity(lc: Lifecycle): Promise<void> {
  const admittedAt = lc.internal.admittedAt ?? nowIso();
  const usage = await registry.readUsage({ applicationId: lc.state.applicationId, since: admittedAt });
  const lastSeen = usage.lastSeenAt ?? admittedAt;
  const window = lc.durations.inactivityMs;
  if (isInactive(lastSeen, nowIso(), window)) {
    lc.internal.termination = {
      stage: 'OFFBOARDED',
      trigger: 'inactivity',
      reason: usage.lastSeenAt === null ? `no call since admission (${admittedAt})` : `no call since ${usage.lastSeenAt}`,
      actor: 'workflow',
    };
    return;
  }
  lc.internal.timers.inactivityDueAt = inactivityDueAt(lastSeen, window);
}

async function reverifyAnchor(lc: Lifecycle): Promise<void> {
  const timers = lc.internal.timers;
  timers.reverifyAt = addMs(nowIso(), lc.durations.anchorReverificationEveryMs);
  lc.internal.directory = await registry.loadApproverDirectory();
  let check;
  try {
    check = await verifiers.reverifyAnchor({ applicationId: lc.state.applicationId, expiryNoticeMs: lc.durations.anchorExpiryNoticeMs });
  } catch (error) {
    log.warn('re-verification could not complete; will try again at the next interval', { error: String(error) });
    return;
  }
  if (lc.state.anchor !== null) {
    lc.state.anchor.health = check.health;
    lc.state.anchor.notAfter = check.notAfter;
  }
  if (check.health === 'healthy' || check.health === 'expiring') {
    if (lc.state.stage === 'SUSPENDED') await reinstate(lc, 'the trust anchor verifies again');
    if (check.health === 'expiring' && timers.anchorExpiryNoticeFor !== check.notAfter) {
      timers.anchorExpiryNoticeFor = check.notAfter;
      await notify(lc, {
        to: ['technical', 'security'],
        template: 'anchor-expiring',
        data: { notAfter: check.notAfter, fingerprint: lc.state.anchor?.fingerprint ?? null },
        key: `anchor-expiring:${check.notAfter ?? ''}`,
      });
    }
    return;
  }
  if (lc.state.stage === 'ADMITTED') {
    await suspend(lc, `trust anchor ${check.health}: ${check.reasons.map((r) => r.code).join(', ') || check.health}`);
  }
}

async function suspend(lc: Lifecycle, reason: string): Promise<void> {
  const since = nowIso();
  const graceEndsAt = addMs(since, lc.durations.suspensionGraceMs);
  await registry.suspendAccess({ applicationId: lc.state.applicationId, workflowId: lc.claimKey, reason, at: since });
  await syncAuthorizationServer(lc, { kind: 'disable' });
  lc.state.suspension = { reason, since, graceEndsAt };
  await transition(lc, 'SUSPENDED', reason);
  await notify(lc, {
    to: [...CONTACT_ROLES],
    template: 'suspended',
    data: { reason, graceEndsAt },
    key: `suspended:${since}`,
  });
}

export async function reinstate(lc: Lifecycle, reason: string): Promise<void> {
  const at = nowIso();
  await registry.reinstateAccess({ applicationId: lc.state.applicationId, workflowId: lc.claimKey, reason, at });
  await syncAuthorizationServer(lc, { kind: 'provision' });
  lc.state.suspension = null;
  await transition(lc, 'ADMITTED', reason);
  await notify(lc, {
    to: [...CONTACT_ROLES],
    template: 'reinstated',
    data: { reason },
    key: `reinstated:${at}`,
  });
}
