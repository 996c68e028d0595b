import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../web/app';
import { OPENAPI_DOCUMENT } from '../../web/openapi';
import { createTestStack, type TestStack } from '../support/stack';
import { testAppDependencies } from '../support/web';

let stack: TestStack;
let app: FastifyInstance;

beforeAll(async () => {
  stack = await createTestStack();
  app = buildApp(testAppDependencies(stack));
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await stack.close();
});

/** Fastify's `/applications/:id` is OpenAPI's `/applications/{id}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('OpenAPI document', () => {
  it('is served at /openapi.json', async () => {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ openapi: '3.1.0', info: { title: 'Admit' } });
  });

  it('describes every route the service registers, and nothing it does not', () => {
    const registered = app.admitRoutes.map((r) => `${r.method} ${openApiPath(r.url)}`).sort();
    const documented = Object.entries(OPENAPI_DOCUMENT.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(registered.length).toBeGreaterThan(20);
    expect(documented).toEqual(registered);
  });

  it('documents the signup body with the schema that validates it, and problem responses', () => {
    const signup = OPENAPI_DOCUMENT.paths['/signup'].post;
    const schema = signup.requestBody.content['application/json'].schema as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties).sort()).toEqual(['application', 'contacts', 'organisation', 'requestedBy']);
    expect(Object.keys(signup.responses['400'].content)).toEqual(['application/problem+json']);
  });
});
