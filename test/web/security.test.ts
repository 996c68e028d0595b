import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../web/app';
import { sessionSecret } from '../../web/secrets';
import { sessionCookieName } from '../../web/auth/session';
import { ConfigError, loadConfig } from '../../config/env';
import { workflowIdFor } from '../../domain/identity';
import { createTestStack, type TestStack } from '../support/stack';
import { signupBody } from '../support/signups';
import { PageClient } from '../support/page-client';
import { signupFormFields, testAppDependencies } from '../support/web';
import { eventually } from '../support/wait';

let stack: TestStack;
let app: FastifyInstance;

beforeAll(async () => {
  stack = await createTestStack();
  await stack.startWorker();
  app = buildApp(testAppDependencies(stack, { rateLimits: { signup: { max: 100, timeWindow: 60_000 } } }));
});
afterAll(async () => {
  await app.close();
  await stack.close();
});

/** Nothing was recorded or started for this signup. */
async function expectNothingWritten(body: ReturnType<typeof signupBody>): Promise<void> {
  expect(await stack.registry.organisation.count({ where: { lei: body.organisation.lei } })).toBe(0);
  const wouldBe = workflowIdFor(`app-${body.organisation.lei.toLowerCase()}-treasury-sync-sandbox`);
  expect((await stack.temporal.workflow.count(`WorkflowId = "${wouldBe}"`)).count).toBe(0);
}

describe('security headers', () => {
  it.each(['/', '/apply', '/healthz', '/nothing-here'])('sends CSP, no framing, nosniff and no referrer on %s', async (url) => {
    const response = await app.inject({ method: 'GET', url });
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
  });
});

describe('session cookie', () => {
  it('is HttpOnly and SameSite=Lax, not Secure on plain-HTTP localhost', async () => {
    const response = await app.inject({ method: 'GET', url: '/apply' });
    const cookie = response.cookies.find((c) => c.name === sessionCookieName(false));
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(cookie?.secure).toBeFalsy();
  });

  it('is Secure with the __Host- prefix outside localhost', async () => {
    const remote = buildApp(testAppDependencies(stack, { publicUrl: 'https://admit.example.com' }));
    try {
      const response = await remote.inject({ method: 'GET', url: '/apply' });
      const cookie = response.cookies.find((c) => c.name === '__Host-admit-session');
      expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
      expect(response.headers['strict-transport-security']).toBeDefined();
    } finally {
      await remote.close();
    }
  });

  it('ignores a tampered cookie: it starts a fresh session whose token the old forms do not carry', async () => {
    const client = new PageClient(app);
    await client.get('/apply');
    const token = client.csrf();
    const name = sessionCookieName(false);
    client.cookies.set(name, `${client.cookies.get(name)!.slice(0, -4)}AAAA`);
    const body = signupBody();
    const response = await client.post('/apply', signupFormFields(body), { csrf: token });
    expect(response.statusCode).toBe(403);
    await expectNothingWritten(body);
  });
});

describe('CSRF protection', () => {
  it('refuses a form post without a session, and records nothing', async () => {
    const body = signupBody();
    const client = new PageClient(app);
    const response = await client.post('/apply', signupFormFields(body), { csrf: 'made-up' });
    expect(response.statusCode).toBe(403);
    expect(response.body).toContain('security token');
    await expectNothingWritten(body);
  });

  it('refuses a form post whose CSRF token is missing or wrong, and records nothing', async () => {
    const body = signupBody();
    const client = new PageClient(app);
    await client.get('/apply');
    const token = client.csrf();
    expect((await client.post('/apply', signupFormFields(body), { csrf: null })).statusCode).toBe(403);
    expect((await client.post('/apply', signupFormFields(body), { csrf: `${token}x` })).statusCode).toBe(403);
    expect((await client.post('/apply', signupFormFields(body), { csrf: token.slice(1) })).statusCode).toBe(403);
    await expectNothingWritten(body);
  });

  it('answers a refused form with a problem document when the client does not ask for HTML', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/auth/logout',
      payload: '',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.statusCode).toBe(403);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status: 403, title: 'Forbidden' });
  });

  it('accepts the form with the session’s token (the signup starts)', async () => {
    const body = signupBody();
    const client = new PageClient(app);
    await client.get('/apply');
    const response = await client.post('/apply', signupFormFields(body));
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toMatch(/^\/applications\/app-[a-z0-9]+-treasury-sync-sandbox\/status\?done=submitted$/);
    await eventually(async () => ((await stack.registry.organisation.count({ where: { lei: body.organisation.lei } })) === 1 ? true : undefined));
  });
});

