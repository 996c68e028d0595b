import { allHandlersFinished, ApplicationFailure, condition, continueAsNew, patched } from '@temporalio/workflow';
import { isUnauthenticatedPayload, UNAUTHENTICATED_MESSAGE } from '../domain/unauthenticated';
import { registerHandlers } from './lifecycle/handlers';
import { Lifecycle } from './lifecycle/context';
import { provisionalState, register } from './lifecycle/register';
import { run } from './lifecycle/run';
import { refreshSettingsAtContinue } from './lifecycle/settings';
import { PATCHES, type CarriedState, type LifecycleInput } from './lifecycle/state';
import type { LifecycleState } from './messages';

export type { LifecycleInput } from './lifecycle/state';

/** A fresh signup, or the state carried over by continue-as-new. */
export type LifecycleStart = LifecycleInput | { resume: CarriedState };

/**
 * One partner application's whole life, from signup to offboarding, possibly
 * years later. Messages are validated by the workflow itself; the main loop
 * owns every stage change.
 */
export async function partnerLifecycle(start: LifecycleStart): Promise<LifecycleState> {
  // A start Admit did not seal (the codec's marker) is nobody's signup: it fails at once, having
  // done nothing, and leaves the id to the real signup (web/lifecycle-client.ts).
  if (isUnauthenticatedPayload(start)) {
    throw ApplicationFailure.create({ type: 'UnsealedStart', message: UNAUTHENTICATED_MESSAGE, nonRetryable: true });
  }
  const serialised = patched(PATCHES.serialisedHandlers);
  const verifiesEntity = !('resume' in start) && patched(PATCHES.entityVerification);
  const resumed = 'resume' in start;
  const carried = resumed ? start.resume : provisionalState(start);
  const lc = new Lifecycle(carried.state, carried.internal, serialised, verifiesEntity);
  // Before the first await: messages and queries are answered from the first instant.
  registerHandlers(lc);

  if (!resumed) {
    if (!(await register(lc, start))) return lc.state;
  } else if (serialised) await lc.exclusive(() => refreshSettingsAtContinue(lc));

  const result = await run(lc);
  // Let in-flight updates finish (and answer their callers) before closing or handing over.
  await condition(allHandlersFinished);
  if (result === 'continue-as-new') {
    return continueAsNew<typeof partnerLifecycle>({ resume: lc.carry() });
  }
  return lc.state;
}
