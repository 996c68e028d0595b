import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Registry } from '../registry/client';
import { appendAuditEvent, type JsonObject } from '../registry/audit';
import { isRiskTier, type RiskTier } from '../domain/tiers';
import { isAuditEventType } from '../domain/audit-events';
import type { AuditInput } from './contract';
import { ACTIVITY_FAILURES, instant, permanentFailure } from './errors';
import { lockApplication } from './locking';
import { recordTransitionMetrics } from '../observability/lifecycle-metrics';

export function auditActivities(registry: Registry) {
  return {
    /**
     * Appends one event for the application (with its organisation, so the
     * per-partner export finds it). Idempotent by `idempotencyKey`.
     */
    async recordAudit(input: AuditInput): Promise<void> {
      const occurredAt = instant(input.occurredAt, 'occurredAt');
      if (input.idempotencyKey.trim() === '' || input.type.trim() === '' || input.actor.trim() === '') {
        throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, 'An audit event needs an idempotencyKey, a type and an actor.');
      }
      if (!isAuditEventType(input.type)) {
        throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, `${JSON.stringify(input.type)} is not an audit event type (domain/audit-events.ts).`);
      }
      const transition = await registry.$transaction(async (tx) => {
        const application = await tx.application.findUnique({
          where: { id: input.applicationId },
          select: { organisationId: true, createdAt: true },
        });
        if (application === null) {
          throw permanentFailure(
            ACTIVITY_FAILURES.APPLICATION_NOT_FOUND,
            `There is no application ${input.applicationId} to record ${input.type} for.`,
          );
        }
        // A transition's metrics count the event once: not when a retried activity finds it written.
        const counted =
          input.type === 'lifecycle.transition' && (await tx.auditEvent.findUnique({ where: { idempotencyKey: input.idempotencyKey } })) === null;
        const previous = counted
          ? await tx.auditEvent.findFirst({
              where: { applicationId: input.applicationId, type: 'lifecycle.transition' },
              orderBy: { seq: 'desc' },
              select: { occurredAt: true },
            })
          : null;
        await appendAuditEvent(tx, {
          idempotencyKey: input.idempotencyKey,
          type: input.type,
          actor: input.actor,
          organisationId: application.organisationId,
          applicationId: input.applicationId,
          occurredAt,
          // Workflow data arrives as JSON (Temporal payloads), so it is JSON here.
          data: input.data as JsonObject,
        });
        // The first stage (REGISTERING) began when the signup was registered.
        return counted ? { enteredAt: previous?.occurredAt ?? application.createdAt } : undefined;
      });
      if (transition !== undefined) recordTransitionMetrics(input.data, transition.enteredAt, occurredAt);
    },

    /**
     * Writes the tier and score on the application with the explanation as
     * evidence. The event's key includes a digest of the assessment: a retry
     * (same assessment) records nothing new, a reassessment records itself.
     */
    async recordRisk(input: { applicationId: string; workflowId: string; tier: RiskTier; score: number; reasons: unknown[] }): Promise<void> {
      if (!isRiskTier(input.tier)) throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, `${JSON.stringify(input.tier)} is not a risk tier.`);
      if (!Number.isSafeInteger(input.score))
        throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, `The risk score must be a whole number, not ${input.score}.`);
      const digest = createHash('sha256')
        .update(canonicalize({ tier: input.tier, score: input.score, reasons: input.reasons }) ?? '')
        .digest('hex')
        .slice(0, 16);
      await registry.$transaction(async (tx) => {
        const application = await lockApplication(tx, input.applicationId);
        await tx.application.update({ where: { id: application.id }, data: { tier: input.tier, riskScore: input.score } });
        await appendAuditEvent(tx, {
          idempotencyKey: `${input.workflowId}:risk:${digest}`,
          type: 'risk.assessed',
          actor: 'workflow',
          organisationId: application.organisationId,
          applicationId: application.id,
          occurredAt: new Date(),
          data: { tier: input.tier, score: input.score, reasons: input.reasons as JsonObject[] },
        });
      });
    },
  };
}
