import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { metricsRegistry } from './metrics';
import { readiness, type ReadinessCheck } from './health';

export interface WorkerHttpOptions {
  host: string;
  /** 0 takes a free port (logged). */
  port: number;
  /** Liveness: false once the worker has failed or stopped, so the orchestrator restarts the process. */
  alive: () => boolean;
  /** Readiness: false while the worker drains after SIGTERM, whatever the checks say. */
  accepting: () => boolean;
  checks: Record<string, ReadinessCheck>;
  /** Refreshes the gauges read from the registry before a scrape. */
  beforeScrape?: () => Promise<void>;
}

export interface WorkerHttp {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/**
 * The worker's small HTTP port (ADMIT_WORKER_HTTP_PORT): `/healthz` (liveness),
 * `/readyz` (Temporal, registry, SMTP) and `/metrics` (the application's
 * Prometheus metrics). The Temporal Runtime's own metrics are on another port
 * (ADMIT_TEMPORAL_METRICS_ADDRESS). Nothing else is served, so it need not face users.
 */
export async function startWorkerHttp(options: WorkerHttpOptions): Promise<WorkerHttp> {
  const json = (status: number, body: unknown) => ({ status, type: 'application/json', body: JSON.stringify(body) });
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const answer = async (): Promise<{ status: number; type: string; body: string }> => {
      if (request.method !== 'GET' && request.method !== 'HEAD') return json(405, { error: 'GET only' });
      if (path === '/healthz') return options.alive() ? json(200, { ok: true }) : json(503, { ok: false });
      if (path === '/readyz') {
        if (!options.accepting()) return json(503, { ready: false, draining: true, checks: {} });
        const result = await readiness(options.checks);
        return json(result.ready ? 200 : 503, result);
      }
      if (path === '/metrics') {
        await options.beforeScrape?.();
        return { status: 200, type: metricsRegistry.contentType, body: await metricsRegistry.metrics() };
      }
      return json(404, { error: `no route for ${path}` });
    };
    answer().then(
      ({ status, type, body }) => response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body),
      (error: unknown) => {
        console.error(`worker http: ${path}: ${error instanceof Error ? error.message : String(error)}`);
        response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'internal error' }));
      },
    );
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
