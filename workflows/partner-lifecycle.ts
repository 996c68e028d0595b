import { allHandlersFinished, condition, continueAsNew, setHandler } from '@temporalio/workflow';
import { PartnerLifecycle, type CarriedState, type LifecycleInput } from './lifecycle';
import {
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
  type LifecycleState,
} from './messages';

export type { LifecycleInput } from './lifecycle';

/** A fresh signup, or the state carried over by continue-as-new. */
export type LifecycleStart = LifecycleInput | { resume: CarriedState };

/**
 * One partner application's whole life, from signup to offboarding, possibly
 * years later. Messages are validated by the workflow itself; the main loop
 * owns every stage change.
 */
export async function partnerLifecycle(start: LifecycleStart): Promise<LifecycleState> {
  const lifecycle = 'resume' in start ? PartnerLifecycle.resume(start.resume) : await PartnerLifecycle.begin(start);

  setHandler(stateQuery, () => lifecycle.state);
  setHandler(confirmContactUpdate, (input) => lifecycle.confirmContact(input), {
    validator: (input) => lifecycle.validateContactConfirmation(input),
  });
  setHandler(requestAnchorChallengeUpdate, () => lifecycle.requestChallenge(), {
    validator: () => lifecycle.validateChallengeRequest(),
  });
  setHandler(submitAnchorUpdate, (submission) => lifecycle.submitAnchor(submission, false), {
    validator: (submission) => lifecycle.validateAnchorSubmission(submission, false),
  });
  setHandler(rotateAnchorUpdate, (submission) => lifecycle.submitAnchor(submission, true), {
    validator: (submission) => lifecycle.validateAnchorSubmission(submission, true),
  });
  setHandler(voteUpdate, (input) => lifecycle.vote(input), {
    validator: (input) => void lifecycle.validateVote(input),
  });
  setHandler(requestExpansionUpdate, (input) => lifecycle.requestExpansion(input), {
    validator: (input) => lifecycle.validateExpansion(input),
  });
  setHandler(offboardUpdate, (input) => lifecycle.offboard(input), {
    validator: (input) => lifecycle.validateOffboard(input),
  });
  setHandler(reportKeyCompromiseUpdate, (input) => lifecycle.reportKeyCompromise(input), {
    validator: (input) => lifecycle.validateKeyCompromise(input),
  });
  setHandler(organisationEventSignal, (event) => lifecycle.organisationEvent(event));

  const result = await lifecycle.run();
  // Let in-flight updates finish (and answer their callers) before closing or handing over.
  await condition(allHandlersFinished);
  if (result === 'continue-as-new') {
    return continueAsNew<typeof partnerLifecycle>({ resume: lifecycle.carry() });
  }
  return lifecycle.state;
}
