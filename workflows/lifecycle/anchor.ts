import { ActivityFailure, ApplicationFailure, condition, log } from '@temporalio/workflow';
import type { VerifiedAnchor } from '../../activities/contract';
import type { AnchorSubmission } from '../../domain/anchor-submission';
import { allowedAnchorKinds, isAnchorKindAllowed } from '../../domain/risk';
import { registry, verifiers } from '../activities';
import { UPDATE_REFUSALS, type AnchorAttempt, type AnchorChallengeView, type Stage } from '../messages';
import { reinstate } from './admitted';
import { enterApproval } from './approval';
import { addMs, isDue, nowIso, refuse, type Lifecycle } from './context';
import { notify, syncAuthorizationServer, transition, waitUntil } from './effects';
import { MAX_ATTEMPTS_KEPT } from './state';

/** Stage 3: the technical contact proves a trust anchor; later, rotations replace it. */

export async function enterAnchor(lc: Lifecycle): Promise<void> {
  lc.internal.anchorDeadline = addMs(nowIso(), lc.durations.anchorSubmissionMs);
  await transition(lc, 'AWAITING_ANCHOR', 'all three contacts confirmed');
  await notify(lc, {
    to: ['technical'],
    template: 'anchor-requested',
    data: { allowedKinds: [...allowedAnchorKinds(lc.state.tier)], deadline: lc.internal.anchorDeadline },
    key: 'anchor-requested',
  });
}

export async function awaitAnchor(lc: Lifecycle): Promise<void> {
  const deadline = lc.internal.anchorDeadline ?? nowIso();
  await waitUntil(lc, () => lc.state.anchor !== null || lc.internal.anchorSubmissionsLeft === 0, deadline);
  if (!lc.serialised) {
    if (lc.internal.termination !== null || lc.state.stage !== 'AWAITING_ANCHOR') return;
    // A verification may still be running when the deadline passes; let it finish first.
    await condition(() => !lc.internal.anchorCheckInProgress);
  }
  // Under the mutex a verification in flight holds it, so this step starts after its verdict.
  await lc.exclusive(() => actOnAnchor(lc, deadline));
}

async function actOnAnchor(lc: Lifecycle, deadline: string): Promise<void> {
  if (lc.internal.termination !== null || lc.state.stage !== 'AWAITING_ANCHOR') return;
  if (lc.state.anchor !== null) return enterApproval(lc);
  if (lc.internal.anchorSubmissionsLeft > 0 && !isDue(deadline)) return;
  lc.internal.termination =
    lc.internal.anchorSubmissionsLeft === 0
      ? {
          stage: 'REJECTED',
          trigger: 'anchor-failure',
          reason: 'the trust anchor was refused on every allowed submission',
          actor: 'workflow',
        }
      : { stage: 'EXPIRED', trigger: 'anchor-expiry', reason: `no trust anchor was verified by ${deadline}`, actor: 'workflow' };
}

export function validateChallengeRequest(lc: Lifecycle): void {
  if (!['AWAITING_ANCHOR', 'ADMITTED', 'SUSPENDED'].includes(lc.state.stage)) {
    refuse(UPDATE_REFUSALS.WRONG_STAGE, `A trust anchor is not being collected (the application is ${lc.state.stage}).`);
  }
}

export async function requestChallenge(lc: Lifecycle): Promise<AnchorChallengeView> {
  validateChallengeRequest(lc);
  const challenge = await registry.issueAnchorChallenge({ applicationId: lc.state.applicationId });
  lc.state.challenge = challenge;
  return challenge;
}

export function validateAnchorSubmission(lc: Lifecycle, submission: AnchorSubmission, rotation: boolean): void {
  const stages: Stage[] = rotation ? ['ADMITTED', 'SUSPENDED'] : ['AWAITING_ANCHOR'];
  if (!stages.includes(lc.state.stage) || (rotation && lc.internal.termination !== null && lc.serialised)) {
    refuse(
      UPDATE_REFUSALS.WRONG_STAGE,
      rotation
        ? `Only an admitted application can rotate its trust anchor (this one is ${lc.state.stage}).`
        : `A trust anchor is not being collected (the application is ${lc.state.stage}).`,
    );
  }
  if (typeof submission !== 'object' || submission === null || typeof submission.kind !== 'string') {
    refuse(UPDATE_REFUSALS.INVALID_INPUT, 'The submission must name its kind: x509, jwk, spiffe or oidc.');
  }
  if (!isAnchorKindAllowed(lc.state.tier, submission.kind)) {
    refuse(
      UPDATE_REFUSALS.ANCHOR_KIND_NOT_ALLOWED,
      `A ${lc.state.tier} application must prove itself with one of: ${allowedAnchorKinds(lc.state.tier).join(', ')}.`,
    );
  }
  if (!rotation && lc.internal.anchorSubmissionsLeft <= 0) {
    refuse(UPDATE_REFUSALS.RESUBMISSIONS_EXHAUSTED, 'No further trust-anchor submissions are allowed for this application.');
  }
  if (lc.internal.anchorCheckInProgress) {
    refuse(UPDATE_REFUSALS.WRONG_STAGE, 'A trust anchor is being verified; wait for its result.');
  }
  if (submission.kind === 'jwk' && lc.state.challenge === null) {
    refuse(UPDATE_REFUSALS.CHALLENGE_MISSING, 'Request a challenge first and sign it: the assertion must cover its nonce.');
  }
}

/**
 * A failure the verifier activity reports as permanent (the application has
 * closed, the input cannot mean anything, the verifier is misconfigured) is
 * not a passing outage: say what it is instead of "submit again shortly".
 */
