import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TimeSkippingServer } from '../../stack/temporal-test-server';
import { stateQuery } from '../../workflows/messages';
import { recordHistory } from '../support/histories';
import { approvers, createLifecycleHarness, mailsTo, throughAnchor, vote, waitForStage, type LifecycleHarness } from '../support/lifecycle';
import { startTestTimeSkippingServer } from '../support/time-skipping';
import { eventually } from '../support/wait';

// Production-scale timers (a contract ending in 2028, recertification every 90 days) fired on
// Temporal's time-skipping test server. Time is held still while the test drives the admission,
// and released only to let the lifecycle's own timers run.
//
// Each scenario gets a server of its own, starting at today: activities run on the wall clock,
// so on a server whose clock earlier skips had moved years ahead, a domain challenge issued
// today would already be past its deadline on the workflow's clock, and the signup would
// expire unless its first DNS check happened to win a race with the test's TXT publisher.
const DAY = 24 * 3600 * 1000;
let server: TimeSkippingServer;
let h: LifecycleHarness;

function withOwnTimeSkippingServer(): void {
  beforeAll(async () => {
    server = await startTestTimeSkippingServer();
    h = await createLifecycleHarness(
      // Only the timers under test fire within the skipped span.
      { ADMIT_INACTIVITY: '3650d', ADMIT_ANCHOR_REVERIFY_EVERY: '400d' },
      { temporalAddress: server.address },
    );
  });
  afterAll(async () => {
    await h?.close();
    await server?.stop();
  });
}

describe('the contract-end trigger', () => {
  withOwnTimeSkippingServer();

  it('notifies the contacts before the contract end date, then offboards on it', async () => {
    const { handle, applicationId, body } = await throughAnchor(h);
    const admitted = await waitForStage(handle, 'ADMITTED');
    const contractEnd = admitted.triggers.find((t) => t.kind === 'contract-end');
    expect(contractEnd?.dueAt).toBe('2028-07-01T00:00:00.000Z');

    const final = await server.withTimeSkipping(() => handle.result());
    expect(final.outcome).toMatchObject({ stage: 'OFFBOARDED', trigger: 'contract-end' });
    expect(Date.parse(final.outcome?.at ?? '')).toBeGreaterThanOrEqual(Date.parse('2028-07-01T00:00:00Z'));
    expect((await server.currentTime()).getTime()).toBeGreaterThanOrEqual(Date.parse('2028-07-01T00:00:00Z'));
    expect(await h.stack.registry.grant.count({ where: { applicationId, status: 'ACTIVE' } })).toBe(0);
    const subjects = (await mailsTo(body.contacts.business.email)).map((m) => m.subject);
    expect(subjects.some((s) => /contract .* is ending/i.test(s))).toBe(true);
    expect(subjects.some((s) => /offboarded/i.test(s))).toBe(true);
    await recordHistory(handle, 'contract-end');
  });
});

describe('scheduled recertification of a REGULATED partner', () => {
  withOwnTimeSkippingServer();

  it('asks two approvers every 90 days; recertified it carries on, unrecertified it is offboarded', async () => {
    // Five years after the server's now, so recertification, not the contract end, ends this lifecycle.
    const contractEndDate = new Date((await server.currentTime()).getTime() + 5 * 365 * DAY).toISOString().slice(0, 10);
    const { handle, applicationId } = await throughAnchor(h, { regulatedSector: true, contractEndDate });
    await waitForStage(handle, 'AWAITING_APPROVAL');
    await vote(handle, approvers.ada, 'approve', 'admission reviewed');
    await vote(handle, approvers.rui, 'approve', 'security reviewed');
    await waitForStage(handle, 'ADMITTED');

    await server.skip(91 * DAY);
    const due = await eventually(
      async () => {
        const s = await handle.query(stateQuery);
        return s.approval?.purpose === 'recertification' ? s : undefined;
      },
      20_000,
      'the recertification to open',
    );
    expect(due.approval).toMatchObject({ required: 2, votes: [] });
    await eventually(async () =>
      (await mailsTo(approvers.sam.email)).some((m) => /recertification due/i.test(m.subject) && m.text.includes(applicationId)) ? true : undefined,
    );

    await vote(handle, approvers.sam, 'approve', 'still needed');
    await vote(handle, approvers.rui, 'approve', 'controls still in place');
    await eventually(async () =>
      (await h.stack.registry.auditEvent.count({ where: { applicationId, type: 'recertification.approved' } })) === 1 ? true : undefined,
    );
    expect((await handle.query(stateQuery)).approval).toBeNull();

    // The next recertification is not answered: the partner is offboarded once it expires.
    const final = await server.withTimeSkipping(() => handle.result());
    expect(final.outcome).toMatchObject({ stage: 'OFFBOARDED', trigger: 'recertification' });
    expect(final.outcome?.reason).toMatch(/not recertified/);
    await recordHistory(handle, 'recertified-then-lapsed');
  });
});
