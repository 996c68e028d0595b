import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { developmentApproversFor, seedDevelopmentApprovers } from '../../stack/dev-approvers';
import { validateVote, openApprovalStage } from '../../domain/approval';
import { createActivityHarness, type ActivityHarness } from '../support/activities';

const PUBLIC_URL = 'http://localhost:3000';

let harness: ActivityHarness;
beforeAll(async () => {
  harness = await createActivityHarness();
});
afterAll(async () => harness.close());

describe('development approvers', () => {
  it('are Ada, Rui (also a security reviewer) and Sam, with subjects of the development identity provider at the public URL', () => {
    // `npm start`'s default public URL.
    expect(developmentApproversFor('http://localhost:3000').map((a) => [a.name, a.subject, a.roles])).toEqual([
      ['Ada Approver', 'http://localhost:3000/dev-idp ada', ['approver']],
      ['Rui Reviewer', 'http://localhost:3000/dev-idp rui', ['approver', 'security-reviewer']],
      ['Sam Second', 'http://localhost:3000/dev-idp sam', ['approver']],
    ]);
    // Another PORT or ADMIT_PUBLIC_URL moves the issuer with it.
    expect(developmentApproversFor('https://admit.example:8443').map((a) => a.subject)).toEqual([
      'https://admit.example:8443/dev-idp ada',
      'https://admit.example:8443/dev-idp rui',
      'https://admit.example:8443/dev-idp sam',
    ]);
  });

  it('are seeded idempotently, with evidence of each enrolment', async () => {
    const enrolled = await seedDevelopmentApprovers(harness.registry, PUBLIC_URL);
    await seedDevelopmentApprovers(harness.registry, PUBLIC_URL);
    const rows = await harness.registry.approver.findMany({ orderBy: { subject: 'asc' } });
    expect(rows.map((r) => [r.subject, r.email, r.active])).toEqual(enrolled.map((a) => [a.subject, a.email, true]));
    expect(await harness.registry.auditEvent.count({ where: { type: 'approver.enrolled' } })).toBe(3);
  });
});

describe('loadApproverDirectory', () => {
  it('lists the active approvers keyed by subject, in a form the approval rules accept', async () => {
    const enrolled = await seedDevelopmentApprovers(harness.registry, PUBLIC_URL);
    await harness.registry.approver.create({
      data: { subject: 'https://idp.example gone', email: 'gone@example.com', name: 'Gone', roles: ['approver'], active: false },
    });
    const directory = await harness.activities.loadApproverDirectory();
    expect(directory).toEqual(enrolled.map((a) => ({ approverId: a.subject, email: a.email, roles: [...a.roles] })));

    const stage = openApprovalStage({ tier: 'MEDIUM', requesterEmails: ['someone@partner.example'] });
    const vote = { approverId: `${PUBLIC_URL}/dev-idp ada`, decision: 'approve' as const, comment: '', at: '2026-12-01T00:00:00Z' };
    expect(validateVote(stage, vote, directory)).toMatchObject({ ok: true });
    expect(validateVote(stage, { ...vote, approverId: 'https://idp.example gone' }, directory)).toMatchObject({
      ok: false,
      refusal: { code: 'APPROVER_UNKNOWN' },
    });
  });
});
