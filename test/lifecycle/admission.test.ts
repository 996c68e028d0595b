import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../registry/audit';
import { requestAnchorChallengeUpdate, stateQuery } from '../../workflows/messages';
import {
  approvers,
  clientChain,
  confirmContacts,
  createLifecycleHarness,
  mailsTo,
  refusalCode,
  signup,
  submitAnchor,
  throughAnchor,
  vote,
  waitForStage,
  type LifecycleHarness,
} from '../support/lifecycle';
import { eventually } from '../support/wait';
import { recordHistory } from '../support/histories';

let h: LifecycleHarness;
beforeAll(async () => {
  h = await createLifecycleHarness();
});
afterAll(async () => h.close());

describe('admission of a LOW-risk application', () => {
  it('goes from signup to a minimal grant bound to the anchor with no human decision', async () => {
    const { handle, applicationId, body } = await signup(h);
    const registered = await waitForStage(handle, 'AWAITING_CONTACTS');
    expect(registered.tier).toBe('LOW');
    expect(registered.risk.reasons.length).toBeGreaterThan(0);

    // No credential exists before all three contacts have confirmed.
    await confirmContacts(h, handle, body, ['business', 'technical']);
    expect((await handle.query(stateQuery)).stage).toBe('AWAITING_CONTACTS');
    expect(await h.stack.registry.clientCredential.count({ where: { applicationId } })).toBe(0);
    await confirmContacts(h, handle, body, ['security']);
    await waitForStage(handle, 'AWAITING_ANCHOR');
    await eventually(async () => ((await mailsTo(body.contacts.technical.email)).some((m) => /trust anchor/i.test(m.subject)) ? true : undefined));

    const attempt = await submitAnchor(handle, { kind: 'x509', certificateChainPem: await clientChain(h, `CN=${applicationId}`) });
    expect(attempt).toMatchObject({ ok: true, kind: 'x509', reasons: [] });

    const admitted = await waitForStage(handle, 'ADMITTED');
    expect(admitted.grant?.scopes).toEqual(['accounts:read']);
    expect(admitted.grant?.conditions).toMatchObject({ environments: ['sandbox'] });
    expect(admitted.approval).toBeNull();
    expect(admitted.triggers.map((t) => t.kind)).toEqual(expect.arrayContaining(['contract-end', 'inactivity', 'anchor-reverification']));
    expect(admitted.probationEndsAt).not.toBeNull();

    const anchor = await h.stack.registry.trustAnchor.findFirstOrThrow({ where: { applicationId } });
    expect(anchor.fingerprint).toBe(admitted.anchor?.fingerprint);
    const credential = await h.stack.registry.clientCredential.findFirstOrThrow({ where: { applicationId } });
    expect(credential).toMatchObject({ anchorFingerprint: anchor.fingerprint, confirmationMethod: 'x5t#S256', status: 'ACTIVE' });
    expect(credential.clientId).toBe(admitted.grant?.clientId);
    const grant = await h.stack.registry.grant.findFirstOrThrow({ where: { applicationId } });
    expect(grant).toMatchObject({ status: 'ACTIVE', scopes: ['accounts:read'], tier: 'LOW', approvedBy: [] });
    expect((await h.stack.registry.application.findUniqueOrThrow({ where: { id: applicationId } })).status).toBe('ADMITTED');

    const events = (await h.stack.registry.auditEvent.findMany({ where: { applicationId }, orderBy: { seq: 'asc' } })).map((e) => e.type);
    expect(events).toEqual(
      expect.arrayContaining(['application.registered', 'contact.confirmed', 'anchor.bound', 'admission.approved', 'access.granted']),
    );
    expect((await verifyAuditChain(h.stack.registry)).ok).toBe(true);
    await eventually(async () => ((await mailsTo(body.contacts.business.email)).some((m) => /admitted/i.test(m.subject)) ? true : undefined));
    await recordHistory(handle, 'low-admitted');
  });
});