function permanentVerifierFailure(error: unknown): ApplicationFailure | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  return cause instanceof ApplicationFailure && cause.nonRetryable ? cause : undefined;
}

const PERMANENT_REFUSALS: Record<string, { code: string; message: string }> = {
  ApplicationClosed: { code: UPDATE_REFUSALS.WRONG_STAGE, message: 'This application has closed; no trust anchor can be bound to it.' },
  ApplicationNotFound: { code: UPDATE_REFUSALS.WRONG_STAGE, message: 'This application is not in the registry.' },
  InvalidActivityInput: { code: UPDATE_REFUSALS.INVALID_INPUT, message: 'The submission cannot be verified as sent' },
  InvalidRegistryInput: { code: UPDATE_REFUSALS.INVALID_INPUT, message: 'The submission cannot be verified as sent' },
  AnchorConfigError: {
    code: UPDATE_REFUSALS.VERIFIER_MISCONFIGURED,
    message: 'Admit cannot verify this kind of trust anchor until its operators fix the verifier configuration; this attempt does not count',
  },
};

export async function submitAnchor(lc: Lifecycle, submission: AnchorSubmission, rotation: boolean): Promise<AnchorAttempt> {
  validateAnchorSubmission(lc, submission, rotation);
  lc.internal.anchorCheckInProgress = true;
  try {
    const at = nowIso();
    let result;
    try {
      result = await verifiers.verifyAndBindAnchor({
        applicationId: lc.state.applicationId,
        workflowId: lc.claimKey,
        submission,
        challenge: lc.state.challenge,
        primaryDomain: lc.internal.primaryDomain,
        rotation,
      });
    } catch (error) {
      const permanent = lc.serialised ? permanentVerifierFailure(error) : undefined;
      if (permanent !== undefined) {
        const refusal = PERMANENT_REFUSALS[permanent.type ?? ''] ?? { code: UPDATE_REFUSALS.INVALID_INPUT, message: permanent.message };
        const detail = refusal.code === UPDATE_REFUSALS.INVALID_INPUT ? `${refusal.message}: ${permanent.message}` : refusal.message;
        refuse(refusal.code, detail.endsWith('.') ? detail : `${detail}.`);
      }
      // Our verifier could not reach a verdict (e.g. the partner's JWKS host did not answer):
      // it does not count against the partner's submissions.
      log.warn('trust-anchor verification failed to complete', { error: String(error) });
      return recordAttempt(lc, {
        at,
        kind: submission.kind,
        ok: false,
        reasons: [{ code: 'VERIFIER_UNAVAILABLE', message: 'The verification could not be completed just now; submit again shortly.' }],
      });
    }
    if (submission.kind === 'jwk') lc.state.challenge = null;
    if (!result.ok) {
      if (!rotation) lc.internal.anchorSubmissionsLeft -= 1;
      const attempt = recordAttempt(lc, { at, kind: submission.kind, ok: false, reasons: result.reasons });
      await notify(lc, {
        to: ['technical'],
        template: 'anchor-refused',
        data: {
          reasons: result.reasons.map((r) => `${r.code}: ${r.message}`),
          submissionsLeft: rotation ? null : lc.internal.anchorSubmissionsLeft,
        },
        key: `anchor-refused:${lc.state.anchorAttempts.length}:${at}`,
      });
      lc.wake = true;
      return attempt;
    }
    bindAnchor(lc, result);
    if (rotation) await afterRotation(lc);
    lc.wake = true;
    return recordAttempt(lc, { at, kind: submission.kind, ok: true, reasons: [] });
  } finally {
    lc.internal.anchorCheckInProgress = false;
  }
}

function recordAttempt(lc: Lifecycle, attempt: AnchorAttempt): AnchorAttempt {
  lc.state.anchorAttempts.push(attempt);
  if (lc.state.anchorAttempts.length > MAX_ATTEMPTS_KEPT) lc.state.anchorAttempts.shift();
  return attempt;
}

function bindAnchor(lc: Lifecycle, anchor: VerifiedAnchor): void {
  lc.state.anchor = {
    kind: anchor.kind,
    fingerprint: anchor.fingerprint,
    subject: anchor.subject,
    notAfter: anchor.notAfter,
    verifiedAt: anchor.verifiedAt,
    health: 'healthy',
  };
}

async function afterRotation(lc: Lifecycle): Promise<void> {
  lc.internal.timers.retireRotatedAt = addMs(nowIso(), lc.durations.rotationOverlapMs);
  lc.internal.timers.anchorExpiryNoticeFor = null;
  await registry.recordAudit({
    applicationId: lc.state.applicationId,
    idempotencyKey: `${lc.claimKey}:anchor-rotated:${lc.state.anchor?.fingerprint ?? ''}`,
    type: 'anchor.rotated',
    actor: 'partner',
    occurredAt: nowIso(),
    data: { fingerprint: lc.state.anchor?.fingerprint ?? null, overlapEndsAt: lc.internal.timers.retireRotatedAt },
  });
  // Both anchors authenticate during the overlap; a suspended client is enabled again when reinstated.
  if (lc.state.stage === 'ADMITTED') await syncAuthorizationServer(lc, { kind: 'provision' });
  if (lc.state.stage !== 'SUSPENDED') return;
  // The main loop owns stage changes: it reinstates on its next turn, before anything else it does.
  if (lc.serialised) lc.internal.reinstatement = 'a renewed trust anchor was verified';
  else await reinstate(lc, 'a renewed trust anchor was verified');
}
