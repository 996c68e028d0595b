import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { REPO_ROOT } from '../../config/env';
import { workflowIdFor } from '../../domain/identity';
import { keyIdOf } from '../../temporal/codec';
import { dataConverter } from '../../temporal/connection';
import { buildApp } from '../../web/app';
import { stateQuery } from '../../workflows/messages';
import { startService, type ServiceProcess } from '../support/built';
import { PageClient } from '../support/page-client';
import { signupBody } from '../support/signups';
import { createTestStack, type TestStack } from '../support/stack';
import { eventually } from '../support/wait';
import { mailedConfirmationTokens, testAppDependencies } from '../support/web';

// A rotation under a running lifecycle: started with payload key A and link secret L1, it goes on
// after the worker restarts with the rings [B, A] and [L2, L1]; the links mailed under L1 still work.
let stack: TestStack;
const running: ServiceProcess[] = [];

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(async () => {
  await Promise.all(running.map((service) => service.stop()));
  await stack.close();
});

const text = (bytes: Uint8Array | null | undefined) => new TextDecoder().decode(bytes ?? new Uint8Array());
const keyIdIn = (payloads: { metadata?: Record<string, Uint8Array> | null }[] | null | undefined) =>
  text(payloads?.[0]?.metadata?.['encryption-key-id']);

describe('keys that rotate', () => {
  it('a lifecycle started under the old keys goes on under the new ones, and its old links still confirm', async () => {
    const keyA = inject('payloadKey');
    const keyB = randomBytes(32).toString('base64');
    const [linkOld, linkNew] = [randomBytes(32), randomBytes(32)];
    const worker = (env: Record<string, string>) =>
      startService('worker', path.join(REPO_ROOT, 'worker/main.ts'), {
        databaseUrl: stack.databaseUrl,
        taskQueue: stack.taskQueue,
        env: { ...stack.workerEnv, ADMIT_WORKER_HTTP_PORT: 'off', ...env },
      });

    const before = await worker({ ADMIT_PAYLOAD_KEY: keyA, ADMIT_LINK_SECRET: linkOld.toString('base64') });
    running.push(before);
    const oldWeb = buildApp(testAppDependencies(stack, { linkSecret: linkOld }));
    const body = signupBody();
    const response = await oldWeb.inject({ method: 'POST', url: '/signup', payload: body });
    expect(response.statusCode).toBe(202);
    const { applicationId } = response.json<{ applicationId: string }>();
    const oldHandle = stack.temporal.workflow.getHandle(workflowIdFor(applicationId));
    await eventually(async () => ((await oldHandle.query(stateQuery)).stage === 'AWAITING_CONTACTS' ? true : undefined), 30_000, 'contacts');
    const tokens: Record<string, string> = {};
    for (const role of ['business', 'technical', 'security'] as const) {
      tokens[role] = await eventually(async () => (await mailedConfirmationTokens(body.contacts[role].email)).at(-1), 20_000, `${role} mail`);
    }
    // One contact confirms before the rotation.
    const partner = new PageClient(oldWeb);
    await partner.get(`/confirm/${tokens.business}`);
    expect((await partner.post(`/confirm/${tokens.business}`, {})).statusCode).toBe(200);
    await before.stop();

    // The rotation: the new keys first, the old ones kept to open what they sealed.
    running.push(
      await worker({
        ADMIT_PAYLOAD_KEYS: keyB,
        ADMIT_PAYLOAD_KEY: keyA,
        ADMIT_LINK_SECRETS: `${linkNew.toString('base64')},${linkOld.toString('base64')}`,
      }),
    );
    const rotated = new Client({
      connection: stack.temporal.connection,
      dataConverter: dataConverter([Buffer.from(keyB, 'base64'), Buffer.from(keyA, 'base64')]),
    });
    const web = buildApp(testAppDependencies(stack, { temporal: rotated, linkSecret: [linkNew, linkOld] }));
    // Without the old link secret in the ring, the links already mailed would be refused.
    const newOnly = buildApp(testAppDependencies(stack, { temporal: rotated, linkSecret: linkNew }));
    expect((await newOnly.inject({ method: 'GET', url: `/confirm/${tokens.technical}` })).statusCode).toBe(400);

    const contact = new PageClient(web);
    for (const role of ['technical', 'security'] as const) {
      await contact.get(`/confirm/${tokens[role]}`);
      expect((await contact.post(`/confirm/${tokens[role]}`, {})).statusCode, role).toBe(200);
    }
    const handle = rotated.workflow.getHandle(workflowIdFor(applicationId));
    await eventually(async () => ((await handle.query(stateQuery)).stage === 'AWAITING_ANCHOR' ? true : undefined), 30_000, 'the anchor stage');

    // The history holds both: the start sealed with A, what the restarted worker scheduled sealed with B.
    const events = (await handle.fetchHistory()).events ?? [];
    const started = events.find((e) => e.workflowExecutionStartedEventAttributes)?.workflowExecutionStartedEventAttributes;
    expect(keyIdIn(started?.input?.payloads)).toBe(keyIdOf(Buffer.from(keyA, 'base64')));
    const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes).at(-1)?.activityTaskScheduledEventAttributes;
    expect(keyIdIn(scheduled?.input?.payloads)).toBe(keyIdOf(Buffer.from(keyB, 'base64')));
    await Promise.all([oldWeb.close(), web.close(), newOnly.close()]);
  }, 120_000);
});