describe('no state change without a session', () => {
  it('refuses every approver action without a signed-in approver, and the workflow receives nothing', async () => {
    const body = signupBody();
    const started = (await app.inject({ method: 'POST', url: '/signup', payload: body })).json<{ applicationId: string; workflowId: string }>();
    const handle = stack.temporal.workflow.getHandle(started.workflowId);
    await eventually(async () => ((await handle.query<{ stage: string }>('state')).stage === 'AWAITING_CONTACTS' ? true : undefined));
    const before = await handle.query<{ stage: string; approval: unknown }>('state');

    const actions = [
      ['vote', { decision: 'approve', comment: 'looks fine' }],
      ['offboard', { reason: 'contract over' }],
      ['key-compromise', { detail: 'key leaked' }],
    ] as const;
    for (const [action, fields] of actions) {
      const url = `/console/applications/${started.applicationId}/${action}`;
      // No session at all: the CSRF check refuses first.
      const anonymous = new PageClient(app);
      expect((await anonymous.post(url, fields, { csrf: 'guess' })).statusCode).toBe(403);
      // A real anonymous session with its valid token: still not signed in.
      const visitor = new PageClient(app);
      await visitor.get('/apply');
      const response = await visitor.post(url, fields);
      expect(response.statusCode).toBe(401);
      expect(response.body).toContain('Sign in');
    }
    // Nothing reached the workflow: no update was accepted and its state is as it was.
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes != null)).toBe(false);
    expect(await handle.query<{ stage: string; approval: unknown }>('state')).toMatchObject({ stage: before.stage, approval: before.approval });
  });

  it('does not show the console to someone not signed in', async () => {
    const response = await app.inject({ method: 'GET', url: '/console', headers: { accept: 'text/html' } });
    expect(response.statusCode).toBe(401);
    expect(response.body).toContain('/auth/login?returnTo=%2Fconsole');
  });

  it('refuses the trust-anchor page to a browser in which no contact confirmed', async () => {
    const body = signupBody();
    const { applicationId } = (await app.inject({ method: 'POST', url: '/signup', payload: body })).json<{ applicationId: string }>();
    const client = new PageClient(app);
    expect((await client.get(`/applications/${applicationId}/anchor`)).statusCode).toBe(403);
    await client.get('/apply');
    expect((await client.post(`/applications/${applicationId}/anchor/challenge`, {})).statusCode).toBe(403);
  });
});

