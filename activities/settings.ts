import type { Config } from '../config/env';
import type { LifecycleSettings } from '../domain/settings';

export function settingsActivities(config: Pick<Config, 'lifecycle'>) {
  return {
    /**
     * The durations, thresholds and expansion policy from the worker's
     * configuration (config/env.ts validated them at start-up). Read-only, so
     * trivially idempotent; the workflow records the answer in its history,
     * so a worker restarted with other values does not change a running lifecycle's past.
     */
    async lifecycleSettings(): Promise<LifecycleSettings> {
      const { durations, riskThresholds, expansionPolicy } = config.lifecycle;
      return { durations: { ...durations }, riskThresholds: { ...riskThresholds }, expansionPolicy: { ...expansionPolicy } };
    },
  };
}
