import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../web/app';
import { gatewayFor } from '../../web/auth/gateway';
import { ingestUsageBatch, MAX_USAGE_BATCH, UsageBatchRejected } from '../../usage/ingest';
import { admissionConditions } from '../../domain/scopes';
import { createTestStack, type TestStack } from '../support/stack';
import { testAppDependencies } from '../support/web';
import { createActivities, type Activities } from '../../activities';
import { bindTestAnchor, certificateFingerprint, registerTestApplication } from '../support/activities';

const KONG_TOKEN = 'kong-token-0123456789-abcdefghijklmnop';
const EDGE_TOKEN = 'edge-token-0123456789-abcdefghijklmnop';

let stack: TestStack;
let activities: Activities;
let app: FastifyInstance;

beforeAll(async () => {
  stack = await createTestStack();
  activities = createActivities({
    registry: stack.registry,
    mailer: stack.mailer,
    config: stack.config,
    linkSecret: stack.linkSecret,
    trust: stack.trust,
  });
  app = buildApp({
    ...testAppDependencies(stack),
    gatewayTokens: [
      { name: 'kong', token: KONG_TOKEN },
      { name: 'edge', token: EDGE_TOKEN },
    ],
  });
});
afterAll(async () => {
  await app.close();
  await stack.close();
});

/** An admitted application with a live client. */
async function admittedClient() {
  const registered = await registerTestApplication(activities);
  const { fingerprint } = certificateFingerprint();
  await bindTestAnchor(stack.registry, registered.applicationId, { kind: 'X509', fingerprint });
  const { clientId } = await activities.grantAccess({
    applicationId: registered.applicationId,
    workflowId: registered.workflowId,
    tier: 'LOW',
    scopes: ['accounts:read'],
    conditions: admissionConditions('LOW', 'sandbox'),
    anchorFingerprint: fingerprint,
    credentialLifetimeSeconds: 300,
    approvedBy: [],
    grantedAt: '2026-12-01T10:00:00Z',
  });
  return { ...registered, clientId };
}

const report = (clientId: string, hour: number, counts: Partial<Record<'calls' | 'denials' | 'errors' | 'anomalies', number>> = {}) => ({
  clientId,
  intervalStart: `2026-11-10T${String(hour).padStart(2, '0')}:00:00Z`,
  intervalEnd: `2026-11-10T${String(hour + 1).padStart(2, '0')}:00:00Z`,
  calls: 100,
  denials: 1,
  errors: 2,
  anomalies: 0,
  ...counts,
});

async function rejection(promise: Promise<unknown>): Promise<UsageBatchRejected> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageBatchRejected);
  return error as UsageBatchRejected;
}

