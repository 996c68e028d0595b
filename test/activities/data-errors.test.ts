import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { applicationIdFor, workflowIdFor } from '../../domain/identity';
import type { Signup } from '../../domain/signup';
import { ACTIVITY_FAILURES } from '../../activities/errors';
import { createActivityHarness, type ActivityHarness } from '../support/activities';
import { signupBody } from '../support/signups';

let harness: ActivityHarness;
beforeAll(async () => {
  harness = await createActivityHarness();
});
afterAll(async () => harness.close());

/**
 * What an activity does with data PostgreSQL refuses. The signup contract
 * refuses these at the edge now, but an activity must never be retried forever
 * on data (a workflow started before the contract was tightened, or a field the
 * contract misses): the failure is non-retryable and typed.
 */
async function register(mutate: (signup: Signup) => void): Promise<unknown> {
  const signup = signupBody() as Signup;
  mutate(signup);
  const applicationId = applicationIdFor(signup.organisation.lei, signup.application.name, signup.application.environment);
  try {
    return await harness.activities.registerApplication({
      applicationId,
      workflowId: workflowIdFor(applicationId),
      signup,
      submittedAt: '2026-12-03T10:00:00Z',
    });
  } catch (error) {
    return error;
  }
}

describe('registry data errors are non-retryable typed failures', () => {
  it.each([
    ['a NUL in a text column', (s: Signup) => (s.organisation.legalName = 'Acme\u0000 Ltd')],
    ['a NUL in the audit event (jsonb)', (s: Signup) => (s.application.name = 'Treasury\u0000Sync')],
    ['expected monthly calls beyond integer', (s: Signup) => (s.application.expectedMonthlyCalls = 3_000_000_000)],
  ])('%s', async (_what, mutate) => {
    const error = await register(mutate);
    expect(error).toBeInstanceOf(ApplicationFailure);
    const failure = error as ApplicationFailure;
    expect(failure.type).toBe(ACTIVITY_FAILURES.REGISTRY_DATA_REJECTED);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/registry refused the data/);
  });

  it('leaves nothing half-written, and a good signup still registers', async () => {
    const bad = await register((s) => (s.organisation.legalName = 'Acme\u0000 Ltd'));
    expect(bad).toBeInstanceOf(ApplicationFailure);
    const good = await register(() => undefined);
    expect(good).toMatchObject({ applicationId: expect.stringMatching(/^app-/) });
  });

  it('keeps other failures as they were', async () => {
    const signup = signupBody() as Signup;
    const error = await harness.activities
      .registerApplication({ applicationId: 'app-wrong', workflowId: 'w', signup, submittedAt: '2026-12-03T10:00:00Z' })
      .catch((e: unknown) => e);
    expect((error as ApplicationFailure).type).toBe('InvalidRegistryInput');
  });
});
