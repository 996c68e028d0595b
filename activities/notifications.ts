import type { Config } from '../config/env';
import type { Mailer } from '../mail/transport';
import type { Registry } from '../registry/client';
import { appendAuditEvent } from '../registry/audit';
import type { ContactRoleKey } from '../domain/contacts';
import type { NotificationTemplate, NotifyInput } from './contract';
import { REGISTRY_CONTACT_ROLE } from '../registry/contact-roles';
import { ACTIVITY_FAILURES, permanentFailure } from './errors';
import { humanInstant, renderMail, stableMessageId } from './mail-render';

type NotificationData = NotifyInput['data'];

interface TemplateContext {
  /** "Market Data Feed (sandbox)" */
  what: string;
  organisation: string;
  data: NotificationData;
}

interface RenderedTemplate {
  subject: string;
  paragraphs: string[];
}

const text = (data: NotificationData, key: string, fallback: string): string => {
  const value = data[key];
  if (value === undefined || value === null) return fallback;
  return Array.isArray(value) ? value.join(', ') : String(value);
};

/**
 * What each notification says. Subjects name the application and what
 * happened; the template's data follow as labelled details, so a reason,
 * scope list or date the workflow passes is always shown.
 */
const TEMPLATES: Record<NotificationTemplate, (c: TemplateContext) => RenderedTemplate> = {
  'domain-challenge': (c) => ({
    subject: `Prove that ${c.organisation} controls ${text(c.data, 'domain', 'its domain')}`,
    paragraphs: [
      `Before anyone is sent a confirmation link for ${c.what}, ${c.organisation} proves that it controls its primary domain. Do one of these, whichever your DNS or web team can do first:`,
      `1. Publish a DNS TXT record named ${text(c.data, 'txtName', '')} with the value ${text(c.data, 'txtValue', '')}.`,
      `2. Serve the text ${text(c.data, 'keyAuthorization', '')} at ${text(c.data, 'httpUrl', '')} (https, no redirect).`,
      `Admit looks for the proof regularly until ${text(c.data, 'expiresAt', 'the deadline')}; the admission ends if none is found by then.`,
    ],
  }),
  'competing-signup': (c) => ({
    subject: `A competing signup for ${c.what}`,
    paragraphs: [
      `Someone else signed up for ${c.what} while a claim to it is being verified. Their signup did not change the claim; it is recorded with it, and shown in the console, for you to weigh when you decide.`,
    ],
  }),
  'competing-signup-received': (c) => ({
    subject: `Your signup for ${c.what} is waiting behind another claim`,
    paragraphs: [
      `You signed up for ${c.what}, which another party has already claimed; that claim is being verified (the organisation's legal entity and control of its domain). Your signup is recorded and shown to the approvers. If the other claim is not verified, it releases the application and you can sign up again; if you believe it is not legitimate, tell your partner manager.`,
    ],
  }),
  'entity-refused': (c) => ({
    subject: `The legal entity behind ${c.what} could not be verified`,
    paragraphs: [
      `The organisation's legal entity could not be verified for ${c.what}, so its admission has ended and nothing was granted. The reasons are below.`,
    ],
  }),
  'contacts-expired': (c) => ({
    subject: `Admission of ${c.what} ended: the contacts did not confirm in time`,
    paragraphs: [
      `The admission of ${c.what} has ended because not every contact confirmed their role before the deadline. Nothing was granted. To try again, submit a new signup.`,
    ],
  }),
  'anchor-requested': (c) => ({
    subject: `Next step for ${c.what}: prove its identity with a trust anchor`,
    paragraphs: [
      `Every contact of ${c.what} has confirmed. The next step is to bind the application to a trust anchor: an X.509 client certificate, a signed assertion with your public key, or a workload identity (SPIFFE or OpenID Connect).`,
      'No access is granted until the anchor is verified.',
    ],
  }),
  'anchor-refused': (c) => ({
    subject: `The trust anchor submitted for ${c.what} was refused`,
    paragraphs: [`The trust anchor submitted for ${c.what} could not be verified, for the reasons below. Correct them and submit it again.`],
  }),
  'approval-requested': (c) => ({
    subject: `Approval needed: ${c.what} (${text(c.data, 'tier', 'tier not given')})`,
    paragraphs: [
      `${c.organisation} asks to admit ${c.what}, which needs an approver’s decision. The risk assessment and the scopes it would receive are below.`,
      'You cannot approve an application you requested or are a contact of.',
    ],
  }),
  'approval-escalated': (c) => ({
    subject: `Escalated: ${c.what} is still waiting for an approval decision`,
    paragraphs: [
      `The admission of ${c.what} has waited for a decision longer than it should. It expires without approval if nobody decides in time.`,
    ],
  }),
  'admission-rejected': (c) => ({
    subject: `The admission of ${c.what} was rejected`,
    paragraphs: [`An approver rejected the admission of ${c.what}. Nothing was granted. The reason given is below.`],
  }),
  'admission-expired': (c) => ({
    subject: `The admission of ${c.what} expired without a decision`,
    paragraphs: [`The admission of ${c.what} received no decision in time and has ended. Nothing was granted.`],
  }),
  admitted: (c) => ({
    subject: `${c.what} is admitted`,
    paragraphs: [
      `${c.what} has been admitted with the scopes below. Its client credential is bound to the verified trust anchor, so tokens work only with that certificate or key.`,
      'More scopes can be requested once probation has ended; requests are judged on the usage seen during it.',
    ],
  }),
  'expansion-decided': (c) => ({
    subject: `Scope request for ${c.what}: ${text(c.data, 'decision', 'decided')}`,
    paragraphs: [`The request for more scopes for ${c.what} has been decided. The decision and its reasons are below.`],
  }),
  'anchor-expiring': (c) => ({
    subject: `The trust anchor of ${c.what} expires soon`,
    paragraphs: [`The trust anchor of ${c.what} expires at the time below. Rotate to a new one before then, or access ends when it expires.`],
  }),
  suspended: (c) => ({
    subject: `Access of ${c.what} is suspended`,
    paragraphs: [
      `Every grant and credential of ${c.what} is suspended: requests are refused until it is reinstated. If it is not reinstated within the grace period, it is offboarded.`,
    ],
  }),
  reinstated: (c) => ({
    subject: `Access of ${c.what} is reinstated`,
    paragraphs: [`The grants and credentials of ${c.what} are active again.`],
  }),
  'contract-ending': (c) => ({
    subject: `The contract of ${c.what} is ending`,
    paragraphs: [`The contract of ${c.what} ends on the date below. Access is revoked then unless the contract is extended.`],
  }),
  'recertification-due': (c) => ({
    subject: `Recertification due: ${c.what}`,
    paragraphs: [`${c.what} is due for recertification: approvers must confirm that it still needs the access it holds.`],
  }),
  offboarded: (c) => ({
    subject: `${c.what} has been offboarded`,
    paragraphs: [
      `${c.what} has been offboarded: every grant and credential is revoked and its registry record is closed. The trigger and reason are below.`,
    ],
  }),
};

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function label(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[-_]+/g, ' ')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function detailValue(value: NotificationData[string]): string {
  if (value === null) return '—';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(', ');
  if (typeof value === 'string' && ISO_INSTANT.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return humanInstant(date);
  }
  return String(value);
}

