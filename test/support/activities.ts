import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { inject } from 'vitest';
import type { Registry } from '../../registry/client';
import { createMailer, type Mailer } from '../../mail/transport';
import { readMailbox, type StoredMessage } from '../../mail/mailbox';
import { loadAnchorTrust } from '../../activities/anchor-trust';
import { createActivities, type Activities } from '../../activities';
import { validateSignup, type Signup } from '../../domain/signup';
import { applicationIdFor, workflowIdFor } from '../../domain/identity';
import type { TrustAnchor } from '../../generated/prisma/client';
import { createRegistry } from '../../registry/client';
import { createTestDatabase, testConfig } from './stack';
import { signupBody } from './signups';
import type { Config } from '../../config/env';

/** The activities over a fresh registry database and the real SMTP sink, without Temporal. */
export interface ActivityHarness {
  registry: Registry;
  mailer: Mailer;
  config: Config;
  linkSecret: Uint8Array;
  activities: Activities;
  close(): Promise<void>;
}

export async function createActivityHarness(overrides: { now?: () => Date; config?: Record<string, string> } = {}): Promise<ActivityHarness> {
  const registry = createRegistry(await createTestDatabase(), { maxConnections: 5 });
  const mailer = createMailer(inject('smtpUrl'), 'Admit tests <admit@localhost>');
  const config = testConfig({ ADMIT_PUBLIC_URL: 'https://admit.test', ...overrides.config });
  const linkSecret = randomBytes(32);
  const activities = createActivities({ registry, mailer, config, linkSecret, trust: await loadAnchorTrust(config), now: overrides.now });
  return {
    registry,
    mailer,
    config,
    linkSecret,
    activities,
    async close() {
      mailer.close();
      await registry.$disconnect();
    },
  };
}

export interface RegisteredTestApplication {
  applicationId: string;
  workflowId: string;
  organisationId: string;
  signup: Signup;
}

/** Registers a fresh application (through the real activity) and returns its ids. */
export async function registerTestApplication(
  activities: Activities,
  overrides: Parameters<typeof signupBody>[0] & { application?: Partial<ReturnType<typeof signupBody>['application']> } = {},
): Promise<RegisteredTestApplication> {
  const body = signupBody(overrides);
  Object.assign(body.application, overrides.application ?? {});
  const validation = validateSignup(body, new Date('2026-12-01T00:00:00Z'));
  if (!validation.ok) throw new Error(`test signup is invalid: ${JSON.stringify(validation.errors)}`);
  const { signup } = validation;
  const applicationId = applicationIdFor(signup.organisation.lei, signup.application.name, signup.application.environment);
  const workflowId = workflowIdFor(applicationId);
  const { organisationId } = await activities.registerApplication({ applicationId, workflowId, signup, submittedAt: '2026-12-01T08:00:00Z' });
  return { applicationId, workflowId, organisationId, signup };
}

/** A certificate-like fingerprint: `sha256:` and the hex SHA-256 of some bytes standing for a leaf DER. */
export function certificateFingerprint(): { fingerprint: string; der: Buffer } {
  const der = randomBytes(64);
  return { fingerprint: `sha256:${createHash('sha256').update(der).digest('hex')}`, der };
}

/**
 * Binds an anchor row directly, standing in for verifyAndBindAnchor (wired
 * from the verifier library elsewhere): these tests are about what is built on it.
 */
export async function bindTestAnchor(
  registry: Registry,
  applicationId: string,
  anchor: Pick<TrustAnchor, 'kind' | 'fingerprint'> &
    Partial<Pick<TrustAnchor, 'keyFingerprint' | 'subject' | 'status'>> & { material?: Record<string, string> },
): Promise<TrustAnchor> {
  return registry.trustAnchor.create({
    data: {
      applicationId,
      kind: anchor.kind,
      fingerprint: anchor.fingerprint,
      keyFingerprint: anchor.keyFingerprint ?? null,
      subject: anchor.subject ?? null,
      material: anchor.material ?? {},
      status: anchor.status ?? 'ACTIVE',
      verifiedAt: new Date('2026-12-01T09:00:00Z'),
    },
  });
}

/** Messages the sink received for `address` (the sink is shared by every test file). */
export async function mailTo(address: string): Promise<StoredMessage[]> {
  return (await readMailbox(inject('mailDir'))).filter((m) => m.envelopeTo.some((to) => to.toLowerCase() === address.toLowerCase()));
}

export async function auditEvents(registry: Registry, applicationId: string, type?: string) {
  return registry.auditEvent.findMany({ where: { applicationId, ...(type === undefined ? {} : { type }) }, orderBy: { seq: 'asc' } });
}

/** The Message-ID header of a stored message, from its raw .eml. */
export async function messageIdOf(message: StoredMessage): Promise<string | undefined> {
  const raw = await readFile(path.join(inject('mailDir'), `${message.id}.eml`), 'utf8');
  return /^Message-ID:\s*(<[^>]+>)/im.exec(raw)?.[1];
}
