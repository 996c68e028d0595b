import { createHash } from 'node:crypto';
import type { Registry } from '../registry/client';
import { appendAuditEvent } from '../registry/audit';
import { APPROVER_ROLE, SECURITY_REVIEWER_ROLE, type ApproverDirectory } from '../domain/approval';

/** The issuer of the development identity provider the web service runs outside production. */
export const DEVELOPMENT_IDP_ISSUER = 'http://localhost:3000/dev-idp';

export interface DevelopmentApprover {
  /** The OIDC `sub` the development identity provider issues. */
  sub: string;
  /** `${issuer} ${sub}`: what the approver directory and votes key on. */
  subject: string;
  name: string;
  email: string;
  roles: readonly string[];
}

const developmentApprover = (sub: string, name: string, email: string, roles: readonly string[]): DevelopmentApprover =>
  Object.freeze({ sub, subject: `${DEVELOPMENT_IDP_ISSUER} ${sub}`, name, email, roles: Object.freeze([...roles]) });

/**
 * Three people to sign in as on a development stack: enough for a HIGH
 * admission (two distinct approvers) and a REGULATED one (one of them a
 * security reviewer). Never seeded in production.
 */
export const DEVELOPMENT_APPROVERS: readonly DevelopmentApprover[] = Object.freeze([
  developmentApprover('ada', 'Ada Approver', 'ada.approver@admit.localhost', [APPROVER_ROLE]),
  developmentApprover('rui', 'Rui Reviewer', 'rui.reviewer@admit.localhost', [APPROVER_ROLE, SECURITY_REVIEWER_ROLE]),
  developmentApprover('sam', 'Sam Second', 'sam.second@admit.localhost', [APPROVER_ROLE]),
]);

/** The development approvers as subjects of the development provider at `issuer` (it follows the public URL). */
export function developmentApproversFor(issuer: string): DevelopmentApprover[] {
  return DEVELOPMENT_APPROVERS.map((approver) => ({ ...approver, subject: `${issuer} ${approver.sub}` }));
}

/**
 * Upserts the development approvers (by subject), active, with their roles,
 * and records each enrolment as evidence. Safe to run at every start: the
 * event key digests what was enrolled, so an unchanged seed records nothing.
 */
export async function seedDevelopmentApprovers(registry: Registry, approvers: readonly DevelopmentApprover[] = DEVELOPMENT_APPROVERS): Promise<void> {
  for (const approver of approvers) {
    const roles = [...approver.roles];
    await registry.$transaction(async (tx) => {
      await tx.approver.upsert({
        where: { subject: approver.subject },
        create: { subject: approver.subject, name: approver.name, email: approver.email, roles, active: true },
        update: { name: approver.name, email: approver.email, roles, active: true },
      });
      const digest = createHash('sha256').update(JSON.stringify([approver.name, approver.email, roles])).digest('hex').slice(0, 16);
      await appendAuditEvent(tx, {
        idempotencyKey: `approver-enrolled:${approver.subject}:${digest}`,
        type: 'approver.enrolled',
        actor: 'system:development-seed',
        occurredAt: new Date(),
        data: { subject: approver.subject, roles },
      });
    });
  }
}

export function approverActivities(registry: Registry) {
  return {
    /**
     * The active approvers as the workflow's directory snapshot (read-only,
     * so idempotent). `approverId` is the OIDC subject they sign in as.
     */
    async loadApproverDirectory(): Promise<ApproverDirectory> {
      const approvers = await registry.approver.findMany({ where: { active: true }, orderBy: { subject: 'asc' } });
      return approvers.map((approver) => ({ approverId: approver.subject, email: approver.email, roles: [...approver.roles] }));
    },
  };
}
