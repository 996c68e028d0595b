import { patched, workflowInfo } from '@temporalio/workflow';
import { DEFAULT_LIFECYCLE_DURATIONS } from '../../domain/durations';
import { DEFAULT_EXPANSION_POLICY } from '../../domain/expansion';
import { DEFAULT_RISK_THRESHOLDS, scoreRisk } from '../../domain/risk';
import type { LifecycleSettings } from '../../domain/settings';
import type { Signup } from '../../domain/signup';
import { registry } from '../activities';
import { nowIso, type Lifecycle } from './context';
import { initialState, PATCHES, type LifecycleInput } from './state';

/** Stage 1: the registry entry, and the risk tier scored from the signup's answers. */

const DEFAULT_SETTINGS: LifecycleSettings = {
  durations: { ...DEFAULT_LIFECYCLE_DURATIONS },
  riskThresholds: { ...DEFAULT_RISK_THRESHOLDS },
  expansionPolicy: { ...DEFAULT_EXPANSION_POLICY },
};

function assess(signup: Signup, settings: LifecycleSettings) {
  const { application } = signup;
  return scoreRisk(
    {
      requestedScopes: application.requestedScopes,
      dataSensitivity: application.dataSensitivity,
      regulatedSector: application.regulatedSector,
      strategic: application.strategic,
      expectedMonthlyCalls: application.expectedMonthlyCalls,
      environment: application.environment,
    },
    settings.riskThresholds,
  );
}

/**
 * The state a lifecycle answers with before its settings have arrived: the
 * handlers exist from the first instant, and refuse everything while
 * REGISTERING. Scored with the default thresholds, it is replaced (tier
 * included) as soon as the worker's settings are known.
 */
export function provisionalState(input: LifecycleInput) {
  return initialState(input, DEFAULT_SETTINGS, assess(input.signup, DEFAULT_SETTINGS), nowIso());
}

export async function register(lc: Lifecycle, input: LifecycleInput): Promise<void> {
  const settings = await registry.lifecycleSettings();
  lc.adopt(initialState(input, settings, assess(input.signup, settings), nowIso()));
  const registered = await registry.registerApplication({
    applicationId: input.applicationId,
    workflowId: workflowInfo().workflowId,
    signup: input.signup,
    submittedAt: input.submittedAt,
  });
  lc.state.organisationId = registered.organisationId;
  // Who may offboard or report a compromise is known from the start; refreshed at each decision.
  // Lifecycles started before this step existed replay without it.
  if (patched(PATCHES.directoryAtRegistration)) lc.internal.directory = await registry.loadApproverDirectory();
  await registry.recordRisk({
    applicationId: input.applicationId,
    workflowId: workflowInfo().workflowId,
    tier: lc.state.risk.tier,
    score: lc.state.risk.score,
    reasons: lc.state.risk.reasons,
  });
}
