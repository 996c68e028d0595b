import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { CONTACT_ROLES } from '../../domain/contacts';
import {
  applySettingsUpdate,
  confirmContactUpdate,
  organisationEventSignal,
  requestExpansionUpdate,
  rotateAnchorUpdate,
  stateQuery,
  submitAnchorUpdate,
  voteUpdate,
  type LifecycleState,
} from '../../workflows/messages';
import type { partnerLifecycle } from '../../workflows/partner-lifecycle';
import { randomLei } from '../support/signups';
import { actor, APPROVERS, fakeWorld, Gate, testSignup, workflowTestBed, type FakeWorld, type WorkflowTestBed } from './fake-activities';

type Handle = WorkflowHandle<typeof partnerLifecycle>;

let bed: WorkflowTestBed;
beforeAll(async () => {
  bed = await workflowTestBed();
});
afterAll(async () => {
  await bed?.teardown();
});

const X509 = { kind: 'x509', certificateChainPem: '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----' } as const;

async function start(taskQueue: string, application: Parameters<typeof testSignup>[0] = {}, lei?: string): Promise<Handle> {
  const { applicationId, signup } = testSignup(application, lei);
  return bed.env.client.workflow.start<typeof partnerLifecycle>('partnerLifecycle', {
    taskQueue,
    workflowId: `partner-lifecycle-${applicationId}`,
    args: [{ applicationId, signup, submittedAt: new Date().toISOString() }],
  });
}

async function until(handle: Handle, ready: (s: LifecycleState) => boolean, what: string, timeoutMs = 20_000): Promise<LifecycleState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await handle.query(stateQuery);
    if (ready(state)) return state;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stage ${state.stage}, waiting for ${state.waitingFor}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function refusal(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) return error.cause.type ?? undefined;
    throw error;
  }
}

/** Contacts confirmed, anchor verified and, above LOW, approved by Ada and Sam. */
async function admit(handle: Handle, world: FakeWorld): Promise<LifecycleState> {
  // A contact holds a link once it was mailed (the fake names each hash after its role and round).
  await until(handle, () => world.called('sendContactConfirmations').length > 0, 'the confirmation mail');
  for (const role of CONTACT_ROLES) await handle.executeUpdate(confirmContactUpdate, { args: [{ role, tokenHash: `${role}-0` }] });
  await until(handle, (s) => s.stage === 'AWAITING_ANCHOR', 'anchor stage');
  await handle.executeUpdate(submitAnchorUpdate, { args: [X509] });
  const next = await until(handle, (s) => s.stage === 'ADMITTED' || s.stage === 'AWAITING_APPROVAL', 'approval or admission');
  if (next.stage === 'AWAITING_APPROVAL') {
    await handle.executeUpdate(voteUpdate, { args: [{ approver: actor('idp ada'), decision: 'approve', comment: 'ok' }] });
    await handle.executeUpdate(voteUpdate, { args: [{ approver: actor('idp sam'), decision: 'approve', comment: 'ok' }] });
  }
  return until(handle, (s) => s.stage === 'ADMITTED', 'admission');
}

const transitionsTo = (state: LifecycleState, stage: LifecycleState['stage']) => state.transitions.filter((t) => t.stage === stage).length;

