import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../registry/audit';
import { auditEvents, createActivityHarness, registerTestApplication, type ActivityHarness } from '../support/activities';

let harness: ActivityHarness;
beforeAll(async () => {
  harness = await createActivityHarness();
});
afterAll(async () => harness.close());

describe('recordAudit', () => {
  it('appends the event under the application and its organisation, once per key', async () => {
    const app = await registerTestApplication(harness.activities);
    const input = {
      applicationId: app.applicationId,
      idempotencyKey: `${app.workflowId}:vote:approver-1`,
      type: 'admission.vote' as const,
      actor: 'https://idp.example approver-1',
      occurredAt: '2026-12-03T12:00:00.000Z',
      data: { decision: 'approve', comment: 'Looks right', nested: { scopes: ['accounts:read'] } },
    };
    await harness.activities.recordAudit(input);
    await harness.activities.recordAudit(input);
    const events = await auditEvents(harness.registry, app.applicationId, 'admission.vote');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ organisationId: app.organisationId, actor: input.actor, data: input.data });
    expect(events[0]?.occurredAt.toISOString()).toBe(input.occurredAt);
    expect(await verifyAuditChain(harness.registry)).toMatchObject({ ok: true });
  });

  it('refuses, without retrying, events for unknown applications or with unusable fields', async () => {
    const base = { idempotencyKey: 'k', type: 'lifecycle.transition' as const, actor: 'a', occurredAt: '2026-12-03T12:00:00Z', data: {} };
    await expect(harness.activities.recordAudit({ ...base, applicationId: 'app-missing' })).rejects.toMatchObject({
      type: 'ApplicationNotFound',
      nonRetryable: true,
    });
    const app = await registerTestApplication(harness.activities);
    await expect(harness.activities.recordAudit({ ...base, applicationId: app.applicationId, occurredAt: 'yesterday' })).rejects.toMatchObject({
      type: 'InvalidActivityInput',
      nonRetryable: true,
    });
    await expect(harness.activities.recordAudit({ ...base, applicationId: app.applicationId, actor: ' ' })).rejects.toMatchObject({
      type: 'InvalidActivityInput',
    });
    // A type the code does not list (domain/audit-events.ts) is never written: nothing maps it to a control.
    const unlisted = { ...base, applicationId: app.applicationId, type: 'approval.vote' } as unknown as Parameters<
      typeof harness.activities.recordAudit
    >[0];
    await expect(harness.activities.recordAudit(unlisted)).rejects.toMatchObject({ type: 'InvalidActivityInput', nonRetryable: true });
    expect(await harness.registry.auditEvent.count({ where: { idempotencyKey: 'k' } })).toBe(0);
  });
});

describe('recordRisk', () => {
  it('writes tier and score on the application with the explanation as evidence, once under retry', async () => {
    const app = await registerTestApplication(harness.activities);
    const input = {
      applicationId: app.applicationId,
      workflowId: app.workflowId,
      tier: 'MEDIUM' as const,
      score: 12,
      reasons: [{ factor: 'scope', points: 3, detail: 'payees:manage (medium sensitivity)' }],
    };
    await harness.activities.recordRisk(input);
    await harness.activities.recordRisk(input);
    const application = await harness.registry.application.findUniqueOrThrow({ where: { id: app.applicationId } });
    expect([application.tier, application.riskScore]).toEqual(['MEDIUM', 12]);
    const events = await auditEvents(harness.registry, app.applicationId, 'risk.assessed');
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toEqual({ tier: 'MEDIUM', score: 12, reasons: input.reasons });

    // A reassessment is new evidence, not a retry.
    await harness.activities.recordRisk({ ...input, tier: 'HIGH', score: 21 });
    expect(await auditEvents(harness.registry, app.applicationId, 'risk.assessed')).toHaveLength(2);
    expect((await harness.registry.application.findUniqueOrThrow({ where: { id: app.applicationId } })).tier).toBe('HIGH');
  });

  it('refuses a tier that does not exist', async () => {
    const app = await registerTestApplication(harness.activities);
    await expect(
      harness.activities.recordRisk({
        applicationId: app.applicationId,
        workflowId: app.workflowId,
        tier: 'EXTREME' as never,
        score: 1,
        reasons: [],
      }),
    ).rejects.toMatchObject({ type: 'InvalidActivityInput', nonRetryable: true });
  });
});
