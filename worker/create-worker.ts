import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Config } from '../config/env';
import { required } from '../config/env';
import { dataConverter } from '../temporal/connection';
import type { Activities } from '../activities';
import { workflowSource } from './bundle';
import { makeWorkflowExporter, OpenTelemetryActivityInboundInterceptor } from '@temporalio/interceptors-opentelemetry';
import { DISCARDING_EXPORTER, type Tracing } from '../observability/tracing';
import { Resource } from '@opentelemetry/resources';

export { WORKFLOWS_PATH } from './bundle';

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
  /** The payload key, or the ring newest first (ADMIT_PAYLOAD_KEYS): the newest seals, any opens. */
  payloadKey: Buffer | readonly Buffer[];
  /** A prebuilt bundle (tests build one and share it); otherwise the build's bundle, or workflows/ from sources (worker/bundle.ts). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /**
   * ADMIT_SHUTDOWN_GRACE: on shutdown, in-flight activities have this long to finish before they
   * are cancelled; the worker gives up 10 s later (an activity ignoring cancellation). Default 0.
   */
  shutdownGraceMs?: number;
  /** Traces (OTEL_EXPORTER_OTLP_ENDPOINT): the workflow's spans go to its exporter; without it they are dropped. */
  tracing?: Tracing;
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
    ...(options.shutdownGraceMs === undefined
      ? {}
      : { shutdownGraceTime: options.shutdownGraceMs, shutdownForceTime: options.shutdownGraceMs + 10_000 }),
    ...(options.workflowBundle !== undefined ? { workflowBundle: options.workflowBundle } : workflowSource()),
    // The bundle carries OpenTelemetry's workflow interceptors (worker/bundle.ts): they need their sink.
    sinks: {
      exporter: makeWorkflowExporter(options.tracing?.exporter ?? DISCARDING_EXPORTER, options.tracing?.resource ?? Resource.empty()),
    },
    interceptors: {
      ...(options.workflowBundle === undefined ? workflowSource().interceptors : {}),
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx) })],
    },
  });
}
