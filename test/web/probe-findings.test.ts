import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../web/app';
import { freePort } from '../../stack/processes';
import { createTestStack, type TestStack } from '../support/stack';
import { testAppDependencies } from '../support/web';
import { PageClient } from '../support/page-client';

/** Issue 9, item 6: the probe's smaller findings at the HTTP edge. */
let stack: TestStack;
let development: FastifyInstance;
let production: FastifyInstance;
let unreachableIssuer: string;

beforeAll(async () => {
  stack = await createTestStack();
  development = buildApp({ ...testAppDependencies(stack), oidc: { clientId: 'admit-console', clientSecret: 's3cret', rolesClaim: 'roles' } });
  // Nothing listens on this port: the identity provider is down.
  unreachableIssuer = `http://127.0.0.1:${await freePort()}/idp`;
  production = buildApp({
    ...testAppDependencies(stack),
    production: true,
    mailDir: undefined,
    publicUrl: 'https://admit.example',
    oidc: { issuer: unreachableIssuer, clientId: 'admit-console', rolesClaim: 'roles' },
  });
  await Promise.all([development.ready(), production.ready()]);
});
afterAll(async () => {
  await Promise.all([development.close(), production.close()]);
  await stack.close();
});

describe('5xx answers become clear problems', () => {
  it('/dev-idp/token with bad percent-encoding in Basic credentials is a 400', async () => {
    const response = await development.inject({
      method: 'POST',
      url: '/dev-idp/token',
      headers: { authorization: `Basic ${Buffer.from('admit-console:%zz').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=authorization_code&code=x',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('/dev-idp/token with bad percent-encoding in the form body is a 4xx', async () => {
    const response = await development.inject({
      method: 'POST',
      url: '/dev-idp/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=authorization_code&client_id=%zz&code=%E0%A4%A',
    });
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
  });

  it('sign-in when the identity provider is unreachable is a 503 page that says so', async () => {
    const response = await production.inject({ method: 'GET', url: '/auth/login', headers: { accept: 'text/html' } });
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['retry-after']).toBe('60');
    expect(response.body).toContain('Sign-in is unavailable');
    expect(response.body).toContain(unreachableIssuer);
  });
});

describe('/openapi.json', () => {
  const documented = (doc: { paths: Record<string, object> }) =>
    Object.entries(doc.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
  const registered = (app: FastifyInstance) => app.admitRoutes.map((r) => `${r.method} ${r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`).sort();

  it('in production lists no development route, and exactly the routes production registers', async () => {
    const doc = (await production.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, object> }>();
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/dev'))).toEqual([]);
    expect(documented(doc)).toEqual(registered(production));
  });

  it('in development still lists them', async () => {
    const doc = (await development.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, object> }>();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/dev-idp/token', '/dev/outbox']));
  });
});

describe('rate limits count per client across related routes', () => {
  const limits = {
    signup: { max: 3, timeWindow: 60_000 },
    anchor: { max: 2, timeWindow: 60_000 },
    login: { max: 2, timeWindow: 60_000 },
    status: { max: 3, timeWindow: 60_000 },
  };

  it('one signup budget whether JSON (POST /signup) or form (POST /apply)', async () => {
    const app = buildApp(testAppDependencies(stack, { rateLimits: limits }));
    try {
      const client = new PageClient(app);
      await client.get('/apply');
      const csrf = client.csrf();
      const statuses: number[] = [];
      statuses.push((await app.inject({ method: 'POST', url: '/signup', payload: {} })).statusCode);
      statuses.push((await client.post('/apply', {}, { csrf })).statusCode);
      statuses.push((await app.inject({ method: 'POST', url: '/signup', payload: {} })).statusCode);
      statuses.push((await client.post('/apply', {}, { csrf })).statusCode);
      statuses.push((await app.inject({ method: 'POST', url: '/signup', payload: {} })).statusCode);
      expect(statuses).toEqual([400, 400, 400, 429, 429]);
    } finally {
      await app.close();
    }
  });

  it('limits anchor submission, /auth/login and GET /applications/:id', async () => {
    const app = buildApp(testAppDependencies(stack, { rateLimits: limits }));
    try {
      const id = 'app-5493001kjtiigc8y1r12-market-data-feed-sandbox';
      const client = new PageClient(app);
      await client.get('/apply');
      const csrf = client.csrf();
      const anchor = [];
      for (let i = 0; i < 3; i += 1) anchor.push((await client.post(`/applications/${id}/anchor`, { kind: 'jwk' }, { csrf })).statusCode);
      expect(anchor.slice(0, 2).every((s) => s !== 429)).toBe(true);
      expect(anchor[2]).toBe(429);

      const login = [];
      for (let i = 0; i < 3; i += 1) login.push((await app.inject({ method: 'GET', url: '/auth/login' })).statusCode);
      expect(login.at(-1)).toBe(429);
      expect(login.slice(0, 2).every((s) => s !== 429)).toBe(true);

      const status = [];
      for (let i = 0; i < 2; i += 1) status.push((await app.inject({ method: 'GET', url: `/applications/${id}` })).statusCode);
      for (let i = 0; i < 2; i += 1) status.push((await app.inject({ method: 'GET', url: `/applications/${id}/status` })).statusCode);
      expect(status).toEqual([404, 404, 404, 429]);
      const limited = await app.inject({ method: 'GET', url: `/applications/${id}` });
      expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });
});