describe('trust-anchor verification inside the lifecycle', () => {
  it('tells the technical contact what failed, then accepts a corrected resubmission', async () => {
    const { handle, applicationId, body } = await signup(h);
    await waitForStage(handle, 'AWAITING_CONTACTS');
    await confirmContacts(h, handle, body);
    await waitForStage(handle, 'AWAITING_ANCHOR');

    const expired = await clientChain(h, `CN=${applicationId}-expired`, { notAfter: new Date(Date.now() - 3600_000) });
    const refused = await submitAnchor(handle, { kind: 'x509', certificateChainPem: expired });
    expect(refused.ok).toBe(false);
    expect(refused.reasons.map((r) => r.code)).toContain('CERT_EXPIRED');
    const garbage = await submitAnchor(handle, { kind: 'x509', certificateChainPem: 'not a certificate' });
    expect(garbage.reasons.map((r) => r.code)).toContain('PEM_MALFORMED');
    await eventually(async () => ((await mailsTo(body.contacts.technical.email)).some((m) => /CERT_EXPIRED/.test(m.text)) ? true : undefined));

    const good = await submitAnchor(handle, { kind: 'x509', certificateChainPem: await clientChain(h, `CN=${applicationId}`) });
    expect(good.ok).toBe(true);
    const admitted = await waitForStage(handle, 'ADMITTED');
    expect(admitted.anchorAttempts.map((a) => a.ok)).toEqual([false, false, true]);
    expect(await h.stack.registry.auditEvent.count({ where: { applicationId, type: 'anchor.refused' } })).toBe(2);
    await recordHistory(handle, 'anchor-refused-then-resubmitted');
  });

  it('refuses an anchor another participant holds, without saying who', async () => {
    const first = await throughAnchor(h);
    await waitForStage(first.handle, 'ADMITTED');
    const second = await signup(h);
    await waitForStage(second.handle, 'AWAITING_CONTACTS');
    await confirmContacts(h, second.handle, second.body);
    await waitForStage(second.handle, 'AWAITING_ANCHOR');
    const reused = await h.stack.registry.trustAnchor.findFirstOrThrow({ where: { applicationId: first.applicationId } });
    const attempt = await submitAnchor(second.handle, {
      kind: 'x509',
      certificateChainPem: String((reused.material as { chainPem: string }).chainPem),
    });
    expect(attempt.ok).toBe(false);
    expect(attempt.reasons.map((r) => r.code)).toEqual(['ANCHOR_IN_USE']);
    expect(JSON.stringify(attempt)).not.toContain(first.applicationId);
    expect(JSON.stringify(attempt)).not.toContain(first.body.organisation.legalName);
  });

  it('refuses anchor kinds too weak for the tier, and assertions without a challenge', async () => {
    const { handle, body } = await signup(h, { regulatedSector: true });
    await waitForStage(handle, 'AWAITING_CONTACTS');
    await confirmContacts(h, handle, body);
    await waitForStage(handle, 'AWAITING_ANCHOR');
    expect(await refusalCode(submitAnchor(handle, { kind: 'jwk', jwks: { keys: [] }, assertion: 'x.y.z' }))).toBe('ANCHOR_KIND_NOT_ALLOWED');

    const low = await signup(h);
    await waitForStage(low.handle, 'AWAITING_CONTACTS');
    await confirmContacts(h, low.handle, low.body);
    await waitForStage(low.handle, 'AWAITING_ANCHOR');
    expect(await refusalCode(submitAnchor(low.handle, { kind: 'jwk', jwks: { keys: [] }, assertion: 'x.y.z' }))).toBe('CHALLENGE_MISSING');
    const challenge = await low.handle.executeUpdate(requestAnchorChallengeUpdate, { args: [] });
    expect(challenge.nonce.length).toBeGreaterThanOrEqual(32);
    expect(challenge.audience).toBe(h.stack.config.anchorAudience);
  });
});

