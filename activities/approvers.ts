import type { Registry } from '../registry/client';
import type { ApproverDirectory } from '../domain/approval';

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
