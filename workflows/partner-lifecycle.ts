import { condition, defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Signup } from '../domain/signup';
import type { createActivities } from '../activities';

export type Stage = 'REGISTERING' | 'AWAITING_CONTACTS';

export interface LifecycleInput {
  applicationId: string;
  signup: Signup;
  /** When the signup reached the HTTP edge (ISO 8601). */
  submittedAt: string;
}

export interface LifecycleState {
  applicationId: string;
  stage: Stage;
  organisationId: string | null;
  /** What the workflow is waiting for, in words a person can act on. */
  waitingFor: string | null;
  transitions: { stage: Stage; at: string }[];
}

export const stateQuery = defineQuery<LifecycleState>('state');

const registry = proxyActivities<ReturnType<typeof createActivities>>({
  // Registry writes take milliseconds; a short timeout lets a crashed worker's attempt be retried soon.
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['InvalidRegistryInput'] },
});

/** One partner application's whole life, from signup to offboarding. */
export async function partnerLifecycle(input: LifecycleInput): Promise<LifecycleState> {
  const state: LifecycleState = {
    applicationId: input.applicationId,
    stage: 'REGISTERING',
    organisationId: null,
    waitingFor: 'the registry entry to be written',
    transitions: [{ stage: 'REGISTERING', at: new Date().toISOString() }],
  };
  setHandler(stateQuery, () => state);

  const registered = await registry.registerApplication({
    applicationId: input.applicationId,
    workflowId: workflowInfo().workflowId,
    signup: input.signup,
    submittedAt: input.submittedAt,
  });
  state.organisationId = registered.organisationId;
  state.stage = 'AWAITING_CONTACTS';
  state.waitingFor = 'the business, technical and security contacts to confirm';
  state.transitions.push({ stage: 'AWAITING_CONTACTS', at: new Date().toISOString() });

  // Contact confirmation and the later stages are driven by messages.
  await condition(() => false);
  return state;
}
