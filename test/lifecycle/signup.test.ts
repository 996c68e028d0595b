import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { WorkflowNotFoundError } from '@temporalio/client';
import proto from '@temporalio/proto';
import { buildApp } from '../../web/app';
import { workflowIdFor } from '../../domain/identity';
import { createTestStack, type TestStack } from '../support/stack';
import { testAppDependencies } from '../support/web';
import { signupBody } from '../support/signups';
import { eventually } from '../support/wait';

let stack: TestStack;
let app: FastifyInstance;

beforeAll(async () => {
  stack = await createTestStack();
  await stack.startWorker();
  app = buildApp(testAppDependencies(stack));
});
afterAll(async () => {
  await app.close();
  await stack.close();
});

const postSignup = (payload: unknown) => app.inject({ method: 'POST', url: '/signup', payload: payload as Record<string, unknown> });

describe('signup to registry', () => {
  it('starts the lifecycle, which enrols the organisation and application and records evidence', async () => {
    const body = signupBody();
    const response = await postSignup(body);
    expect(response.statusCode).toBe(202);
    const { applicationId, workflowId } = response.json<{ applicationId: string; workflowId: string }>();
    expect(response.headers.location).toBe(`/applications/${applicationId}`);
    expect(workflowId).toBe(workflowIdFor(applicationId));

    const status = await eventually(
      async () => {
        const view = (await app.inject({ method: 'GET', url: `/applications/${applicationId}` })).json();
        return view.workflow?.stage === 'AWAITING_CONTACTS' ? view : undefined;
      },
      20_000,
      'the registry entry',
    );
    // The public view names no one (issue 9): the registry holds the record.
    expect(status).toEqual({ applicationId, workflow: { status: 'RUNNING', stage: 'AWAITING_CONTACTS', waitingFor: 'contact confirmation' } });
    const record = await stack.registry.application.findUniqueOrThrow({
      where: { id: applicationId },
      include: { organisation: true, contacts: { orderBy: { role: 'asc' } } },
    });
    expect(record.organisation).toMatchObject({ lei: body.organisation.lei, legalName: body.organisation.legalName });
    expect(record).toMatchObject({ name: 'Treasury Sync', status: 'PENDING', requestedScopes: ['accounts:read'] });
    expect(record.contacts.map((c) => c.role)).toEqual(['BUSINESS', 'TECHNICAL', 'SECURITY']);
    expect(JSON.stringify(status)).not.toContain(body.contacts.technical.email);

    // The transition's evidence is written right after the stage changes.
    const events = await eventually(async () => {
      const found = await stack.registry.auditEvent.findMany({ where: { applicationId }, orderBy: { seq: 'asc' } });
      return found.length >= 3 ? found : undefined;
    });
    expect(events.map((e) => e.type).slice(0, 3)).toEqual(['application.registered', 'risk.assessed', 'lifecycle.transition']);
    expect(events[0]?.actor).toBe(body.requestedBy);
  });

  it('gives the same application and one workflow when the same signup arrives twice', async () => {
    const body = signupBody();
    const first = (await postSignup(body)).json<{ applicationId: string }>();
    // Same application, spelled differently: the identity folds case and punctuation.
    const second = (await postSignup({ ...body, application: { ...body.application, name: 'TREASURY-sync' } })).json<{
      applicationId: string;
    }>();
    expect(second.applicationId).toBe(first.applicationId);
    const workflowId = workflowIdFor(first.applicationId);
    await eventually(async () => ((await stack.registry.application.count({ where: { id: first.applicationId } })) === 1 ? true : undefined));
    const runs = await eventually(async () => {
      const count = await stack.temporal.workflow.count(`WorkflowId = "${workflowId}"`);
      return count.count >= 1 ? count.count : undefined;
    });
    expect(runs).toBe(1);
    expect(await stack.registry.organisation.count({ where: { lei: body.organisation.lei } })).toBe(1);
  });

  it('answers bad input with field errors, writes nothing and starts nothing', async () => {
    const body = signupBody();
    body.contacts.security.email = 'nobody';
    body.organisation.primaryDomain = 'localhost';
    const response = await postSignup(body);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json<{ errors: { field: string }[] }>();
    expect(problem.errors.map((e) => e.field).sort()).toEqual(['contacts.security.email', 'organisation.primaryDomain']);

    expect(await stack.registry.organisation.count({ where: { lei: body.organisation.lei } })).toBe(0);
    const wouldBe = `app-${body.organisation.lei.toLowerCase()}-treasury-sync-sandbox`;
    await expect(stack.temporal.workflow.getHandle(workflowIdFor(wouldBe)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it.each([
    ['malformed JSON', { payload: '{"organisation": ', headers: { 'content-type': 'application/json' } }, 400],
    ['a body over 64 KiB', { payload: JSON.stringify({ pad: 'x'.repeat(70_000) }), headers: { 'content-type': 'application/json' } }, 413],
    ['a form-encoded body', { payload: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415],
  ])('answers %s with a problem document', async (_name, request, status) => {
    const response = await app.inject({ method: 'POST', url: '/signup', ...request });
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
  });

  it('answers 404 for an application that does not exist', async () => {
    const response = await app.inject({ method: 'GET', url: '/applications/app-00000000000000000000-nothing-sandbox' });
    expect(response.statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/applications/..%2Fetc' })).statusCode).toBe(404);
  });

  it('keeps contact details out of the Temporal history in clear (payloads are encrypted)', async () => {
    const body = signupBody();
    const { applicationId } = (await postSignup(body)).json<{ applicationId: string }>();
    const handle = stack.temporal.workflow.getHandle(workflowIdFor(applicationId));
    await eventually(async () => ((await handle.query<{ stage: string }>('state')).stage === 'AWAITING_CONTACTS' ? true : undefined));
    const history = await handle.fetchHistory();
    const raw = Buffer.from(proto.temporal.api.history.v1.History.encode(history).finish());
    expect(raw.includes(Buffer.from(body.contacts.security.email))).toBe(false);
    expect(raw.includes(Buffer.from(body.organisation.lei))).toBe(false);
    expect(raw.includes(Buffer.from('binary/encrypted'))).toBe(true);
  });
});
