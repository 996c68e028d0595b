import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVELOPMENT_APPROVERS, DEVELOPMENT_IDP_ISSUER, seedDevelopmentApprovers } from '../../activities/approvers';
import { validateVote, openApprovalStage } from '../../domain/approval';
import { createActivityHarness, type ActivityHarness } from '../support/activities';

let harness: ActivityHarness;
beforeAll(async () => {
  harness = await createActivityHarness();
});
afterAll(async () => harness.close());

describe('development approvers', () => {
  it('are Ada, Rui (also a security reviewer) and Sam, with subjects of the development identity provider', () => {
    expect(DEVELOPMENT_APPROVERS.map((a) => [a.name, a.subject, a.roles])).toEqual([
      ['Ada Approver', `${DEVELOPMENT_IDP_ISSUER} ada`, ['approver']],
      ['Rui Reviewer', 'http://localhost:3000/dev-idp rui', ['approver', 'security-reviewer']],
      ['Sam Second', `${DEVELOPMENT_IDP_ISSUER} sam`, ['approver']],
    ]);
  });

  it('are seeded idempotently, with evidence of each enrolment', async () => {
    await seedDevelopmentApprovers(harness.registry);
    await seedDevelopmentApprovers(harness.registry);
    const rows = await harness.registry.approver.findMany({ orderBy: { subject: 'asc' } });
    expect(rows.map((r) => [r.subject, r.email, r.active])).toEqual(DEVELOPMENT_APPROVERS.map((a) => [a.subject, a.email, true]));
    expect(await harness.registry.auditEvent.count({ where: { type: 'approver.enrolled' } })).toBe(3);
  });
});

describe('loadApproverDirectory', () => {
  it('lists the active approvers keyed by subject, in a form the approval rules accept', async () => {
    await seedDevelopmentApprovers(harness.registry);
    await harness.registry.approver.create({
      data: { subject: 'https://idp.example gone', email: 'gone@example.com', name: 'Gone', roles: ['approver'], active: false },
    });
    const directory = await harness.activities.loadApproverDirectory();
    expect(directory).toEqual(DEVELOPMENT_APPROVERS.map((a) => ({ approverId: a.subject, email: a.email, roles: [...a.roles] })));

    const stage = openApprovalStage({ tier: 'MEDIUM', requesterEmails: ['someone@partner.example'] });
    const vote = { approverId: `${DEVELOPMENT_IDP_ISSUER} ada`, decision: 'approve' as const, comment: '', at: '2026-12-01T00:00:00Z' };
    expect(validateVote(stage, vote, directory)).toMatchObject({ ok: true });
    expect(validateVote(stage, { ...vote, approverId: 'https://idp.example gone' }, directory)).toMatchObject({ ok: false, refusal: { code: 'APPROVER_UNKNOWN' } });
  });
});
