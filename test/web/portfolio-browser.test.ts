import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createTestStack, type TestStack } from '../support/stack';
import { startTestWeb, type RunningWeb } from '../support/web';
import { launchChromium, screenshotter, visible } from '../support/browser';
import { MINUTE, NOW, addAnchor, at, createPartner, type Partner } from '../support/portfolio';

/** Issue 12, item 5, in Debian's Chromium: an approver signs in, opens a portfolio view, changes N and downloads the CSV. */
let stack: TestStack;
let web: RunningWeb;
let browser: Browser;
const shots = await screenshotter('portfolio');
const p: Record<string, Partner> = {};

beforeAll(async () => {
  stack = await createTestStack();
  web = await startTestWeb(stack, { now: () => NOW });
  browser = await launchChromium();
  p.soon = await createPartner(stack.registry, 'Expiring Feed');
  await addAnchor(stack.registry, p.soon, at(12));
  p.later = await createPartner(stack.registry, 'Later Feed');
  await addAnchor(stack.registry, p.later, at(30, MINUTE));
  p.formula = await createPartner(stack.registry, 'Formula Feed', { legalName: '=1+2' });
  await addAnchor(stack.registry, p.formula, at(1));
});
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await stack?.close();
});

describe('portfolio views in a browser', () => {
  it('sign in → portfolio → anchors expiring → a wider N → the CSV download, each row linking to its dossier', async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(`${web.url}/console/portfolio`);
    await page.getByRole('link', { name: 'Sign in with your identity provider' }).click();
    await page.waitForURL(/\/dev-idp\/authorize/);
    await page.getByLabel('Rui Reviewer').check();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/console\/portfolio$/);
    await shots.shoot(page, '01-portfolio');

    await page.getByRole('link', { name: 'Trust anchors expiring' }).click();
    await visible(page.getByRole('heading', { name: 'Trust anchors expiring' }));
    const rows = page.locator('tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await page.locator('main').innerText()).not.toContain('Later Feed');
    expect(await rows.first().getByRole('link', { name: 'Dossier' }).getAttribute('href')).toBe(`/console/applications/${p.formula!.id}/dossier`);
    await shots.shoot(page, '02-anchor-expiry-30');

    await page.getByLabel('N (days)').fill('31');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/days=31/);
    expect(await page.locator('tbody tr').count()).toBe(3);
    await visible(page.getByRole('link', { name: 'Later Feed' }));
    await shots.shoot(page, '03-anchor-expiry-31');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toBe('admit-anchor-expiry-2026-12-03.csv');
    const csv = await readFile((await download.path()) as string, 'utf8');
    const lines = csv.split('\r\n');
    expect(lines).toHaveLength(5);
    expect(csv).toContain(`"'=1+2"`);
    expect(csv).toContain(`"${web.url}/console/applications/${p.later!.id}/dossier"`);
    await context.close();
  });
});
