import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../../web/app';
import { admissionConditions } from '../../domain/scopes';
import { createActivities, type Activities } from '../../activities';
import { DECISION_CACHE_LISTENER_NAME, type DecisionCache } from '../../registry/decision-cache';
import { DEFAULT_DECISION_CACHE_SETTINGS } from '../../registry/decision-facts';
import { createTestStack, type TestStack } from '../support/stack';
import { testAppDependencies } from '../support/web';
import { bindTestAnchor, certificateFingerprint, registerTestApplication } from '../support/activities';
import { eventually } from '../support/wait';

/**
 * The decision cache (registry/decision-cache.ts) against a real PostgreSQL: revocations by the
 * real closing activity reach it by NOTIFY within the bound; a killed LISTEN connection, or a
 * staleness check that cannot run, never lets it answer from facts older than the bound.
 */
const GATEWAY_TOKEN = 'cache-gateway-token-0123456789abcdefghij';
const BOUND_MS = DEFAULT_DECISION_CACHE_SETTINGS.maxStalenessMs;

let stack: TestStack;
let activities: Activities;
let app: FastifyInstance;
let cache: DecisionCache;
let admin: pg.Client;

beforeAll(async () => {
  stack = await createTestStack();
  activities = createActivities({
    registry: stack.registry,
    mailer: stack.mailer,
    config: stack.config,
    linkSecret: stack.linkSecret,
    trust: stack.trust,
  });
  app = buildApp({ ...testAppDependencies(stack), gatewayTokens: [{ name: 'gw', token: GATEWAY_TOKEN }] });
  await app.ready();
  cache = app.decisionCache!;
  admin = new pg.Client({ connectionString: stack.databaseUrl });
  await admin.connect();
});
afterAll(async () => {
  await admin?.end();
  await app?.close();
  await stack?.close();
});

/** An admitted application with a live certificate-bound client, written by the real grantAccess. */
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
  const credential = await stack.registry.clientCredential.findUniqueOrThrow({ where: { clientId } });
  // Until its own notifications have arrived, a read of the new client is not kept (they invalidate it).
  const { version } = (await admin.query<{ version: string }>('select version::text from decision_facts_version')).rows[0]!;
  await eventually(async () => (BigInt(cache.status().version ?? '0') >= BigInt(version) ? true : undefined), 5_000, 'the notifications');
  const body = {
    clientId,
    confirmation: { method: credential.confirmationMethod, value: credential.confirmationValue },
    scope: 'accounts:read',
    environment: 'sandbox',
  };
  return { ...registered, clientId, body };
}

type Decision = { allow: boolean; reasons: { code: string }[] };
async function ask(body: Record<string, unknown>): Promise<Decision> {
  const response = await app.inject({ method: 'POST', url: '/decisions', headers: { authorization: `Bearer ${GATEWAY_TOKEN}` }, payload: body });
  expect(response.statusCode).toBe(200);
  return response.json<Decision>();
}

/** The closing activity the workflow runs on key compromise: every credential and grant revoked, in one transaction. */
function revokeForCompromise(client: { applicationId: string; workflowId: string }) {
  return activities.closeApplication({
    applicationId: client.applicationId,
    workflowId: client.workflowId,
    status: 'OFFBOARDED',
    trigger: 'key-compromise',
    reason: 'the partner reported its key leaked',
    actor: 'security-ops',
    at: new Date().toISOString(),
  });
}

