import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../web/app';
import { readState } from '../../web/lifecycle-client';
import { createTestStack, type TestStack } from '../support/stack';
import { mailedConfirmationTokens, testAppDependencies } from '../support/web';
import { PageClient } from '../support/page-client';
import { signupBody } from '../support/signups';
import { eventually } from '../support/wait';

/**
 * Issue 9, item 6: the anchor page offers only the kinds this deployment can
 * verify, and the status is public only in general terms. The stack has no
 * trust store, SPIFFE bundles or OIDC workload issuers: only signed assertions.
 */
let stack: TestStack;
let app: FastifyInstance;
let applicationId: string;
let body: ReturnType<typeof signupBody>;
const partner = () => new PageClient(app);
let contactBrowser: PageClient;

const stageOf = async (id: string) => (await readState(stack.temporal, id))?.stage;

beforeAll(async () => {
  stack = await createTestStack();
  await stack.startWorker();
  app = buildApp({ ...testAppDependencies(stack), anchorKinds: ['jwk'] });
  body = signupBody();
  const response = await app.inject({ method: 'POST', url: '/signup', payload: body });
  expect(response.statusCode).toBe(202);
  applicationId = response.json<{ applicationId: string }>().applicationId;
  await eventually(async () => ((await stageOf(applicationId)) === 'AWAITING_CONTACTS' ? true : undefined), 30_000, 'AWAITING_CONTACTS');
  contactBrowser = partner();
  for (const role of ['business', 'technical', 'security'] as const) {
    const token = await eventually(async () => (await mailedConfirmationTokens(body.contacts[role].email)).at(-1), 20_000, `the ${role} mail`);
    await contactBrowser.get(`/confirm/${token}`);
    expect((await contactBrowser.post(`/confirm/${token}`, {})).statusCode).toBe(200);
  }
  await eventually(async () => ((await stageOf(applicationId)) === 'AWAITING_ANCHOR' ? true : undefined), 30_000, 'AWAITING_ANCHOR');
}, 120_000);
afterAll(async () => {
  await app.close();
  await stack.close();
});

describe('the anchor page offers only configured kinds', () => {
  it('shows signed assertions only, without a trust store, SPIFFE bundles or OIDC issuers', async () => {
    const page = await contactBrowser.get(`/applications/${applicationId}/anchor`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('id="kind-jwk"');
    for (const kind of ['x509', 'spiffe', 'oidc']) expect(page.body).not.toContain(`id="kind-${kind}"`);
  });

  it('refuses an unconfigured kind at the edge, and it does not use up a submission', async () => {
    const csrf = contactBrowser.csrf();
    const refused = await contactBrowser.post(
      `/applications/${applicationId}/anchor`,
      { kind: 'x509', 'x509.certificateChainPem': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' },
      { csrf },
    );
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain('cannot be verified by this service');
    expect(refused.body).toContain('did not count as a submission');
    const state = await readState(stack.temporal, applicationId);
    expect(state?.stage).toBe('AWAITING_ANCHOR');
    expect(state?.anchorAttempts).toEqual([]);
  });
});

describe('the public status names no one', () => {
  it('GET /applications/:id gives the stage and what it waits for in general terms, nothing else', async () => {
    const response = await app.inject({ method: 'GET', url: `/applications/${applicationId}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      applicationId,
      workflow: { status: 'RUNNING', stage: 'AWAITING_ANCHOR', waitingFor: 'trust-anchor verification' },
    });
    for (const secret of [body.requestedBy, body.contacts.business.name, body.organisation.legalName, body.application.purpose, '***@']) {
      expect(response.body).not.toContain(secret);
    }
  });

  it('the status page shows anyone else only the stage, and the confirmed contact’s browser everything', async () => {
    const anonymous = await partner().get(`/applications/${applicationId}/status`);
    expect(anonymous.statusCode).toBe(200);
    expect(anonymous.body).toContain('Waiting for trust-anchor verification.');
    for (const secret of [body.contacts.business.name, body.organisation.legalName, body.application.purpose, '***@', body.organisation.lei]) {
      expect(anonymous.body).not.toContain(secret);
    }
    const full = await contactBrowser.get(`/applications/${applicationId}/status`);
    expect(full.statusCode).toBe(200);
    expect(full.body).toContain(body.organisation.legalName);
  });
});
