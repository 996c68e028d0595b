import type { Resource } from '@opentelemetry/resources';
import type { tracing } from '@opentelemetry/sdk-node';
import type { Config } from '../config/env';

export interface Tracing {
  /** Where the worker's workflow spans go too (through the workflow sandbox's sink). */
  exporter: tracing.SpanExporter;
  resource: Resource;
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry traces, exported over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT
 * (`<endpoint>/v1/traces`) when it is set; otherwise nothing is started and the
 * API's no-op tracer makes every span free. Spans: the web's HTTP requests
 * (web/tracing.ts), the Temporal client's calls, the workflow and its
 * activities (@temporalio/interceptors-opentelemetry), one trace from the
 * request to the activity through the headers Temporal carries.
 */
export async function startTracing(
  config: Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_SERVICE_NAME'>,
  serviceName: string,
): Promise<Tracing | undefined> {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (endpoint === undefined) return undefined;
  // Loaded only when traces are exported: the SDK is large, and a process without traces needs none of it.
  const [{ NodeSDK, resources, tracing }, { OTLPTraceExporter }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
  ]);
  const resource = new resources.Resource({ 'service.name': config.OTEL_SERVICE_NAME ?? serviceName });
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` });
  const sdk = new NodeSDK({ resource, autoDetectResources: false, spanProcessors: [new tracing.BatchSpanProcessor(exporter)], instrumentations: [] });
  sdk.start();
  return { exporter, resource, shutdown: () => sdk.shutdown() };
}

/** For workers without tracing: the workflow interceptors' sink must exist, and drops what it gets. */
export const DISCARDING_EXPORTER: tracing.SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => undefined,
};
