import { ActivityFailure, ApplicationFailure, log, patched } from '@temporalio/workflow';
import { DEFAULT_LIFECYCLE_DURATIONS } from '../../domain/durations';
import { DEFAULT_EXPANSION_POLICY } from '../../domain/expansion';
import { DEFAULT_RISK_THRESHOLDS, scoreRisk } from '../../domain/risk';
import type { LifecycleSettings } from '../../domain/settings';
import type { Signup } from '../../domain/signup';
import { registry } from '../activities';
import { nowIso, type Lifecycle } from './context';
import { publishSearchAttributes } from './effects';
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

/**
 * Writes the registry entry. A signup the registry refuses for good (data it
 * cannot store) ends the lifecycle at once as REJECTED with the registry's
 * reason, instead of retrying forever; nothing was written, so there is
 * nothing to revoke and no record to close. Returns false in that case.
 */
export async function register(lc: Lifecycle, input: LifecycleInput): Promise<boolean> {
  const settings = await registry.lifecycleSettings();
  lc.adopt(initialState(input, settings, assess(input.signup, settings), nowIso()));
  let registered;
  try {
    registered = await registry.registerApplication({
      applicationId: input.applicationId,
      workflowId: lc.claimKey,
      signup: input.signup,
      submittedAt: input.submittedAt,
    });
  } catch (error) {
    const cause = error instanceof ActivityFailure ? error.cause : undefined;
    // Lifecycles from before this patch failed here, and replay the same way.
    if (!(cause instanceof ApplicationFailure && cause.nonRetryable) || !patched(PATCHES.registrationRefusal)) throw error;
    refuseRegistration(lc, cause.message);
    return false;
  }
  lc.state.organisationId = registered.organisationId;
  lc.firstEnrolment = registered.organisationEstablished !== true;
  // Who may offboard or report a compromise is known from the start; refreshed at each decision.
  // Lifecycles started before this step existed replay without it.
  if (patched(PATCHES.directoryAtRegistration)) lc.internal.directory = await registry.loadApproverDirectory();
  await registry.recordRisk({
    applicationId: input.applicationId,
    workflowId: lc.claimKey,
    tier: lc.state.risk.tier,
    score: lc.state.risk.score,
    reasons: lc.state.risk.reasons,
  });
  return true;
}

function refuseRegistration(lc: Lifecycle, message: string): void {
  const at = nowIso();
  const reason = `the registry could not record this signup: ${message}`;
  log.warn('signup refused by the registry', { applicationId: lc.state.applicationId, reason });
  lc.state.stage = 'REJECTED';
  lc.state.waitingFor = null;
  lc.state.outcome = { stage: 'REJECTED', trigger: 'registration-refused', reason, at };
  lc.state.transitions.push({ stage: 'REJECTED', at, reason });
  publishSearchAttributes(lc);
}
