import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDevelopmentApprovers } from '../../stack/dev-approvers';
import type { NotificationTemplate } from '../../activities/contract';
import { auditEvents, createActivityHarness, mailTo, messageIdOf, registerTestApplication, type ActivityHarness } from '../support/activities';

let harness: ActivityHarness;
beforeAll(async () => {
  harness = await createActivityHarness();
});
afterAll(async () => harness.close());

describe('notify', () => {
  it('mails the named contacts a specific message, with the data as escaped details', async () => {
    const app = await registerTestApplication(harness.activities);
    await harness.activities.notify({
      applicationId: app.applicationId,
      to: ['business', 'security'],
      template: 'admission-rejected',
      data: { reason: 'Purpose <b>unclear</b> & "vague"', decidedAt: '2026-12-04T09:30:00.000Z', scopes: ['accounts:read'] },
      idempotencyKey: `${app.workflowId}:notify:rejected`,
    });
    const [business] = await mailTo(app.signup.contacts.business.email);
    expect(business?.subject).toBe(`The admission of ${app.signup.application.name} (sandbox) was rejected`);
    expect(business?.text).toContain('Hello Bea Business,');
    expect(business?.text).toContain('Reason: Purpose <b>unclear</b> & "vague"');
    expect(business?.text).toContain('Decided at: 2026-12-04 09:30 UTC');
    expect(business?.text).toContain(`https://admit.test/applications/${app.applicationId}`);
    expect(business?.html).toContain('Purpose &#60;b&#62;unclear&#60;/b&#62; &#38; &#34;vague&#34;');
    expect(business?.html).not.toContain('<b>unclear</b>');
    expect(await mailTo(app.signup.contacts.security.email)).toHaveLength(1);
    expect(await mailTo(app.signup.contacts.technical.email)).toEqual([]);

    const [event] = await auditEvents(harness.registry, app.applicationId, 'notification.sent');
    expect(event).toMatchObject({
      idempotencyKey: `notify:${app.workflowId}:notify:rejected`,
      data: { template: 'admission-rejected', recipients: 2 },
    });
    // Addresses stay out of the append-only log.
    expect(JSON.stringify(event?.data)).not.toContain('@');
  });

  it('mails every active approver for `approvers`', async () => {
    const enrolled = await seedDevelopmentApprovers(harness.registry, 'http://localhost:3000');
    const app = await registerTestApplication(harness.activities);
    const key = `${app.workflowId}:notify:approval-requested`;
    await harness.activities.notify({
      applicationId: app.applicationId,
      to: ['approvers'],
      template: 'approval-requested',
      data: { tier: 'HIGH', score: 21, scopes: ['accounts:read', 'payments:initiate'] },
      idempotencyKey: key,
    });
    for (const approver of enrolled) {
      const mails = (await mailTo(approver.email)).filter((m) => m.text.includes(app.applicationId));
      expect(mails.map((m) => m.subject)).toEqual([`Approval needed: ${app.signup.application.name} (sandbox) (HIGH)`]);
      expect(mails[0]?.text).toContain('Scopes: accounts:read, payments:initiate');
    }
  });

  it('sends nothing twice on a retry, and after a partial failure only to those not yet reached', async () => {
    const app = await registerTestApplication(harness.activities);
    const input = {
      applicationId: app.applicationId,
      to: ['business' as const, 'technical' as const, 'security' as const],
      template: 'offboarded' as const,
      data: { trigger: 'manual', reason: 'Contract terminated' },
      idempotencyKey: `${app.workflowId}:notify:offboarded`,
    };
    // As if a first attempt reached the business owner and then died.
    await harness.registry.notificationDelivery.create({
      data: {
        idempotencyKey: input.idempotencyKey,
        applicationId: app.applicationId,
        template: 'offboarded',
        recipient: app.signup.contacts.business.email.toLowerCase(),
        messageId: '<earlier@admit.test>',
        sentAt: new Date(),
        acceptedAt: new Date(),
      },
    });
    await harness.activities.notify(input);
    await harness.activities.notify(input);
    expect(await mailTo(app.signup.contacts.business.email)).toEqual([]);
    const technical = await mailTo(app.signup.contacts.technical.email);
    expect(technical).toHaveLength(1);
    expect(await mailTo(app.signup.contacts.security.email)).toHaveLength(1);
    expect(await harness.registry.notificationDelivery.count({ where: { idempotencyKey: input.idempotencyKey } })).toBe(3);
    expect(await auditEvents(harness.registry, app.applicationId, 'notification.sent')).toHaveLength(1);
    const recorded = await harness.registry.notificationDelivery.findFirstOrThrow({
      where: { idempotencyKey: input.idempotencyKey, recipient: app.signup.contacts.technical.email.toLowerCase() },
    });
    expect(await messageIdOf(technical[0]!)).toBe(recorded.messageId);
  });

  it('records each delivery in the outbox before mailing it, and sends an unaccepted one again with the same Message-ID', async () => {
    const app = await registerTestApplication(harness.activities);
    const input = {
      applicationId: app.applicationId,
      to: ['technical' as const],
      template: 'offboarded' as const,
      data: { trigger: 'manual', reason: 'Contract terminated' },
      idempotencyKey: `${app.workflowId}:notify:outbox`,
    };
    const recipient = app.signup.contacts.technical.email.toLowerCase();
    // As if an attempt wrote its outbox row and died before the SMTP server answered.
    await harness.registry.notificationDelivery.create({
      data: {
        idempotencyKey: input.idempotencyKey,
        applicationId: app.applicationId,
        template: 'offboarded',
        recipient,
        messageId: '<unconfirmed@admit.test>',
        sentAt: new Date(),
      },
    });
    await harness.activities.notify(input);
    const mails = await mailTo(app.signup.contacts.technical.email);
    expect(mails).toHaveLength(1);
    const row = await harness.registry.notificationDelivery.findFirstOrThrow({ where: { idempotencyKey: input.idempotencyKey, recipient } });
    expect(row.acceptedAt).not.toBeNull();
    // The outbox row is the first attempt's, and the copy sent again carries its Message-ID.
    expect(row.messageId).toBe('<unconfirmed@admit.test>');
    expect(await messageIdOf(mails[0]!)).toBe('<unconfirmed@admit.test>');
    await harness.activities.notify(input);
    expect(await mailTo(app.signup.contacts.technical.email)).toHaveLength(1);
  });

  it('renders every template with a subject naming the application', async () => {
    const app = await registerTestApplication(harness.activities, { name: 'Template Tour' });
    const templates: NotificationTemplate[] = [
      'contacts-expired',
      'anchor-requested',
      'anchor-refused',
      'approval-requested',
      'approval-escalated',
      'admission-rejected',
      'admission-expired',
      'admitted',
      'expansion-decided',
      'anchor-expiring',
      'suspended',
      'reinstated',
      'contract-ending',
      'recertification-due',
      'offboarded',
    ];
    for (const template of templates) {
      await harness.activities.notify({
        applicationId: app.applicationId,
        to: ['technical'],
        template,
        data: { note: template },
        idempotencyKey: `tour:${app.applicationId}:${template}`,
      });
    }
    const mails = await mailTo(app.signup.contacts.technical.email);
    expect(mails).toHaveLength(templates.length);
    expect(new Set(mails.map((m) => m.subject)).size).toBe(templates.length);
    for (const mail of mails) expect(mail.subject).toContain('Template Tour (sandbox)');
  });

  it('records a notification nobody could receive instead of failing the lifecycle', async () => {
    const empty = await createActivityHarness();
    try {
      const app = await registerTestApplication(empty.activities);
      await empty.activities.notify({
        applicationId: app.applicationId,
        to: ['approvers'],
        template: 'approval-escalated',
        data: {},
        idempotencyKey: `${app.workflowId}:esc`,
      });
      expect(await auditEvents(empty.registry, app.applicationId, 'notification.undeliverable')).toHaveLength(1);
    } finally {
      await empty.close();
    }
  });

  it('refuses unknown templates and recipients without retrying', async () => {
    const app = await registerTestApplication(harness.activities);
    const base = { applicationId: app.applicationId, data: {}, idempotencyKey: `${app.workflowId}:bad` };
    await expect(harness.activities.notify({ ...base, to: ['business'], template: 'welcome' as never })).rejects.toMatchObject({
      type: 'InvalidActivityInput',
      nonRetryable: true,
    });
    await expect(harness.activities.notify({ ...base, to: ['cfo' as never], template: 'admitted' })).rejects.toMatchObject({
      type: 'InvalidActivityInput',
    });
    expect(await mailTo(app.signup.contacts.business.email)).toEqual([]);
  });
});
