import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestUsageBatch } from '../../usage/ingest';
import { cascadeOrganisationEvent } from '../../operations/organisation-events';
import { offboardUpdate, reportKeyCompromiseUpdate, requestExpansionUpdate, stateQuery } from '../../workflows/messages';
import {
  approvers,
  createLifecycleHarness,
  mailsTo,
  refusalCode,
  signup,
  throughAnchor,
  vote,
  waitForStage,
  type LifecycleHandle,
  type LifecycleHarness,
} from '../support/lifecycle';
import { eventually } from '../support/wait';
import { recordHistory } from '../support/histories';

let h: LifecycleHarness;
beforeAll(async () => {
  h = await createLifecycleHarness({ ADMIT_PROBATION: '2s', ADMIT_EXPANSION_MIN_CALLS: '10' });
});
afterAll(async () => h.close());

async function admittedLow() {
  const started = await throughAnchor(h);
  const admitted = await waitForStage(started.handle, 'ADMITTED');
  return { ...started, clientId: admitted.grant?.clientId ?? '' };
}

/** What a gateway posts: one interval of aggregated telemetry for a client. */
async function reportUsage(clientId: string, usage: { calls: number; denials?: number; errors?: number; anomalies?: number }) {
  const end = new Date();
  await ingestUsageBatch(h.stack.registry, 'gateway-test', [
    {
      clientId,
      // The interval lies after the admission: usage is evidence from the probation window.
      intervalStart: new Date(end.getTime() - 500).toISOString(),
      intervalEnd: end.toISOString(),
      calls: usage.calls,
      denials: usage.denials ?? 0,
      errors: usage.errors ?? 0,
      anomalies: usage.anomalies ?? 0,
      lastSeenAt: end.toISOString(),
    },
  ]);
}

const askFor = (handle: LifecycleHandle, scopes: string[]) =>
  handle.executeUpdate(requestExpansionUpdate, { args: [{ scopes, requestedBy: 'theo@example.com' }] });

describe('monitored expansion', () => {
  it('refuses during probation, then grants a LOW expansion within the ceiling automatically on clean usage', async () => {
    const { handle, applicationId, clientId } = await admittedLow();
    const early = await askFor(handle, ['transactions:read']);
    expect(early.decision).toBe('refuse');
    expect(early.reasons.map((r) => r.code)).toContain('IN_PROBATION');

    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await reportUsage(clientId, { calls: 400, denials: 1, errors: 2 });
    const granted = await askFor(handle, ['transactions:read']);
    expect(granted.decision).toBe('auto-grant');
    expect((await handle.query(stateQuery)).grant?.scopes).toEqual(['accounts:read', 'transactions:read']);
    const grant = await h.stack.registry.grant.findFirstOrThrow({ where: { applicationId, status: 'ACTIVE' } });
    expect(grant.scopes.sort()).toEqual(['accounts:read', 'transactions:read']);
    expect(await h.stack.registry.auditEvent.count({ where: { applicationId, type: 'expansion.requested' } })).toBe(2);
    await recordHistory(handle, 'expansion-refused-then-auto-granted');
  });

  it('refuses scopes beyond the tier’s ceiling outright', async () => {
    const { handle } = await admittedLow();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const refused = await askFor(handle, ['payments:initiate']);
    expect(refused.decision).toBe('refuse');
    expect(refused.reasons.map((r) => r.code)).toContain('OUTSIDE_CEILING');
    expect((await handle.query(stateQuery)).grant?.scopes).toEqual(['accounts:read']);
  });

  it('sends a LOW expansion with a poor record to an approver, who can refuse it', async () => {
    const { handle, clientId, applicationId } = await admittedLow();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await reportUsage(clientId, { calls: 100, denials: 30 });
    const pending = await askFor(handle, ['transactions:read']);
    expect(pending.decision).toBe('needs-approval');
    expect(pending.reasons.map((r) => r.code)).toContain('DENIAL_RATE_HIGH');
    const waiting = await handle.query(stateQuery);
    expect(waiting.approval).toMatchObject({ purpose: 'expansion', scopes: ['transactions:read'], required: 1 });
    expect(await refusalCode(askFor(handle, ['statements:read']))).toBe('WRONG_STAGE');

    await vote(handle, approvers.ada, 'reject', 'too many denials this month');
    const decided = await eventually(async () => {
      const s = await handle.query(stateQuery);
      return s.approval === null ? s : undefined;
    });
    expect(decided.expansions.at(-1)?.decision).toBe('rejected');
    expect(decided.grant?.scopes).toEqual(['accounts:read']);
    expect(await h.stack.registry.auditEvent.count({ where: { applicationId, type: 'expansion.vote' } })).toBe(1);
    await recordHistory(handle, 'expansion-rejected-by-approver');
  });

  it('grants an approved expansion', async () => {
    const { handle } = await admittedLow();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    // Too few calls to be evidence: a person decides.
    const pending = await askFor(handle, ['statements:read']);
    expect(pending.decision).toBe('needs-approval');
    await vote(handle, approvers.rui, 'approve', 'fine');
    await eventually(async () => ((await handle.query(stateQuery)).grant?.scopes.includes('statements:read') ? true : undefined));
  });
});

