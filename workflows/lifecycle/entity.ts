import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { ContactRoleKey } from '../../domain/contacts';
import { leiRecheck } from '../../domain/legal-entity';
import { entity } from '../activities';
import type { EntityView } from '../messages';
import { enterContacts } from './contacts';
import { addMs, isDue, nowIso, type Lifecycle } from './context';
import { audit, notify, refreshWaitingFor, transition, waitUntil } from './effects';

/**
 * The organisation is who it claims to be before anyone is mailed a link:
 * its LEI at GLEIF, and control of its primary domain (docs/entity-verification.md).
 * What needs a person's judgement (a doubtful LEI, a first enrolment, contacts
 * outside the domain) is kept for the approval stage, with its reasons.
 */

function entityTimers(lc: Lifecycle) {
  lc.internal.entity ??= { domainChecks: 0, nextDomainCheckAt: null, leiRound: 0, leiRecheckAt: null, leiStatuses: null };
  return lc.internal.entity;
}

function claimed(lc: Lifecycle): { lei: string; legalName: string; jurisdiction: string } {
  const organisation = lc.internal.organisation;
  if (organisation === undefined) throw ApplicationFailure.create({ message: 'the signup’s organisation is not in the state', nonRetryable: true });
  return organisation;
}

function view(lc: Lifecycle): EntityView {
  if (lc.state.entity === undefined || lc.state.entity === null)
    throw ApplicationFailure.create({ message: 'entity verification has not started', nonRetryable: true });
  return lc.state.entity;
}

/** A failure the activity reports as permanent: the LEI belongs elsewhere, the domain cannot be used… */
function permanent(error: unknown): ApplicationFailure | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  return cause instanceof ApplicationFailure && cause.nonRetryable ? cause : undefined;
}

/** The claimed organisation's LEI checked at GLEIF; round 0 at signup, then one round per re-check. */
function checkLei(lc: Lifecycle, round: number) {
  const organisation = claimed(lc);
  return entity.verifyLegalEntity({
    applicationId: lc.state.applicationId,
    workflowId: lc.claimKey,
    lei: organisation.lei,
    legalName: organisation.legalName,
    jurisdiction: organisation.jurisdiction,
    round,
  });
}

export async function enterEntityVerification(lc: Lifecycle, firstEnrolment: boolean): Promise<void> {
  lc.state.entity = {
    lei: null,
    domain: { name: lc.internal.primaryDomain, challenge: null, verified: false, method: null, verifiedAt: null, reasons: [] },
    contactsOutsideDomain: [],
    firstEnrolment,
    approvalReasons: firstEnrolment
      ? ['the first enrolment of this organisation: GLEIF holds no domain, so a person confirms that this domain belongs to this legal entity']
      : [],
  };
  await transition(lc, 'VERIFYING_ENTITY', 'registry entry written');
  let lei;
  try {
    lei = await checkLei(lc, 0);
  } catch (error) {
    const failure = permanent(error);
    if (failure === undefined) throw error;
    return refuseEntity(lc, 'entity-refused', failure.message);
  }
  view(lc).lei = lei;
  entityTimers(lc).leiStatuses =
    lei.record === null ? null : { registrationStatus: lei.record.registrationStatus, entityStatus: lei.record.entityStatus };
  if (lei.outcome === 'refused') {
    return refuseEntity(
      lc,
      'entity-refused',
      lei.reasons
        .filter((r) => r.outcome === 'refused')
        .map((r) => r.message)
        .join(' ') || 'the LEI cannot be admitted',
    );
  }
  if (lei.outcome === 'needs-approval') {
    view(lc).approvalReasons.push(...lei.reasons.filter((r) => r.outcome === 'needs-approval').map((r) => `LEI: ${r.message}`));
  }
  let challenge;
  try {
    challenge = await entity.issueDomainChallenge({
      applicationId: lc.state.applicationId,
      workflowId: lc.claimKey,
      domain: lc.internal.primaryDomain,
      round: 0,
    });
  } catch (error) {
    const failure = permanent(error);
    if (failure === undefined) throw error;
    return refuseEntity(lc, 'domain-not-acceptable', failure.message);
  }
  view(lc).domain.challenge = challenge;
  entityTimers(lc).nextDomainCheckAt = nowIso();
  refreshWaitingFor(lc);
  await notify(lc, {
    to: ['technical', 'business'],
    template: 'domain-challenge',
    data: {
      domain: challenge.domain,
      txtName: challenge.txtName,
      txtValue: challenge.txtValue,
      httpUrl: challenge.httpUrl,
      keyAuthorization: challenge.keyAuthorization,
      expiresAt: challenge.expiresAt,
    },
    key: `domain-challenge:${challenge.round}`,
  });
}

function refuseEntity(lc: Lifecycle, trigger: string, reason: string): void {
  lc.internal.termination = { stage: 'REJECTED', trigger, reason, actor: 'workflow' };
}

