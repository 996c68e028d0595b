import { admissionsEnded, admissionsStarted, lifecycleTransitions, stageDuration } from './metrics';

const ADMISSION_OUTCOMES: Record<string, string> = { ADMITTED: 'admitted', REJECTED: 'rejected', EXPIRED: 'expired' };

/**
 * Counts one lifecycle transition the registry has just recorded (its `lifecycle.transition` audit
 * event: `{ from, to, reason, tier }`), and the time spent in the stage it left. Leaving REGISTERING
 * starts an admission; entering ADMITTED (except from SUSPENDED, a reinstatement), REJECTED or
 * EXPIRED from an admission stage ends it.
 */
export function recordTransitionMetrics(data: Record<string, unknown>, enteredAt: Date, occurredAt: Date): void {
  const from = typeof data.from === 'string' ? data.from : 'unknown';
  const to = typeof data.to === 'string' ? data.to : 'unknown';
  const tier = typeof data.tier === 'string' ? data.tier : 'unassessed';
  lifecycleTransitions.inc({ from, to });
  stageDuration.observe({ stage: from }, Math.max(0, (occurredAt.getTime() - enteredAt.getTime()) / 1000));
  if (from === 'REGISTERING') admissionsStarted.inc({ tier });
  const outcome = ADMISSION_OUTCOMES[to];
  if (outcome !== undefined && from !== 'SUSPENDED' && from !== 'ADMITTED') admissionsEnded.inc({ tier, outcome });
}
