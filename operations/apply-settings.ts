import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { LifecycleSettings } from '../domain/settings';
import { applySettingsUpdate } from '../workflows/messages';

/** Which lifecycles an operator's change reaches unless a narrower query is given. */
export const RUNNING_LIFECYCLES = `WorkflowType = 'partnerLifecycle' AND ExecutionStatus = 'Running'`;

export interface SettingsRollout {
  /** Lifecycles whose settings changed. */
  applied: number;
  /** Lifecycles that already had these settings. */
  unchanged: number;
  /** Lifecycles that refused (closing, still registering…), with their reasons. */
  refused: { workflowId: string; code: string; message: string }[];
}

/**
 * Sends `applySettings` to every running lifecycle the visibility query
 * selects, `batchSize` at a time, so a fleet of partners is updated without
 * flooding the frontend. Each lifecycle validates the settings itself; one
 * that refuses is reported, not retried. Safe to run again: a lifecycle that
 * already has the settings records nothing.
 */
export async function applySettingsToRunningLifecycles(
  temporal: Client,
  options: { settings: LifecycleSettings; by: string; query?: string; batchSize?: number; onProgress?: (done: number) => void },
): Promise<SettingsRollout> {
  const batchSize = options.batchSize ?? 20;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  const query = options.query === undefined ? RUNNING_LIFECYCLES : `${RUNNING_LIFECYCLES} AND (${options.query})`;
  const rollout: SettingsRollout = { applied: 0, unchanged: 0, refused: [] };
  const apply = async (workflowId: string): Promise<void> => {
    try {
      const result = await temporal.workflow
        .getHandle(workflowId)
        .executeUpdate(applySettingsUpdate, { args: [{ settings: options.settings, by: options.by }] });
      if (result.changed.length > 0) rollout.applied += 1;
      else rollout.unchanged += 1;
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
        rollout.refused.push({ workflowId, code: error.cause.type ?? 'REFUSED', message: error.cause.message });
      } else if (error instanceof WorkflowNotFoundError) {
        // Closed between the listing and the update: nothing left to change.
      } else {
        throw error;
      }
    }
  };
  let batch: string[] = [];
  let done = 0;
  const flush = async (): Promise<void> => {
    await Promise.all(batch.map(apply));
    done += batch.length;
    batch = [];
    options.onProgress?.(done);
  };
  for await (const execution of temporal.workflow.list({ query })) {
    batch.push(execution.workflowId);
    if (batch.length >= batchSize) await flush();
  }
  if (batch.length > 0) await flush();
  return rollout;
}
