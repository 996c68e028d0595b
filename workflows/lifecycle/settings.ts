import { lifecycleSettingsProblems, type LifecycleSettings } from '../../domain/settings';
import { registry } from '../activities';
import { UPDATE_REFUSALS, type ApplySettingsInput, type SettingsApplied } from '../messages';
import { refuse, type Lifecycle } from './context';
import { audit } from './effects';

/**
 * Settings reach a running lifecycle by an operator's Update and at
 * continue-as-new. A timer already armed keeps its due time; the new values
 * apply from the next time each is used (docs/workflow.md lists them). The
 * risk tier was decided at registration and is not re-scored.
 */

export function validateApplySettings(lc: Lifecycle, input: ApplySettingsInput): void {
  if (lc.isRegistering) refuse(UPDATE_REFUSALS.WRONG_STAGE, 'This application is still being registered; try again in a moment.');
  if (lc.isClosed) refuse(UPDATE_REFUSALS.WRONG_STAGE, `This application is already ${lc.state.stage}.`);
  if (typeof input !== 'object' || input === null || typeof input.by !== 'string' || input.by.trim() === '') {
    refuse(UPDATE_REFUSALS.INVALID_INPUT, 'Name the operator who applies the settings.');
  }
  const problems = lifecycleSettingsProblems(input.settings);
  if (problems.length > 0) refuse(UPDATE_REFUSALS.INVALID_INPUT, `The settings are not usable: ${problems.join('; ')}.`);
}

/** The names of the settings whose values differ, as `durations.inactivityMs`, `expansionPolicy.minCalls`, … */
export function changedSettings(before: LifecycleSettings, after: LifecycleSettings): string[] {
  const changed: string[] = [];
  for (const group of ['durations', 'riskThresholds', 'expansionPolicy'] as const) {
    const a = before[group] as unknown as Record<string, unknown>;
    const b = after[group] as unknown as Record<string, unknown>;
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (a[key] !== b[key]) changed.push(`${group}.${key}`);
    }
  }
  return changed;
}

function copy(settings: LifecycleSettings): LifecycleSettings {
  return { durations: { ...settings.durations }, riskThresholds: { ...settings.riskThresholds }, expansionPolicy: { ...settings.expansionPolicy } };
}

/** Takes `settings` if they differ, with evidence of what changed; the version keeps each event's key unique. */
async function adoptSettings(lc: Lifecycle, settings: LifecycleSettings, by: string): Promise<string[]> {
  const changed = changedSettings(lc.internal.settings, settings);
  if (changed.length === 0) return changed;
  const version = (lc.internal.settingsVersion ?? 0) + 1;
  lc.internal.settings = copy(settings);
  lc.internal.settingsVersion = version;
  await audit(lc, { key: `settings-applied:${version}`, type: 'lifecycle.settings-applied', actor: by, data: { changed, version } });
  return changed;
}

export async function applySettings(lc: Lifecycle, input: ApplySettingsInput): Promise<SettingsApplied> {
  validateApplySettings(lc, input);
  return { changed: await adoptSettings(lc, input.settings, input.by.trim()) };
}

/** A continued run takes the worker's current settings, as a new signup would. */
export async function refreshSettingsAtContinue(lc: Lifecycle): Promise<void> {
  const settings = await registry.lifecycleSettings();
  // The worker validated its configuration at start; a mismatch here would be a bug, not a reason to stop.
  if (lifecycleSettingsProblems(settings).length === 0) await adoptSettings(lc, settings, 'workflow');
}
