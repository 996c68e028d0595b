import { lifecycleDurationProblems, type LifecycleDurations } from './durations';
import { expansionPolicyProblems, type ExpansionPolicy } from './expansion';
import { riskThresholdProblems, type RiskThresholds } from './risk';

/**
 * Everything tunable that a lifecycle reads: its timings, the risk thresholds
 * and the expansion policy. The worker's configuration supplies it; a running
 * lifecycle takes a new one from an operator's `applySettings` Update or at
 * continue-as-new (see docs/workflow.md for which parts a change reaches).
 */
export interface LifecycleSettings {
  durations: LifecycleDurations;
  riskThresholds: RiskThresholds;
  expansionPolicy: ExpansionPolicy;
}

/** Every problem with a settings object as it would arrive in a message; empty when usable. */
export function lifecycleSettingsProblems(settings: unknown): string[] {
  if (typeof settings !== 'object' || settings === null) return ['settings must be an object'];
  const { durations, riskThresholds, expansionPolicy } = settings as Partial<Record<keyof LifecycleSettings, unknown>>;
  const problems: string[] = [];
  if (typeof durations !== 'object' || durations === null) problems.push('durations must be an object');
  else problems.push(...lifecycleDurationProblems(durations as LifecycleDurations).map((p) => `durations: ${p}`));
  problems.push(...riskThresholdProblems(riskThresholds).map((p) => `riskThresholds: ${p}`));
  if (typeof expansionPolicy !== 'object' || expansionPolicy === null) problems.push('expansionPolicy must be an object');
  else problems.push(...expansionPolicyProblems(expansionPolicy as ExpansionPolicy).map((p) => `expansionPolicy: ${p}`));
  return problems;
}
