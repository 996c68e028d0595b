import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../web/app';
import { signContactLink } from '../../links/contact-confirmation';
import { createTestStack, type TestStack } from '../support/stack';
import { PageClient } from '../support/page-client';
import { testAppDependencies } from '../support/web';
import { eventually } from '../support/wait';

let stack: TestStack;
let app: FastifyInstance;

beforeAll(async () => {
  stack = await createTestStack();
  app = buildApp(testAppDependencies(stack));
});
afterAll(async () => {
  await app.close();
  await stack.close();
});

const ids = (html: string, pattern: RegExp) => [...html.matchAll(pattern)].map((m) => m[1] as string);

describe('signup form accessibility', () => {
  it('labels every control, groups choices in fieldsets with legends, and offers every catalogue scope', async () => {
    const page = await app.inject({ method: 'GET', url: '/apply' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const html = page.body;
    const controls = ids(html, /<(?:input|textarea|select)(?![^>]*type="hidden")[^>]*\sid="([^"]+)"/g);
    const labelled = new Set(ids(html, /<label for="([^"]+)"/g));
    expect(controls.length).toBeGreaterThan(30);
    expect(controls.filter((id) => !labelled.has(id))).toEqual([]);
    expect((html.match(/<fieldset/g) ?? []).length).toBe((html.match(/<legend/g) ?? []).length);
    expect(html).toContain('value="payments:initiate"');
    expect(html).toMatch(/<html lang="en">/);
    expect(html).toContain('<main id="main"');
    expect(html).toContain('href="#main"');
    expect(html).not.toMatch(/<script/);
  });

  it('answers an incomplete form with an error summary linking to each field, and keeps what was typed', async () => {
    const client = new PageClient(app);
    await client.get('/apply');
    const response = await client.post('/apply', {
      'organisation.legalName': 'Acme <script>alert(1)</script> Ltd',
      'organisation.lei': 'NOT-AN-LEI',
    });
    expect(response.statusCode).toBe(400);
    const html = response.body;
    expect(html).toContain('<title>Error: Apply for API access · Admit</title>');
    expect(html).toMatch(/class="error-summary" role="alert"/);
    const targets = ids(html, /<li><a href="#([^"]+)">/g);
    expect(targets).toContain('field-organisation-lei');
    expect(targets).toContain('field-application-requestedScopes');
    expect(targets).toContain('field-contacts-security-email');
    const present = new Set(ids(html, /\sid="([^"]+)"/g));
    expect(targets.filter((id) => !present.has(id))).toEqual([]);
    expect(html).toContain('Enter the security contact’s email address.');
    expect(html).toContain('its check digits do not match');
    expect(html).toMatch(/id="field-organisation-lei"[^>]*aria-invalid="true"[^>]*aria-describedby="[^"]*field-organisation-lei-error/);
    // What was typed comes back escaped, never as markup.
    expect(html).toContain('value="Acme &lt;script&gt;alert(1)&lt;/script&gt; Ltd"');
    expect(html).not.toContain('<script>alert(1)</script>');
  });
});

describe('contact confirmation page', () => {
  const link = (secret: Uint8Array, expiresAt: Date) =>
    signContactLink(
      secret,
      { applicationId: 'app-00000000000000000000-treasury-sync-sandbox', role: 'technical', round: 0 },
      expiresAt,
      randomUUID(),
    );

  it('explains an invalid link clearly', async () => {
    for (const token of ['not-a-token', await link(new Uint8Array(Buffer.alloc(32, 99)), new Date(Date.now() + 3_600_000))]) {
      const response = await app.inject({ method: 'GET', url: `/confirm/${token}`, headers: { accept: 'text/html' } });
      expect(response.statusCode).toBe(400);
      expect(response.body).toContain('<h1>This confirmation link is not valid</h1>');
      expect(response.headers['cache-control']).toBe('no-store');
    }
  });

  it('explains an expired link clearly, on landing and on confirming', async () => {
    const token = await link(stack.linkSecret, new Date(Date.now() - 60_000));
    const client = new PageClient(app);
    const landing = await client.get(`/confirm/${token}`);
    expect(landing.statusCode).toBe(410);
    expect(landing.body).toContain('<h1>This confirmation link has expired</h1>');
    await client.get('/apply');
    const confirming = await client.post(`/confirm/${token}`, {});
    expect(confirming.statusCode).toBe(410);
    expect(confirming.body).toContain('This confirmation link has expired');
  });

  it('treats a link for an application that does not exist as invalid', async () => {
    const token = await link(stack.linkSecret, new Date(Date.now() + 3_600_000));
    const response = await app.inject({ method: 'GET', url: `/confirm/${token}` });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('This confirmation link is not valid');
  });
});

describe('development outbox', () => {
  it('lists what the SMTP sink received and shows each message with its links, escaped', async () => {
    const subject = `Outbox check ${randomUUID()}`;
    await stack.mailer.send({
      to: 'theo@example.com',
      subject,
      text: 'Confirm here: http://127.0.0.1:3000/confirm/abc.def.ghi <b>not bold</b>',
      messageId: `<${randomUUID()}@admit.test>`,
    });
    const list = await eventually(async () => {
      const page = await app.inject({ method: 'GET', url: '/dev/outbox' });
      return page.body.includes(subject) ? page : undefined;
    });
    const id = new RegExp(`href="/dev/outbox/([^"]+)">${subject}`).exec(list.body)?.[1];
    expect(id).toBeDefined();
    const message = await app.inject({ method: 'GET', url: `/dev/outbox/${id}` });
    expect(message.statusCode).toBe(200);
    expect(message.body).toContain('<a href="http://127.0.0.1:3000/confirm/abc.def.ghi">');
    expect(message.body).toContain('&lt;b&gt;not bold&lt;/b&gt;');
    expect((await app.inject({ method: 'GET', url: '/dev/outbox/..%2F..%2Fetc' })).statusCode).toBe(404);
  });
});
