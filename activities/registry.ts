import type { Registry } from '../registry/client';
import { appendAuditEvent, openNewApplicationChain } from '../registry/audit';
import { nameKey, applicationIdFor } from '../domain/identity';
import type { Signup } from '../domain/signup';
import { invalidRegistryInput } from './errors';
import { REGISTRY_CONTACT_ROLE } from '../registry/contact-roles';
import { CONTACT_ROLES } from '../domain/contacts';

export interface RegisterApplicationInput {
  applicationId: string;
  workflowId: string;
  signup: Signup;
  submittedAt: string;
}

export interface RegisteredApplication {
  organisationId: string;
  applicationId: string;
  /**
   * The organisation's LEI and domain were verified and an approver admitted
   * one of its applications, which is still admitted: later applications may
   * take the automatic LOW path. False for a first enrolment.
   */
  organisationEstablished: boolean;
}

export function registryActivities(registry: Registry) {
  return {
    /**
     * Enrols the organisation and application with their contacts and records
     * the evidence, all in one transaction. Idempotent: the organisation is
     * keyed by LEI, the application by its derived id, the audit event by the
     * workflow id, so a retry rewrites nothing.
     */
    async registerApplication(input: RegisterApplicationInput): Promise<RegisteredApplication> {
      const { organisation, application, contacts } = input.signup;
      const expectedId = applicationIdFor(organisation.lei, application.name, application.environment);
      if (expectedId !== input.applicationId) {
        throw invalidRegistryInput(`Application id ${input.applicationId} does not match its identity (${expectedId}).`);
      }
      return registry.$transaction(async (tx) => {
        const org = await tx.organisation.upsert({
          where: { lei: organisation.lei },
          // The first enrolment fixes the organisation's registry record; later
          // signups under the same LEI do not rewrite it.
          create: {
            legalName: organisation.legalName,
            lei: organisation.lei,
            jurisdiction: organisation.jurisdiction,
            primaryDomain: organisation.primaryDomain,
          },
          update: {},
        });
        const claimed = {
          name: application.name,
          nameKey: nameKey(application.name),
          environment: application.environment,
          purpose: application.purpose,
          requestedScopes: application.requestedScopes,
          dataSensitivity: application.dataSensitivity,
          regulatedSector: application.regulatedSector,
          strategic: application.strategic,
          expectedMonthlyCalls: application.expectedMonthlyCalls,
          contractEndDate: new Date(`${application.contractEndDate}T00:00:00Z`),
          requestedBy: input.signup.requestedBy,
        };
        const existing = await tx.application.findUnique({ where: { id: input.applicationId } });
        const alreadyRegistered = await tx.auditEvent.count({ where: { idempotencyKey: `${input.workflowId}:registered` } });
        // An earlier claim of this id that ended unverified (never admitted) released it: this
        // claim takes the record over with its own answers and contacts; the old claim's evidence stays.
        const reclaim =
          existing !== null &&
          alreadyRegistered === 0 &&
          existing.admittedAt === null &&
          (existing.status === 'REJECTED' || existing.status === 'EXPIRED');
        if (existing === null) {
          await tx.application.create({ data: { id: input.applicationId, organisationId: org.id, ...claimed, workflowId: input.workflowId } });
        } else if (reclaim) {
          // The new claim's evidence starts a chain of its own; the released claim's chain stays as it is.
          await openNewApplicationChain(tx, input.applicationId);
          await tx.application.update({
            where: { id: input.applicationId },
            data: { ...claimed, organisationId: org.id, status: 'PENDING', closedAt: null, tier: null, riskScore: null },
          });
        }
        for (const key of CONTACT_ROLES) {
          const role = REGISTRY_CONTACT_ROLE[key];
          const contact = { name: contacts[key].name, email: contacts[key].email };
          await tx.contact.upsert({
            where: { applicationId_role: { applicationId: input.applicationId, role } },
            create: { applicationId: input.applicationId, role, ...contact },
            update: reclaim ? contact : {},
          });
        }
        await appendAuditEvent(tx, {
          idempotencyKey: `${input.workflowId}:registered`,
          type: 'application.registered',
          actor: input.signup.requestedBy,
          organisationId: org.id,
          applicationId: input.applicationId,
          occurredAt: new Date(input.submittedAt),
          data: {
            lei: organisation.lei,
            legalName: organisation.legalName,
            application: application.name,
            environment: application.environment,
            requestedScopes: application.requestedScopes,
            ...(reclaim ? { reclaimed: { previousStatus: existing.status } } : {}),
          },
        });
        const admittedSibling = await tx.application.count({
          where: { organisationId: org.id, id: { not: input.applicationId }, status: { in: ['ADMITTED', 'SUSPENDED'] } },
        });
        return { organisationId: org.id, applicationId: input.applicationId, organisationEstablished: org.verified && admittedSibling > 0 };
      });
    },
  };
}
