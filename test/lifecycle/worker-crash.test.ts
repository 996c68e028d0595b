import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { buildApp } from '../../web/app';
import { workflowIdFor } from '../../domain/identity';
import type { ManagedProcess } from '../../stack/processes';
import { createTestStack, type TestStack } from '../support/stack';
import { testAppDependencies } from '../support/web';
import { startWorkerProcess } from '../support/worker-process';
import { signupBody } from '../support/signups';
import { eventually } from '../support/wait';
import { approvers, createLifecycleHarness, throughAnchor, vote, waitForStage } from '../support/lifecycle';

let stack: TestStack;
const workers: ManagedProcess[] = [];

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await stack.close();
});

describe('a worker killed with SIGKILL mid-run', () => {
  it('loses nothing: the lifecycle resumes on a new worker and the registry is written exactly once', { timeout: 120_000 }, async () => {
    const app = buildApp(testAppDependencies(stack));
    const first = await startWorkerProcess({ databaseUrl: stack.databaseUrl, taskQueue: stack.taskQueue, env: stack.workerEnv });
    workers.push(first);

    // Hold the registry so the activity is caught inside its transaction when the worker dies.
    const blocker = new pg.Client({ connectionString: stack.databaseUrl });
    await blocker.connect();
    await blocker.query('begin');
    await blocker.query('lock table organisations in access exclusive mode');

    const body = signupBody();
    const response = await app.inject({ method: 'POST', url: '/signup', payload: body });
    expect(response.statusCode).toBe(202);
    const { applicationId } = response.json<{ applicationId: string }>();

    // Polled from another session: inside a transaction, pg_stat_activity is a snapshot.
    const observer = new pg.Client({ connectionString: stack.databaseUrl });
    await observer.connect();
    await eventually(
      async () => {
        const { rows } = await observer.query(
          `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`,
        );
        return rows[0].n > 0 ? true : undefined;
      },
      30_000,
      'the activity to block on the registry',
    );
    await observer.end();

    first.child.kill('SIGKILL');
    await first.exited;
    await blocker.query('rollback');
    await blocker.end();
    expect(await stack.registry.application.count({ where: { id: applicationId } })).toBe(0);

    workers.push(await startWorkerProcess({ databaseUrl: stack.databaseUrl, taskQueue: stack.taskQueue, env: stack.workerEnv }));
    const handle = stack.temporal.workflow.getHandle(workflowIdFor(applicationId));
    const state = await eventually(
      async () => {
        const s = await handle.query<{ stage: string }>('state');
        return s.stage === 'AWAITING_CONTACTS' ? s : undefined;
      },
      45_000,
      'the lifecycle to resume',
    );
    expect(state.stage).toBe('AWAITING_CONTACTS');
    expect(await stack.registry.organisation.count({ where: { lei: body.organisation.lei } })).toBe(1);
    expect(await stack.registry.contact.count({ where: { applicationId } })).toBe(3);
    expect(await stack.registry.auditEvent.count({ where: { applicationId, type: 'application.registered' } })).toBe(1);
    await app.close();
  });

  it('in the middle of a stage: an approval sent as the worker dies is decided by the next worker, once', async () => {
    const h = await createLifecycleHarness({}, { inProcessWorker: false });
    const env = { ...h.stack.workerEnv, ADMIT_TRUST_STORE: h.trustStoreFile };
    try {
      const first = await startWorkerProcess({ databaseUrl: h.stack.databaseUrl, taskQueue: h.stack.taskQueue, env });
      workers.push(first);
      const { handle, applicationId } = await throughAnchor(h, { requestedScopes: ['accounts:read', 'webhooks:manage'] });
      await waitForStage(handle, 'AWAITING_APPROVAL');

      const decision = vote(handle, approvers.ada, 'approve', 'reviewed');
      first.child.kill('SIGKILL');
      await first.exited;
      workers.push(await startWorkerProcess({ databaseUrl: h.stack.databaseUrl, taskQueue: h.stack.taskQueue, env }));

      await expect(decision).resolves.toEqual({ outcome: 'approved' });
      // An activity the dead worker had started is retried once its start-to-close timeout passes.
      const admitted = await waitForStage(handle, 'ADMITTED', 60_000);
      expect(admitted.approval).toBeNull();
      expect(await h.stack.registry.grant.count({ where: { applicationId } })).toBe(1);
      expect(await h.stack.registry.clientCredential.count({ where: { applicationId } })).toBe(1);
      expect(await h.stack.registry.auditEvent.count({ where: { applicationId, type: 'admission.vote' } })).toBe(1);
    } finally {
      await h.close();
    }
  }, 120_000);
});
