import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { readMailbox } from '../../mail/mailbox';
import type { PageClient } from './page-client';
import { buildApp, type AppDependencies } from '../../web/app';
import { freePort } from '../../stack/processes';
import type { TestStack } from './stack';
import type { Registry } from '../../registry/client';
import { seedDevelopmentApprovers } from '../../stack/dev-approvers';
import { DEFAULT_DECISION_CACHE_SETTINGS } from '../../registry/decision-facts';

/** The public URL of a test web that does not listen (requests are injected). */
export const TEST_PUBLIC_URL = 'http://127.0.0.1:3000';

/** The web's dependencies on a test stack: development identity provider, outbox on the SMTP sink. */
export function testAppDependencies(stack: TestStack, overrides: Partial<AppDependencies> = {}): AppDependencies {
  return {
    temporal: stack.temporal,
    registry: stack.registry,
    taskQueue: stack.taskQueue,
    publicUrl: TEST_PUBLIC_URL,
    production: false,
    // The secret the stack's worker signs contact links with.
    linkSecret: stack.linkSecret,
    sessionSecret: randomBytes(32),
    oidc: { clientId: 'admit-console', rolesClaim: 'roles' },
    mailDir: inject('mailDir'),
    // Decisions go through the cache, as in production.
    decisionCache: { ...DEFAULT_DECISION_CACHE_SETTINGS, databaseUrl: stack.databaseUrl },
    ...overrides,
  };
}

export interface RunningWeb {
  app: FastifyInstance;
  /** The public URL, which the service listens on (so the OIDC issuer inside it is reachable). */
  url: string;
  close(): Promise<void>;
}

/**
 * The web service listening on a port (a free one unless given), its public
 * URL pointing at itself. Give the port when the worker must mail links to it
 * (ADMIT_PUBLIC_URL) or the approver directory must know its issuer.
 */
export async function startTestWeb(stack: TestStack, overrides: Partial<AppDependencies> & { port?: number } = {}): Promise<RunningWeb> {
  const { port: givenPort, ...rest } = overrides;
  const port = givenPort ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const app = buildApp(testAppDependencies(stack, { publicUrl: url, ...rest }));
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

/**
 * Seeds the development approvers of a test's web at `publicUrl` (its port is
 * not 3000), so the subjects its development identity provider's ID tokens
 * name are the ones the approver directory holds.
 */
export async function seedApproversFor(registry: Registry, publicUrl: string): Promise<void> {
  await seedDevelopmentApprovers(registry, publicUrl);
}

/** Signs `client` in through the development identity provider as the seeded account `sub`; returns the callback's answer. */
export async function signInThroughDevIdp(client: PageClient, sub: string): Promise<LightMyRequestResponse> {
  const login = await client.get('/auth/login?returnTo=%2Fconsole');
  const authorize = new URL(String(login.headers.location));
  await client.get(`${authorize.pathname}${authorize.search}`);
  const chosen = await client.post('/dev-idp/authorize', { ...Object.fromEntries(authorize.searchParams), account: sub });
  const callback = new URL(String(chosen.headers.location));
  return client.get(`${callback.pathname}${callback.search}`);
}

/** The confirmation tokens mailed to `email` (from the SMTP sink), oldest first. */
export async function mailedConfirmationTokens(email: string): Promise<string[]> {
  const messages = (await readMailbox(inject('mailDir'))).filter((m) => m.envelopeTo.includes(email));
  return messages.flatMap((m) => [...m.text.matchAll(/\/confirm\/([A-Za-z0-9_.-]+)/g)].map((match) => match[1] as string));
}
