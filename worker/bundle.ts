import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { BundleOptions, WorkerOptions } from '@temporalio/worker';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * What goes into the workflow bundle, the same for `npm run build`, the tests' shared bundle and a
 * worker bundling from sources: the lifecycle workflow and the workflow interceptors.
 */
export function workflowBundleOptions(): Pick<BundleOptions, 'workflowsPath' | 'workflowInterceptorModules'> {
  return { workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES };
}

/**
 * OpenTelemetry's workflow interceptors (spans for the run, its activities and messages, exported
 * through a sink outside the sandbox; the context travels in Temporal headers, which replay ignores).
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [
  createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];

/** The file `npm run build` writes the bundle to, beside the compiled code (dist/workflow-bundle.js). */
export const BUNDLE_FILE = 'workflow-bundle.js';

/**
 * The workflows as the worker loads them. Compiled (`node dist/worker/main.js`), it loads the bundle
 * `npm run build` made, which must be there; from sources (`npm start`, `npm run worker`) it bundles
 * workflows/ at start.
 */
export function workflowSource(moduleUrl: string = import.meta.url): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath' | 'interceptors'> {
  if (!moduleUrl.endsWith('.js')) return { workflowsPath: WORKFLOWS_PATH, interceptors: { workflowModules: WORKFLOW_INTERCEPTOR_MODULES } };
  const codePath = fileURLToPath(new URL(`../${BUNDLE_FILE}`, moduleUrl));
  if (!existsSync(codePath)) throw new Error(`The compiled worker needs its workflow bundle at ${codePath}: run \`npm run build\`.`);
  return { workflowBundle: { codePath } };
}
