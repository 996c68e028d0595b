import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { workflowIdFor } from '../../domain/identity';
import { stateQuery } from '../../workflows/messages';
import { freePort } from '../../stack/processes';
import { makeCert, type Issued } from '../anchors/fixtures';
import { createTestStack, type TestStack } from '../support/stack';
import { establishOrganisation } from '../support/entity';
import { randomLei, signupBody } from '../support/signups';
import { hasText, launchChromium, reloadUntil, screenshotter, visible } from '../support/browser';
import { seedApproversFor, startTestWeb, type RunningWeb } from '../support/web';

/**
 * The whole journey in Debian's Chromium against the real stack: a partner
 * signs up a REGULATED application, the three contacts confirm from the mails
 * the SMTP sink received, the technical contact uploads the certificate chain,
 * two approvers sign in through OpenID Connect and approve, and the status
 * page shows the grant. Every page is saved as a screenshot.
 */
const DAY = 86_400_000;

let stack: TestStack;
let web: RunningWeb;
let browser: Browser;
let ca: { root: Issued; issuing: Issued };
const shots = await screenshotter('journey');

beforeAll(async () => {
  const now = Date.now();
  const validity = { notBefore: new Date(now - DAY), notAfter: new Date(now + 3650 * DAY) };
  const root = await makeCert({ subject: 'CN=Journey Partner Root', ca: true, ...validity });
  const issuing = await makeCert({ subject: 'CN=Journey Issuing CA', ca: true, pathLen: 0, issuer: root, ...validity });
  ca = { root, issuing };
  const storeFile = path.join(await mkdtemp(path.join(tmpdir(), 'admit-journey-')), 'trust-store.pem');
  await writeFile(storeFile, root.pem);

  // The web's port is chosen first so the worker mails links to it.
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  stack = await createTestStack({ ADMIT_PUBLIC_URL: url, ADMIT_TRUST_STORE: storeFile });
  await seedApproversFor(stack.registry, url);
  await stack.startWorker();
  web = await startTestWeb(stack, { port });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await stack?.close();
});

/** Content-Security-Policy violations the browser reported; a page with an inline script or style would add one. */
const cspViolations: string[] = [];

async function newPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) cspViolations.push(`${page.url()}: ${message.text()}`);
  });
  return page;
}

