import path from 'node:path';
import { inject } from 'vitest';
import { REPO_ROOT } from '../../config/env';
import { startProcess, type ManagedProcess } from '../../stack/processes';
import { eventually } from './wait';

/** Runs `worker/main.ts` as its own OS process, configured as a deployment would be. */
export async function startWorkerProcess(options: {
  databaseUrl: string;
  taskQueue: string;
  /** More configuration, as a deployment would set it. */
  env?: Record<string, string>;
}): Promise<ManagedProcess> {
  const worker = startProcess('worker', process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'worker/main.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: options.taskQueue,
      DATABASE_URL: options.databaseUrl,
      SMTP_URL: inject('smtpUrl'),
      ADMIT_PAYLOAD_KEY: inject('payloadKey'),
      ADMIT_DATA_DIR: inject('scratchDir'),
      // Its probe and metrics port: a free one, so workers of several test files never collide.
      ADMIT_WORKER_HTTP_PORT: '0',
      ...options.env,
    },
  });
  await eventually(async () => (worker.recentOutput().includes('polling task queue') ? true : undefined), 60_000, 'the worker to poll');
  return worker;
}
