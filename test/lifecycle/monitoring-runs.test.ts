import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportKeyCompromiseUpdate, stateQuery } from '../../workflows/messages';
import { MONITORING_RUN_EVENTS } from '../../workflows/lifecycle/state';
import { approvers, createLifecycleHarness, throughAnchor, waitForStage, type LifecycleHarness } from '../support/lifecycle';
import { eventually } from '../support/wait';

// The anchor is re-verified every second, so monitoring turns (and the runs' histories) pile up within
// seconds; Temporal's own continue-as-new suggestion stays at its default, far away.
let h: LifecycleHarness;

beforeAll(async () => {
  h = await createLifecycleHarness({ ADMIT_ANCHOR_REVERIFY_EVERY: '1s' });
});
afterAll(async () => h.close());

async function runsOf(workflowId: string): Promise<{ runId: string; historyLength: number; status: string }[]> {
  const runs: { runId: string; historyLength: number; status: string }[] = [];
  for await (const run of h.stack.temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs.push({ runId: run.runId, historyLength: run.historyLength, status: run.status.name });
  }
  return runs;
}

describe('monitoring runs stay short', () => {
  it('continues as new once admitted, and again whenever a run passes its limit, answering messages throughout', async () => {
    const { handle, applicationId } = await throughAnchor(h);
    const admitted = await waitForStage(handle, 'ADMITTED');
    // The admission's run hands over at once; monitoring runs follow as re-verifications fill them.
    const runs = await eventually(
      async () => {
        const all = await runsOf(handle.workflowId);
        return all.filter((r) => r.status === 'CONTINUED_AS_NEW').length >= 3 ? all : undefined;
      },
      60_000,
      'three continued runs',
    );
    const monitoring = runs.filter((r) => r.status === 'CONTINUED_AS_NEW').sort((a, b) => a.historyLength - b.historyLength);
    // Every run but the admission's ends within one turn of the limit.
    expect(monitoring.slice(0, -1).every((r) => r.historyLength <= MONITORING_RUN_EVENTS + 25)).toBe(true);
    expect(monitoring.at(-1)?.historyLength ?? 0).toBeGreaterThan(MONITORING_RUN_EVENTS);

    const current = h.stack.temporal.workflow.getHandle(handle.workflowId);
    const carried = await current.query(stateQuery);
    expect(carried.stage).toBe('ADMITTED');
    expect(carried.grant).toEqual(admitted.grant);
    expect(carried.transitions).toEqual(admitted.transitions);
    expect((await current.fetchHistory()).events?.length ?? 0).toBeLessThanOrEqual(MONITORING_RUN_EVENTS + 25);

    await current.executeUpdate(reportKeyCompromiseUpdate, { args: [{ reportedBy: approvers.rui, detail: 'leaked' }] });
    await expect(current.result()).resolves.toMatchObject({ stage: 'OFFBOARDED' });
    expect(await h.stack.registry.grant.count({ where: { applicationId, status: 'REVOKED' } })).toBe(1);
  });
});