describe('offboarding on demand', () => {
  it('revokes at once on a key compromise report: when the update returns, nothing is active', async () => {
    const { handle, applicationId, body } = await admittedLow();
    await handle.executeUpdate(reportKeyCompromiseUpdate, {
      args: [{ reportedBy: approvers.rui, detail: 'private key published in a public repository' }],
    });
    expect(await h.stack.registry.grant.count({ where: { applicationId, status: { not: 'REVOKED' } } })).toBe(0);
    expect(await h.stack.registry.clientCredential.count({ where: { applicationId, status: { not: 'REVOKED' } } })).toBe(0);
    const closed = await handle.query(stateQuery);
    expect(closed.outcome).toMatchObject({ stage: 'OFFBOARDED', trigger: 'key-compromise', reason: 'private key published in a public repository' });
    const record = await h.stack.registry.application.findUniqueOrThrow({ where: { id: applicationId } });
    expect(record.status).toBe('OFFBOARDED');
    expect(record.closedAt).not.toBeNull();
    await eventually(async () => ((await mailsTo(body.contacts.security.email)).some((m) => /offboard/i.test(m.subject)) ? true : undefined));
    const evidence = await h.stack.registry.auditEvent.findMany({ where: { applicationId }, orderBy: { seq: 'desc' }, take: 5 });
    expect(evidence.some((e) => e.actor === approvers.rui.subject)).toBe(true);
    await recordHistory(handle, 'key-compromise');
  });

  it('offboards manually, only for an approver, with a reason', async () => {
    const { handle } = await admittedLow();
    const stranger = { subject: 'nobody', email: 'nobody@example.com', name: 'Nobody', roles: ['approver'] };
    expect(await refusalCode(handle.executeUpdate(offboardUpdate, { args: [{ by: stranger, reason: 'x' }] }))).toBe('NOT_AUTHORISED');
    expect(await refusalCode(handle.executeUpdate(offboardUpdate, { args: [{ by: approvers.ada, reason: ' ' }] }))).toBe('INVALID_INPUT');
    await handle.executeUpdate(offboardUpdate, { args: [{ by: approvers.ada, reason: 'partnership ended early' }] });
    await expect(handle.result()).resolves.toMatchObject({ stage: 'OFFBOARDED', outcome: { trigger: 'manual' } });
    await recordHistory(handle, 'manual-offboard');
  });

  it('stops an admission still waiting for its contacts', async () => {
    const { handle, applicationId } = await signup(h);
    await waitForStage(handle, 'AWAITING_CONTACTS');
    await handle.executeUpdate(offboardUpdate, { args: [{ by: approvers.rui, reason: 'signed up by mistake' }] });
    await expect(handle.result()).resolves.toMatchObject({ stage: 'OFFBOARDED', outcome: { trigger: 'manual', reason: 'signed up by mistake' } });
    expect((await h.stack.registry.application.findUniqueOrThrow({ where: { id: applicationId } })).status).toBe('OFFBOARDED');
    await recordHistory(handle, 'offboarded-while-awaiting-contacts');
  });

  it('cascades an organisation-level event to every application of the organisation', async () => {
    const first = await admittedLow();
    const lei = first.body.organisation.lei;
    const second = await throughAnchor(h, {}, { lei, name: 'Second App' });
    await waitForStage(second.handle, 'ADMITTED');
    const result = await cascadeOrganisationEvent(h.stack.temporal, h.stack.registry, lei, {
      kind: 'entity-struck-off',
      by: approvers.ada.subject,
      reason: 'removed from the companies register',
    });
    expect(result).toEqual({ signalled: 2 });
    for (const { handle } of [first, second]) {
      await expect(handle.result()).resolves.toMatchObject({ stage: 'OFFBOARDED', outcome: { trigger: 'organisation-entity-struck-off' } });
    }
    expect((await h.stack.registry.organisation.findUniqueOrThrow({ where: { lei } })).status).toBe('CLOSED');
    await recordHistory(first.handle, 'organisation-cascade');
  });
});
