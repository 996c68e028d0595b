// The bare workflow of the admission benchmark (docs/benchmarks.md, "Admission against the bare
// shape"): the shape of a LOW admission (bench/admission-shape.json) and nothing else. Bundled on
// its own by the bare worker (bench/bare/worker.ts), on its own task queue, with Temporal's default
// data converter and no interceptors.
import {
  ApplicationFailure,
  condition,
  defineSignal,
  defineUpdate,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { BareActivities } from './activities';
import type { BareStep } from './shape';

export const bareUpdate = defineUpdate<number, [name: string]>('bareUpdate');
export const bareSignal = defineSignal<[name: string]>('bareSignal');

const { insertStep } = proxyActivities<BareActivities>({ startToCloseTimeout: '1 minute' });
const local = proxyLocalActivities<BareActivities>({ startToCloseTimeout: '1 minute' });

/** Runs `steps` in order: activities (each one INSERT), timers, and waits for Updates and signals that only record themselves. */
export async function bareAdmission(steps: BareStep[]): Promise<number> {
  const workflowId = workflowInfo().workflowId;
  let updates = 0;
  let signals = 0;
  setHandler(bareUpdate, () => {
    updates += 1;
    return updates;
  });
  setHandler(bareSignal, () => {
    signals += 1;
  });
  let expectedUpdates = 0;
  let expectedSignals = 0;
  const wait = async (ready: () => boolean, deadlineMs: number | undefined, what: string) => {
    if (deadlineMs === undefined) return condition(ready);
    if (!(await condition(ready, deadlineMs))) throw ApplicationFailure.nonRetryable(`no ${what} within ${deadlineMs} ms`);
  };
  for (const [index, step] of steps.entries()) {
    switch (step.kind) {
      case 'activities':
        await Promise.all(step.types.map((type) => insertStep({ workflowId, step: index, type })));
        break;
      case 'localActivities':
        await Promise.all(step.types.map((type) => local.insertStep({ workflowId, step: index, type })));
        break;
      case 'sleep':
        await sleep(step.ms);
        break;
      case 'update': {
        expectedUpdates += 1;
        const target = expectedUpdates;
        await wait(() => updates >= target, step.deadlineMs, `Update ${step.name}`);
        break;
      }
      case 'signal': {
        expectedSignals += 1;
        const target = expectedSignals;
        await wait(() => signals >= target, step.deadlineMs, `signal ${step.name}`);
        break;
      }
    }
  }
  return steps.length;
}
