import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDependencies } from '../../web/app';
import { freePort } from '../../stack/processes';
import type { TestStack } from './stack';

/** The link secret tests sign contact links with (the worker under test must use the same one). */
export const TEST_LINK_SECRET = new Uint8Array(Buffer.alloc(32, 11));

/** The web's dependencies on a test stack: development identity provider, outbox on the SMTP sink. */
export function testAppDependencies(stack: TestStack, overrides: Partial<AppDependencies> = {}): AppDependencies {
  return {
    temporal: stack.temporal,
    registry: stack.registry,
    taskQueue: stack.taskQueue,
    publicUrl: 'http://127.0.0.1:3000',
    production: false,
    linkSecret: TEST_LINK_SECRET,
    sessionSecret: randomBytes(32),
    oidc: { clientId: 'admit-console', rolesClaim: 'roles' },
    mailDir: inject('mailDir'),
    ...overrides,
  };
}

export interface RunningWeb {
  app: FastifyInstance;
  /** The public URL, which the service listens on (so the OIDC issuer inside it is reachable). */
  url: string;
  close(): Promise<void>;
}

/** The web service listening on a free port, its public URL pointing at itself. */
export async function startTestWeb(stack: TestStack, overrides: Partial<AppDependencies> = {}): Promise<RunningWeb> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const app = buildApp(testAppDependencies(stack, { publicUrl: url, ...overrides }));
  await app.listen({ host: '127.0.0.1', port });
  return { app, url, close: () => app.close() };
}

/** A signup body (test/support/signups.ts) as the signup form's fields. */
export function signupFormFields(body: {
  organisation: Record<string, string>;
  application: Record<string, unknown>;
  contacts: Record<string, { name: string; email: string }>;
  requestedBy: string;
}): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = { requestedBy: body.requestedBy };
  for (const [key, value] of Object.entries(body.organisation)) fields[`organisation.${key}`] = value;
  for (const [key, value] of Object.entries(body.application)) {
    fields[`application.${key}`] = Array.isArray(value) ? value.map(String) : typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value);
  }
  for (const [role, contact] of Object.entries(body.contacts)) {
    fields[`contacts.${role}.name`] = contact.name;
    fields[`contacts.${role}.email`] = contact.email;
  }
  return fields;
}
