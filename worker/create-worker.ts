import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Config } from '../config/env';
import { required } from '../config/env';
import { dataConverter } from '../temporal/connection';
import type { Activities } from '../activities';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export async function connectWorker(config: Config): Promise<NativeConnection> {
  const address = required(config.TEMPORAL_ADDRESS, 'TEMPORAL_ADDRESS', 'Point it at a Temporal frontend, or run `npm start`.');
  const useTls = config.TEMPORAL_TLS ?? config.TEMPORAL_API_KEY !== undefined;
  return NativeConnection.connect({ address, tls: useTls ? {} : undefined, apiKey: config.TEMPORAL_API_KEY });
}

export interface AdmitWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  payloadKey: Buffer;
  /** A prebuilt bundle (tests build one and share it); otherwise workflows/ is bundled. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** How many lifecycles stay cached, and how long a cached one's task waits for this worker (ADMIT_WORKFLOW_CACHE_SIZE, ADMIT_STICKY_QUEUE_TIMEOUT). */
  cache?: { maxCachedWorkflows: number; stickyQueueTimeoutMs: number };
}

/** The Admit worker: the lifecycle workflow and the activities that do its I/O. */
export async function createAdmitWorker(options: AdmitWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    dataConverter: dataConverter(options.payloadKey),
    ...(options.cache === undefined
      ? {}
      : { maxCachedWorkflows: options.cache.maxCachedWorkflows, stickyQueueScheduleToStartTimeout: options.cache.stickyQueueTimeoutMs }),
    ...(options.workflowBundle !== undefined ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
}
