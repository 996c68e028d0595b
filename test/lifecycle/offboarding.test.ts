import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestUsageBatch } from '../../usage/ingest';
import { rotateAnchorUpdate, stateQuery } from '../../workflows/messages';
import {
  clientChain,
  confirmContacts,
  createLifecycleHarness,
  mailsTo,
  signup,
  submitAnchor,
  throughAnchor,
  waitForStage,
  type LifecycleHarness,
} from '../support/lifecycle';
import { eventually } from '../support/wait';
import { recordHistory } from '../support/histories';

// Two workers with different configured durations, each on its own task queue.
let quiet: LifecycleHarness;
let anchors: LifecycleHarness;
beforeAll(async () => {
  [quiet, anchors] = await Promise.all([
    createLifecycleHarness({ ADMIT_INACTIVITY: '10s' }),
    createLifecycleHarness({ ADMIT_ANCHOR_REVERIFY_EVERY: '1s', ADMIT_SUSPENSION_GRACE: '6s', ADMIT_ROTATION_OVERLAP: '2s' }),
  ]);
});
afterAll(async () => Promise.all([quiet.close(), anchors.close()]));

describe('the inactivity trigger', () => {
  it('offboards an application that makes no call within the window', async () => {
    const { handle, applicationId } = await throughAnchor(quiet);
    await waitForStage(handle, 'ADMITTED');
    const closed = await waitForStage(handle, 'OFFBOARDED', 40_000);
    expect(closed.outcome).toMatchObject({ trigger: 'inactivity' });
    expect(closed.outcome?.reason).toMatch(/no call since admission/);
    expect(await quiet.stack.registry.grant.count({ where: { applicationId, status: 'ACTIVE' } })).toBe(0);
    await recordHistory(handle, 'inactivity');
  });

  it('keeps an application that keeps calling, judged from the gateways’ aggregated reports', async () => {
    const { handle } = await throughAnchor(quiet);
    const admitted = await waitForStage(handle, 'ADMITTED');
    const clientId = admitted.grant?.clientId ?? '';
    const report = async () => {
      const end = new Date();
      await ingestUsageBatch(quiet.stack.registry, 'gateway-a', [
        {
          clientId,
          intervalStart: new Date(end.getTime() - 1000).toISOString(),
          intervalEnd: end.toISOString(),
          calls: 5,
          denials: 0,
          errors: 0,
          anomalies: 0,
          lastSeenAt: end.toISOString(),
        },
      ]);
    };
    for (let i = 0; i < 6; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await report();
    }
    expect((await handle.query(stateQuery)).stage).toBe('ADMITTED');
    // Then it goes quiet, and the trigger, re-armed from the last call, fires.
    const closed = await waitForStage(handle, 'OFFBOARDED', 40_000);
    expect(closed.outcome?.reason).toMatch(/no call since 20/);
  });
});

describe('the trust-anchor failure trigger', () => {
  async function admittedWithShortCertificate(seconds: number) {
    const started = await signup(anchors);
    await waitForStage(started.handle, 'AWAITING_CONTACTS');
    await confirmContacts(anchors, started.handle, started.body);
    await waitForStage(started.handle, 'AWAITING_ANCHOR');
    const chain = await clientChain(anchors, `CN=${started.applicationId}`, { notAfter: new Date(Date.now() + seconds * 1000) });
    const attempt = await submitAnchor(started.handle, { kind: 'x509', certificateChainPem: chain });
    expect(attempt.ok).toBe(true);
    await waitForStage(started.handle, 'ADMITTED');
    return started;
  }

  it('warns before expiry, suspends on expiry, and a rotated certificate reinstates without a new admission', async () => {
    const { handle, applicationId, body } = await admittedWithShortCertificate(14);
    await eventually(
      async () => ((await mailsTo(body.contacts.technical.email)).some((m) => /expir/i.test(m.subject)) ? true : undefined),
      15_000,
      'the expiry notice',
    );
    const suspended = await waitForStage(handle, 'SUSPENDED', 30_000);
    expect(suspended.suspension?.reason).toMatch(/expired/);
    expect(suspended.anchor?.health).toBe('expired');
    expect(await anchors.stack.registry.grant.count({ where: { applicationId, status: 'SUSPENDED' } })).toBe(1);
    expect(await anchors.stack.registry.clientCredential.count({ where: { applicationId, status: 'SUSPENDED' } })).toBe(1);

    const renewed = await clientChain(anchors, `CN=${applicationId}-renewed`);
    const rotation = await handle.executeUpdate(rotateAnchorUpdate, { args: [{ kind: 'x509', certificateChainPem: renewed }] });
    expect(rotation.ok).toBe(true);
    const reinstated = await waitForStage(handle, 'ADMITTED');
    expect(reinstated.suspension).toBeNull();
    expect(reinstated.transitions.map((t) => t.stage).slice(-3)).toEqual(['ADMITTED', 'SUSPENDED', 'ADMITTED']);
    expect(await anchors.stack.registry.grant.count({ where: { applicationId, status: 'ACTIVE' } })).toBe(1);
    const credential = await anchors.stack.registry.clientCredential.findFirstOrThrow({ where: { applicationId } });
    expect(credential.anchorFingerprint).toBe(reinstated.anchor?.fingerprint);
    // After the overlap the old certificate is retired.
    await eventually(
      async () => ((await anchors.stack.registry.trustAnchor.count({ where: { applicationId, status: 'RETIRED' } })) === 1 ? true : undefined),
      15_000,
    );
    await recordHistory(handle, 'suspended-then-rotated');
  });

  it('offboards when the suspension’s grace period passes without a renewed anchor', async () => {
    const { handle } = await admittedWithShortCertificate(12);
    await waitForStage(handle, 'SUSPENDED', 30_000);
    const closed = await waitForStage(handle, 'OFFBOARDED', 40_000);
    expect(closed.outcome).toMatchObject({ trigger: 'anchor-failure' });
    await recordHistory(handle, 'suspension-grace-expired');
  });
});
