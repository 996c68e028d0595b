import { createHash } from 'node:crypto';
import type { Registry } from '../registry/client';
import { appendAuditEvent } from '../registry/audit';
import { APPROVER_ROLE, SECURITY_REVIEWER_ROLE } from '../domain/approval';
import type { DevelopmentAccount } from '../web/app';
import { developmentIssuerFor } from './dev-idp';

/**
 * The seeded approvers of a development stack: the accounts the development
 * identity provider (stack/dev-idp.ts) signs in, and the same people enrolled
 * in the approver directory, so whoever signs in there is someone the workflow
 * knows. Development code: production has a real identity provider and a
 * directory its operators maintain.
 */
export interface DevelopmentApprover extends DevelopmentAccount {
  /** `${issuer} ${sub}`: what the approver directory and votes key on. */
  subject: string;
}

const account = (sub: string, name: string, email: string, roles: readonly string[]): DevelopmentAccount =>
  Object.freeze({ sub, name, email, roles: Object.freeze([...roles]) });

/**
 * Three people to sign in as: enough for a HIGH admission (two distinct
 * approvers) and a REGULATED one (one of them a security reviewer).
 */
export const DEVELOPMENT_ACCOUNTS: readonly DevelopmentAccount[] = Object.freeze([
  account('ada', 'Ada Approver', 'ada.approver@admit.localhost', [APPROVER_ROLE]),
  account('rui', 'Rui Reviewer', 'rui.reviewer@admit.localhost', [APPROVER_ROLE, SECURITY_REVIEWER_ROLE]),
  account('sam', 'Sam Second', 'sam.second@admit.localhost', [APPROVER_ROLE]),
]);

/**
 * The development approvers as subjects of the development provider a web
 * service at `publicUrl` runs: the issuer follows the public URL (PORT,
 * ADMIT_PUBLIC_URL), never a fixed address.
 */
export function developmentApproversFor(publicUrl: string): DevelopmentApprover[] {
  const issuer = developmentIssuerFor(publicUrl);
  return DEVELOPMENT_ACCOUNTS.map((a) => ({ ...a, subject: `${issuer} ${a.sub}` }));
}

/**
 * Upserts the development approvers of the web at `publicUrl` (by subject),
 * active, with their roles, and records each enrolment as evidence. Safe to
 * run at every start: the event key digests what was enrolled, so an
 * unchanged seed records nothing. Returns who was enrolled.
 */
export async function seedDevelopmentApprovers(registry: Registry, publicUrl: string): Promise<DevelopmentApprover[]> {
  const approvers = developmentApproversFor(publicUrl);
  for (const approver of approvers) {
    const roles = [...approver.roles];
    await registry.$transaction(async (tx) => {
      await tx.approver.upsert({
        where: { subject: approver.subject },
        create: { subject: approver.subject, name: approver.name, email: approver.email, roles, active: true },
        update: { name: approver.name, email: approver.email, roles, active: true },
      });
      const digest = createHash('sha256')
        .update(JSON.stringify([approver.name, approver.email, roles]))
        .digest('hex')
        .slice(0, 16);
      await appendAuditEvent(tx, {
        idempotencyKey: `approver-enrolled:${approver.subject}:${digest}`,
        type: 'approver.enrolled',
        actor: 'system:development-seed',
        occurredAt: new Date(),
        data: { subject: approver.subject, roles },
      });
    });
  }
  return approvers;
}
