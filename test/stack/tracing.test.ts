import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../config/env';
import { startService, type ServiceProcess } from '../support/built';
import { signupBody } from '../support/signups';
import { createTestStack, type TestStack } from '../support/stack';
import { eventually } from '../support/wait';

// Traces from the HTTP request into the workflow and its activities, across the web and worker
// processes, exported over OTLP/HTTP to a local receiver speaking the wire format (JSON encoding,
// POST /v1/traces), as an OpenTelemetry collector would receive them.
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}
let stack: TestStack;
let receiver: Server;
const received: ReceivedSpan[] = [];
const running: ServiceProcess[] = [];

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces' || !String(request.headers['content-type']).startsWith('application/json')) {
        response.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: { stringValue?: string } }[] };
          scopeSpans: { spans: Omit<ReceivedSpan, 'service'>[] }[];
        }[];
      };
      for (const resourceSpans of body.resourceSpans) {
        const service = resourceSpans.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const scope of resourceSpans.scopeSpans) for (const span of scope.spans) received.push({ ...span, service });
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  stack = await createTestStack();
});
afterAll(async () => {
  await Promise.all(running.map((service) => service.stop()));
  await stack.close();
  receiver.close();
});

describe('OpenTelemetry traces (OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  it('give a signup one trace from its HTTP request through the workflow to its activities', async () => {
    const env = {
      ...stack.workerEnv,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
      OTEL_BSP_SCHEDULE_DELAY: '200',
      ADMIT_WORKER_HTTP_PORT: 'off',
    };
    const options = { databaseUrl: stack.databaseUrl, taskQueue: stack.taskQueue, env };
    running.push(
      ...(await Promise.all([
        startService('worker', path.join(REPO_ROOT, 'worker/main.ts'), options),
        startService('web', path.join(REPO_ROOT, 'web/main.ts'), options),
      ])),
    );
    const web = running[1] as ServiceProcess;
    // The caller's own trace (a gateway, say), which Admit continues.
    const traceId = randomBytes(16).toString('hex');
    const response = await fetch(`${web.url}/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      body: JSON.stringify(signupBody()),
    });
    expect(response.status).toBe(202);

    const spans = await eventually(
      async () => {
        const inTrace = received.filter((span) => span.traceId === traceId);
        // The workflow's span of an activity ends (and is exported, at the next workflow task) after the activity's.
        const names = new Set(inTrace.map((s) => s.name));
        return names.has('RunActivity:registerApplication') && names.has('StartActivity:registerApplication') ? inTrace : undefined;
      },
      45_000,
      'the registerApplication spans',
    );
    const byName = (name: string) => spans.find((s) => s.name === name);
    // web: the request (child of the caller's span), and the Temporal client's start inside it.
    const request = byName('POST /signup');
    expect(request?.service).toBe('admit-web');
    const start = spans.find((s) => s.name.startsWith('StartWorkflow:'));
    expect(start?.service).toBe('admit-web');
    expect(start?.parentSpanId).toBe(request?.spanId);
    // worker: the workflow's span scheduling the activity (from the sandbox, through its sink), and the activity under it.
    const scheduled = byName('StartActivity:registerApplication');
    const ran = byName('RunActivity:registerApplication');
    expect(scheduled?.service).toBe('admit-worker');
    expect(ran?.service).toBe('admit-worker');
    expect(ran?.parentSpanId).toBe(scheduled?.spanId);
    expect(received.filter((span) => span.traceId !== traceId && span.name === 'POST /signup')).toEqual([]);
  }, 120_000);
});
