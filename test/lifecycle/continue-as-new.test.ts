import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startTemporalDevServer, type TemporalDevServer } from '../../stack/temporal';
import { reportKeyCompromiseUpdate, stateQuery } from '../../workflows/messages';
import { approvers, createLifecycleHarness, throughAnchor, waitForStage, type LifecycleHarness } from '../support/lifecycle';
import { eventually } from '../support/wait';
import { recordHistory } from '../support/histories';

// A server of our own that suggests continue-as-new after very few history events,
// so the admitted loop hands its state over within seconds instead of months.
const HISTORY_LIMIT = 60;
let server: TemporalDevServer;
let h: LifecycleHarness;

beforeAll(async () => {
  server = await startTemporalDevServer({
    headless: true,
    cliPath: inject('temporalCliPath'),
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': HISTORY_LIMIT },
  });
  h = await createLifecycleHarness({ ADMIT_ANCHOR_REVERIFY_EVERY: '1s' }, { temporalAddress: server.address });
});
afterAll(async () => {
  await h.close();
  await server.stop();
});

describe('a lifecycle that lives for years', () => {
  it('continues as new when Temporal suggests it, carrying its whole state, and still answers messages', async () => {
    const { handle, applicationId } = await throughAnchor(h);
    const admitted = await waitForStage(handle, 'ADMITTED');
    const first = await handle.describe();

    const later = await eventually(
      async () => {
        const description = await h.stack.temporal.workflow.getHandle(handle.workflowId).describe();
        return description.runId !== first.runId && description.historyLength > 0 ? description : undefined;
      },
      30_000,
      'a continued run',
    );
    expect(later.status.name).toBe('RUNNING');
    await recordHistory(h.stack.temporal.workflow.getHandle(handle.workflowId, first.runId), 'continued-as-new');

    const current = h.stack.temporal.workflow.getHandle(handle.workflowId);
    const carried = await current.query(stateQuery);
    expect(carried.stage).toBe('ADMITTED');
    expect(carried.grant).toEqual(admitted.grant);
    expect(carried.anchor?.fingerprint).toBe(admitted.anchor?.fingerprint);
    // The triggers are carried; the anchor's re-verification (every second here) may have run again in
    // between, which moves its due date forward, never back.
    const reverification = (t: typeof admitted.triggers) => t.find((trigger) => trigger.kind === 'anchor-reverification');
    const steady = (t: typeof admitted.triggers) =>
      t.map((trigger) => (trigger.kind === 'anchor-reverification' ? { ...trigger, dueAt: null } : trigger));
    expect(steady(carried.triggers)).toEqual(steady(admitted.triggers));
    expect(Date.parse(reverification(carried.triggers)?.dueAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(reverification(admitted.triggers)?.dueAt ?? ''),
    );
    expect(carried.transitions.slice(0, admitted.transitions.length)).toEqual(admitted.transitions);

    // Each run keeps a short history.
    const history = await current.fetchHistory();
    expect(history.events?.length ?? 0).toBeLessThan(HISTORY_LIMIT * 3);

    await current.executeUpdate(reportKeyCompromiseUpdate, { args: [{ reportedBy: approvers.rui, detail: 'leaked' }] });
    await expect(current.result()).resolves.toMatchObject({ stage: 'OFFBOARDED' });
    expect(await h.stack.registry.grant.count({ where: { applicationId, status: 'REVOKED' } })).toBe(1);
  });
});
