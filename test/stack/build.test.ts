import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../config/env';
import { workflowIdFor } from '../../domain/identity';
import { freePort } from '../../stack/processes';
import { createTestStack, type TestStack } from '../support/stack';
import { buildOnce, productionSecrets, startService, type ServiceProcess } from '../support/built';
import { startOtlpReceiver } from '../support/otlp-receiver';
import { signupBody } from '../support/signups';
import { eventually } from '../support/wait';

// The image runs `node dist/…` (Dockerfile). No container engine here: this runs the same build's
// entry points as processes, in production mode, against the test services.
let stack: TestStack;
let build: Awaited<ReturnType<typeof buildOnce>>;
let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
const running: ServiceProcess[] = [];

beforeAll(async () => {
  [stack, build, receiver] = await Promise.all([createTestStack(), buildOnce(), startOtlpReceiver()]);
}, 240_000);
afterAll(async () => {
  await Promise.all(running.map((service) => service.stop()));
  await stack?.close();
  await build?.remove();
  await receiver?.close();
});

/** Counter value of a Prometheus text exposition line (`name{labels} value`), summed over label sets matching `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const set = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) total += Number(match[3]);
  }
  return total;
}

describe('the compiled build (npm run build)', () => {
  it('starts the worker and web from dist/, which answer /healthz, /readyz, /metrics and a signup, and trace it', { timeout: 300_000 }, async () => {
    const secrets = productionSecrets();
    const runtimeMetrics = `127.0.0.1:${await freePort()}`;
    const env = {
      ...stack.workerEnv,
      ...secrets,
      NODE_ENV: 'production',
      ADMIT_OIDC_ISSUER: 'https://idp.example.com/realms/admit',
      ADMIT_TEMPORAL_METRICS_ADDRESS: runtimeMetrics,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '200',
    };
    const options = { databaseUrl: stack.databaseUrl, taskQueue: stack.taskQueue, env };
    const [worker, web] = await Promise.all([
      startService('worker', path.join(build.dir, 'worker/main.js'), options),
      startService('web', path.join(build.dir, 'web/main.js'), options),
    ]);
    running.push(worker, web);
    // The compiled worker loads the prebuilt bundle, not workflows/ sources.
    expect(worker.recentOutput()).not.toMatch(/bundling|webpack/i);

    for (const service of [web, worker]) {
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${service.url}/readyz`);
      expect(ready.status, service.name).toBe(200);
      const checks = ((await ready.json()) as { checks: Record<string, string> }).checks;
      expect(checks).toEqual(service === worker ? { temporal: 'ok', registry: 'ok', smtp: 'ok' } : { temporal: 'ok', registry: 'ok' });
    }
    const before = await (await fetch(`${worker.url}/metrics`)).text();

    const body = signupBody();
    // The caller's own trace (a gateway, say), which Admit continues.
    const traceId = randomBytes(16).toString('hex');
    const response = await fetch(`${web.url}/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(202);
    const { applicationId } = (await response.json()) as { applicationId: string };
    const handle = stack.temporal.workflow.getHandle(workflowIdFor(applicationId));
    await eventually(
      async () => {
        const state = await handle.query<{ stage: string }>('state');
        return state.stage === 'AWAITING_CONTACTS' ? true : undefined;
      },
      // Entity verification (GLEIF, the DNS proof) comes first; a busy two-core machine is slow.
      120_000,
      'the compiled worker to register the signup',
    );

    // The counters moved: the admission started, left its first stage, waits for its contacts, who were mailed.
    // (The workflow's state moves before the activity recording the transition has run: polled.)
    const after = await eventually(
      async () => {
        const text = await (await fetch(`${worker.url}/metrics`)).text();
        return sample(text, 'admit_lifecycles_pending', { stage: 'AWAITING_CONTACTS' }) === 1 && sample(text, 'admit_mail_sent_total') >= 3
          ? text
          : undefined;
      },
      30_000,
      'the worker metrics to show the admission',
    );
    expect(sample(after, 'admit_admissions_started_total') - sample(before, 'admit_admissions_started_total')).toBe(1);
    expect(sample(after, 'admit_stage_duration_seconds_count', { stage: 'REGISTERING' })).toBe(1);
    expect(sample(after, 'admit_lifecycle_stage_deadline_seconds', { stage: 'AWAITING_CONTACTS' })).toBe(7 * 86_400);
    expect(sample(after, 'admit_process_cpu_seconds_total')).toBeGreaterThan(0);
    const webMetrics = await (await fetch(`${web.url}/metrics`)).text();
    expect(sample(webMetrics, 'admit_http_request_duration_seconds_count', { route: '/signup', status: '202' })).toBe(1);
    // The Temporal Runtime's own metrics, on the port its telemetry options give.
    const runtime = await (await fetch(`http://${runtimeMetrics}/metrics`)).text();
    expect(runtime).toMatch(/^temporal_\w+/m);
    // …with the series the Grafana dashboard charts from it (deploy/grafana/admit-dashboard.json).
    const dashboard = await readFile(path.join(REPO_ROOT, 'deploy/grafana/admit-dashboard.json'), 'utf8');
    const charted = [...new Set([...dashboard.matchAll(/\b(temporal_[a-z0-9_]+)/g)].map((m) => m[1]))];
    expect(charted.length).toBeGreaterThan(0);
    for (const series of charted) expect(runtime, `the runtime exports ${series}`).toMatch(new RegExp(`^${series}[{ ]`, 'm'));

    // One trace from the HTTP request through the workflow to its activity, across both processes, exported
    // over OTLP/HTTP (test/support/otlp-receiver.ts).
    const spans = await eventually(
      async () => {
        const inTrace = receiver.spans.filter((span) => span.traceId === traceId);
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
  });
});
