import { decideExpansion } from '../../domain/expansion';
import { expansionApprovalsRequired } from '../../domain/risk';
import { registry } from '../activities';
import { UPDATE_REFUSALS, type ExpansionInput, type ExpansionView } from '../messages';
import { openApproval } from './approval';
import { nowIso, refuse, type Lifecycle } from './context';
import { notify, syncAuthorizationServer } from './effects';

/** Stage 6: an admitted partner asks for more scopes; usage evidence decides, or approvers. */

export function validateExpansion(lc: Lifecycle, input: ExpansionInput): void {
  if (lc.state.stage !== 'ADMITTED') {
    refuse(UPDATE_REFUSALS.WRONG_STAGE, `Only an admitted application can ask for more scopes (this one is ${lc.state.stage}).`);
  }
  if (
    typeof input !== 'object' ||
    input === null ||
    !Array.isArray(input.scopes) ||
    input.scopes.length === 0 ||
    input.scopes.length > 30 ||
    !input.scopes.every((s) => typeof s === 'string' && s.length <= 100) ||
    typeof input.requestedBy !== 'string'
  ) {
    refuse(UPDATE_REFUSALS.INVALID_INPUT, 'Name between 1 and 30 scopes, and who is asking.');
  }
  if (lc.internal.approval !== null) {
    refuse(UPDATE_REFUSALS.WRONG_STAGE, 'A decision is already pending for this application; ask again once it is made.');
  }
}

export async function requestExpansion(lc: Lifecycle, input: ExpansionInput): Promise<ExpansionView> {
  validateExpansion(lc, input);
  const grant = lc.state.grant;
  if (grant === null || lc.state.probationEndsAt === null) refuse(UPDATE_REFUSALS.WRONG_STAGE, 'Nothing has been granted yet.');
  const usage = await registry.readUsage({ applicationId: lc.state.applicationId, since: lc.internal.admittedAt ?? grant.grantedAt });
  const requestedAt = nowIso();
  const decision = decideExpansion({
    tier: lc.state.tier,
    currentScopes: grant.scopes,
    requestedScopes: input.scopes,
    probationEndsAt: lc.state.probationEndsAt,
    now: requestedAt,
    usage: {
      calls: usage.calls,
      denials: usage.denials,
      errors: usage.errors,
      anomalies: usage.anomalies,
      ...(usage.lastSeenAt === null ? {} : { lastSeenAt: usage.lastSeenAt }),
    },
    policy: lc.internal.settings.expansionPolicy,
  });
  lc.internal.expansionCount += 1;
  const view: ExpansionView = {
    id: `expansion-${lc.internal.expansionCount}`,
    scopes: decision.scopes,
    requestedBy: input.requestedBy,
    requestedAt,
    decision: decision.decision,
    reasons: decision.reasons.map((r) => ({ code: r.code, message: r.message })),
  };
  lc.state.expansions.push(view);
  await registry.recordAudit({
    applicationId: lc.state.applicationId,
    idempotencyKey: `${lc.claimKey}:${view.id}:requested`,
    type: 'expansion.requested',
    actor: input.requestedBy,
    occurredAt: requestedAt,
    data: { scopes: input.scopes, decision: decision.decision, reasons: view.reasons, usage: { ...usage } },
  });
  if (decision.decision === 'auto-grant') {
    await applyExpansion(lc, view, []);
  } else if (decision.decision === 'needs-approval') {
    await openApproval(lc, 'expansion', expansionApprovalsRequired(lc.state.tier), { scopes: decision.scopes, expansionId: view.id });
  } else {
    await notifyExpansion(lc, view);
  }
  return view;
}

export async function applyExpansion(lc: Lifecycle, view: ExpansionView, approvedBy: string[]): Promise<void> {
  const grant = lc.state.grant;
  if (grant === null) return;
  await registry.expandGrant({
    applicationId: lc.state.applicationId,
    workflowId: lc.claimKey,
    expansionId: view.id,
    scopes: view.scopes,
    approvedBy,
  });
  await syncAuthorizationServer(lc, { kind: 'provision' });
  grant.scopes = [...new Set([...grant.scopes, ...view.scopes])].sort();
  await notifyExpansion(lc, view);
}

export async function notifyExpansion(lc: Lifecycle, view: ExpansionView): Promise<void> {
  await notify(lc, {
    to: ['business', 'technical'],
    template: 'expansion-decided',
    data: { scopes: view.scopes, decision: view.decision, reasons: view.reasons.map((r) => r.message) },
    key: `${view.id}:${view.decision}`,
  });
}