describe('admission that needs people', () => {
  it('MEDIUM: one approver decides; the requester, strangers and non-approvers are refused', async () => {
    const { handle, applicationId, body } = await throughAnchor(h, {
      requestedScopes: ['accounts:read', 'webhooks:manage'],
      requestedBy: approvers.sam.email,
    });
    const waiting = await waitForStage(handle, 'AWAITING_APPROVAL');
    expect(waiting.tier).toBe('MEDIUM');
    expect(waiting.approval).toMatchObject({ purpose: 'admission', required: 1, votes: [] });
    await eventually(async () => ((await mailsTo(approvers.ada.email)).some((m) => m.text.includes(applicationId)) ? true : undefined));

    // Sam submitted the signup: the workflow itself refuses Sam's vote.
    expect(await refusalCode(vote(handle, approvers.sam, 'approve'))).toBe('APPROVER_IS_REQUESTER');
    const stranger = { subject: 'https://idp.example mallory', email: 'mallory@example.com', name: 'Mallory', roles: ['approver'] };
    expect(await refusalCode(vote(handle, stranger, 'approve'))).toBe('APPROVER_UNKNOWN');
    expect(await refusalCode(vote(handle, { ...approvers.ada, subject: `${approvers.ada.subject}-forged` }, 'approve'))).toBe('APPROVER_UNKNOWN');
    expect(await refusalCode(vote(handle, approvers.ada, 'reject', ''))).toBe('COMMENT_REQUIRED');

    expect(await vote(handle, approvers.ada, 'approve', 'webhooks are in scope of the contract')).toEqual({ outcome: 'approved' });
    const admitted = await waitForStage(handle, 'ADMITTED');
    expect(admitted.grant?.scopes).toEqual(expect.arrayContaining(['accounts:read']));
    expect(await refusalCode(vote(handle, approvers.rui, 'approve'))).toBe('APPROVAL_STAGE_CLOSED');
    const grant = await h.stack.registry.grant.findFirstOrThrow({ where: { applicationId } });
    expect(grant.approvedBy).toEqual([approvers.ada.subject]);
    const voteEvent = await h.stack.registry.auditEvent.findFirstOrThrow({ where: { applicationId, type: 'admission.vote' } });
    expect(voteEvent.actor).toBe(approvers.ada.subject);
    expect(body.requestedBy).toBe(approvers.sam.email);
    await recordHistory(handle, 'medium-approved-after-refused-votes');
  });

  it('refuses a person in the directory without the approver role', async () => {
    const viewer = { subject: 'http://localhost:3000/dev-idp viewer', email: 'viewer@admit.localhost', name: 'Val Viewer', roles: ['viewer'] };
    await h.stack.registry.approver.create({ data: { subject: viewer.subject, email: viewer.email, name: viewer.name, roles: ['viewer'] } });
    const { handle } = await throughAnchor(h, { requestedScopes: ['accounts:read', 'webhooks:manage'] });
    await waitForStage(handle, 'AWAITING_APPROVAL');
    // The session may claim any roles: the workflow trusts its directory snapshot, not the caller.
    expect(await refusalCode(vote(handle, { ...viewer, roles: ['approver'] }, 'approve'))).toBe('APPROVER_NOT_AUTHORISED');
  });

  it('REGULATED: two distinct approvers, one a security reviewer; a second vote by the same person is refused', async () => {
    const { handle, applicationId } = await throughAnchor(h, { regulatedSector: true, requestedScopes: ['accounts:read', 'payments:initiate'] });
    const waiting = await waitForStage(handle, 'AWAITING_APPROVAL');
    expect(waiting.tier).toBe('REGULATED');
    expect(waiting.approval?.required).toBe(2);
    expect(waiting.waitingFor).toMatch(/security reviewer/);

    expect(await vote(handle, approvers.ada, 'approve', 'contract checked')).toEqual({ outcome: 'pending' });
    expect(await refusalCode(vote(handle, approvers.ada, 'approve', 'again'))).toBe('APPROVER_ALREADY_VOTED');
    // Sam would complete the stage without a security reviewer.
    expect(await refusalCode(vote(handle, approvers.sam, 'approve', 'fine'))).toBe('SECURITY_REVIEWER_REQUIRED');
    expect((await handle.query(stateQuery)).approval?.votes).toHaveLength(1);
    expect(await vote(handle, approvers.rui, 'approve', 'anchor and scopes reviewed')).toEqual({ outcome: 'approved' });

    const admitted = await waitForStage(handle, 'ADMITTED');
    expect(admitted.triggers.map((t) => t.kind)).toContain('recertification');
    const grant = await h.stack.registry.grant.findFirstOrThrow({ where: { applicationId } });
    expect(grant.approvedBy.sort()).toEqual([approvers.ada.subject, approvers.rui.subject].sort());
    expect(grant.tier).toBe('REGULATED');
    await recordHistory(handle, 'regulated-two-approvers');
  });

  it('a rejection ends the admission with the approver’s reason, and nothing is granted', async () => {
    const { handle, applicationId, body } = await throughAnchor(h, { requestedScopes: ['accounts:read', 'webhooks:manage'] });
    await waitForStage(handle, 'AWAITING_APPROVAL');
    await vote(handle, approvers.rui, 'reject', 'the purpose does not justify webhooks');
    const rejected = await waitForStage(handle, 'REJECTED');
    expect(rejected.outcome).toMatchObject({ stage: 'REJECTED', trigger: 'approval-rejected', reason: 'the purpose does not justify webhooks' });
    expect(await h.stack.registry.grant.count({ where: { applicationId } })).toBe(0);
    expect((await h.stack.registry.application.findUniqueOrThrow({ where: { id: applicationId } })).status).toBe('REJECTED');
    await eventually(async () => ((await mailsTo(body.contacts.business.email)).some((m) => /webhooks/.test(m.text)) ? true : undefined));
    await expect(handle.result()).resolves.toMatchObject({ stage: 'REJECTED' });
    await recordHistory(handle, 'rejected');
  });
});

describe('contact confirmation links', () => {
  it('refuses a link used twice', async () => {
    const { handle, body } = await signup(h);
    await waitForStage(handle, 'AWAITING_CONTACTS');
    await confirmContacts(h, handle, body, ['business']);
    expect(await refusalCode(confirmContacts(h, handle, body, ['business']))).toBe('CONFIRMATION_USED');
  });

  it('refuses a hash it never issued', async () => {
    const { handle } = await signup(h);
    await waitForStage(handle, 'AWAITING_CONTACTS');
    const { confirmContactUpdate } = await import('../../workflows/messages');
    expect(await refusalCode(handle.executeUpdate(confirmContactUpdate, { args: [{ role: 'security', tokenHash: 'f'.repeat(64) }] }))).toBe(
      'CONFIRMATION_INVALID',
    );
  });
});
