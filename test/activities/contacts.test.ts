import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyContactLink } from '../../links/contact-confirmation';
import { verifyAuditChain } from '../../registry/audit';
import { auditEvents, createActivityHarness, mailTo, messageIdOf, registerTestApplication, type ActivityHarness } from '../support/activities';

let harness: ActivityHarness;
beforeAll(async () => {
  harness = await createActivityHarness();
});
afterAll(async () => harness.close());

const inAWeek = () => new Date(Date.now() + 7 * 86_400_000).toISOString();

function linkIn(text: string): string {
  const match = /https:\/\/admit\.test\/confirm\/([A-Za-z0-9._-]+)/.exec(text);
  if (match?.[1] === undefined) throw new Error(`no confirmation link in:\n${text}`);
  return match[1];
}

describe('sendContactConfirmations', () => {
  it('mails each role a signed link naming the application, role and expiry, and stores only its hash', async () => {
    const app = await registerTestApplication(harness.activities);
    const expiresAt = inAWeek();
    const sent = await harness.activities.sendContactConfirmations({
      applicationId: app.applicationId,
      roles: ['business', 'technical', 'security'],
      round: 0,
      expiresAt,
    });
    expect(sent.map((s) => s.role)).toEqual(['business', 'technical', 'security']);

    const rows = await harness.registry.contactConfirmation.findMany({ where: { applicationId: app.applicationId }, orderBy: { role: 'asc' } });
    expect(rows.map((r) => [r.role, r.round, r.usedAt])).toEqual([
      ['BUSINESS', 0, null],
      ['TECHNICAL', 0, null],
      ['SECURITY', 0, null],
    ]);
    for (const row of rows) expect(row.expiresAt.toISOString()).toBe(new Date(expiresAt).toISOString());

    const [message, ...others] = await mailTo(app.signup.contacts.security.email);
    expect(others).toEqual([]);
    expect(message?.subject).toBe(`Confirm you are the security contact of ${app.signup.application.name} (sandbox)`);
    expect(message?.text).toContain(app.signup.organisation.legalName);
    expect(message?.text).toContain(`expires at ${expiresAt.slice(0, 16).replace('T', ' ')} UTC`);
    const token = linkIn(message?.text ?? '');
    expect(message?.html).toContain(`href="https://admit.test/confirm/${token}"`);

    const check = await verifyContactLink(harness.linkSecret, token);
    expect(check).toEqual({
      ok: true,
      claims: { applicationId: app.applicationId, role: 'security', round: 0 },
      tokenHash: sent.find((s) => s.role === 'security')?.tokenHash,
    });
    expect(rows.find((r) => r.role === 'SECURITY')?.tokenHash).toBe(check.ok ? check.tokenHash : undefined);
    // Only the hash is kept: the token itself is nowhere in the registry.
    expect(JSON.stringify(await harness.registry.contactConfirmation.findMany())).not.toContain(token);
    expect(JSON.stringify((await auditEvents(harness.registry, app.applicationId)).map((e) => e.data))).not.toContain(token);
    expect(await messageIdOf(message!)).toMatch(/^<contact\..+@admit\.test>$/);
  });

  it('on a retry after the worker died between sending and recording it, re-sends the same link with the same Message-ID, and the first mail’s link confirms', async () => {
    const app = await registerTestApplication(harness.activities);
    const input = { applicationId: app.applicationId, workflowId: app.workflowId, roles: ['technical' as const], round: 0, expiresAt: inAWeek() };
    const [first] = await harness.activities.sendContactConfirmations(input);
    const outbox = { idempotencyKey: `${app.workflowId}:contact-link:technical:0`, recipient: app.signup.contacts.technical.email.toLowerCase() };
    const recorded = await harness.registry.notificationDelivery.findUniqueOrThrow({ where: { idempotencyKey_recipient: outbox } });
    expect(recorded).toMatchObject({ applicationId: app.applicationId, template: 'contact-confirmation' });
    expect(recorded.acceptedAt).not.toBeNull();
    // The state a crash between the SMTP answer and the outbox update leaves behind.
    await harness.registry.notificationDelivery.update({ where: { id: recorded.id }, data: { acceptedAt: null } });
    const [second] = await harness.activities.sendContactConfirmations(input);

    expect(second?.tokenHash).toBe(first?.tokenHash);
    const rows = await harness.registry.contactConfirmation.findMany({ where: { applicationId: app.applicationId } });
    expect(rows.map((r) => r.tokenHash)).toEqual([first?.tokenHash]);
    const mails = await mailTo(app.signup.contacts.technical.email);
    expect(mails).toHaveLength(2);
    const [firstToken, secondToken] = mails.map((m) => linkIn(m.text ?? ''));
    expect(secondToken).toBe(firstToken);
    expect(mails[1]?.html).toBe(mails[0]?.html);
    const ids = await Promise.all(mails.map(messageIdOf));
    expect(ids[1]).toBe(ids[0]);
    expect(ids[0]).toBe(recorded.messageId);
    expect(
      (await harness.registry.notificationDelivery.findUniqueOrThrow({ where: { idempotencyKey_recipient: outbox } })).acceptedAt,
    ).not.toBeNull();
    expect(await auditEvents(harness.registry, app.applicationId, 'contact.confirmation-sent')).toHaveLength(1);

    // The first mail's link is the one the registry (and the workflow, given either attempt's answer) holds.
    const check = await verifyContactLink(harness.linkSecret, firstToken!);
    expect(check).toMatchObject({ ok: true, tokenHash: rows[0]?.tokenHash });
    await harness.activities.recordContactConfirmation({
      applicationId: app.applicationId,
      workflowId: app.workflowId,
      role: 'technical',
      tokenHash: check.ok ? check.tokenHash : '',
      confirmedAt: new Date().toISOString(),
    });
    const contact = await harness.registry.contact.findUniqueOrThrow({
      where: { applicationId_role: { applicationId: app.applicationId, role: 'TECHNICAL' } },
    });
    expect(contact.confirmedAt).not.toBeNull();
  });

  it('on a retry after the mail was accepted and recorded, answers the same hash without mailing again', async () => {
    const app = await registerTestApplication(harness.activities);
    const input = { applicationId: app.applicationId, roles: ['business' as const, 'security' as const], round: 0, expiresAt: inAWeek() };
    const first = await harness.activities.sendContactConfirmations(input);
    const second = await harness.activities.sendContactConfirmations(input);
    expect(second).toEqual(first);
    expect(await mailTo(app.signup.contacts.business.email)).toHaveLength(1);
    expect(await mailTo(app.signup.contacts.security.email)).toHaveLength(1);
    expect(await harness.registry.contactConfirmation.count({ where: { applicationId: app.applicationId } })).toBe(2);
  });

  it('mails a later claim of the same application its own links, even where the earlier claim’s were used', async () => {
    const app = await registerTestApplication(harness.activities);
    const expiresAt = inAWeek();
    const base = { applicationId: app.applicationId, roles: ['security' as const], round: 0, expiresAt };
    const [earlier] = await harness.activities.sendContactConfirmations({ ...base, workflowId: app.workflowId });
    await harness.activities.recordContactConfirmation({
      applicationId: app.applicationId,
      workflowId: app.workflowId,
      role: 'security',
      tokenHash: earlier!.tokenHash,
      confirmedAt: new Date().toISOString(),
    });
    const [later] = await harness.activities.sendContactConfirmations({ ...base, workflowId: `${app.workflowId}#2` });
    expect(later?.tokenHash).not.toBe(earlier?.tokenHash);
    const mails = await mailTo(app.signup.contacts.security.email);
    expect(mails).toHaveLength(2);
    const links = mails.map((m) => linkIn(m.text ?? ''));
    expect(links[1]).not.toBe(links[0]);
    expect(await verifyContactLink(harness.linkSecret, links[1]!)).toMatchObject({ ok: true, tokenHash: later?.tokenHash });
    expect(new Set(await Promise.all(mails.map(messageIdOf))).size).toBe(2);
    const rows = await harness.registry.contactConfirmation.findMany({ where: { applicationId: app.applicationId }, orderBy: { sentAt: 'asc' } });
    expect(rows.map((r) => [r.workflowId, r.usedAt === null])).toEqual([
      [app.workflowId, false],
      [`${app.workflowId}#2`, true],
    ]);
    expect(await auditEvents(harness.registry, app.applicationId, 'contact.confirmation-sent')).toHaveLength(2);
  });

  it('sends a reminder round as a new link and says it replaces the earlier one', async () => {
    const app = await registerTestApplication(harness.activities);
    await harness.activities.sendContactConfirmations({ applicationId: app.applicationId, roles: ['business'], round: 0, expiresAt: inAWeek() });
    const [reminder] = await harness.activities.sendContactConfirmations({
      applicationId: app.applicationId,
      roles: ['business'],
      round: 1,
      expiresAt: inAWeek(),
    });
    expect(await harness.registry.contactConfirmation.count({ where: { applicationId: app.applicationId } })).toBe(2);
    const mails = await mailTo(app.signup.contacts.business.email);
    expect(mails[1]?.subject).toMatch(/^Reminder: confirm you are the business owner of /);
    expect(mails[1]?.text).toContain('replaces any link we sent you before');
    const check = await verifyContactLink(harness.linkSecret, linkIn(mails[1]?.text ?? ''));
    expect(check).toMatchObject({ ok: true, claims: { round: 1 }, tokenHash: reminder?.tokenHash });
  });

  it('neither re-sends nor replaces a link that was already used', async () => {
    const app = await registerTestApplication(harness.activities);
    const input = { applicationId: app.applicationId, roles: ['security' as const], round: 0, expiresAt: inAWeek() };
    const [sent] = await harness.activities.sendContactConfirmations(input);
    await harness.activities.recordContactConfirmation({
      applicationId: app.applicationId,
      workflowId: app.workflowId,
      role: 'security',
      tokenHash: sent!.tokenHash,
      confirmedAt: new Date().toISOString(),
    });
    const [again] = await harness.activities.sendContactConfirmations(input);
    expect(again?.tokenHash).toBe(sent?.tokenHash);
    expect(await mailTo(app.signup.contacts.security.email)).toHaveLength(1);
  });

  it('refuses links that would already have expired, and unknown applications, without retrying', async () => {
    const app = await registerTestApplication(harness.activities);
    await expect(
      harness.activities.sendContactConfirmations({
        applicationId: app.applicationId,
        roles: ['business'],
        round: 0,
        expiresAt: '2020-01-01T00:00:00Z',
      }),
    ).rejects.toMatchObject({ type: 'ConfirmationLinkExpired', nonRetryable: true });
    await expect(
      harness.activities.sendContactConfirmations({ applicationId: 'app-nope', roles: ['business'], round: 0, expiresAt: inAWeek() }),
    ).rejects.toMatchObject({ type: 'ApplicationNotFound', nonRetryable: true });
    expect(await mailTo(app.signup.contacts.business.email)).toEqual([]);
  });
});

