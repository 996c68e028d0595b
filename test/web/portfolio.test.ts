import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStack, type TestStack } from '../support/stack';
import { PageClient } from '../support/page-client';
import { signInThroughDevIdp, startTestWeb, type RunningWeb } from '../support/web';
import { MINUTE, NOW, addAnchor, at, createPartner, type Partner } from '../support/portfolio';
import { DEVELOPMENT_ACCOUNTS } from '../../stack/dev-approvers';

/** Issue 12, item 5: the portfolio views on the approver console, as tables and CSV, for signed-in approvers only. */
let stack: TestStack;
let web: RunningWeb;
const p: Record<string, Partner> = {};

beforeAll(async () => {
  stack = await createTestStack();
  web = await startTestWeb(stack, {
    now: () => NOW,
    developmentAccounts: [...DEVELOPMENT_ACCOUNTS, { sub: 'nora', name: 'Nora Nobody', email: 'nora@admit.localhost', roles: [] }],
  });
  p.soon = await createPartner(stack.registry, 'Soon <b>bold</b>');
  await addAnchor(stack.registry, p.soon, at(10));
  p.outside = await createPartner(stack.registry, 'Later');
  await addAnchor(stack.registry, p.outside, at(30, MINUTE));
  p.formula = await createPartner(stack.registry, 'Formula', { legalName: '@SUM(1+1)*cmd|/C calc' });
  await addAnchor(stack.registry, p.formula, at(2));
});
afterAll(async () => {
  await web.close();
  await stack.close();
});

async function signedIn(sub = 'ada'): Promise<PageClient> {
  const client = new PageClient(web.app);
  expect((await signInThroughDevIdp(client, sub)).statusCode).toBe(303);
  return client;
}

describe('portfolio views on the console', () => {
  it('are for signed-in approvers: 401 without a session, 403 without an approver role', async () => {
    const anonymous = new PageClient(web.app);
    expect((await anonymous.get('/console/portfolio')).statusCode).toBe(401);
    expect((await anonymous.get('/console/portfolio/anchor-expiry.csv')).statusCode).toBe(401);
    const nora = await signedIn('nora');
    expect((await nora.get('/console/portfolio/anchor-expiry')).statusCode).toBe(403);
  });

  it('are listed from the console', async () => {
    const client = await signedIn();
    expect((await client.get('/console')).body).toContain('href="/console/portfolio"');
    const index = await client.get('/console/portfolio');
    expect(index.statusCode).toBe(200);
    for (const view of ['anchor-expiry', 'recertification-overdue', 'no-usage', 'broad-grants', 'exceptions']) {
      expect(index.body).toContain(`href="/console/portfolio/${view}"`);
    }
  });

  it('show a view as a table with N, each row linking to its dossier, partner text escaped', async () => {
    const client = await signedIn();
    const page = await client.get('/console/portfolio/anchor-expiry?days=30');
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain(`href="/console/applications/${p.soon!.id}/dossier"`);
    expect(page.body).toContain(`href="/console/applications/${p.formula!.id}/dossier"`);
    expect(page.body).not.toContain(p.outside!.id);
    expect(page.body).toContain('Soon &lt;b&gt;bold&lt;/b&gt;');
    expect(page.body).toContain('href="/console/portfolio/anchor-expiry.csv?days=30"');
    // A wider N takes in the anchor just outside 30 days.
    expect((await client.get('/console/portfolio/anchor-expiry?days=31')).body).toContain(p.outside!.id);
  });

  it('download as CSV with formulas neutralised and absolute dossier links', async () => {
    const client = await signedIn();
    const csv = await client.get('/console/portfolio/anchor-expiry.csv?days=30');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
    expect(csv.headers['content-disposition']).toBe('attachment; filename="admit-anchor-expiry-2026-12-03.csv"');
    const lines = csv.body.split('\r\n');
    expect(lines[0]).toMatch(/^"Application","Application id","Organisation",/);
    expect(lines).toHaveLength(4);
    expect(csv.body).toContain(`"'@SUM(1+1)*cmd|/C calc"`);
    expect(csv.body).toContain(`"${web.url}/console/applications/${p.soon!.id}/dossier"`);
  });

  it('refuse an unusable N (400) and an unknown view (404)', async () => {
    const client = await signedIn();
    expect((await client.get('/console/portfolio/anchor-expiry?days=-1')).statusCode).toBe(400);
    expect((await client.get('/console/portfolio/anchor-expiry?days=1e3')).statusCode).toBe(400);
    expect((await client.get('/console/portfolio/anchor-expiry?days=99999')).statusCode).toBe(400);
    expect((await client.get('/console/portfolio/everything')).statusCode).toBe(404);
    expect((await client.get('/console/portfolio/exceptions.csv.csv')).statusCode).toBe(404);
    // Views without N ignore it.
    expect((await client.get('/console/portfolio/broad-grants?days=3')).statusCode).toBe(200);
  });
});