/** Asks about `body` until denied; the milliseconds from `since`. */
async function msUntilDenied(body: Record<string, unknown>, since: number): Promise<number> {
  for (;;) {
    const decision = await ask(body);
    if (!decision.allow) return performance.now() - since;
    if (performance.now() - since > 10 * BOUND_MS) throw new Error('still allowed ten bounds after the revocation committed');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * Gateways asking without pause, each answer stamped with when its request was sent: the
 * evidence for "no allow was served from facts older than the bound".
 */
function askContinuously(body: Record<string, unknown>, gateways = 4) {
  const answers: { sentAt: number; allow: boolean }[] = [];
  let running = true;
  const loops = Array.from({ length: gateways }, async () => {
    while (running) {
      const sentAt = performance.now();
      const decision = await ask(body);
      answers.push({ sentAt, allow: decision.allow });
      await new Promise((resolve) => setImmediate(resolve));
    }
  });
  return {
    answers,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('the decision cache', () => {
  it('answers a client from memory once it has read it', async () => {
    const client = await admittedClient();
    expect(await ask(client.body)).toMatchObject({ allow: true, applicationId: client.applicationId });
    const before = cache.status();
    expect(await ask(client.body)).toMatchObject({ allow: true });
    const after = cache.status();
    expect(after.hits).toBe(before.hits + 1);
    expect(after.misses).toBe(before.misses);
    expect(after).toMatchObject({ listening: true, fresh: true });
  });

  it('denies within the bound once closeApplication (key compromise) commits, told by NOTIFY', async () => {
    const client = await admittedClient();
    expect(await ask(client.body)).toMatchObject({ allow: true });
    expect(await ask(client.body)).toMatchObject({ allow: true }); // cached
    const notifications = cache.status().notifications;
    await revokeForCompromise(client);
    const committed = performance.now();
    const latency = await msUntilDenied(client.body, committed);
    expect(latency).toBeLessThan(BOUND_MS);
    expect(await ask(client.body)).toMatchObject({ allow: false, reasons: [{ code: 'CLIENT_NOT_ACTIVE' }] });
    expect(cache.status().notifications).toBeGreaterThan(notifications);
  });

  it('tells the cache of every change a decision reads: a new credential after "unknown", a grant, an application status', async () => {
    const client = await admittedClient();
    expect(await ask(client.body)).toMatchObject({ allow: true });
    const credential = await stack.registry.clientCredential.findUniqueOrThrow({ where: { clientId: client.clientId } });

    // "No such client" is cached too; registering the client must end it.
    const newcomer = { ...client.body, clientId: `${client.clientId}-new` };
    expect(await ask(newcomer)).toMatchObject({ allow: false, reasons: [{ code: 'CLIENT_UNKNOWN' }] });
    expect(await ask(newcomer)).toMatchObject({ reasons: [{ code: 'CLIENT_UNKNOWN' }] });
    const { id: _id, clientId: _clientId, createdAt: _createdAt, ...rest } = credential;
    await stack.registry.clientCredential.create({ data: { ...rest, clientId: newcomer.clientId } });
    await eventually(async () => ((await ask(newcomer)).allow ? true : undefined), BOUND_MS, 'the new client to be allowed');

    // A scope granted later (an expansion writes the grant's scopes).
    const payments = { ...client.body, scope: 'transactions:read' };
    expect(await ask(payments)).toMatchObject({ allow: false, reasons: [{ code: 'SCOPE_NOT_GRANTED' }] });
    await stack.registry.grant.updateMany({
      where: { applicationId: client.applicationId },
      data: { scopes: ['accounts:read', 'transactions:read'] },
    });
    await eventually(async () => ((await ask(payments)).allow ? true : undefined), BOUND_MS, 'the expanded grant to allow');

    // An application suspended without touching its credential or grant.
    await stack.registry.application.update({ where: { id: client.applicationId }, data: { status: 'SUSPENDED' } });
    const suspended = await eventually(async () => {
      const decision = await ask(client.body);
      return decision.allow ? undefined : decision;
    }, BOUND_MS);
    expect(suspended).toMatchObject({ reasons: [{ code: 'APPLICATION_NOT_ADMITTED' }] });
    // Other writes to the application (a stage's bookkeeping) notify nothing.
    const version = (await admin.query<{ version: string }>('select version::text from decision_facts_version')).rows[0]!.version;
    await stack.registry.application.update({ where: { id: client.applicationId }, data: { purpose: 'A purpose edited later' } });
    expect((await admin.query<{ version: string }>('select version::text from decision_facts_version')).rows[0]!.version).toBe(version);
  });

  it('recovers from a killed LISTEN connection and never serves an allow older than the bound', async () => {
    const client = await admittedClient();
    const bystander = await admittedClient();
    expect(await ask(client.body)).toMatchObject({ allow: true });
    const reconnects = cache.status().reconnects;
    const load = askContinuously(client.body);
    await new Promise((resolve) => setTimeout(resolve, 50));

    // The listener goes; the revocation commits while it is away, so its notification is lost.
    const killed = await admin.query('select pg_terminate_backend(pid) as done from pg_stat_activity where application_name = $1', [
      DECISION_CACHE_LISTENER_NAME,
    ]);
    expect(killed.rows.map((r: { done: boolean }) => r.done)).toEqual([true]);
    await revokeForCompromise(client);
    const committed = performance.now();
    await eventually(async () => (load.answers.some((a) => a.sentAt > committed && !a.allow) ? true : undefined), 2 * BOUND_MS, 'a deny');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await load.stop();

    const staleAllows = load.answers.filter((a) => a.allow && a.sentAt > committed + BOUND_MS);
    expect(staleAllows).toEqual([]);
    const firstDeny = load.answers.find((a) => a.sentAt > committed && !a.allow)!;
    expect(firstDeny.sentAt - committed).toBeLessThan(BOUND_MS);
    expect(load.answers.filter((a) => a.sentAt > firstDeny.sentAt && a.allow)).toEqual([]);

    // Listening again, and notifications work as before.
    await eventually(async () => (cache.status().listening && cache.status().reconnects > reconnects ? true : undefined), 5_000, 'the listener');
    expect(await ask(bystander.body)).toMatchObject({ allow: true });
    expect(await ask(bystander.body)).toMatchObject({ allow: true });
    await revokeForCompromise(bystander);
    expect(await msUntilDenied(bystander.body, performance.now())).toBeLessThan(BOUND_MS);
  });

  it('catches a change whose notification never arrives by the version check, within the bound, with the listener still up', async () => {
    const client = await admittedClient();
    expect(await ask(client.body)).toMatchObject({ allow: true });
    expect(await ask(client.body)).toMatchObject({ allow: true }); // cached
    const before = cache.status();
    // The revocation and the counter's bump commit, but no NOTIFY is sent (triggers off, counter bumped by hand).
    const silent = new pg.Client({ connectionString: stack.databaseUrl });
    await silent.connect();
    await silent.query('begin');
    await silent.query(`set local session_replication_role = replica`);
    await silent.query(`update client_credentials set status = 'REVOKED' where client_id = $1`, [client.clientId]);
    await silent.query('update decision_facts_version set version = version + 1');
    await silent.query('commit');
    const committed = performance.now();
    await silent.end();
    const load = askContinuously(client.body, 2);
    await eventually(async () => (load.answers.some((a) => a.sentAt > committed + BOUND_MS) ? true : undefined), 3 * BOUND_MS, 'answers');
    await load.stop();
    expect(load.answers.filter((a) => a.allow && a.sentAt > committed + BOUND_MS)).toEqual([]);
    expect(load.answers.at(-1)).toMatchObject({ allow: false });
    const after = cache.status();
    expect(after.flushes).toBeGreaterThan(before.flushes);
    expect(after.notifications).toBe(before.notifications);
    expect(after.reconnects).toBe(before.reconnects);
    expect(after.listening).toBe(true);
  });

  it('reads the database once its staleness check cannot run, so a change it never heard of is denied within the bound', async () => {
    const client = await admittedClient();
    expect(await ask(client.body)).toMatchObject({ allow: true });
    expect(await ask(client.body)).toMatchObject({ allow: true }); // cached
    const bypassed = cache.status().bypassed;

    const locker = new pg.Client({ connectionString: stack.databaseUrl });
    await locker.connect();
    try {
      // The check reads the version counter; holding this lock makes every check wait and time out.
      await locker.query('begin');
      await locker.query('lock table decision_facts_version in access exclusive mode');
      const blockedAt = performance.now();
      // A revocation the cache is never told of: written with triggers off (as if its notification
      // were lost and the counter never moved), so only going back to the database can see it.
      const silent = new pg.Client({ connectionString: stack.databaseUrl });
      await silent.connect();
      await silent.query(`set session_replication_role = replica`);
      await silent.query(`update client_credentials set status = 'REVOKED' where client_id = $1`, [client.clientId]);
      await silent.end();

      // The last good check was sent before the lock; its vouching ends a bound later, and then
      // every decision reads the database.
      const load = askContinuously(client.body, 2);
      await eventually(async () => (load.answers.some((a) => a.sentAt > blockedAt + BOUND_MS) ? true : undefined), 3 * BOUND_MS, 'answers');
      await load.stop();
      expect(load.answers.filter((a) => a.allow && a.sentAt > blockedAt + BOUND_MS)).toEqual([]);
      // Until then the cache answered from memory: the staleness check, not luck, made it deny.
      expect(load.answers.some((a) => a.allow)).toBe(true);
      expect(await ask(client.body)).toMatchObject({ allow: false, reasons: [{ code: 'CLIENT_NOT_ACTIVE' }] });
      expect(cache.status()).toMatchObject({ fresh: false });
      expect(cache.status().bypassed).toBeGreaterThan(bypassed);
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
    // Checks succeed again: the cache is used again, and holds nothing from before the lapse.
    await eventually(async () => (cache.status().fresh ? true : undefined), 5 * BOUND_MS, 'the cache to be fresh again');
    const hits = cache.status().hits;
    expect(await ask(client.body)).toMatchObject({ allow: false });
    expect(await ask(client.body)).toMatchObject({ allow: false });
    expect(cache.status().hits).toBeGreaterThan(hits);
  });
});
