import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../registry/audit';
import { createActivityHarness, registerTestApplication, type ActivityHarness } from '../support/activities';

let harness: ActivityHarness;
beforeAll(async () => {
  harness = await createActivityHarness();
});
afterAll(async () => harness.registry.$disconnect());

describe('a released application id claimed again', () => {
  it('gets a new audit chain; the released claim’s chain keeps its events and is superseded', async () => {
    const first = await registerTestApplication(harness.activities);
    // The first claim ends unverified (never admitted): the id is released.
    await harness.registry.application.update({ where: { id: first.applicationId }, data: { status: 'EXPIRED', closedAt: new Date() } });
    await harness.activities.registerApplication({
      applicationId: first.applicationId,
      workflowId: `${first.workflowId}#2`,
      signup: first.signup,
      submittedAt: '2026-12-02T08:00:00Z',
    });
    const chains = await harness.registry.auditChain.findMany({
      where: { applicationId: first.applicationId },
      orderBy: { position: 'asc' },
      include: { events: { orderBy: { chainSeq: 'asc' } } },
    });
    expect(chains).toHaveLength(2);
    const [released, current] = chains;
    expect(released?.supersededAt).not.toBeNull();
    expect(current?.supersededAt).toBeNull();
    expect(released?.events.map((e) => [e.chainSeq, e.idempotencyKey])).toEqual([[1, `${first.workflowId}:registered`]]);
    expect(current?.events.map((e) => [e.chainSeq, e.idempotencyKey, (e.data as { reclaimed?: unknown }).reclaimed])).toEqual([
      [1, `${first.workflowId}#2:registered`, { previousStatus: 'EXPIRED' }],
    ]);
    // A retry of the reclaim writes nothing and opens no third chain.
    await harness.activities.registerApplication({
      applicationId: first.applicationId,
      workflowId: `${first.workflowId}#2`,
      signup: first.signup,
      submittedAt: '2026-12-02T08:00:00Z',
    });
    expect(await harness.registry.auditChain.count({ where: { applicationId: first.applicationId } })).toBe(2);
    expect(await verifyAuditChain(harness.registry)).toMatchObject({ ok: true });
  });
});
