import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { createTestStack, type TestStack } from '../support/stack';
import { PageClient } from '../support/page-client';
import { signInThroughDevIdp, startTestWeb, testAppDependencies, type RunningWeb } from '../support/web';
import { buildApp } from '../../web/app';
import { signupBody } from '../support/signups';
import { eventually } from '../support/wait';
import { readState } from '../../web/lifecycle-client';
import { createRegistry } from '../../registry/client';

/** Issue 9, item 6: sessions are kept server-side, so sign-out and expiry end every copy of the cookie. */
let stack: TestStack;
let web: RunningWeb;
const sessionSecret = randomBytes(32);

beforeAll(async () => {
  stack = await createTestStack();
  web = await startTestWeb(stack, { sessionSecret });
});
afterAll(async () => {
  await web.close();
  await stack.close();
});

function copyOf(client: PageClient): PageClient {
  const copy = new PageClient(web.app);
  copy.cookies = new Map(client.cookies);
  return copy;
}

describe('server-side sessions', () => {
  it('refuses a copied cookie once its session signed out', async () => {
    const client = new PageClient(web.app);
    expect((await signInThroughDevIdp(client, 'ada')).statusCode).toBe(303);
    expect((await client.get('/console')).statusCode).toBe(200);
    const stolen = copyOf(client);
    expect((await stolen.get('/console')).statusCode).toBe(200);
    expect(await stack.registry.browserSession.count({ where: { signedInAs: { endsWith: ' ada' }, revokedAt: null } })).toBe(1);

    await client.get('/console');
    expect((await client.post('/auth/logout', {})).statusCode).toBe(303);
    expect((await client.get('/console')).statusCode).toBe(401);
    // The copy taken before sign-out is as dead as the original.
    expect((await stolen.get('/console')).statusCode).toBe(401);
    expect(await stack.registry.browserSession.count({ where: { signedInAs: { endsWith: ' ada' }, revokedAt: null } })).toBe(0);
  });

  it('ends a session whose registry row expired, whatever the cookie says', async () => {
    const client = new PageClient(web.app);
    await signInThroughDevIdp(client, 'sam');
    expect((await client.get('/console')).statusCode).toBe(200);
    await stack.registry.browserSession.updateMany({ where: { signedInAs: { endsWith: ' sam' } }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await client.get('/console')).statusCode).toBe(401);
  });

  it('leaves the cookie as it came when the registry cannot say whether its session holds', async () => {
    const client = new PageClient(web.app);
    await signInThroughDevIdp(client, 'ada');
    expect((await client.get('/console')).statusCode).toBe(200);
    // The same service, but its registry refuses connections (PostgreSQL restarting).
    const unreachable = createRegistry('postgresql://admit@127.0.0.1:9/admit');
    const cut = buildApp(testAppDependencies(stack, { sessionSecret, registry: unreachable, decisionCache: undefined }));
    try {
      const during = new PageClient(cut);
      during.cookies = new Map(client.cookies);
      const page = await during.get('/console');
      expect(page.statusCode).toBe(503);
      // Its error page starts no session over the signed-in one.
      expect(page.cookies.map((c) => c.name)).toEqual([]);
    } finally {
      await cut.close();
      await unreachable.$disconnect();
    }
    expect((await client.get('/console')).statusCode).toBe(200);
  });

  it('keeps only the SHA-256 of the session id in the registry', async () => {
    const client = new PageClient(web.app);
    await signInThroughDevIdp(client, 'rui');
    const rows = await stack.registry.browserSession.findMany({ where: { signedInAs: { endsWith: ' rui' } } });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]?.id).not.toBe(createHash('sha256').update('').digest('hex'));
  });
});

describe('approvers’ free text agrees with the registry (issue 9, item 5)', () => {
  it('refuses NUL and bidi controls in a comment or reason at the edge, naming the character', async () => {
    const client = new PageClient(web.app);
    await signInThroughDevIdp(client, 'ada');
    await stack.startWorker();
    const signedUp = await web.app.inject({ method: 'POST', url: '/signup', payload: signupBody() });
    const id = signedUp.json<{ applicationId: string }>().applicationId;
    await eventually(async () => ((await readState(stack.temporal, id))?.stage === 'AWAITING_CONTACTS' ? true : undefined), 30_000, 'the lifecycle');
    await client.get('/console');
    const csrf = client.csrf();
    const voted = await client.post(`/console/applications/${id}/vote`, { decision: 'reject', comment: 'bad\u0000data' }, { csrf });
    expect(voted.statusCode).toBe(400);
    expect(voted.body).toContain('U+0000');
    const offboarded = await client.post(`/console/applications/${id}/offboard`, { reason: 'contract \u202Eended' }, { csrf });
    expect(offboarded.statusCode).toBe(400);
    expect(offboarded.body).toContain('U+202E');
  });
});

describe('a rotated session secret (ADMIT_SESSION_SECRETS)', () => {
  it('keeps a session sealed with the previous secret until that secret is dropped', async () => {
    const [previous, next] = [randomBytes(32), randomBytes(32)];
    const before = await startTestWeb(stack, { sessionSecret: previous });
    try {
      const client = new PageClient(before.app);
      expect((await signInThroughDevIdp(client, 'ada')).statusCode).toBe(303);
      const cookies = new Map(client.cookies);
      const rotated = buildApp(testAppDependencies(stack, { publicUrl: before.url, sessionSecret: [next, previous] }));
      const retired = buildApp(testAppDependencies(stack, { publicUrl: before.url, sessionSecret: [next] }));
      const onRotated = new PageClient(rotated);
      onRotated.cookies = new Map(cookies);
      expect((await onRotated.get('/console')).statusCode).toBe(200);
      const onRetired = new PageClient(retired);
      onRetired.cookies = new Map(cookies);
      expect((await onRetired.get('/console')).statusCode).toBe(401);
      await Promise.all([rotated.close(), retired.close()]);
    } finally {
      await before.close();
    }
  });
});
