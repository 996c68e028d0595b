import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateQuery } from '../../workflows/messages';
import { approvers, createLifecycleHarness, throughAnchor, vote, waitForStage, type LifecycleHarness } from '../support/lifecycle';
import { sendUnsealedSignal, sendUnsealedUpdate, startUnsealedWorkflow } from '../support/temporal-cli';
import { eventually } from '../support/wait';
import { signupBody } from '../support/signups';
import { applicationIdFor, workflowIdFor } from '../../domain/identity';

/**
 * Issue 9, item 4: someone with access to Temporal's frontend but not to
 * Admit's payload key sends messages with the plain `temporal` CLI. The codec
 * decodes them to the unauthenticated marker; they must change no stage,
 * registry row or audit event, and the lifecycle must go on working.
 */
let h: LifecycleHarness;
beforeAll(async () => {
  h = await createLifecycleHarness();
});
afterAll(async () => h.close());

async function snapshot(applicationId: string) {
  const [application, audit, grants] = await Promise.all([
    h.stack.registry.application.findUniqueOrThrow({ where: { id: applicationId }, select: { status: true, updatedAt: true } }),
    h.stack.registry.auditEvent.count({ where: { applicationId } }),
    h.stack.registry.grant.count({ where: { applicationId } }),
  ]);
  return { application, audit, grants };
}

/** The snapshot once the stage change's own evidence (written just after it) has landed: equal twice, a second apart. */
async function settled(applicationId: string) {
  let previous = await snapshot(applicationId);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const next = await snapshot(applicationId);
    if (JSON.stringify(next) === JSON.stringify(previous)) return next;
    previous = next;
  }
}

describe('messages sent in clear with the temporal CLI', () => {
  it('a forged vote, confirmation and offboarding change nothing; a real vote still admits', async () => {
    const { handle, applicationId, body } = await throughAnchor(h, {
      requestedScopes: ['accounts:read', 'webhooks:manage'],
      requestedBy: approvers.sam.email,
    });
    await waitForStage(handle, 'AWAITING_APPROVAL');
    const before = await settled(applicationId);
    const stateBefore = await handle.query(stateQuery);

    const forged = [
      { name: 'vote', args: [{ approver: approvers.ada, decision: 'approve', comment: 'forged' }] },
      { name: 'confirmContact', args: [{ role: 'business', tokenHash: '0'.repeat(64) }] },
      { name: 'offboard', args: [{ by: approvers.rui, reason: 'forged offboarding' }] },
    ];
    for (const message of forged) {
      const result = await sendUnsealedUpdate({ workflowId: handle.workflowId, ...message });
      // The CLI reached the workflow, which refused the update.
      expect(result.ok, `${message.name}: ${result.stdout}${result.stderr}`).toBe(false);
      expect(result.stderr).not.toMatch(/not found|connection refused|unknown flag/i);
    }

    const after = await handle.query(stateQuery);
    expect(after.stage).toBe('AWAITING_APPROVAL');
    expect(after.approval?.votes).toEqual(stateBefore.approval?.votes);
    expect(await settled(applicationId)).toEqual(before);
    expect(JSON.stringify(after)).not.toContain('forged');

    // The lifecycle goes on working: a real vote, sealed by Admit, admits it.
    await vote(handle, approvers.ada, 'approve');
    await waitForStage(handle, 'ADMITTED');
    expect(body.requestedBy).toBe(approvers.sam.email);
  }, 120_000);

  it('a forged organisation event changes nothing but leaves evidence that it was ignored', async () => {
    const { handle, applicationId } = await throughAnchor(h, {
      requestedScopes: ['accounts:read', 'webhooks:manage'],
      requestedBy: approvers.sam.email,
    });
    await waitForStage(handle, 'AWAITING_APPROVAL');
    const before = await settled(applicationId);
    const result = await sendUnsealedSignal({
      workflowId: handle.workflowId,
      name: 'organisationEvent',
      args: [{ kind: 'offboarded', by: 'attacker', reason: 'forged' }],
    });
    expect(result.ok, result.stderr).toBe(true);
    await eventually(async () =>
      (await h.stack.registry.auditEvent.count({ where: { applicationId, type: 'lifecycle.unsealed-message-ignored' } })) === 1 ? true : undefined,
    );
    const after = await settled(applicationId);
    expect(after.application).toEqual(before.application);
    expect(after.grants).toBe(before.grants);
    expect(after.audit).toBe(before.audit + 1);
    expect((await handle.query(stateQuery)).stage).toBe('AWAITING_APPROVAL');
    // And it goes on working.
    await vote(handle, approvers.ada, 'approve');
    await waitForStage(handle, 'ADMITTED');
  });

  it('a forged start of an application id fails at once and leaves the id to the real signup', async () => {
    const body = signupBody();
    const applicationId = applicationIdFor(body.organisation.lei, body.application.name, body.application.environment);
    const started = await startUnsealedWorkflow({
      workflowId: workflowIdFor(applicationId),
      taskQueue: h.stack.taskQueue,
      input: { applicationId, signup: body, submittedAt: new Date().toISOString() },
    });
    expect(started.ok, started.stderr).toBe(true);
    await eventually(async () =>
      (await h.stack.temporal.workflow.getHandle(workflowIdFor(applicationId)).describe()).status.name === 'FAILED' ? true : undefined,
    );
    expect(await h.stack.registry.application.count({ where: { id: applicationId } })).toBe(0);
    const real = await h.app.inject({ method: 'POST', url: '/signup', payload: body });
    expect(real.statusCode).toBe(202);
    await waitForStage(h.stack.temporal.workflow.getHandle(workflowIdFor(applicationId)), 'AWAITING_CONTACTS');
  });
});