describe('ingestUsageBatch', () => {
  it('records each report under its client’s application and the gateway, replacing a resent interval', async () => {
    const { clientId, applicationId } = await admittedClient();
    expect(await ingestUsageBatch(stack.registry, 'kong', [report(clientId, 0), report(clientId, 1, { calls: 50, denials: 0 })])).toEqual({
      accepted: 2,
    });
    // The same interval again (a resend with a corrected count) replaces; another gateway's report is its own row.
    await ingestUsageBatch(stack.registry, 'kong', [report(clientId, 1, { calls: 60, denials: 0 })]);
    await ingestUsageBatch(stack.registry, 'edge', [report(clientId, 1, { calls: 5, denials: 0, errors: 0 })]);
    const rows = await stack.registry.usageReport.findMany({ where: { applicationId }, orderBy: [{ intervalStart: 'asc' }, { source: 'asc' }] });
    expect(rows.map((r) => [r.source, r.intervalStart.toISOString(), r.calls])).toEqual([
      ['kong', '2026-11-10T00:00:00.000Z', 100],
      ['edge', '2026-11-10T01:00:00.000Z', 5],
      ['kong', '2026-11-10T01:00:00.000Z', 60],
    ]);
    // A report with calls but no lastSeenAt counts as seen at the interval's end.
    expect(rows[0]?.lastSeenAt?.toISOString()).toBe('2026-11-10T01:00:00.000Z');
  });

  it('refuses the whole batch, writing nothing, when any client is unknown or revoked', async () => {
    const { clientId, applicationId, workflowId } = await admittedClient();
    const revoked = await admittedClient();
    await activities.closeApplication({
      applicationId: revoked.applicationId,
      workflowId: revoked.workflowId,
      status: 'OFFBOARDED',
      trigger: 'manual',
      reason: 'test',
      actor: 'test',
      at: '2026-12-09T00:00:00Z',
    });
    const error = await rejection(
      ingestUsageBatch(stack.registry, 'kong', [report(clientId, 2), report('admit-nobody', 3), report(revoked.clientId, 4)]),
    );
    expect(error.errors).toEqual([
      { field: 'reports.1.clientId', message: 'is not a known client' },
      { field: 'reports.2.clientId', message: 'is revoked' },
    ]);
    expect(await stack.registry.usageReport.count({ where: { applicationId } })).toBe(0);

    // A suspended client still reports (its calls are being denied, which is evidence too).
    await activities.suspendAccess({ applicationId, workflowId, reason: 'test', at: '2026-12-09T00:00:00Z' });
    expect(await ingestUsageBatch(stack.registry, 'kong', [report(clientId, 2, { denials: 100 })])).toEqual({ accepted: 1 });
  });

  it('reports every bad row by its position', async () => {
    const { clientId } = await admittedClient();
    const error = await rejection(
      ingestUsageBatch(stack.registry, 'kong', [
        report(clientId, 5),
        { ...report(clientId, 6), intervalEnd: '2026-11-10T05:00:00Z' },
        report(clientId, 7, { calls: -1 }),
        report(clientId, 8, { calls: 1.5 }),
        report(clientId, 9, { denials: 500 }),
        { ...report(clientId, 10), intervalStart: 'yesterday' },
        report(clientId, 5),
        { ...report(clientId, 11), extra: true },
      ]),
    );
    const fields = error.errors.map((e) => e.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'reports.1.intervalEnd',
        'reports.2.calls',
        'reports.3.calls',
        'reports.4.denials',
        'reports.5.intervalStart',
        'reports.6',
        'reports.7',
      ]),
    );
    expect(error.errors.find((e) => e.field === 'reports.6')?.message).toBe('repeats reports.0 (same clientId and intervalStart)');
    expect(await stack.registry.usageReport.count({ where: { clientId } })).toBe(0);
  });

  it('refuses an empty or oversized batch', async () => {
    const { clientId } = await admittedClient();
    expect((await rejection(ingestUsageBatch(stack.registry, 'kong', []))).errors).toEqual([
      { field: 'reports', message: 'a batch needs at least one report' },
    ]);
    const oversized = Array.from({ length: MAX_USAGE_BATCH + 1 }, () => report(clientId, 0));
    expect((await rejection(ingestUsageBatch(stack.registry, 'kong', oversized))).errors).toEqual([
      { field: 'reports', message: `at most ${MAX_USAGE_BATCH} reports per batch` },
    ]);
    expect((await rejection(ingestUsageBatch(stack.registry, 'kong', { reports: [] }))).errors[0]?.field).toBe('reports');
  });

  it('takes a full batch of distinct intervals in one go', async () => {
    const { clientId } = await admittedClient();
    const start = Date.parse('2026-11-01T00:00:00Z');
    const batch = Array.from({ length: MAX_USAGE_BATCH }, (_, i) => ({
      ...report(clientId, 0, { calls: 10, denials: 0, errors: 0 }),
      intervalStart: new Date(start + i * 60_000).toISOString(),
      intervalEnd: new Date(start + (i + 1) * 60_000).toISOString(),
    }));
    expect(await ingestUsageBatch(stack.registry, 'kong', batch)).toEqual({ accepted: MAX_USAGE_BATCH });
    expect(await stack.registry.usageReport.count({ where: { clientId } })).toBe(MAX_USAGE_BATCH);
  });
});