interface Recipient {
  email: string;
  name: string;
}

export interface NotificationActivityDependencies {
  registry: Registry;
  mailer: Mailer;
  config: Pick<Config, 'publicUrl'>;
  now: () => Date;
}

export function notificationActivities(deps: NotificationActivityDependencies) {
  const { registry, mailer, config, now } = deps;
  return {
    /**
     * Mails each recipient (the named contacts, or every active approver) the
     * rendered template. Idempotent by `idempotencyKey`: each delivery is
     * recorded in the outbox before its mail goes, and marked accepted once
     * the SMTP server took it; a retry skips accepted recipients. Mail is
     * at-least-once: a worker that dies between the SMTP answer and the mark
     * sends that copy again, with the same Message-ID, which mail systems use
     * to drop duplicates.
     */
    async notify(input: NotifyInput): Promise<void> {
      const render = TEMPLATES[input.template];
      if (render === undefined)
        throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, `Unknown notification template ${JSON.stringify(input.template)}.`);
      if (input.idempotencyKey.trim() === '') throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, 'A notification needs an idempotencyKey.');
      const application = await registry.application.findUnique({
        where: { id: input.applicationId },
        include: { organisation: true, contacts: true },
      });
      if (application === null) {
        throw permanentFailure(ACTIVITY_FAILURES.APPLICATION_NOT_FOUND, `There is no application ${input.applicationId} to notify about.`);
      }

      const recipients = new Map<string, Recipient>();
      for (const target of input.to) {
        if (typeof target === 'object') {
          if (typeof target.email !== 'string' || !target.email.includes('@')) {
            throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, 'A recipient named by address needs an email address.');
          }
          recipients.set(target.email.toLowerCase(), { email: target.email, name: typeof target.name === 'string' ? target.name : target.email });
          continue;
        }
        if (target === 'approvers') {
          const approvers = await registry.approver.findMany({ where: { active: true }, orderBy: { subject: 'asc' } });
          for (const approver of approvers) recipients.set(approver.email.toLowerCase(), { email: approver.email, name: approver.name });
          continue;
        }
        const role = REGISTRY_CONTACT_ROLE[target as ContactRoleKey];
        if (role === undefined) throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, `Unknown notification recipient ${JSON.stringify(target)}.`);
        const contact = application.contacts.find((c) => c.role === role);
        if (contact !== undefined) recipients.set(contact.email.toLowerCase(), { email: contact.email, name: contact.name });
      }

      const what = `${application.name} (${application.environment})`;
      const rendered = render({ what, organisation: application.organisation.legalName, data: input.data });
      const details: [string, string][] = [
        ['Organisation', application.organisation.legalName],
        ['Application', what],
        ...Object.entries(input.data).map(([key, value]): [string, string] => [label(key), detailValue(value)]),
      ];
      const statusUrl = `${config.publicUrl.replace(/\/+$/, '')}/applications/${application.id}`;

      const outbox = new Map(
        (
          await registry.notificationDelivery.findMany({
            where: { idempotencyKey: input.idempotencyKey },
            select: { recipient: true, messageId: true, acceptedAt: true },
          })
        ).map((d) => [d.recipient, d]),
      );
      for (const [address, recipient] of recipients) {
        const recorded = outbox.get(address);
        if (recorded !== undefined && recorded.acceptedAt !== null) continue;
        // A copy sent again carries the Message-ID its outbox row holds, so it is recognisably the same mail.
        const messageId = recorded?.messageId ?? stableMessageId(['notify', input.idempotencyKey, address], config.publicUrl);
        const { text: body, html } = renderMail({
          greeting: `Hello ${recipient.name},`,
          paragraphs: rendered.paragraphs,
          details,
          action: { label: `See ${what} in Admit`, url: statusUrl },
        });
        // The outbox row first (skipDuplicates: an earlier or overlapping attempt may have written it).
        await registry.notificationDelivery.createMany({
          data: [
            {
              idempotencyKey: input.idempotencyKey,
              applicationId: application.id,
              template: input.template,
              recipient: address,
              messageId,
              sentAt: now(),
              acceptedAt: null,
            },
          ],
          skipDuplicates: true,
        });
        await mailer.send({ to: recipient.email, subject: rendered.subject, text: body, html, messageId });
        await registry.notificationDelivery.updateMany({
          where: { idempotencyKey: input.idempotencyKey, recipient: address, acceptedAt: null },
          data: { acceptedAt: now() },
        });
      }

      await registry.$transaction((tx) =>
        appendAuditEvent(tx, {
          idempotencyKey: `notify:${input.idempotencyKey}`,
          // Nobody to tell (no approver enrolled, say) is evidence too, not a reason to fail the lifecycle.
          type: recipients.size === 0 ? 'notification.undeliverable' : 'notification.sent',
          actor: 'workflow',
          organisationId: application.organisationId,
          applicationId: application.id,
          occurredAt: now(),
          data: { template: input.template, to: input.to, recipients: recipients.size, subject: rendered.subject },
        }),
      );
    },
  };
}
