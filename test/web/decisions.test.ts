import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowIdFor } from '../../domain/identity';
import { stateQuery, type LifecycleState, type Stage } from '../../workflows/messages';
import { DEVELOPMENT_ACCOUNTS } from '../../stack/dev-approvers';
import { freePort } from '../../stack/processes';
import { makeCert, type Issued } from '../anchors/fixtures';
import { createTestStack, type TestStack } from '../support/stack';
import { signupBody } from '../support/signups';
import { eventually } from '../support/wait';
import { PageClient } from '../support/page-client';
import { mailedConfirmationTokens, seedApproversFor, signInThroughDevIdp, startTestWeb, type RunningWeb } from '../support/web';
import { evidenceKeyringFromSeeds } from '../../evidence/keys';
import { verifyDossier } from '../../evidence/dossier-verify';
import { verifyCheckpoint, type PublishedCheckpoint } from '../../evidence/checkpoint';
import type { SignedDossier } from '../../evidence/dossier-format';
import type { JSONWebKeySet } from 'jose';
import { randomBytes } from 'node:crypto';

/**
 * Decisions through the pages against the real workflow: the page passes the
 * signed-in approver into the update and shows what the workflow's own
 * validators decide.
 */
const DAY = 86_400_000;
let stack: TestStack;
let web: RunningWeb;
let issuing: Issued;

beforeAll(async () => {
  const validity = { notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 3650 * DAY) };
  const root = await makeCert({ subject: 'CN=Decisions Partner Root', ca: true, ...validity });
  issuing = await makeCert({ subject: 'CN=Decisions Issuing CA', ca: true, pathLen: 0, issuer: root, ...validity });
  const storeFile = path.join(await mkdtemp(path.join(tmpdir(), 'admit-decisions-')), 'trust-store.pem');
  await writeFile(storeFile, root.pem);
  const port = await freePort();
  // A short probation (REGULATED: three times it) so an expansion can reach the approvers within the test.
  stack = await createTestStack({ ADMIT_PUBLIC_URL: `http://127.0.0.1:${port}`, ADMIT_TRUST_STORE: storeFile, ADMIT_PROBATION: '2s' });
  await seedApproversFor(stack.registry, `http://127.0.0.1:${port}`);
  await stack.startWorker();
  web = await startTestWeb(stack, {
    port,
    evidence: { keyring: await evidenceKeyringFromSeeds([randomBytes(32)]), checkpointDir: path.join(path.dirname(storeFile), 'checkpoints') },
    // One account the identity provider knows that holds no approver role.
    developmentAccounts: [...DEVELOPMENT_ACCOUNTS, { sub: 'eve', name: 'Eve Visitor', email: 'eve.visitor@admit.localhost', roles: [] }],
  });
});
afterAll(async () => {
  await web.close();
  await stack.close();
});

const stateOf = (applicationId: string): Promise<LifecycleState> => stack.temporal.workflow.getHandle(workflowIdFor(applicationId)).query(stateQuery);
const waitForStage = (applicationId: string, stage: Stage) =>
  eventually(async () => ((await stateOf(applicationId)).stage === stage ? true : undefined), 30_000, `stage ${stage}`);

/** A REGULATED application through signup, contacts (each from its mailed link, in `partner`) and its certificate chain. */
async function waitingForApproval(partner: PageClient, requestedBy?: string) {
  const body = signupBody();
  body.application.regulatedSector = true;
  if (requestedBy !== undefined) body.requestedBy = requestedBy;
  const response = await web.app.inject({ method: 'POST', url: '/signup', payload: body });
  expect(response.statusCode).toBe(202);
  const { applicationId } = response.json<{ applicationId: string }>();
  await waitForStage(applicationId, 'AWAITING_CONTACTS');
  const links: string[] = [];
  for (const role of ['business', 'technical', 'security'] as const) {
    const token = await eventually(async () => (await mailedConfirmationTokens(body.contacts[role].email)).at(-1), 20_000, `the ${role} mail`);
    await partner.get(`/confirm/${token}`);
    expect((await partner.post(`/confirm/${token}`, {})).statusCode).toBe(200);
    links.push(token);
  }
  await waitForStage(applicationId, 'AWAITING_ANCHOR');
  const leaf = await makeCert({
    subject: `CN=${applicationId}`,
    issuer: issuing,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 365 * DAY),
  });
  await partner.get(`/applications/${applicationId}/anchor`);
  const anchored = await partner.post(`/applications/${applicationId}/anchor`, {
    kind: 'x509',
    'x509.certificateChainPem': `${leaf.pem}${issuing.pem}`,
  });
  expect(anchored.statusCode).toBe(200);
  await waitForStage(applicationId, 'AWAITING_APPROVAL');
  const contactEmails = { business: body.contacts.business.email, technical: body.contacts.technical.email, security: body.contacts.security.email };
  return { applicationId, links, contactEmails };
}