/** Opens the newest message to `email` that carries a confirmation link, from the outbox. */
async function confirmationLinkFromOutbox(page: Page, email: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    await page.goto(`${web.url}/dev/outbox`);
    const rows = page.getByRole('row').filter({ hasText: email });
    const count = await rows.count();
    for (let i = 0; i < count; i += 1) {
      await rows.nth(i).getByRole('link').click();
      const link = page.locator('a[href*="/confirm/"]').first();
      if ((await link.count()) > 0) return (await link.getAttribute('href')) ?? '';
      await page.goBack();
    }
    if (Date.now() > deadline) throw new Error(`no confirmation mail to ${email} reached the outbox`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function signInAs(context: BrowserContext, name: string): Promise<Page> {
  const page = await newPage(context);
  await page.goto(`${web.url}/console`);
  await page.getByRole('link', { name: 'Sign in with your identity provider' }).click();
  await page.waitForURL(/\/dev-idp\/authorize/);
  await page.getByLabel(name).check();
  return page;
}

describe('the whole journey in a browser', () => {
  it('signup → three confirmations from mail → anchor → two approvers → the grant', async () => {
    const lei = randomLei();
    const tag = lei.slice(0, 6).toLowerCase();
    const contacts = {
      business: { name: 'Bea Business', email: `bea+${tag}@example.com` },
      technical: { name: 'Theo Technical', email: `theo+${tag}@example.com` },
      security: { name: 'Sasha Security', email: `sasha+${tag}@example.com` },
    };
    const partner = await browser.newContext();
    const page = await newPage(partner);

    // 1. Signup: first with a mistake, to see the error summary, then corrected.
    await page.goto(`${web.url}/apply`);
    await shots.shoot(page, '01-signup-form');
    await page.getByLabel('Legal name').fill(`Regulated Payments ${tag} plc`);
    await page.getByLabel('Legal Entity Identifier (LEI)').fill('NOT-A-VALID-LEI');
    await page.getByLabel('Jurisdiction').fill('GB');
    await page.getByLabel('Primary domain').fill(`${tag}.example.com`);
    await page.getByLabel('Application name').fill('Payments Gateway');
    await page.getByRole('group', { name: 'Environment' }).getByLabel('Production').check();
    await page.getByLabel('Purpose').fill('Initiate domestic payments on behalf of our business customers.');
    for (const scope of ['accounts:read', 'accounts:balances:read', 'payments:initiate']) await page.locator(`input[value="${scope}"]`).check();
    await page.getByLabel('Contract end date').fill('2029-03-31');
    await page
      .getByRole('group', { name: /most sensitive data/i })
      .getByLabel('Confidential')
      .check();
    await page
      .getByRole('group', { name: /regulated sector/i })
      .getByLabel('Yes')
      .check();
    await page
      .getByRole('group', { name: /strategic partnership/i })
      .getByLabel('No')
      .check();
    await page.getByLabel('Expected API calls a month').fill('250,000');
    for (const [role, legend] of [
      ['business', 'Business owner'],
      ['technical', 'Technical owner'],
      ['security', 'Security contact'],
    ] as const) {
      const group = page.getByRole('group', { name: legend });
      await group.getByLabel('Full name').fill(contacts[role].name);
      await group.getByLabel('Email address').fill(contacts[role].email);
    }
    await page.getByLabel('Your email address').fill(contacts.business.email);
    await page.getByRole('button', { name: 'Submit application' }).click();
    await visible(page.getByRole('alert').getByText('There is a problem'));
    await shots.shoot(page, '02-signup-error-summary');
    // The summary links to the field; following it puts the focus there.
    await page
      .getByRole('alert')
      .getByRole('link', { name: /Legal Entity Identifier|check digits/ })
      .click();
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('field-organisation-lei');
    await page.getByLabel('Legal Entity Identifier (LEI)').fill(lei);
    await page.getByRole('button', { name: 'Submit application' }).click();
    await page.waitForURL(/\/applications\/app-[a-z0-9]+-payments-gateway-production\/status/);
    const applicationId = /\/applications\/([^/]+)\/status/.exec(page.url())?.[1] ?? '';
    await reloadUntil(page, /Waiting for contacts to confirm/);
    // Submitting proves no mailbox: until a contact confirms here, this browser sees only the public status (issue 9).
    expect(await page.locator('main').innerText()).not.toContain(contacts.business.name);
    await shots.shoot(page, '03-status-awaiting-contacts');

    // 2. Each contact confirms from the mail the SMTP sink received, in the partner's browser.
    const mailbox = await newPage(partner);
    let usedLink = '';
    for (const role of ['business', 'technical', 'security'] as const) {
      const link = await confirmationLinkFromOutbox(mailbox, contacts[role].email);
      if (role === 'business') await shots.shoot(mailbox, '04-outbox-confirmation-mail');
      expect(link.startsWith(`${web.url}/confirm/`)).toBe(true);
      await mailbox.goto(link);
      if (role === 'business') await shots.shoot(mailbox, '05-confirm-landing');
      await mailbox.getByRole('button', { name: /^Confirm I am the/ }).click();
      await hasText(mailbox.getByRole('heading', { level: 1 }), /you are confirmed as the/);
      if (role === 'security') await shots.shoot(mailbox, '06-confirmed-all-three');
      usedLink = link;
    }
    // The same link again: clearly refused.
    await mailbox.goto(usedLink);
    await hasText(mailbox.getByRole('heading', { level: 1 }), /already been used/);
    await shots.shoot(mailbox, '07-confirm-link-already-used');

    // 3. The trust anchor: a chain nobody trusts is refused with the verifier's reasons, then the real one.
    await mailbox.getByRole('link', { name: 'See the application’s status' }).click();
    await page.goto(`${web.url}/applications/${applicationId}/anchor`);
    await reloadUntil(page, /accepts: X\.509 client certificate/);
    await shots.shoot(page, '08-anchor-page');
    const stranger = await makeCert({
      subject: 'CN=Self-signed stranger',
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 30 * DAY),
    });
    await page
      .locator('#file-x509-certificateChainPem')
      .setInputFiles({ name: 'untrusted.pem', mimeType: 'application/x-pem-file', buffer: Buffer.from(stranger.pem) });
    await page.getByRole('button', { name: 'Submit certificate chain' }).click();
    await visible(page.getByRole('heading', { name: 'The verifier refused this anchor' })).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\n${await page.locator('main').innerText()}`);
    });
    await shots.shoot(page, '09-anchor-refused-with-reasons');
    const leaf = await makeCert({
      subject: `CN=${applicationId}`,
      issuer: ca.issuing,
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 365 * DAY),
    });
    await page
      .locator('#file-x509-certificateChainPem')
      .setInputFiles({ name: 'chain.pem', mimeType: 'application/x-pem-file', buffer: Buffer.from(`${leaf.pem}${ca.issuing.pem}`) });
    await page.getByRole('button', { name: 'Submit certificate chain' }).click();
    await visible(page.getByRole('heading', { name: 'Trust anchor verified' }));
    await shots.shoot(page, '10-anchor-verified');

    // 4. Two approvers sign in through OpenID Connect and approve; the same one cannot vote twice.
    const adaContext = await browser.newContext();
    const ada = await signInAs(adaContext, 'Ada Approver');
    await shots.shoot(ada, '11-dev-idp-sign-in');
    await ada.getByRole('button', { name: 'Sign in' }).click();
    await ada.waitForURL(/\/console$/);
    await reloadUntil(ada, /Payments Gateway/);
    await shots.shoot(ada, '12-console-queue');
    await ada.getByRole('link', { name: 'Payments Gateway' }).click();
    await visible(ada.getByText('Two-person rule: 2 distinct approvers must approve.'));
    await shots.shoot(ada, '13-console-evidence');
    await ada.getByRole('group', { name: 'Your decision' }).getByLabel('Approve').check();
    await ada.getByLabel('Comment').fill('Registry entry, contacts and certificate chain checked.');
    await ada.getByRole('button', { name: 'Record my decision' }).click();
    await visible(ada.getByText('Your decision was recorded.'));
    expect(await ada.locator('main').innerText()).toMatch(/1 of 2 approvals so far/);
    await ada.getByRole('group', { name: 'Your decision' }).getByLabel('Approve').check();
    await ada.getByRole('button', { name: 'Record my decision' }).click();
    await visible(ada.getByRole('heading', { name: 'The workflow refused this' }));
    await shots.shoot(ada, '14-console-second-vote-refused');

    const ruiContext = await browser.newContext();
    const rui = await signInAs(ruiContext, 'Rui Reviewer');
    await rui.getByRole('button', { name: 'Sign in' }).click();
    await rui.waitForURL(/\/console$/);
    await rui.goto(`${web.url}/console/applications/${applicationId}`);
    await rui.getByRole('group', { name: 'Your decision' }).getByLabel('Approve').check();
    await rui.getByLabel('Comment').fill('Security review: certificate chain and scopes are appropriate.');
    await rui.getByRole('button', { name: 'Record my decision' }).click();
    await visible(rui.getByText('Your decision was recorded.'));
    await reloadUntil(rui, /Admitted/);
    await shots.shoot(rui, '15-console-approved-by-two');

    // 5. The partner's status page shows the grant.
    await page.goto(`${web.url}/applications/${applicationId}/status`);
    await reloadUntil(page, /Client id/);
    const status = await page.locator('main').innerText();
    expect(status).toContain('Admitted');
    expect(status).toContain('payments:initiate');
    expect(status).toMatch(/contract-end/);
    await shots.shoot(page, '16-status-admitted-with-grant');

    const state = await stack.temporal.workflow.getHandle(workflowIdFor(applicationId)).query(stateQuery);
    expect(state.stage).toBe('ADMITTED');
    expect(state.grant?.scopes).toContain('payments:initiate');
    // The evidence names both approvers, by the OIDC subject they signed in with.
    const actors = (await stack.registry.auditEvent.findMany({ where: { applicationId } })).map((e) => e.actor);
    expect(actors).toContain(`${web.url}/dev-idp ada`);
    expect(actors).toContain(`${web.url}/dev-idp rui`);
    expect(cspViolations).toEqual([]);
    await Promise.all([partner.close(), adaContext.close(), ruiContext.close()]);
  }, 240_000);
  it('proof of possession: download the challenge, sign it, upload keys and assertion (a LOW application is then admitted)', async () => {
    const body = signupBody();
    // An organisation an approver admitted before: its LOW applications need nobody (a first enrolment would).
    await establishOrganisation(stack.registry, body.organisation);
    const response = await web.app.inject({ method: 'POST', url: '/signup', payload: body });
    const { applicationId } = response.json<{ applicationId: string }>();
    const partner = await browser.newContext({ acceptDownloads: true });
    const page = await newPage(partner);
    for (const role of ['business', 'technical', 'security'] as const) {
      await page.goto(await confirmationLinkFromOutbox(page, body.contacts[role].email));
      await page.getByRole('button', { name: /^Confirm I am the/ }).click();
      await hasText(page.getByRole('heading', { level: 1 }), /you are confirmed as the/);
    }
    await page.goto(`${web.url}/applications/${applicationId}/anchor`);
    await reloadUntil(page, /Signed assertion \(JWK or JWKS\)/);
    await page.getByRole('button', { name: 'Get a challenge' }).click();
    await visible(page.getByRole('link', { name: 'Download the challenge (JSON)' }));
    await shots.shoot(page, '17-pop-challenge-issued');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the challenge (JSON)' }).click()]);
    expect(download.suggestedFilename()).toBe('admit-challenge.json');
    const challenge = JSON.parse(await readFile(await download.path(), 'utf8')) as { nonce: string; audience: string };

    // The partner signs the challenge with its own key, outside Admit.
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'partner-key-1', alg: 'ES256', use: 'sig' }] };
    const assertion = await new SignJWT({ nonce: challenge.nonce })
      .setProtectedHeader({ alg: 'ES256', kid: 'partner-key-1', typ: 'JWT' })
      .setIssuer(applicationId)
      .setSubject(applicationId)
      .setAudience(challenge.audience)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    await page.getByLabel('Public JWK or JWKS (JSON)').fill(JSON.stringify(jwks));
    await page.locator('#file-jwk-assertion').setInputFiles({ name: 'assertion.jwt', mimeType: 'application/jwt', buffer: Buffer.from(assertion) });
    await page.getByRole('button', { name: 'Submit proof of possession' }).click();
    await visible(page.getByRole('heading', { name: 'Trust anchor verified' }));
    await shots.shoot(page, '18-pop-verified');

    await page.goto(`${web.url}/applications/${applicationId}/status`);
    await reloadUntil(page, /Client id/).catch(async (error: unknown) => {
      const handle = stack.temporal.workflow.getHandle(workflowIdFor(applicationId));
      const history = await handle.fetchHistory();
      const failures = (history.events ?? [])
        .filter((e) => e.activityTaskFailedEventAttributes || e.workflowTaskFailedEventAttributes)
        .map((e) => JSON.stringify(e.activityTaskFailedEventAttributes?.failure?.message ?? e.workflowTaskFailedEventAttributes?.failure?.message));
      throw new Error(
        `${String(error).slice(0, 200)}\nstate: ${JSON.stringify(await handle.query(stateQuery)).slice(0, 800)}\nfailures: ${failures.join('\n')}`,
      );
    });
    expect(await page.locator('main').innerText()).toMatch(/Admitted[\s\S]*jwk/);
    await shots.shoot(page, '19-pop-status-admitted-low');
    expect(cspViolations).toEqual([]);
    await partner.close();
  }, 120_000);
});