describe('readUsage', () => {
  it('sums the intervals starting at or after `since` and gives the last call ever seen', async () => {
    const { clientId, applicationId } = await admittedClient();
    await ingestUsageBatch(stack.registry, 'kong', [
      { ...report(clientId, 0, { calls: 10, denials: 1, errors: 1, anomalies: 1 }), lastSeenAt: '2026-11-10T00:59:00Z' },
      report(clientId, 1, { calls: 20, denials: 2, errors: 3, anomalies: 0 }),
      { ...report(clientId, 2, { calls: 0, denials: 0, errors: 0 }), lastSeenAt: null },
    ]);
    await ingestUsageBatch(stack.registry, 'edge', [report(clientId, 1, { calls: 5, denials: 0, errors: 0, anomalies: 2 })]);
    expect(await activities.readUsage({ applicationId, since: '2026-11-10T01:00:00Z' })).toEqual({
      calls: 25,
      denials: 2,
      errors: 3,
      anomalies: 2,
      lastSeenAt: '2026-11-10T02:00:00.000Z',
    });
    expect(await activities.readUsage({ applicationId, since: '2026-11-10T03:00:00Z' })).toEqual({
      calls: 0,
      denials: 0,
      errors: 0,
      anomalies: 0,
      lastSeenAt: '2026-11-10T02:00:00.000Z',
    });
    const unused = await admittedClient();
    expect(await activities.readUsage({ applicationId: unused.applicationId, since: '2026-01-01T00:00:00Z' })).toEqual({
      calls: 0,
      denials: 0,
      errors: 0,
      anomalies: 0,
      lastSeenAt: null,
    });
  });
});

describe('POST /usage', () => {
  const post = (authorization: string | undefined, payload: unknown) =>
    app.inject({
      method: 'POST',
      url: '/usage',
      headers: authorization === undefined ? {} : { authorization },
      payload: payload as Record<string, unknown>,
    });

  it('records a batch from an authenticated gateway under its name', async () => {
    const { clientId } = await admittedClient();
    const response = await post(`Bearer ${EDGE_TOKEN}`, { reports: [report(clientId, 12)] });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ accepted: 1, source: 'edge' });
    expect((await stack.registry.usageReport.findFirstOrThrow({ where: { clientId } })).source).toBe('edge');
  });

  it('answers 401 problem+json to a missing, wrong or malformed token, and writes nothing', async () => {
    const { clientId } = await admittedClient();
    for (const authorization of [undefined, `Bearer ${KONG_TOKEN}x`, `Bearer ${KONG_TOKEN.slice(0, -1)}`, KONG_TOKEN, `Basic ${KONG_TOKEN}`]) {
      const response = await post(authorization, { reports: [report(clientId, 13)] });
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="admit-usage"');
      expect(response.body).not.toContain(KONG_TOKEN);
    }
    expect(await stack.registry.usageReport.count({ where: { clientId } })).toBe(0);
  });

  it('answers 400 with an error per row for an unknown client, and for an oversized batch', async () => {
    const { clientId } = await admittedClient();
    const unknown = await post(`Bearer ${KONG_TOKEN}`, { reports: [report(clientId, 14), report('admit-unknown', 14)] });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({
      title: 'The usage batch has errors',
      errors: [{ field: 'reports.1.clientId', message: 'is not a known client' }],
    });
    const oversized = await post(`Bearer ${KONG_TOKEN}`, { reports: Array.from({ length: MAX_USAGE_BATCH + 1 }, () => report(clientId, 15)) });
    expect(oversized.statusCode).toBe(400);
    expect(oversized.json().errors).toEqual([{ field: 'reports', message: `at most ${MAX_USAGE_BATCH} reports per batch` }]);
    expect(await stack.registry.usageReport.count({ where: { clientId } })).toBe(0);
  });

  it('refuses every token when no gateway is configured', () => {
    expect(gatewayFor(`Bearer ${KONG_TOKEN}`, [])).toBeUndefined();
    expect(gatewayFor(`Bearer ${KONG_TOKEN}`, [{ name: 'kong', token: KONG_TOKEN }])).toBe('kong');
  });
});

