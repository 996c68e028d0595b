import type { Config } from '../config/env';
import type { Mailer } from '../mail/transport';
import type { Registry } from '../registry/client';
import { appendAuditEvent } from '../registry/audit';
import { contactLinkFor, tokenHash as hashOfToken } from '../links/contact-confirmation';
import { CONTACT_ROLES, type ContactRoleKey } from '../domain/contacts';
import { REGISTRY_CONTACT_ROLE } from '../registry/contact-roles';
import { ACTIVITY_FAILURES, instant, permanentFailure } from './errors';
import { humanInstant, renderMail, stableMessageId } from './mail-render';
import { lockApplication } from './locking';

/** Registry enum of each workflow role key. */

const ROLE_DESCRIPTION: Record<ContactRoleKey, string> = {
  business: 'business owner',
  technical: 'technical owner',
  security: 'security contact',
};

export interface ContactActivityDependencies {
  registry: Registry;
  mailer: Mailer;
  config: Pick<Config, 'publicUrl'>;
  linkSecret: Uint8Array;
  now: () => Date;
}

export function contactActivities(deps: ContactActivityDependencies) {
  const { registry, mailer, config, linkSecret, now } = deps;
  return {
    /**
     * One signed, expiring link per role for this round, stored as its hash.
     * The link is derived, not drawn: the same (claim, role, round, expiry)
     * always gives the same token, so every attempt of this activity mails the
     * link its first attempt stored, and a contact holding an earlier copy
     * still holds the working link. `workflowId` is the workflow's claim key
     * (an application id claimed again restarts its rounds at 0); without it
     * the application's first claim is assumed.
     *
     * Mail is at-least-once: each mail is first recorded in the outbox
     * (`notification_deliveries`, in the same transaction as the hash) with a
     * Message-ID derived from the link, then sent, then marked accepted. A
     * retry skips an accepted delivery and re-sends one that was only
     * recorded (the worker died between the two), with the same link and
     * Message-ID, so a duplicate is harmless and recognisable. A link already
     * used is left alone and not mailed again.
     */
    async sendContactConfirmations(input: {
      applicationId: string;
      workflowId?: string;
      roles: ContactRoleKey[];
      round: number;
      expiresAt: string;
    }): Promise<{ role: ContactRoleKey; tokenHash: string }[]> {
      const expiresAt = instant(input.expiresAt, 'expiresAt');
      if (!Number.isSafeInteger(input.round) || input.round < 0) {
        throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, `round must be a non-negative whole number, not ${input.round}.`);
      }
      if (input.workflowId !== undefined && input.workflowId.trim() === '') {
        throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, 'workflowId, when given, must not be empty.');
      }
      const unknownRoles = input.roles.filter((role) => !(CONTACT_ROLES as readonly string[]).includes(role));
      if (unknownRoles.length > 0) {
        throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, `Unknown contact roles: ${unknownRoles.join(', ')}.`);
      }
      if (expiresAt.getTime() <= now().getTime()) {
        throw permanentFailure(
          ACTIVITY_FAILURES.CONFIRMATION_LINK_EXPIRED,
          `The links of round ${input.round} would expire at ${expiresAt.toISOString()}, which has passed; nothing was sent.`,
        );
      }
      const application = await registry.application.findUnique({
        where: { id: input.applicationId },
        include: { organisation: true, contacts: true },
      });
      if (application === null) {
        throw permanentFailure(
          ACTIVITY_FAILURES.APPLICATION_NOT_FOUND,
          `There is no application ${input.applicationId}; register it before mailing its contacts.`,
        );
      }
      const claim = input.workflowId ?? application.workflowId;

      const results: { role: ContactRoleKey; tokenHash: string }[] = [];
      for (const role of [...new Set(input.roles)]) {
        const contact = application.contacts.find((c) => c.role === REGISTRY_CONTACT_ROLE[role]);
        if (contact === undefined) {
          throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, `Application ${application.id} has no ${ROLE_DESCRIPTION[role]} on record.`);
        }
        const token = await contactLinkFor(linkSecret, claim, { applicationId: application.id, role, round: input.round }, expiresAt);
        const hash = hashOfToken(token);
        const messageId = stableMessageId(['contact', application.id, role, String(input.round), hash], config.publicUrl);
        const delivery = { idempotencyKey: `${claim}:contact-link:${role}:${input.round}`, recipient: contact.email.toLowerCase() };
        const sentAt = now();
        // The row, its evidence and the outbox entry commit before the mail goes
        // out: a link is never in a mailbox without its hash in the registry.
        const stored = await registry.$transaction(async (tx) => {
          await lockApplication(tx, application.id);
          const key = {
            applicationId_workflowId_role_round: { applicationId: application.id, workflowId: claim, role: contact.role, round: input.round },
          };
          const existing = await tx.contactConfirmation.findUnique({ where: key });
          if (existing?.usedAt != null) return { tokenHash: existing.tokenHash, send: false };
          if (existing === null) {
            await tx.contactConfirmation.create({
              data: { applicationId: application.id, workflowId: claim, role: contact.role, round: input.round, tokenHash: hash, expiresAt, sentAt },
            });
          } else if (existing.tokenHash !== hash) {
            // Only a link minted before links were derived (or under another
            // link secret) differs; it cannot be re-sent, so this one replaces it.
            await tx.contactConfirmation.update({ where: { id: existing.id }, data: { tokenHash: hash, expiresAt, sentAt } });
          }
          const outbox = await tx.notificationDelivery.findUnique({ where: { idempotencyKey_recipient: delivery } });
          if (outbox === null) {
            await tx.notificationDelivery.create({
              data: { ...delivery, applicationId: application.id, template: 'contact-confirmation', messageId, sentAt },
            });
          } else if (outbox.messageId !== messageId) {
            await tx.notificationDelivery.update({ where: { id: outbox.id }, data: { messageId, sentAt, acceptedAt: null } });
          } else if (outbox.acceptedAt !== null) {
            return { tokenHash: hash, send: false };
          }
          await appendAuditEvent(tx, {
            // The first claim keeps the key it always had.
            idempotencyKey:
              input.workflowId === undefined
                ? `contact-link:${application.id}:${role}:${input.round}`
                : `${claim}:contact-link:${role}:${input.round}`,
            type: 'contact.confirmation-sent',
            actor: 'workflow',
            organisationId: application.organisationId,
            applicationId: application.id,
            occurredAt: sentAt,
            // No address or token: the log is append-only and cannot forget personal data.
            data: { role, round: input.round, expiresAt: expiresAt.toISOString() },
          });
          return { tokenHash: hash, send: true };
        });
        if (stored.send) {
          const link = `${config.publicUrl.replace(/\/+$/, '')}/confirm/${token}`;
          const what = `${application.name} (${application.environment})`;
          const { text, html } = renderMail({
            greeting: `Hello ${contact.name},`,
            paragraphs: [
              `${application.organisation.legalName} named you as the ${ROLE_DESCRIPTION[role]} of its application ${what}, which is asking to be admitted as an API partner.`,
              `Please confirm that you hold this role by opening the link below. It works once and expires at ${humanInstant(expiresAt)}.` +
                (input.round > 0 ? ' It replaces any link we sent you before.' : ''),
              'If you do not hold this role, do not open the link; the admission will not go ahead without every contact’s confirmation.',
            ],
            action: { label: `Confirm you are the ${ROLE_DESCRIPTION[role]}`, url: link },
            details: [
              ['Organisation', application.organisation.legalName],
              ['Application', what],
              ['Your role', ROLE_DESCRIPTION[role]],
              ['Link expires', humanInstant(expiresAt)],
            ],
          });
          await mailer.send({
            to: contact.email,
            subject: `${input.round > 0 ? 'Reminder: confirm' : 'Confirm'} you are the ${ROLE_DESCRIPTION[role]} of ${what}`,
            text,
            html,
            messageId,
          });
          await registry.notificationDelivery.updateMany({ where: { ...delivery, messageId, acceptedAt: null }, data: { acceptedAt: now() } });
        }
        results.push({ role, tokenHash: stored.tokenHash });
      }
      return results;
    },

    /**
     * Marks the link used and the contact confirmed, with evidence. Idempotent:
     * a retry finds both already set and the event already written. A hash that
     * is not this application's and role's link is refused.
     */
    async recordContactConfirmation(input: {
      applicationId: string;
      workflowId: string;
      role: ContactRoleKey;
      tokenHash: string;
      confirmedAt: string;
    }): Promise<void> {
      const confirmedAt = instant(input.confirmedAt, 'confirmedAt');
      const role = REGISTRY_CONTACT_ROLE[input.role];
      if (role === undefined) throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, `Unknown contact role ${JSON.stringify(input.role)}.`);
      await registry.$transaction(async (tx) => {
        const application = await lockApplication(tx, input.applicationId);
        const confirmation = await tx.contactConfirmation.findUnique({ where: { tokenHash: input.tokenHash } });
        if (confirmation === null || confirmation.applicationId !== application.id || confirmation.role !== role) {
          throw permanentFailure(
            ACTIVITY_FAILURES.CONFIRMATION_UNKNOWN,
            `No ${ROLE_DESCRIPTION[input.role]} confirmation link of ${application.id} has that hash (it may have been replaced by a newer link).`,
          );
        }
        if (confirmation.usedAt === null) {
          await tx.contactConfirmation.update({ where: { id: confirmation.id }, data: { usedAt: confirmedAt } });
        }
        await tx.contact.updateMany({
          where: { applicationId: application.id, role, confirmedAt: null },
          data: { confirmedAt },
        });
        await appendAuditEvent(tx, {
          idempotencyKey: `${input.workflowId}:contact-confirmed:${input.role}`,
          type: 'contact.confirmed',
          actor: `contact:${input.role}`,
          organisationId: application.organisationId,
          applicationId: application.id,
          occurredAt: confirmedAt,
          data: { role: input.role, round: confirmation.round, confirmationId: confirmation.id, linkExpiresAt: confirmation.expiresAt.toISOString() },
        });
      });
    },
  };
}