export async function awaitEntity(lc: Lifecycle): Promise<void> {
  const timers = entityTimers(lc);
  const deadline = view(lc).domain.challenge?.expiresAt ?? nowIso();
  const next = timers.nextDomainCheckAt ?? deadline;
  await waitUntil(lc, () => view(lc).domain.verified, next < deadline ? next : deadline);
  await lc.exclusive(() => actOnEntity(lc, deadline));
}

async function actOnEntity(lc: Lifecycle, deadline: string): Promise<void> {
  if (lc.internal.termination !== null || lc.state.stage !== 'VERIFYING_ENTITY') return;
  const timers = entityTimers(lc);
  const domain = view(lc).domain;
  if (!domain.verified && isDue(timers.nextDomainCheckAt)) {
    const check = await entity.checkDomainControl({
      applicationId: lc.state.applicationId,
      workflowId: lc.claimKey,
      domain: lc.internal.primaryDomain,
      round: domain.challenge?.round ?? 0,
      check: timers.domainChecks,
    });
    timers.domainChecks += 1;
    timers.nextDomainCheckAt = addMs(nowIso(), lc.durations.domainCheckEveryMs);
    domain.reasons = check.reasons.map((r) => ({ code: r.code, message: r.message }));
    if (check.verified) {
      domain.verified = true;
      domain.method = check.method;
      domain.verifiedAt = nowIso();
      noteContactsOutsideDomain(lc, check.contactsOutsideDomain);
    }
  }
  if (domain.verified) return enterContacts(lc);
  if (isDue(deadline)) {
    lc.internal.termination = {
      stage: 'EXPIRED',
      trigger: 'entity-expiry',
      reason: `control of ${lc.internal.primaryDomain} was not proven by ${deadline}; the claim is released`,
      actor: 'workflow',
    };
  }
}

function noteContactsOutsideDomain(lc: Lifecycle, roles: ContactRoleKey[]): void {
  const entityView = view(lc);
  entityView.contactsOutsideDomain = [...roles];
  if (roles.length > 0) {
    entityView.approvalReasons.push(
      `contacts outside ${lc.internal.primaryDomain} (${roles.join(', ')}): an approver accepts the exception, with a reason`,
    );
  }
}

/** Whether the admission needs a person beyond what its tier asks, for reasons of the entity. */
export function entityNeedsApprover(lc: Lifecycle): boolean {
  return (lc.state.entity?.approvalReasons.length ?? 0) > 0;
}

/**
 * An approver's decision on a doubtful LEI goes into the registry's evidence:
 * accepted, the organisation's LEI counts as verified.
 */
export async function recordEntityDecision(lc: Lifecycle, accepted: boolean, decidedBy: string, reason: string): Promise<void> {
  if (lc.state.entity?.lei?.outcome !== 'needs-approval') return;
  await entity.recordLegalEntityDecision({
    applicationId: lc.state.applicationId,
    workflowId: lc.claimKey,
    round: 0,
    accepted,
    decidedBy,
    reason,
    decidedAt: nowIso(),
  });
}

/** While admitted: the LEI checked again every `leiRecheckEveryMs`; a lapse asks approvers, an end offboards. */
export function leiRecheckDueAt(lc: Lifecycle): string | null {
  if (lc.state.entity === undefined || lc.state.entity === null) return null;
  const timers = entityTimers(lc);
  timers.leiRecheckAt ??= addMs(lc.internal.admittedAt ?? nowIso(), lc.durations.leiRecheckEveryMs);
  return timers.leiRecheckAt;
}

export async function recheckLei(lc: Lifecycle): Promise<'none' | 'review' | 'offboard'> {
  const timers = entityTimers(lc);
  timers.leiRecheckAt = addMs(nowIso(), lc.durations.leiRecheckEveryMs);
  timers.leiRound += 1;
  let result;
  try {
    result = await checkLei(lc, timers.leiRound);
  } catch (error) {
    if (permanent(error) === undefined) throw error;
    return 'none';
  }
  const current =
    result.record === null ? 'not-found' : { registrationStatus: result.record.registrationStatus, entityStatus: result.record.entityStatus };
  const recheck = leiRecheck(timers.leiStatuses, current);
  timers.leiStatuses = current === 'not-found' ? null : current;
  if (recheck.changed || recheck.action !== 'none') {
    await audit(lc, {
      key: `lei-rechecked:${timers.leiRound}`,
      type: 'entity.lei-rechecked',
      actor: 'workflow',
      data: { round: timers.leiRound, action: recheck.action, trigger: recheck.trigger, reason: recheck.reason, statuses: timers.leiStatuses },
    });
  }
  if (recheck.action === 'offboard') {
    lc.internal.termination = {
      stage: 'OFFBOARDED',
      trigger: recheck.trigger ?? 'lei-ended',
      reason: recheck.reason ?? 'the LEI has ended',
      actor: 'workflow',
    };
  }
  return recheck.action;
}
