import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../web/app';
import { TEST_PUBLIC_URL, testAppDependencies } from './web';
import { workflowIdFor } from '../../domain/identity';
import { verifyContactLink } from '../../links/contact-confirmation';
import { readMailbox } from '../../mail/mailbox';
import { developmentApproversFor, seedDevelopmentApprovers } from '../../stack/dev-approvers';
import type { AnchorSubmission } from '../../domain/anchor-submission';
import type { ContactRoleKey } from '../../domain/contacts';
import {
  confirmContactUpdate,
  stateQuery,
  submitAnchorUpdate,
  UPDATE_REFUSALS,
  voteUpdate,
  type Actor,
  type LifecycleState,
  type Stage,
} from '../../workflows/messages';
import type { partnerLifecycle } from '../../workflows/partner-lifecycle';
import { establishOrganisation } from './entity';
import { createTestStack, type TestStack, type TestStackOptions } from './stack';
import { signupBody } from './signups';
import { eventually } from './wait';
import { makeCert, type Issued } from '../anchors/fixtures';

export type LifecycleHandle = WorkflowHandle<typeof partnerLifecycle>;

export interface LifecycleHarness {
  stack: TestStack;
  app: FastifyInstance;
  ca: { root: Issued; issuing: Issued };
  /** The worker's ADMIT_TRUST_STORE, for workers started as processes. */
  trustStoreFile: string;
  close(): Promise<void>;
}

const DAY = 24 * 3600 * 1000;

/** The bearer token of the harness's one API gateway. */
export const GATEWAY_TOKEN = 'test-gateway-token-0123456789abcdefghij';

/** A partner CA the worker trusts (ADMIT_TRUST_STORE), built at run time. */
async function partnerCa(): Promise<{ root: Issued; issuing: Issued; storeFile: string }> {
  const now = Date.now();
  const validity = { notBefore: new Date(now - DAY), notAfter: new Date(now + 3650 * DAY) };
  const root = await makeCert({ subject: 'CN=Lifecycle Test Partner Root', ca: true, ...validity });
  const issuing = await makeCert({ subject: 'CN=Lifecycle Test Issuing CA', ca: true, pathLen: 0, issuer: root, ...validity });
  const dir = await mkdtemp(path.join(tmpdir(), 'admit-trust-'));
  const storeFile = path.join(dir, 'trust-store.pem');
  await writeFile(storeFile, root.pem);
  return { root, issuing, storeFile };
}

/**
 * A worker configured as a deployment would be (real registry, SMTP, verifiers
 * with a partner CA in the trust store, seeded approvers) and the HTTP service.
 */
export async function createLifecycleHarness(
  env: Record<string, string> = {},
  options: TestStackOptions & { inProcessWorker?: boolean } = {},
): Promise<LifecycleHarness> {
  const ca = await partnerCa();
  const stack = await createTestStack({ ADMIT_TRUST_STORE: ca.storeFile, ...env }, options);
  await seedDevelopmentApprovers(stack.registry, TEST_PUBLIC_URL);
  if (options.inProcessWorker ?? true) await stack.startWorker();
  const app = buildApp({ ...testAppDependencies(stack), gatewayTokens: [{ name: 'test-gateway', token: GATEWAY_TOKEN }] });
  return {
    stack,
    app,
    ca: { root: ca.root, issuing: ca.issuing },
    trustStoreFile: ca.storeFile,
    async close() {
      await app.close();
      await stack.close();
    },
  };
}

/** The seeded approvers as their sessions would name them (the harness's web is at TEST_PUBLIC_URL). */
export const approvers: Record<'ada' | 'rui' | 'sam', Actor> = Object.fromEntries(
  developmentApproversFor(TEST_PUBLIC_URL).map((a) => [
    a.email.split('.')[0],
    { subject: a.subject, email: a.email, name: a.name, roles: [...a.roles] },
  ]),
) as Record<'ada' | 'rui' | 'sam', Actor>;

export type SignupOverrides = Partial<ReturnType<typeof signupBody>['application']> & { requestedBy?: string };

/**
 * Posts a signup. Unless `firstEnrolment` is asked for, the organisation is
 * established first (an earlier application of it admitted by a person,
 * test/support/entity.ts), so the tier alone decides who must approve.
 */
export async function signup(
  h: LifecycleHarness,
  overrides: SignupOverrides = {},
  identity: { lei?: string; name?: string; firstEnrolment?: boolean } = {},
) {
  const body = signupBody(identity);
  const { requestedBy, ...application } = overrides;
  Object.assign(body.application, application);
  if (requestedBy !== undefined) body.requestedBy = requestedBy;
  if (identity.firstEnrolment !== true) await establishOrganisation(h.stack.registry, body.organisation);
  const response = await h.app.inject({ method: 'POST', url: '/signup', payload: body });
  if (response.statusCode !== 202) throw new Error(`signup refused: ${response.body}`);
  const { applicationId } = response.json<{ applicationId: string }>();
  const handle: LifecycleHandle = h.stack.temporal.workflow.getHandle(workflowIdFor(applicationId));
  h.stack.entity.watch(handle.workflowId);
  return { body, applicationId, handle };
}