async function approver(sub: string): Promise<PageClient> {
  const client = new PageClient(web.app);
  const signedIn = await signInThroughDevIdp(client, sub);
  expect(signedIn.statusCode).toBe(303);
  return client;
}

async function vote(client: PageClient, applicationId: string, decision: 'approve' | 'reject', comment: string) {
  await client.get(`/console/applications/${applicationId}`);
  return client.post(`/console/applications/${applicationId}/vote`, { decision, comment });
}

describe('decisions through the console', () => {
  it('refuses an approver who submitted the application, with the workflow’s reason, and records no vote', async () => {
    const ada = DEVELOPMENT_ACCOUNTS.find((a) => a.sub === 'ada')!;
    const { applicationId } = await waitingForApproval(new PageClient(web.app), ada.email);
    const response = await vote(await approver('ada'), applicationId, 'approve', 'my own application');
    expect(response.statusCode).toBe(409);
    expect(response.body).toContain('The workflow refused this');
    expect(response.body).toMatch(/requester/);
    expect((await stateOf(applicationId)).approval?.votes).toEqual([]);
  });

  it('refuses a second vote by the same approver; two distinct approvers admit, and the console can then offboard', async () => {
    const partner = new PageClient(web.app);
    const { applicationId } = await waitingForApproval(partner);
    const sam = await approver('sam');
    const first = await vote(sam, applicationId, 'approve', 'checked the registry and the chain');
    expect(first.statusCode).toBe(303);
    const second = await vote(sam, applicationId, 'approve', 'again');
    expect(second.statusCode).toBe(409);
    expect(second.body).toMatch(/already voted/);
    expect((await stateOf(applicationId)).approval?.votes.map((v) => v.approverSubject)).toEqual([`${web.url}/dev-idp sam`]);

    const rui = await approver('rui');
    expect((await vote(rui, applicationId, 'approve', 'security review done')).statusCode).toBe(303);
    await waitForStage(applicationId, 'ADMITTED');
    const status = await partner.get(`/applications/${applicationId}/status`);
    expect(status.body).toContain('Admitted');
    expect(status.body).toContain('<code>accounts:read</code>');

    const queue = await rui.get('/console');
    expect(queue.body).toContain(`/console/applications/${applicationId}`);
    await rui.get(`/console/applications/${applicationId}`);
    expect((await rui.post(`/console/applications/${applicationId}/offboard`, { reason: '' })).statusCode).toBe(400);
    expect(
      (await rui.post(`/console/applications/${applicationId}/offboard`, { reason: 'Contract terminated early by the partner.' })).statusCode,
    ).toBe(303);
    await waitForStage(applicationId, 'OFFBOARDED');
  });

  it('refuses a used confirmation link with a clear page, whether opened again or submitted again', async () => {
    const partner = new PageClient(web.app);
    const { links } = await waitingForApproval(partner);
    const used = links[0]!;
    const opened = await partner.get(`/confirm/${used}`);
    expect(opened.statusCode).toBe(409);
    expect(opened.body).toContain('<h1>This confirmation link has already been used</h1>');
    // Submitting it needs a form token from this session (any page's), then the workflow itself refuses it.
    await partner.get('/apply');
    const submitted = await partner.post(`/confirm/${used}`, {});
    expect(submitted.statusCode).toBe(409);
    expect(submitted.body).toContain('<h1>This confirmation link has already been used</h1>');
  });

  it('lets a confirmed contact ask for more scopes; approvers decide the expansion in the console', async () => {
    const partner = new PageClient(web.app);
    const { applicationId, contactEmails } = await waitingForApproval(partner);
    const [sam, rui] = [await approver('sam'), await approver('rui')];
    expect((await vote(sam, applicationId, 'approve', 'fine')).statusCode).toBe(303);
    expect((await vote(rui, applicationId, 'approve', 'fine')).statusCode).toBe(303);
    await waitForStage(applicationId, 'ADMITTED');

    // A browser in which no contact confirmed may not ask.
    const stranger = new PageClient(web.app);
    await stranger.get('/apply');
    expect((await stranger.post(`/applications/${applicationId}/expansions`, { scopes: 'statements:read' })).statusCode).toBe(403);

    await partner.get(`/applications/${applicationId}/status`);
    expect((await partner.post(`/applications/${applicationId}/expansions`, {})).statusCode).toBe(400);
    // During probation the workflow records the request and refuses it, with its reason.
    expect((await partner.post(`/applications/${applicationId}/expansions`, { scopes: 'statements:read' })).statusCode).toBe(303);
    const inProbation = await stateOf(applicationId);
    expect(inProbation.expansions[0]).toMatchObject({ scopes: ['statements:read'], decision: 'refuse', requestedBy: contactEmails.security });
    expect((await partner.get(`/applications/${applicationId}/status`)).body).toContain('probation runs until');

    // After probation it goes to the approvers, who see what it would add and decide it in the console.
    await eventually(async () => (Date.now() > Date.parse(inProbation.probationEndsAt ?? '') ? true : undefined), 20_000, 'the end of probation');
    await partner.get(`/applications/${applicationId}/status`);
    expect((await partner.post(`/applications/${applicationId}/expansions`, { scopes: 'statements:read' })).statusCode).toBe(303);
    await eventually(async () => ((await stateOf(applicationId)).approval?.purpose === 'expansion' ? true : undefined));
    const queue = await sam.get('/console');
    expect(queue.body).toMatch(/Waiting for a decision[\s\S]*expansion: 0 of 2/);
    const page = await sam.get(`/console/applications/${applicationId}`);
    expect(page.body).toContain('This decision is about an expansion adding:');
    expect((await vote(sam, applicationId, 'approve', 'usage looks clean')).statusCode).toBe(303);
    expect((await vote(rui, applicationId, 'approve', 'reviewed')).statusCode).toBe(303);
    await eventually(
      async () => ((await stateOf(applicationId)).grant?.scopes.includes('statements:read') ? true : undefined),
      20_000,
      'the expanded grant',
    );
  });

  it('records a key compromise from the console: access ends at once', async () => {
    const { applicationId } = await waitingForApproval(new PageClient(web.app));
    const [sam, rui] = [await approver('sam'), await approver('rui')];
    expect((await vote(sam, applicationId, 'approve', 'fine')).statusCode).toBe(303);
    expect((await vote(rui, applicationId, 'approve', 'fine')).statusCode).toBe(303);
    await waitForStage(applicationId, 'ADMITTED');
    await rui.get(`/console/applications/${applicationId}`);
    const reported = await rui.post(`/console/applications/${applicationId}/key-compromise`, {
      detail: 'The private key was published in a public repository.',
    });
    expect(reported.statusCode).toBe(303);
    await waitForStage(applicationId, 'OFFBOARDED');
    expect((await stateOf(applicationId)).outcome).toMatchObject({ trigger: 'key-compromise' });
  });

  it('downloads the signed dossier from the console, full or the partner’s copy, JSON or HTML; it verifies against the published keys', async () => {
    const partner = new PageClient(web.app);
    const { applicationId } = await waitingForApproval(partner);
    const sam = await approver('sam');
    expect((await vote(sam, applicationId, 'approve', 'registry <checked>')).statusCode).toBe(303);
    const anonymous = await web.app.inject({ method: 'GET', url: `/console/applications/${applicationId}/dossier` });
    expect(anonymous.statusCode).toBe(401);

    const page = await sam.get(`/console/applications/${applicationId}`);
    expect(page.body).toContain(`/console/applications/${applicationId}/dossier?audience=full&amp;format=json`);
    const full = await sam.get(`/console/applications/${applicationId}/dossier?audience=full&format=json`);
    expect(full.statusCode).toBe(200);
    expect(full.headers['content-disposition']).toBe(`attachment; filename="${applicationId}-dossier-full.json"`);
    const signed = JSON.parse(full.body) as SignedDossier;
    expect(signed.dossier.sections.votes).toMatchObject([{ comment: 'registry <checked>', approver: { name: 'Sam Second', verified: true } }]);
    expect(signed.dossier.sections.triggers).toMatchObject({ available: true });
    const keys = await web.app.inject({ method: 'GET', url: '/.well-known/admit-evidence-keys' });
    expect(keys.headers['content-type']).toMatch(/^application\/jwk-set\+json/);
    const jwks = JSON.parse(keys.body) as JSONWebKeySet;
    expect(await verifyDossier(signed, { jwks })).toMatchObject({ ok: true, keys: 'given' });
    const published = await web.app.inject({ method: 'GET', url: '/.well-known/admit-evidence-checkpoint' });
    const checkpoint = JSON.parse(published.body) as PublishedCheckpoint & { leaves?: unknown };
    expect(checkpoint.leaves).toBeUndefined();
    expect(await verifyCheckpoint(checkpoint, jwks)).toMatchObject({ seq: checkpoint.seq, rootHash: checkpoint.rootHash });

    const partnerCopy = await sam.get(`/console/applications/${applicationId}/dossier?audience=partner&format=json`);
    expect(partnerCopy.body).not.toContain('registry <checked>');
    expect(partnerCopy.body).not.toContain('Sam Second');
    expect(await verifyDossier(JSON.parse(partnerCopy.body) as SignedDossier, { jwks })).toMatchObject({ ok: true });
    const rendered = await sam.get(`/console/applications/${applicationId}/dossier?format=html`);
    expect(rendered.headers['content-type']).toMatch(/^text\/html/);
    expect(rendered.body).toContain('registry &lt;checked&gt;');
    expect((await sam.get(`/console/applications/${applicationId}/dossier?audience=everyone`)).statusCode).toBe(400);
  });

  it('shows the console only to people holding an approver role', async () => {
    const eve = new PageClient(web.app);
    expect((await signInThroughDevIdp(eve, 'eve')).statusCode).toBe(303);
    const response = await eve.get('/console');
    expect(response.statusCode).toBe(403);
    expect(response.body).toContain('holds no approver role');
  });
});
