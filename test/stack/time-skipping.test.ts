import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Context } from '@temporalio/activity';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import type { TimeSkippingServer } from '../../stack/temporal-test-server';
import { firstWorkflowTaskCompleted, startTestTimeSkippingServer } from '../support/time-skipping';
import { Client, Connection, WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import {
  waitDaysUpdate,
  type ClockActivities,
  type serveOneUpdate,
  type sleepDays,
  type sleepThenAskActivity,
  type timerAgainstActivity,
  type upsertStage,
  type waitForWake,
} from '../fixtures/workflows/time-skipping';

const run = promisify(execFile);
const DAY_MS = 24 * 60 * 60 * 1000;
const FIXTURE_WORKFLOWS = fileURLToPath(new URL('../fixtures/workflows/time-skipping.ts', import.meta.url));

// Durable timers months or years ahead (contract end, recertification,
// inactivity) fire in seconds against a real Worker and real workflow code.
describe('time-skipping test server', () => {
  let server: TimeSkippingServer;
  let workerConnection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let client: Client;
  const taskQueue = `time-skipping-${randomUUID()}`;

  const activities: ClockActivities = {
    async activityClock() {
      return { wallMs: Date.now(), scheduledAtMs: Context.current().info.currentAttemptScheduledTimestampMs };
    },
    async busyFor(ms) {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return 'activity';
    },
  };

  beforeAll(async () => {
    const [started, bundle] = await Promise.all([
      startTestTimeSkippingServer(),
      bundleWorkflowCode({ workflowsPath: FIXTURE_WORKFLOWS, logger: new DefaultLogger('WARN') }),
    ]);
    server = started;
    workerConnection = await NativeConnection.connect({ address: server.address });
    worker = await Worker.create({ connection: workerConnection, taskQueue, workflowBundle: bundle, activities });
    running = worker.run();
    client = new Client({ connection: server.connection });
  });

  afterAll(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running;
    await workerConnection?.close();
    await server?.stop();
  });

  /** Starts with time locked, lets the worker take the first task, then awaits the result while skipping. */
  async function runSkipping<T>(handle: WorkflowHandle): Promise<{ result: T; wallMs: number }> {
    await firstWorkflowTaskCompleted(handle);
    const wallStart = Date.now();
    const result = (await server.withTimeSkipping(() => handle.result())) as T;
    return { result, wallMs: Date.now() - wallStart };
  }

  it('fires a 400-day timer in seconds, and the workflow clock moves 400 days', async () => {
    const serverBefore = await server.currentTime();
    const handle = await client.workflow.start<typeof sleepDays>('sleepDays', { taskQueue, workflowId: randomUUID(), args: [400] });
    const { result, wallMs } = await runSkipping<Awaited<ReturnType<typeof sleepDays>>>(handle);

    expect(wallMs).toBeLessThan(10_000);
    const workflowElapsed = result.finishedAtMs - result.startedAtMs;
    expect(workflowElapsed).toBeGreaterThanOrEqual(400 * DAY_MS);
    expect(workflowElapsed).toBeLessThan(401 * DAY_MS);
    // The workflow's Date.now() is the server's clock, not this process's.
    expect(result.startedAtMs).toBeGreaterThanOrEqual(serverBefore.getTime() - 1_000);
    expect((await server.currentTime()).getTime()).toBeGreaterThanOrEqual(result.finishedAtMs);
    console.error(`time-skipping: 400 days of workflow time in ${wallMs} ms of wall time`);
  });

  it('ends a 90-day wait at the signal that interrupts it, after time was skipped by hand', async () => {
    const handle = await client.workflow.start<typeof waitForWake>('waitForWake', { taskQueue, workflowId: randomUUID(), args: [90] });
    await firstWorkflowTaskCompleted(handle);

    const before = await server.currentTime();
    await server.skip(30 * DAY_MS);
    expect((await server.currentTime()).getTime() - before.getTime()).toBeGreaterThanOrEqual(30 * DAY_MS);
    expect((await handle.describe()).status.name).toBe('RUNNING'); // the 90-day timeout is not due yet

    // Messages are sent with time locked: with skipping on, the server could
    // reach the timeout before the signal arrives.
    await handle.signal('wake');
    const { result } = await runSkipping<Awaited<ReturnType<typeof waitForWake>>>(handle);
    expect(result.woken).toBe(true);
    expect(result.finishedAtMs - result.startedAtMs).toBeGreaterThanOrEqual(30 * DAY_MS);
    expect(result.finishedAtMs - result.startedAtMs).toBeLessThan(31 * DAY_MS);
  });

  it('fires the 90-day timeout when no signal comes', async () => {
    const handle = await client.workflow.start<typeof waitForWake>('waitForWake', { taskQueue, workflowId: randomUUID(), args: [90] });
    const { result, wallMs } = await runSkipping<Awaited<ReturnType<typeof waitForWake>>>(handle);
    expect(result.woken).toBe(false);
    expect(result.finishedAtMs - result.startedAtMs).toBeGreaterThanOrEqual(90 * DAY_MS);
    expect(result.finishedAtMs - result.startedAtMs).toBeLessThan(91 * DAY_MS);
    expect(wallMs).toBeLessThan(10_000);
  });

  it('does not skip an activity’s own clock: only server-side times are skipped', async () => {
    const wallBefore = Date.now();
    const handle = await client.workflow.start<typeof sleepThenAskActivity>('sleepThenAskActivity', {
      taskQueue,
      workflowId: randomUUID(),
      args: [400],
    });
    const { result } = await runSkipping<Awaited<ReturnType<typeof sleepThenAskActivity>>>(handle);

    expect(result.finishedAtMs - result.startedAtMs).toBeGreaterThanOrEqual(400 * DAY_MS);
    // The activity's Date.now() is this machine's real time…
    expect(result.activityWallMs).toBeGreaterThanOrEqual(wallBefore);
    expect(result.activityWallMs).toBeLessThanOrEqual(Date.now());
    // …while what the server tells the activity (when it was scheduled) is skipped time.
    expect(result.activityScheduledAtMs).toBeGreaterThanOrEqual(result.finishedAtMs - 1_000);
    expect(result.activityScheduledAtMs - result.activityWallMs).toBeGreaterThanOrEqual(400 * DAY_MS);
  });

  it('holds the clock while an activity runs: an hour-long timer loses to a 1-second activity', async () => {
    const handle = await client.workflow.start<typeof timerAgainstActivity>('timerAgainstActivity', {
      taskQueue,
      workflowId: randomUUID(),
      args: [1_000],
    });
    const { result } = await runSkipping<'timer' | 'activity'>(handle);
    expect(result).toBe('activity');
  });

  it('skips time inside an Update handler once the Update is accepted (sent with time locked)', async () => {
    const handle = await client.workflow.start<typeof serveOneUpdate>('serveOneUpdate', { taskQueue, workflowId: randomUUID() });
    await firstWorkflowTaskCompleted(handle);
    // Sent while skipping, the Update could arrive after the year-long wait has already ended.
    const update = await handle.startUpdate(waitDaysUpdate, { args: [30], waitForStage: WorkflowUpdateStage.ACCEPTED });
    const wallStart = Date.now();
    const clock = await server.withTimeSkipping(() => update.result());
    expect(Date.now() - wallStart).toBeLessThan(10_000);
    expect(clock.finishedAtMs - clock.startedAtMs).toBeGreaterThanOrEqual(30 * DAY_MS);
    expect(clock.finishedAtMs - clock.startedAtMs).toBeLessThan(31 * DAY_MS);
    await server.withTimeSkipping(() => handle.result());
  });

  it("accepts upserts of Admit's search attributes, which the helper registers", async () => {
    const handle = await client.workflow.start<typeof upsertStage>('upsertStage', { taskQueue, workflowId: randomUUID(), args: ['contacts'] });
    const { result } = await runSkipping<string[]>(handle);
    expect(result).toEqual(['contacts']);
  });
});

describe('stopping the time-skipping test server', () => {
  it('leaves no JVM behind', async () => {
    const server = await startTestTimeSkippingServer();
    const pid = server.process.child.pid;
    expect(pid).toBeTypeOf('number');
    // The child is the JVM itself, not a wrapper that could outlive it.
    const { stdout: commandLine } = await run('ps', ['-o', 'args=', '-p', String(pid)]);
    expect(commandLine).toContain('io.temporal.testserver.TestServer');

    await server.stop();
    expect(() => process.kill(pid as number, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    await expect(Connection.connect({ address: server.address, connectTimeout: 1_000 })).rejects.toThrow();
  });
});
