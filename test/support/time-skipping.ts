import { inject } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { startTimeSkippingServer, type TimeSkippingServer } from '../../stack/temporal-test-server';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import './quiet-runtime';

// @temporalio/proto is CommonJS: its namespaces come off the default export.
const { temporal } = proto;

/**
 * A private time-skipping server for one test file (see the comment in
 * test/global-setup.ts for why not one per run), with Admit's search
 * attributes registered so the real workflows can upsert them.
 */
export function startTestTimeSkippingServer(): Promise<TimeSkippingServer> {
  return startTimeSkippingServer({ runtime: inject('timeSkippingRuntime'), searchAttributes: SEARCH_ATTRIBUTES });
}

/**
 * Resolves once a worker has completed the workflow's first task. Unlock time
 * skipping only after that: the test server does not hold its clock for a
 * workflow task that is queued or being worked on, so a worker still loading
 * the bundle (the first task is the slow one) sees the server jump past its
 * task's timeout, or to the workflow's 10-year execution timeout.
 */
export async function firstWorkflowTaskCompleted(handle: WorkflowHandle, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const completed = temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED;
  while (Date.now() < deadline) {
    const history = await handle.fetchHistory();
    if ((history.events ?? []).some((event) => event.eventType === completed)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`No worker completed a task of workflow ${handle.workflowId} within ${timeoutMs / 1000}s`);
}
