import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  approvers,
  confirmContacts,
  createLifecycleHarness,
  mailedTokens,
  mailsTo,
  signup,
  throughAnchor,
  vote,
  waitForStage,
  type LifecycleHarness,
} from '../support/lifecycle';
import { eventually } from '../support/wait';
import { verifyContactLink } from '../../links/contact-confirmation';
import { recordHistory } from '../support/histories';

// Short, configured durations make the reminder, escalation and expiry timers fire within the test.
let h: LifecycleHarness;
beforeAll(async () => {
  h = await createLifecycleHarness({
    // Long enough for a loaded two-core CI machine to get through the steps before each deadline.
    ADMIT_CONTACT_REMINDER: '3s',
    ADMIT_CONTACT_EXPIRY: '15s',
    ADMIT_APPROVAL_ESCALATION: '3s',
    ADMIT_APPROVAL_EXPIRY: '9s',
  });
});
afterAll(async () => h.close());

describe('contact confirmation that never completes', () => {
  it('reminds with fresh links, then expires the admission and tells the contacts', async () => {
    const { handle, applicationId, body } = await signup(h);
    await waitForStage(handle, 'AWAITING_CONTACTS');
    await confirmContacts(h, handle, body, ['business']);
    // The security contact gets a reminder round with a new link; the first still works until expiry.
    await eventually(async () => ((await mailedTokens(body.contacts.security.email)).length >= 2 ? true : undefined), 20_000, 'a reminder');
    expect((await mailedTokens(body.contacts.business.email)).length).toBe(1);

    const expired = await waitForStage(handle, 'EXPIRED', 40_000);
    expect(expired.outcome).toMatchObject({ stage: 'EXPIRED', trigger: 'contact-expiry' });
    expect(expired.outcome?.reason).toMatch(/technical, security/);
    expect((await h.stack.registry.application.findUniqueOrThrow({ where: { id: applicationId } })).status).toBe('EXPIRED');
    await eventually(async () =>
      (await mailsTo(body.contacts.business.email)).some((m) => /did not confirm in time/i.test(m.subject)) ? true : undefined,
    );
    // The technical contact's link has expired with the admission: the page refuses it before any workflow sees it.
    const [technicalLink] = await mailedTokens(body.contacts.technical.email);
    expect(await verifyContactLink(h.stack.linkSecret, technicalLink ?? '')).toEqual({ ok: false, reason: 'expired' });
    await expect(handle.result()).resolves.toMatchObject({ stage: 'EXPIRED' });
    await recordHistory(handle, 'contacts-expired');
  });
});

describe('an approval nobody gives', () => {
  it('escalates to the approvers, then expires; late votes are refused', async () => {
    const { handle, applicationId } = await throughAnchor(h, { requestedScopes: ['accounts:read', 'webhooks:manage'] });
    await waitForStage(handle, 'AWAITING_APPROVAL');
    await eventually(
      async () => ((await mailsTo(approvers.rui.email)).some((m) => m.text.includes(applicationId) && /escalat/i.test(m.subject)) ? true : undefined),
      30_000,
      'the escalation mail',
    );
    const expired = await waitForStage(handle, 'EXPIRED', 40_000);
    expect(expired.outcome).toMatchObject({ trigger: 'approval-expiry' });
    expect(await h.stack.registry.grant.count({ where: { applicationId } })).toBe(0);
    // The lifecycle has closed: a late vote finds nothing to decide.
    await expect(vote(handle, approvers.ada, 'approve', 'too late')).rejects.toThrow();
    await recordHistory(handle, 'approval-escalated-then-expired');
  });
});
