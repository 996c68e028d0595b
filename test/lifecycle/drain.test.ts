import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../config/env';
import { workflowIdFor } from '../../domain/identity';
import { buildApp } from '../../web/app';
import { createTestStack, type TestStack } from '../support/stack';
import { startService, type ServiceProcess } from '../support/built';
import { testAppDependencies } from '../support/web';
import { signupBody } from '../support/signups';
import { eventually } from '../support/wait';

// SIGTERM, as an orchestrator sends it before a rolling update: the worker stops polling and lets
// the activity in flight finish (ADMIT_SHUTDOWN_GRACE), the web stops accepting and answers the
// request in flight. Nothing is lost, and nothing is retried that did not need to be.
let stack: TestStack;
const running: ServiceProcess[] = [];

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(async () => {
  await Promise.all(running.map((service) => service.stop()));
  await stack.close();
});

/** Holds an exclusive lock on `table` until `release()`; `waiting()` resolves once a query blocks on it. */
async function lockTable(databaseUrl: string, table: string) {
  const holder = new pg.Client({ connectionString: databaseUrl });
  await holder.connect();
  await holder.query('begin');
  await holder.query(`lock table ${table} in access exclusive mode`);
  return {
    async waiting(what: string) {
      // From another session: inside a transaction, pg_stat_activity is a snapshot.
      const observer = new pg.Client({ connectionString: databaseUrl });
      await observer.connect();
      try {
        await eventually(
          async () => {
            const { rows } = await observer.query<{ n: number }>(
              `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`,
            );
            return (rows[0]?.n ?? 0) > 0 ? true : undefined;
          },
          30_000,
          what,
        );
      } finally {
        await observer.end();
      }
    },
    async release() {
      await holder.query('rollback');
      await holder.end();
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SIGTERM drains', () => {
  it('the worker: the activity in flight completes once, in its first attempt, and the lifecycle goes on', async () => {
    const app = buildApp(testAppDependencies(stack));
    const options = { databaseUrl: stack.databaseUrl, taskQueue: stack.taskQueue, env: { ...stack.workerEnv, ADMIT_SHUTDOWN_GRACE: '30s' } };
    const first = await startService('worker', path.join(REPO_ROOT, 'worker/main.ts'), options);
    running.push(first);
    const lock = await lockTable(stack.databaseUrl, 'organisations');
    const response = await app.inject({ method: 'POST', url: '/signup', payload: signupBody() });
    expect(response.statusCode).toBe(202);
    const { applicationId } = response.json<{ applicationId: string }>();
    await lock.waiting('registerApplication to block on the registry');

    first.child.kill('SIGTERM');
    // Draining: not ready any more, but still running its activity.
    await eventually(async () => ((await fetch(`${first.url}/readyz`)).status === 503 ? true : undefined), 10_000, 'the worker to report draining');
    await sleep(1_000);
    expect(first.child.exitCode).toBeNull();
    await lock.release();
    expect(await first.exited).toBe(0);
    expect(first.recentOutput()).toContain('worker: drained and stopped');
    expect(await stack.registry.application.count({ where: { id: applicationId } })).toBe(1);

    // The next worker picks up the workflow task the activity's completion scheduled.
    running.push(
      await startService('worker', path.join(REPO_ROOT, 'worker/main.ts'), { ...options, env: { ...options.env, ADMIT_WORKER_HTTP_PORT: 'off' } }),
    );
    const handle = stack.temporal.workflow.getHandle(workflowIdFor(applicationId));
    await eventually(
      async () => ((await handle.query<{ stage: string }>('state')).stage === 'AWAITING_CONTACTS' ? true : undefined),
      45_000,
      'the lifecycle to go on',
    );

    // One attempt: completed by the draining worker, not timed out and retried by the next one.
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'registerApplication');
    expect(scheduled).toHaveLength(1);
    const scheduledId = scheduled[0]?.eventId?.toString();
    const started = events.filter((e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === scheduledId);
    expect(started.map((e) => e.activityTaskStartedEventAttributes?.attempt)).toEqual([1]);
    expect(events.filter((e) => e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() === scheduledId)).toHaveLength(1);
    expect(await stack.registry.auditEvent.count({ where: { applicationId, type: 'application.registered' } })).toBe(1);
    await app.close();
  }, 120_000);

  it('the web: the request in flight is answered, new connections are refused, and the process exits', async () => {
    const token = randomBytes(32).toString('base64url');
    const web = await startService('web', path.join(REPO_ROOT, 'web/main.ts'), {
      databaseUrl: stack.databaseUrl,
      taskQueue: stack.taskQueue,
      env: { ADMIT_GATEWAY_TOKENS: `edge:${token}`, ADMIT_SHUTDOWN_GRACE: '30s' },
    });
    running.push(web);
    const lock = await lockTable(stack.databaseUrl, 'client_credentials');
    const inFlight = fetch(`${web.url}/decisions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'nobody', confirmation: { method: 'jkt', value: 'x' }, scope: 'accounts:read', environment: 'production' }),
    });
    await lock.waiting('the decision to block on the registry');

    web.child.kill('SIGTERM');
    await eventually(
      async () => {
        try {
          await fetch(`${web.url}/healthz`);
          return undefined;
        } catch {
          return true;
        }
      },
      10_000,
      'the web to stop accepting connections',
    );
    expect(web.child.exitCode).toBeNull();
    await lock.release();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ allow: false, reasons: [{ code: 'CLIENT_UNKNOWN' }] });
    expect(await web.exited, web.recentOutput()).toBe(0);
    expect(web.recentOutput()).toContain('web: drained and stopped');
  }, 90_000);
});
