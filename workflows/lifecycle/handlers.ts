import { condition, setHandler } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import {
  applySettingsUpdate,
  noteCompetingSignupUpdate,
  confirmContactUpdate,
  offboardUpdate,
  organisationEventSignal,
  reportKeyCompromiseUpdate,
  requestAnchorChallengeUpdate,
  requestExpansionUpdate,
  rotateAnchorUpdate,
  stateQuery,
  submitAnchorUpdate,
  voteUpdate,
  type AnchorAttempt,
} from '../messages';
import type { AnchorSubmission } from '../../domain/anchor-submission';
import { requestChallenge, submitAnchor, validateAnchorSubmission, validateChallengeRequest } from './anchor';
import { validateVote, vote } from './approval';
import { offboard, organisationEvent, reportKeyCompromise, validateKeyCompromise, validateOffboard } from './closing';
import { confirmContact, validateContactConfirmation } from './contacts';
import { refuse, type Lifecycle } from './context';
import { UPDATE_REFUSALS } from '../messages';
import { audit } from './effects';
import { hasUnauthenticatedPayload, isUnauthenticatedPayload, UNAUTHENTICATED_MESSAGE } from '../../domain/unauthenticated';
import { requestExpansion, validateExpansion } from './expansion';
import { noteCompetingSignup, validateCompetingSignup } from './competing';
import { applySettings, validateApplySettings } from './settings';

/**
 * Refuses a message with an argument the payload codec could not open
 * (sent in clear, with another key, or altered): Admit did not write it.
 * Used by every validator, and again in every handler, which runs without
 * its validator on replay.
 */
function refuseUnsealed(args: readonly unknown[]): void {
  if (hasUnauthenticatedPayload(args)) refuse(UPDATE_REFUSALS.UNSEALED_MESSAGE, UNAUTHENTICATED_MESSAGE);
}

/** An Update whose handler and validator both refuse a message Admit did not seal, before anything else. */
function setSealedUpdate<Ret, Args extends unknown[]>(
  definition: UpdateDefinition<Ret, Args>,
  handler: (...args: Args) => Promise<Ret>,
  validator: (...args: Args) => void,
): void {
  setHandler(
    definition,
    (...args: Args) => {
      refuseUnsealed(args);
      return handler(...args);
    },
    {
      validator: (...args: Args) => {
        refuseUnsealed(args);
        validator(...args);
      },
    },
  );
}

async function ignoreUnsealedSignal(lc: Lifecycle): Promise<void> {
  // Lifecycles from before serialised handlers replay without the evidence.
  if (!lc.serialised) return;
  lc.internal.unsealedSignals = (lc.internal.unsealedSignals ?? 0) + 1;
  const count = lc.internal.unsealedSignals;
  await lc.exclusive(() =>
    audit(lc, {
      key: `unsealed-signal:${count}`,
      type: 'lifecycle.unsealed-message-ignored',
      actor: 'unknown',
      data: { message: 'organisationEvent', count },
    }),
  );
}

/** A rotation that reinstates answers once the main loop has reinstated. */
async function rotate(lc: Lifecycle, submission: AnchorSubmission): Promise<AnchorAttempt> {
  const attempt = await lc.exclusive(() => submitAnchor(lc, submission, true));
  await condition(() => !lc.internal.reinstatement || lc.isClosed);
  return attempt;
}

/**
 * Every message the lifecycle answers. Validators refuse before anything is
 * recorded; handler bodies that await run under the lifecycle's mutex, and
 * check again what they validated (the state may have moved while they
 * waited for it, and validators do not run on replay).
 */
export function registerHandlers(lc: Lifecycle): void {
  setHandler(stateQuery, () => lc.state);
  setSealedUpdate(
    confirmContactUpdate,
    (input) => lc.exclusive(() => confirmContact(lc, input)),
    (input) => validateContactConfirmation(lc, input),
  );
  setSealedUpdate(
    requestAnchorChallengeUpdate,
    () => lc.exclusive(() => requestChallenge(lc)),
    () => validateChallengeRequest(lc),
  );
  setSealedUpdate(
    submitAnchorUpdate,
    (submission) => lc.exclusive(() => submitAnchor(lc, submission, false)),
    (submission) => validateAnchorSubmission(lc, submission, false),
  );
  setSealedUpdate(
    rotateAnchorUpdate,
    (submission) => (lc.serialised ? rotate(lc, submission) : submitAnchor(lc, submission, true)),
    (submission) => validateAnchorSubmission(lc, submission, true),
  );
  setSealedUpdate(
    voteUpdate,
    (input) => lc.exclusive(() => vote(lc, input)),
    (input) => void validateVote(lc, input),
  );
  setSealedUpdate(
    requestExpansionUpdate,
    (input) => lc.exclusive(() => requestExpansion(lc, input)),
    (input) => validateExpansion(lc, input),
  );
  setSealedUpdate(
    applySettingsUpdate,
    (input) => lc.exclusive(() => applySettings(lc, input)),
    (input) => validateApplySettings(lc, input),
  );
  setSealedUpdate(
    noteCompetingSignupUpdate,
    (input) => lc.exclusive(() => noteCompetingSignup(lc, input)),
    (input) => validateCompetingSignup(lc, input),
  );
  // These two wait for the main loop to close, which needs the mutex: they must not hold it.
  setSealedUpdate(
    offboardUpdate,
    (input) => offboard(lc, input),
    (input) => validateOffboard(lc, input),
  );
  setSealedUpdate(
    reportKeyCompromiseUpdate,
    (input) => reportKeyCompromise(lc, input),
    (input) => validateKeyCompromise(lc, input),
  );
  // A signal cannot be refused, and stays in history: a marked one is ignored, with evidence.
  setHandler(organisationEventSignal, (event) => (isUnauthenticatedPayload(event) ? ignoreUnsealedSignal(lc) : organisationEvent(lc, event)));
}
