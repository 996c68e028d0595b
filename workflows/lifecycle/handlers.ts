import { condition, setHandler } from '@temporalio/workflow';
import {
  applySettingsUpdate,
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
import type { Lifecycle } from './context';
import { requestExpansion, validateExpansion } from './expansion';
import { applySettings, validateApplySettings } from './settings';

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
  setHandler(confirmContactUpdate, (input) => lc.exclusive(() => confirmContact(lc, input)), {
    validator: (input) => validateContactConfirmation(lc, input),
  });
  setHandler(requestAnchorChallengeUpdate, () => lc.exclusive(() => requestChallenge(lc)), {
    validator: () => validateChallengeRequest(lc),
  });
  setHandler(submitAnchorUpdate, (submission) => lc.exclusive(() => submitAnchor(lc, submission, false)), {
    validator: (submission) => validateAnchorSubmission(lc, submission, false),
  });
  setHandler(
    rotateAnchorUpdate,
    (submission) => (lc.serialised ? rotate(lc, submission) : submitAnchor(lc, submission, true)),
    { validator: (submission) => validateAnchorSubmission(lc, submission, true) },
  );
  setHandler(voteUpdate, (input) => lc.exclusive(() => vote(lc, input)), {
    validator: (input) => void validateVote(lc, input),
  });
  setHandler(requestExpansionUpdate, (input) => lc.exclusive(() => requestExpansion(lc, input)), {
    validator: (input) => validateExpansion(lc, input),
  });
  setHandler(applySettingsUpdate, (input) => lc.exclusive(() => applySettings(lc, input)), {
    validator: (input) => validateApplySettings(lc, input),
  });
  // These two wait for the main loop to close, which needs the mutex: they must not hold it.
  setHandler(offboardUpdate, (input) => offboard(lc, input), {
    validator: (input) => validateOffboard(lc, input),
  });
  setHandler(reportKeyCompromiseUpdate, (input) => reportKeyCompromise(lc, input), {
    validator: (input) => validateKeyCompromise(lc, input),
  });
  setHandler(organisationEventSignal, (event) => organisationEvent(lc, event));
}