describe('the lifecycle workflow, with activities faked in memory', () => {
  it('answers queries and refuses updates with WRONG_STAGE while registering', async () => {
    const world = fakeWorld();
    const gate = (world.gates.registerApplication = new Gate());
    await bed.run(world, async (taskQueue) => {
      const handle = await start(taskQueue);
      await gate.reached;
      const state = await handle.query(stateQuery);
      expect(state.stage).toBe('REGISTERING');
      expect(await refusal(handle.executeUpdate(confirmContactUpdate, { args: [{ role: 'business', tokenHash: 'business-0' }] }))).toBe(
        'WRONG_STAGE',
      );
      gate.open();
      await until(handle, (s) => s.stage === 'AWAITING_CONTACTS', 'contacts');
      await handle.terminate('test over');
    });
  });

  it('mails no contact when an organisation event arrives while registering', async () => {
    const world = fakeWorld();
    const gate = (world.gates.registerApplication = new Gate());
    await bed.run(world, async (taskQueue) => {
      const handle = await start(taskQueue);
      await gate.reached;
      await handle.signal(organisationEventSignal, { kind: 'entity-struck-off', by: 'ops', reason: 'struck off the register' });
      gate.open();
      const closed = await handle.result();
      expect(closed.stage).toBe('OFFBOARDED');
      expect(closed.outcome?.trigger).toBe('organisation-entity-struck-off');
      expect(world.called('sendContactConfirmations')).toHaveLength(0);
      expect(world.called('closeApplication')).toHaveLength(1);
    });
  });

  it('keeps a recertification that falls due while an expansion is being decided', async () => {
    // STRATEGIC: recertified every 4 s here; an expansion needs approvers.
    const world = fakeWorld({ recertificationStrategicMs: 4_000, probationMs: 1, anchorReverificationEveryMs: 3_600_000 });
    await bed.run(world, async (taskQueue) => {
      const handle = await start(taskQueue, { strategic: true, requestedScopes: ['accounts:read'] });
      const admitted = await admit(handle, world);
      const recertifyAt = admitted.triggers.find((t) => t.kind === 'recertification')?.dueAt;
      expect(recertifyAt).toBeDefined();
      // The expansion reads usage and is held there until the recertification is due.
      const usage = (world.gates.readUsage = new Gate());
      const expansion = handle.executeUpdate(requestExpansionUpdate, { args: [{ scopes: ['transactions:read'], requestedBy: 'bea@example.com' }] });
      await usage.reached;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(recertifyAt ?? '') - Date.now()) + 1_500));
      usage.open();
      const view = await expansion;
      expect(view.decision).toBe('needs-approval');
      const open = await until(handle, (s) => s.approval !== null, 'an open approval');
      expect(open.approval?.purpose).toBe('expansion');
      // Decided, the expansion gives way to the recertification that fell due meanwhile: nothing was lost.
      await handle.executeUpdate(voteUpdate, { args: [{ approver: actor('idp ada'), decision: 'approve', comment: 'fine' }] });
      await handle.executeUpdate(voteUpdate, { args: [{ approver: actor('idp sam'), decision: 'approve', comment: 'fine' }] });
      const recertifying = await until(handle, (s) => s.approval?.purpose === 'recertification', 'the recertification');
      expect(recertifying.expansions.at(-1)?.decision).toBe('approved');
      expect(world.called('expandGrant')).toHaveLength(1);
      await handle.terminate('test over');
    });
  });

  it('does not re-suspend a partner whose rotation lands while its old anchor is being re-verified', async () => {
    const world = fakeWorld({ anchorReverificationEveryMs: 2_000 });
    await bed.run(world, async (taskQueue) => {
      const handle = await start(taskQueue);
      await admit(handle, world);
      world.reverification = 'revoked';
      await until(handle, (s) => s.stage === 'SUSPENDED', 'suspension');
      // The next re-verification, of the old (revoked) anchor, is in flight when the renewed anchor arrives.
      world.reverification = 'healthy';
      world.nextReverifications = ['revoked'];
      const reverifying = (world.gates.reverifyAnchor = new Gate());
      await reverifying.reached;
      const rotation = handle.executeUpdate(rotateAnchorUpdate, { args: [X509] });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      reverifying.open();
      const attempt = await rotation;
      expect(attempt.ok).toBe(true);
      // Whatever the order, the verdict on the old anchor must not suspend the partner its new one reinstated.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const state = await until(handle, (s) => s.stage === 'ADMITTED', 'reinstatement');
      expect(transitionsTo(state, 'SUSPENDED')).toBe(1);
      expect(transitionsTo(state, 'ADMITTED')).toBe(2);
      expect(world.called('reinstateAccess')).toHaveLength(1);
      expect(world.called('suspendAccess')).toHaveLength(1);
      await handle.terminate('test over');
    });
  });

  it('says what a permanent verifier failure is, instead of "submit again shortly", and it costs no submission', async () => {
    const world = fakeWorld();
    await bed.run(world, async (taskQueue) => {
      const handle = await start(taskQueue);
      await until(handle, () => world.called('sendContactConfirmations').length > 0, 'the confirmation mail');
      for (const role of CONTACT_ROLES) await handle.executeUpdate(confirmContactUpdate, { args: [{ role, tokenHash: `${role}-0` }] });
      await until(handle, (s) => s.stage === 'AWAITING_ANCHOR', 'anchor stage');
      world.verifierFailure = ApplicationFailure.create({ type: 'AnchorConfigError', message: 'trust store unreadable', nonRetryable: true });
      expect(await refusal(handle.executeUpdate(submitAnchorUpdate, { args: [X509] }))).toBe('VERIFIER_MISCONFIGURED');
      world.verifierFailure = ApplicationFailure.create({ type: 'ApplicationClosed', message: 'closed', nonRetryable: true });
      expect(await refusal(handle.executeUpdate(submitAnchorUpdate, { args: [X509] }))).toBe('WRONG_STAGE');
      const state = await handle.query(stateQuery);
      expect(state.anchorAttempts.map((a) => a.reasons[0]?.code)).not.toContain('VERIFIER_UNAVAILABLE');
      // Neither counted against the partner: the next submission is accepted.
      expect((await handle.executeUpdate(submitAnchorUpdate, { args: [X509] })).ok).toBe(true);
      await handle.terminate('test over');
    });
  });

  it('keeps AdmitWaitingFor and the armed triggers in step with what the lifecycle really waits for', async () => {
    const world = fakeWorld({ probationMs: 1, inactivityMs: 2_000 });
    await bed.run(world, async (taskQueue) => {
      const handle = await start(taskQueue, { strategic: true });
      const admitted = await admit(handle, world);
      const firstInactivity = admitted.triggers.find((t) => t.kind === 'inactivity')?.dueAt ?? '';
      // The gateways report calls: each check moves the inactivity deadline on, and the state shows it.
      const moved = await until(
        handle,
        (s) => (s.triggers.find((t) => t.kind === 'inactivity')?.dueAt ?? '') > firstInactivity,
        'a later inactivity deadline',
      );
      expect(moved.stage).toBe('ADMITTED');
      await handle.executeUpdate(requestExpansionUpdate, { args: [{ scopes: ['transactions:read'], requestedBy: 'bea@example.com' }] });
      await until(handle, (s) => s.approval?.purpose === 'expansion', 'the expansion approval');
      const waiting = async () => (await handle.describe()).searchAttributes.AdmitWaitingFor?.[0];
      expect(await waiting()).toBe('expansion');
      await handle.executeUpdate(voteUpdate, { args: [{ approver: actor('idp ada'), decision: 'approve', comment: 'fine' }] });
      await handle.executeUpdate(voteUpdate, { args: [{ approver: actor('idp sam'), decision: 'approve', comment: 'fine' }] });
      await until(handle, (s) => s.approval === null, 'the decision');
      const deadline = Date.now() + 10_000;
      while ((await waiting()) !== 'nothing' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await waiting()).toBe('nothing');
      await handle.terminate('test over');
    });
  });

  it('ends a signup the registry refuses for good as REJECTED with its reason, instead of retrying forever', async () => {
    const world = fakeWorld();
    world.registrationFailure = ApplicationFailure.create({
      type: 'InvalidRegistryInput',
      message: 'name holds a NUL character',
      nonRetryable: true,
    });
    await bed.run(world, async (taskQueue) => {
      const handle = await start(taskQueue);
      const closed = await handle.result();
      expect(closed.stage).toBe('REJECTED');
      expect(closed.outcome?.trigger).toBe('registration-refused');
      expect(closed.outcome?.reason).toContain('NUL character');
      expect(world.called('sendContactConfirmations')).toHaveLength(0);
    });
  });

  it('refuses an approver whose identity belongs to the applying organisation', async () => {
    const lei = randomLei();
    const domain = `${lei.slice(0, 6).toLowerCase()}.example.com`;
    const world = fakeWorld();
    world.directory = [...APPROVERS, { approverId: 'idp insider', email: `cfo@payments.${domain}`, roles: ['approver'] }];
    await bed.run(world, async (taskQueue) => {
      const handle = await start(taskQueue, { strategic: true }, lei);
      await until(handle, () => world.called('sendContactConfirmations').length > 0, 'the confirmation mail');
      for (const role of CONTACT_ROLES) await handle.executeUpdate(confirmContactUpdate, { args: [{ role, tokenHash: `${role}-0` }] });
      await until(handle, (s) => s.stage === 'AWAITING_ANCHOR', 'anchor stage');
      await handle.executeUpdate(submitAnchorUpdate, { args: [X509] });
      await until(handle, (s) => s.stage === 'AWAITING_APPROVAL', 'approval');
      const insider = actor('idp insider', world.directory);
      expect(await refusal(handle.executeUpdate(voteUpdate, { args: [{ approver: insider, decision: 'approve', comment: 'mine' }] }))).toBe(
        'APPROVER_OF_APPLICANT',
      );
      await handle.terminate('test over');
    });
  });

  it('releases a claim whose domain is never proven, mailing no confirmation link', async () => {
    const world = fakeWorld({ domainCheckEveryMs: 500 });
    world.domainProven = false;
    world.challengeTtlMs = 2_000;
    await bed.run(world, async (taskQueue) => {
      const handle = await start(taskQueue);
      const closed = await handle.result();
      expect(closed.stage).toBe('EXPIRED');
      expect(closed.outcome?.trigger).toBe('entity-expiry');
      expect(world.called('checkDomainControl').length).toBeGreaterThan(1);
      expect(world.called('sendContactConfirmations')).toHaveLength(0);
    });
  });

  it('sends contacts outside the verified domain, and a LOW first enrolment, to an approver', async () => {
    const world = fakeWorld();
    world.established = false;
    world.outsideDomain = ['security'];
    await bed.run(world, async (taskQueue) => {
      const handle = await start(taskQueue);
      await until(handle, () => world.called('sendContactConfirmations').length > 0, 'the confirmation mail');
      for (const role of CONTACT_ROLES) await handle.executeUpdate(confirmContactUpdate, { args: [{ role, tokenHash: `${role}-0` }] });
      await until(handle, (s) => s.stage === 'AWAITING_ANCHOR', 'anchor stage');
      await handle.executeUpdate(submitAnchorUpdate, { args: [X509] });
      const pending = await until(handle, (s) => s.stage === 'AWAITING_APPROVAL', 'approval');
      expect(pending.tier).toBe('LOW');
      expect(pending.approval?.required).toBe(1);
      expect(pending.entity?.approvalReasons).toHaveLength(2);
      await handle.terminate('test over');
    });
  });

  it('offboards an admitted partner whose LEI GLEIF has since retired', async () => {
    const world = fakeWorld({ leiRecheckEveryMs: 1_500 });
    await bed.run(world, async (taskQueue) => {
      const handle = await start(taskQueue);
      await admit(handle, world);
      world.leiOutcome = 'refused';
      const closed = await handle.result();
      expect(closed.stage).toBe('OFFBOARDED');
      expect(closed.outcome?.trigger).toBe('lei-ended');
      expect(world.audit.some((e) => e.type === 'entity.lei-rechecked')).toBe(true);
      expect(world.called('closeApplication')).toHaveLength(1);
    });
  });

  it('applies new settings to a running lifecycle, with evidence, and refuses unusable ones', async () => {
    const world = fakeWorld();
    await bed.run(world, async (taskQueue) => {
      const handle = await start(taskQueue);
      await admit(handle, world);
      const settings = structuredClone(world.settings);
      settings.durations.inactivityMs = 30 * 86_400_000;
      const applied = await handle.executeUpdate(applySettingsUpdate, { args: [{ settings, by: 'ops@platform.test' }] });
      expect(applied.changed).toEqual(['durations.inactivityMs']);
      expect(world.audit.filter((e) => e.type === 'lifecycle.settings-applied')).toHaveLength(1);
      const again = await handle.executeUpdate(applySettingsUpdate, { args: [{ settings, by: 'ops@platform.test' }] });
      expect(again.changed).toEqual([]);
      const broken = structuredClone(settings);
      broken.durations.contactReminderMs = broken.durations.contactExpiryMs;
      expect(await refusal(handle.executeUpdate(applySettingsUpdate, { args: [{ settings: broken, by: 'ops' }] }))).toBe('INVALID_INPUT');
      await handle.terminate('test over');
    });
  });
});