export async function state(handle: LifecycleHandle): Promise<LifecycleState> {
  return handle.query(stateQuery);
}

export async function waitForStage(handle: LifecycleHandle, stage: Stage, timeoutMs = 30_000): Promise<LifecycleState> {
  return eventually(
    async () => {
      const s = await state(handle);
      return s.stage === stage ? s : undefined;
    },
    timeoutMs,
    `stage ${stage}`,
  );
}

/** The confirmation tokens mailed to `email`, newest last. */
export async function mailedTokens(email: string): Promise<string[]> {
  const messages = (await readMailbox(inject('mailDir'))).filter((m) => m.envelopeTo.includes(email));
  return messages.flatMap((m) => [...m.text.matchAll(/\/confirm\/([A-Za-z0-9_.-]+)/g)].map((match) => match[1] as string));
}

export async function mailsTo(email: string) {
  return (await readMailbox(inject('mailDir'))).filter((m) => m.envelopeTo.includes(email));
}

/** Follows the newest emailed link of each role for this application, as the confirmation page does. */
export async function confirmContacts(
  h: LifecycleHarness,
  handle: LifecycleHandle,
  body: ReturnType<typeof signupBody>,
  roles: ContactRoleKey[] = ['business', 'technical', 'security'],
): Promise<void> {
  const applicationId = handle.workflowId.replace(/^partner-lifecycle-/, '');
  for (const role of roles) {
    const email = body.contacts[role].email;
    // A reminder can mail a newer link between reading the mailbox and the
    // Update; the workflow then refuses the older one. Only that refusal sends
    // the helper back to the mailbox: every other outcome is the test's to see.
    for (let attempt = 1; ; attempt += 1) {
      const check = await latestLink(h, email, applicationId, role);
      try {
        await handle.executeUpdate(confirmContactUpdate, { args: [{ role: check.claims.role, tokenHash: check.tokenHash }] });
        break;
      } catch (error) {
        if (!supersededLink(error) || attempt >= 5) throw error;
      }
    }
  }
}

async function latestLink(h: LifecycleHarness, email: string, applicationId: string, role: ContactRoleKey) {
  return eventually(
    async () => {
      for (const token of (await mailedTokens(email)).reverse()) {
        const candidate = await verifyContactLink(h.stack.linkSecret, token);
        if (candidate.ok && candidate.claims.applicationId === applicationId && candidate.claims.role === role) return candidate;
      }
      return undefined;
    },
    20_000,
    `the ${role} confirmation mail`,
  );
}

function supersededLink(error: unknown): boolean {
  return (
    error instanceof WorkflowUpdateFailedError &&
    error.cause instanceof ApplicationFailure &&
    error.cause.type === UPDATE_REFUSALS.CONFIRMATION_EXPIRED &&
    error.cause.message.includes('newer confirmation link')
  );
}

/** A client certificate chain (leaf + issuing CA) from the harness's partner CA. */
export async function clientChain(h: LifecycleHarness, subject: string, options: { notAfter?: Date } = {}): Promise<string> {
  const leaf = await makeCert({
    subject,
    issuer: h.ca.issuing,
    notBefore: new Date(Date.now() - DAY),
    notAfter: options.notAfter ?? new Date(Date.now() + 365 * DAY),
  });
  return `${leaf.pem}${h.ca.issuing.pem}`;
}

export async function submitAnchor(handle: LifecycleHandle, submission: AnchorSubmission) {
  return handle.executeUpdate(submitAnchorUpdate, { args: [submission] });
}

export async function vote(handle: LifecycleHandle, approver: Actor, decision: 'approve' | 'reject', comment = '') {
  return handle.executeUpdate(voteUpdate, { args: [{ approver, decision, comment }] });
}

/** The stable code of a refused update (the ApplicationFailure type the workflow's validator threw). */
export async function refusalCode(update: Promise<unknown>): Promise<string> {
  try {
    await update;
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) return error.cause.type ?? '(untyped)';
    throw error;
  }
  throw new Error('the update was accepted, but a refusal was expected');
}

/** Signup, contacts and a verified client certificate: the application then waits for its approval. */
export async function throughAnchor(h: LifecycleHarness, overrides: SignupOverrides = {}, identity: { lei?: string; name?: string } = {}) {
  const started = await signup(h, overrides, identity);
  await waitForStage(started.handle, 'AWAITING_CONTACTS');
  await confirmContacts(h, started.handle, started.body);
  await waitForStage(started.handle, 'AWAITING_ANCHOR');
  const attempt = await submitAnchor(started.handle, {
    kind: 'x509',
    certificateChainPem: await clientChain(h, `CN=${started.applicationId}`),
  });
  if (!attempt.ok) throw new Error(`anchor refused: ${JSON.stringify(attempt.reasons)}`);
  return started;
}
