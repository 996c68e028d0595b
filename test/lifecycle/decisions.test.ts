import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, X509Certificate } from 'node:crypto';
import { reportKeyCompromiseUpdate } from '../../workflows/messages';
import { eventually } from '../support/wait';
import { approvers, createLifecycleHarness, GATEWAY_TOKEN, throughAnchor, waitForStage, type LifecycleHarness } from '../support/lifecycle';
import { metricValue } from '../support/metrics';

let h: LifecycleHarness;
beforeAll(async () => {
  h = await createLifecycleHarness();
});
afterAll(async () => h.close());

/** What a gateway terminating mTLS computes from the client's certificate (RFC 8705). */
function x5tS256(chainPem: string): string {
  const leaf = new X509Certificate(chainPem);
  return createHash('sha256').update(leaf.raw).digest('base64url');
}

describe('the request-time decision point', () => {
  it('allows only what is granted, to the client presenting its bound certificate, in the grant’s environment', async () => {
    // The counters this admission and its decisions move (observability/metrics.ts), read before and after.
    const counters = () =>
      Promise.all([
        metricValue('admit_admissions_started_total'),
        metricValue('admit_admissions_ended_total', { outcome: 'admitted' }),
        metricValue('admit_anchor_verifications_total', { phase: 'submission', kind: 'x509', result: 'verified' }),
        metricValue('admit_decisions_total', { outcome: 'allow' }),
        metricValue('admit_decisions_total', { outcome: 'deny' }),
        metricValue('admit_decisions_total', { outcome: 'deny', reason: 'CLIENT_NOT_ACTIVE' }),
        metricValue('admit_revocations_total', { trigger: 'key-compromise' }),
        metricValue('admit_revocation_to_deny_seconds', {}, { count: true }),
      ]);
    const before = await counters();
    const { handle, applicationId } = await throughAnchor(h);
    const admitted = await waitForStage(handle, 'ADMITTED');
    const anchor = await h.stack.registry.trustAnchor.findFirstOrThrow({ where: { applicationId } });
    const thumbprint = x5tS256((anchor.material as { chainPem: string }).chainPem);
    const ask = (body: Record<string, unknown>, token = GATEWAY_TOKEN) =>
      h.app.inject({ method: 'POST', url: '/decisions', payload: body, headers: { authorization: `Bearer ${token}` } });
    const base = { clientId: admitted.grant?.clientId, confirmation: { method: 'x5t#S256', value: thumbprint }, environment: 'sandbox' };

    const allowed = await ask({ ...base, scope: 'accounts:read' });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json()).toMatchObject({ allow: true, applicationId });

    const codes = async (body: Record<string, unknown>) => (await ask(body)).json<{ allow: boolean; reasons: { code: string }[] }>();
    expect(await codes({ ...base, scope: 'payments:initiate' })).toMatchObject({ allow: false, reasons: [{ code: 'SCOPE_NOT_GRANTED' }] });
    expect((await codes({ ...base, scope: 'accounts:read', environment: 'production' })).reasons.map((r) => r.code)).toContain(
      'ENVIRONMENT_NOT_ALLOWED',
    );
    expect(await codes({ ...base, scope: 'accounts:read', confirmation: { method: 'x5t#S256', value: 'A'.repeat(43) } })).toMatchObject({
      allow: false,
      reasons: [{ code: 'CONFIRMATION_MISMATCH' }],
    });
    expect(await codes({ ...base, clientId: 'admit-nobody', scope: 'accounts:read' })).toMatchObject({
      allow: false,
      reasons: [{ code: 'CLIENT_UNKNOWN' }],
    });
    expect((await ask({ ...base, scope: 'accounts:read' }, 'wrong-token-0123456789abcdefghijkl')).statusCode).toBe(401);
    expect((await ask({ ...base, scope: 'accounts:read', extra: true })).statusCode).toBe(400);

    await handle.executeUpdate(reportKeyCompromiseUpdate, { args: [{ reportedBy: approvers.rui, detail: 'key leaked' }] });
    // The decision cache hears of the revocation within its staleness bound (1 s; docs/decisions.md).
    let staleAllows = 0;
    const revoked = await eventually(async () => {
      const decision = await codes({ ...base, scope: 'accounts:read' });
      if (decision.allow) staleAllows += 1;
      return decision.allow ? undefined : decision;
    }, 1_000);
    expect(revoked).toMatchObject({ allow: false, reasons: [{ code: 'CLIENT_NOT_ACTIVE' }] });
    expect(await codes({ ...base, scope: 'accounts:read' })).toMatchObject({ allow: false, reasons: [{ code: 'CLIENT_NOT_ACTIVE' }] });

    // One admission started and admitted on a verified certificate; one allow (and any the cache answered before
    // it heard of the revocation) and six denials (the 400 and 401 are no decisions); one credential revoked,
    // whose revocation-to-deny latency the first denial observed.
    const after = await counters();
    expect(after.map((value, i) => value - (before[i] ?? 0))).toEqual([1, 1, 1, 1 + staleAllows, 6, 2, 1, 1]);
  });
});