describe('recordContactConfirmation', () => {
  it('marks the link used and the contact confirmed, with evidence, once however often it is retried', async () => {
    const app = await registerTestApplication(harness.activities);
    const [sent] = await harness.activities.sendContactConfirmations({
      applicationId: app.applicationId,
      roles: ['technical'],
      round: 0,
      expiresAt: inAWeek(),
    });
    const input = {
      applicationId: app.applicationId,
      workflowId: app.workflowId,
      role: 'technical' as const,
      tokenHash: sent!.tokenHash,
      confirmedAt: '2026-12-02T10:00:00.000Z',
    };
    await harness.activities.recordContactConfirmation(input);
    await harness.activities.recordContactConfirmation({ ...input, confirmedAt: '2026-12-02T10:05:00.000Z' });

    const confirmation = await harness.registry.contactConfirmation.findUniqueOrThrow({ where: { tokenHash: sent!.tokenHash } });
    expect(confirmation.usedAt?.toISOString()).toBe('2026-12-02T10:00:00.000Z');
    const contact = await harness.registry.contact.findUniqueOrThrow({
      where: { applicationId_role: { applicationId: app.applicationId, role: 'TECHNICAL' } },
    });
    expect(contact.confirmedAt?.toISOString()).toBe('2026-12-02T10:00:00.000Z');
    const events = await auditEvents(harness.registry, app.applicationId, 'contact.confirmed');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: 'contact:technical', organisationId: app.organisationId, data: { role: 'technical', round: 0 } });
    expect(await verifyAuditChain(harness.registry)).toMatchObject({ ok: true });
  });

  it('refuses a hash that is not this application’s link for that role', async () => {
    const app = await registerTestApplication(harness.activities);
    const [sent] = await harness.activities.sendContactConfirmations({
      applicationId: app.applicationId,
      roles: ['business'],
      round: 0,
      expiresAt: inAWeek(),
    });
    const base = { applicationId: app.applicationId, workflowId: app.workflowId, confirmedAt: new Date().toISOString() };
    await expect(harness.activities.recordContactConfirmation({ ...base, role: 'security', tokenHash: sent!.tokenHash })).rejects.toMatchObject({
      type: 'ConfirmationUnknown',
      nonRetryable: true,
    });
    await expect(harness.activities.recordContactConfirmation({ ...base, role: 'business', tokenHash: 'f'.repeat(64) })).rejects.toMatchObject({
      type: 'ConfirmationUnknown',
    });
    const contact = await harness.registry.contact.findUniqueOrThrow({
      where: { applicationId_role: { applicationId: app.applicationId, role: 'SECURITY' } },
    });
    expect(contact.confirmedAt).toBeNull();
  });
});