describe('gateways report what has happened, for the clients they serve (issue 9)', () => {
  const SANDBOX_TOKEN = 'sandbox-gw-0123456789-abcdefghijklmnop';
  const PRODUCTION_TOKEN = 'production-gw-0123456789-abcdefghijk';
  const fixedNow = new Date('2026-11-20T12:00:00Z');
  let bound: FastifyInstance;
  beforeAll(async () => {
    bound = buildApp({
      ...testAppDependencies(stack),
      now: () => fixedNow,
      clockSkewMs: 5 * 60_000,
      gatewayTokens: [
        { name: 'sandbox-gw', token: SANDBOX_TOKEN, environments: ['sandbox'] },
        { name: 'production-gw', token: PRODUCTION_TOKEN, environments: ['production'] },
      ],
    });
  });
  afterAll(async () => bound.close());
  const post = (token: string, payload: unknown) =>
    bound.inject({ method: 'POST', url: '/usage', headers: { authorization: `Bearer ${token}` }, payload: payload as Record<string, unknown> });
  const interval = (clientId: string, start: string, end: string) => ({
    clientId,
    intervalStart: start,
    intervalEnd: end,
    calls: 1,
    denials: 0,
    errors: 0,
    anomalies: 0,
  });

  it('refuses an interval ending after now plus the clock skew, accepts one within it', async () => {
    const { clientId } = await admittedClient();
    const future = await post(SANDBOX_TOKEN, { reports: [interval(clientId, '2026-11-20T12:00:00Z', '2027-11-20T12:00:00Z')] });
    expect(future.statusCode).toBe(400);
    expect(future.json().errors).toEqual([{ field: 'reports.0.intervalEnd', message: 'lies in the future; report intervals once they have ended' }]);
    const skewed = await post(SANDBOX_TOKEN, { reports: [interval(clientId, '2026-11-20T11:00:00Z', '2026-11-20T12:04:00Z')] });
    expect(skewed.statusCode).toBe(200);
    expect(await stack.registry.usageReport.count({ where: { clientId } })).toBe(1);
  });

  it('answers year 0000 with a 400 problem, not a 5xx', async () => {
    const { clientId } = await admittedClient();
    const response = await post(SANDBOX_TOKEN, { reports: [interval(clientId, '0000-01-01T00:00:00Z', '0000-01-01T01:00:00Z')] });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(
      response
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
    ).toEqual(['reports.0.intervalEnd', 'reports.0.intervalStart']);
  });

  it('lets a gateway report only for clients in the environments it serves', async () => {
    const { clientId } = await admittedClient(); // a sandbox application
    const foreign = await post(PRODUCTION_TOKEN, { reports: [interval(clientId, '2026-11-20T10:00:00Z', '2026-11-20T11:00:00Z')] });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().errors).toEqual([
      { field: 'reports.0.clientId', message: 'is a sandbox client, which gateway production-gw does not serve' },
    ]);
    expect(await stack.registry.usageReport.count({ where: { clientId } })).toBe(0);
  });

  it('bounds a decision’s `at` to now ± the skew, and answers only a gateway serving the client', async () => {
    const { clientId, applicationId } = await admittedClient();
    const credential = await stack.registry.clientCredential.findUniqueOrThrow({ where: { clientId } });
    const ask = (token: string, extra: Record<string, unknown> = {}) =>
      bound.inject({
        method: 'POST',
        url: '/decisions',
        headers: { authorization: `Bearer ${token}` },
        payload: {
          clientId,
          confirmation: { method: credential.confirmationMethod, value: credential.confirmationValue },
          scope: 'accounts:read',
          environment: 'sandbox',
          ...extra,
        },
      });
    expect((await ask(SANDBOX_TOKEN)).json()).toMatchObject({ allow: true, applicationId });
    expect((await ask(SANDBOX_TOKEN, { at: '2026-11-20T12:04:00Z' })).json()).toMatchObject({ allow: true });
    for (const at of ['2030-01-01T12:00:00Z', '2020-01-01T12:00:00Z', '2026-11-20T12:06:00Z']) {
      const response = await ask(SANDBOX_TOKEN, { at });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors[0]).toMatchObject({ field: 'at' });
    }
    expect((await ask(PRODUCTION_TOKEN)).json()).toMatchObject({ allow: false, reasons: [{ code: 'GATEWAY_NOT_SERVING' }] });
  });
});