describe('oversized and malformed bodies', () => {
  it('answers an oversized form with a problem document and records nothing', async () => {
    const body = signupBody();
    const client = new PageClient(app);
    await client.get('/apply');
    const fields = { ...signupFormFields(body), 'application.purpose': 'x'.repeat(70_000) };
    const response = await app.inject({
      method: 'POST',
      url: '/apply',
      payload: new URLSearchParams({ ...fields, _csrf: client.csrf() } as Record<string, string>).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [...client.cookies].map(([n, v]) => `${n}=${v}`).join('; ') },
    });
    expect(response.statusCode).toBe(413);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status: 413, title: 'Request body too large' });
    await expectNothingWritten(body);
  });

  it('answers a malformed multipart body with a problem document', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/applications/app-00000000000000000000-nothing-sandbox/anchor',
      payload: '--b\r\nContent-Disposition: form-data; name="kind"\r\n\r\nx509\r\n--b', // never closed
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
    });
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('answers an oversized upload with a problem document', async () => {
    const boundary = 'admitboundary';
    const payload = [
      `--${boundary}`,
      'Content-Disposition: form-data; name="kind"',
      '',
      'x509',
      `--${boundary}`,
      'Content-Disposition: form-data; name="x509.certificateChainFile"; filename="chain.pem"',
      'Content-Type: application/x-pem-file',
      '',
      'A'.repeat(100 * 1024),
      `--${boundary}--`,
      '',
    ].join('\r\n');
    const response = await app.inject({
      method: 'POST',
      url: '/applications/app-00000000000000000000-nothing-sandbox/anchor',
      payload,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    expect(response.statusCode).toBe(413);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('shows browsers an HTML error page instead', async () => {
    const response = await app.inject({ method: 'GET', url: '/nothing-here', headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toContain('No route for GET /nothing-here');
  });
});

describe('rate limits', () => {
  it('limits signups per client address, answering 429 problem documents', async () => {
    const limited = buildApp(testAppDependencies(stack, { rateLimits: { signup: { max: 2, timeWindow: 60_000 } } }));
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) statuses.push((await limited.inject({ method: 'POST', url: '/signup', payload: { nothing: true } })).statusCode);
      expect(statuses).toEqual([400, 400, 429]);
      const response = await limited.inject({ method: 'POST', url: '/signup', payload: signupBody() });
      expect(response.statusCode).toBe(429);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers['retry-after']).toBeDefined();
    } finally {
      await limited.close();
    }
  });

  it('counts per client behind a trusted proxy, and ignores X-Forwarded-For from anyone else', async () => {
    const signupTwice = { rateLimits: { signup: { max: 1, timeWindow: 60_000 } } };
    const proxied = buildApp(testAppDependencies(stack, { ...signupTwice, trustedProxies: ['127.0.0.1'] }));
    const direct = buildApp(testAppDependencies(stack, signupTwice));
    try {
      const post = (app: FastifyInstance, client: string) =>
        app.inject({ method: 'POST', url: '/signup', payload: { nothing: true }, headers: { 'x-forwarded-for': client } }).then((r) => r.statusCode);
      expect([await post(proxied, '198.51.100.1'), await post(proxied, '198.51.100.2'), await post(proxied, '198.51.100.1')]).toEqual([
        400, 400, 429,
      ]);
      expect([await post(direct, '198.51.100.1'), await post(direct, '198.51.100.2')]).toEqual([400, 429]);
    } finally {
      await Promise.all([proxied.close(), direct.close()]);
    }
  });

  it('limits confirmation attempts per client address', async () => {
    const limited = buildApp(testAppDependencies(stack, { rateLimits: { confirmation: { max: 3, timeWindow: 60_000 } } }));
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await limited.inject({ method: 'GET', url: `/confirm/guess-${i}` })).statusCode);
      expect(statuses).toEqual([400, 400, 400, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('production', () => {
  it('refuses the development identity provider', () => {
    expect(() => buildApp(testAppDependencies(stack, { production: true, publicUrl: 'https://admit.example.com' }))).toThrow(ConfigError);
  });

  it('serves neither the development identity provider nor the outbox with a real issuer', async () => {
    const production = buildApp(
      testAppDependencies(stack, {
        production: true,
        publicUrl: 'https://admit.example.com',
        oidc: { issuer: 'https://idp.example.com', clientId: 'admit', rolesClaim: 'roles' },
      }),
    );
    try {
      for (const url of ['/dev/outbox', '/dev-idp/.well-known/openid-configuration', '/dev-idp/jwks']) {
        expect((await production.inject({ method: 'GET', url })).statusCode).toBe(404);
      }
    } finally {
      await production.close();
    }
  });

  it('requires ADMIT_SESSION_SECRET instead of generating one', async () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      ADMIT_PAYLOAD_KEY: Buffer.alloc(32, 1).toString('base64'),
      ADMIT_LINK_SECRET: Buffer.alloc(32, 2).toString('base64'),
      ADMIT_OAUTH_SIGNING_KEY: Buffer.alloc(32, 3).toString('base64'),
    });
    await expect(sessionSecret(config)).rejects.toThrow(/ADMIT_SESSION_SECRET: required in production/);
  });
});
