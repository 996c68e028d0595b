import type { Registry } from '../registry/client';
import { appendAuditEvent } from '../registry/audit';
import { ACTIVITY_FAILURES, instant, permanentFailure } from './errors';
import { lockApplication } from './locking';
import type { LifecycleActivities } from './contract';
import { revocations } from '../observability/metrics';

const CLOSING_STATUSES = ['OFFBOARDED', 'REJECTED', 'EXPIRED'] as const;

export function closingActivities(registry: Registry) {
  return {
    /**
     * Ends the admission in one transaction: every grant and credential
     * revoked with the reason, the trust anchors released from service
     * (revoked on key compromise, retired otherwise; they stay bound to this
     * participant so nobody else can reuse them), the application closed with
     * `status`, and the evidence naming trigger and actor. Idempotent per
     * workflow: a retry finds the `application.closed` event and does nothing.
     */
    async closeApplication(input: Parameters<LifecycleActivities['closeApplication']>[0]): Promise<void> {
      const at = instant(input.at, 'at');
      if (!(CLOSING_STATUSES as readonly string[]).includes(input.status)) {
        throw permanentFailure(
          ACTIVITY_FAILURES.INVALID_INPUT,
          `An application closes as ${CLOSING_STATUSES.join(', ')}, not ${JSON.stringify(input.status)}.`,
        );
      }
      const idempotencyKey = `${input.workflowId}:closed`;
      const revocationReason = `${input.trigger}: ${input.reason}`;
      const revokedClients = await registry.$transaction(async (tx) => {
        const application = await lockApplication(tx, input.applicationId);
        if ((await tx.auditEvent.findUnique({ where: { idempotencyKey } })) !== null) return 0;
        const grants = await tx.grant.findMany({ where: { applicationId: application.id, status: { not: 'REVOKED' } }, select: { id: true } });
        const credentials = await tx.clientCredential.findMany({
          where: { applicationId: application.id, status: { not: 'REVOKED' } },
          select: { clientId: true },
        });
        await tx.grant.updateMany({
          where: { applicationId: application.id, status: { not: 'REVOKED' } },
          data: { status: 'REVOKED', revokedAt: at, revocationReason },
        });
        await tx.clientCredential.updateMany({
          where: { applicationId: application.id, status: { not: 'REVOKED' } },
          data: { status: 'REVOKED', revokedAt: at },
        });
        const anchorStatus = input.trigger === 'key-compromise' ? 'REVOKED' : 'RETIRED';
        const anchors = await tx.trustAnchor.updateMany({
          where: { applicationId: application.id, status: { in: ['ACTIVE', 'ROTATING_OUT'] } },
          data: { status: anchorStatus, retiredAt: at },
        });
        await tx.application.update({ where: { id: application.id }, data: { status: input.status, closedAt: at } });
        await appendAuditEvent(tx, {
          idempotencyKey,
          type: 'application.closed',
          actor: input.actor,
          organisationId: application.organisationId,
          applicationId: application.id,
          occurredAt: at,
          data: {
            status: input.status,
            previousStatus: application.status,
            trigger: input.trigger,
            reason: input.reason,
            revokedGrants: grants.map((g) => g.id),
            revokedClients: credentials.map((c) => c.clientId),
            anchors: { count: anchors.count, status: anchorStatus },
          },
        });
        return credentials.length;
      });
      if (revokedClients > 0) revocations.inc({ trigger: input.trigger }, revokedClients);
    },
  };
}
