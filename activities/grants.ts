import { randomBytes } from 'node:crypto';
import type { Prisma, Registry } from '../registry/client';
import { appendAuditEvent, type JsonObject } from '../registry/audit';
import type { TrustAnchor } from '../generated/prisma/client';
import { isKnownScope, outsideCeiling } from '../domain/scopes';
import { isRiskTier, type RiskTier } from '../domain/tiers';
import { ACTIVITY_FAILURES, instant, permanentFailure } from './errors';
import { isClosed, lockApplication } from './locking';
import type { LifecycleActivities } from './contract';

type Tx = Prisma.TransactionClient;

/** Longest token lifetime a credential may carry: Admit issues short-lived tokens only. */
export const MAX_CREDENTIAL_LIFETIME_SECONDS = 24 * 60 * 60;

export interface ConfirmationBinding {
  /** `x5t#S256` (RFC 8705), `jkt` (RFC 9449), `oidc-sub` or `spiffe-id` (the verified workload identity). */
  method: 'x5t#S256' | 'jkt' | 'oidc-sub' | 'spiffe-id';
  value: string;
}

const SHA256_FINGERPRINT = /^sha256:([0-9a-f]{64})$/i;
const BASE64URL_SHA256 = /^[A-Za-z0-9_-]{43}$/;

/** `sha256:<hex>` → the base64url digest tokens carry in `cnf`. */
function base64urlOfHexFingerprint(fingerprint: string): string | undefined {
  const hex = SHA256_FINGERPRINT.exec(fingerprint)?.[1];
  return hex === undefined ? undefined : Buffer.from(hex, 'hex').toString('base64url');
}

function materialString(anchor: TrustAnchor, key: string): string | undefined {
  const material = anchor.material;
  if (typeof material !== 'object' || material === null || Array.isArray(material)) return undefined;
  const value = (material as Record<string, unknown>)[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * What the credential's tokens are bound to, from the verified anchor:
 * certificates (X.509, SPIFFE X.509-SVID) by the SHA-256 of the leaf DER, a
 * JWK by its RFC 7638 thumbprint, an OIDC workload by issuer and subject, a
 * JWT-SVID by its SPIFFE ID. Undefined when the anchor lacks what is needed.
 */
/**
 * The organisation's registry record takes its attributes from verification,
 * not from whoever signed up first: when the first application of an
 * organisation is admitted (by a person, since a first enrolment always needs
 * one), its legal name and jurisdiction become GLEIF's, and its primary domain
 * the one this claim proved. Later admissions change nothing. Lifecycles
 * without entity verification (no LEI check, no proven domain) leave it as is.
 */
async function adoptVerifiedAttributes(
  tx: Prisma.TransactionClient,
  application: { id: string; organisationId: string },
  claimKey: string,
  at: Date,
): Promise<void> {
  const admittedBefore = await tx.application.count({
    where: { organisationId: application.organisationId, id: { not: application.id }, admittedAt: { not: null } },
  });
  if (admittedBefore > 0) return;
  const lei = await tx.leiCheck.findFirst({
    where: { applicationId: application.id, outcome: { not: 'refused' }, recordLegalName: { not: null } },
    orderBy: { checkedAt: 'desc' },
  });
  const domain = await tx.domainChallenge.findFirst({
    where: { applicationId: application.id, workflowId: claimKey, verifiedAt: { not: null } },
    orderBy: { verifiedAt: 'desc' },
  });
  if (lei === null || domain === null || lei.recordLegalName === null) return;
  const before = await tx.organisation.findUniqueOrThrow({ where: { id: application.organisationId } });
  const after = {
    legalName: lei.recordLegalName,
    jurisdiction: lei.recordJurisdiction ?? before.jurisdiction,
    primaryDomain: domain.domain,
  };
  await tx.organisation.update({
    where: { id: before.id },
    data: {
      ...after,
      leiVerifiedAt: before.leiVerifiedAt ?? at,
      domainVerifiedAt: domain.verifiedAt,
      domainVerificationMethod: domain.method,
      verified: true,
      verifiedAt: before.verifiedAt ?? at,
    },
  });
  await appendAuditEvent(tx, {
    idempotencyKey: `${claimKey}:organisation-verified`,
    type: 'organisation.attributes-verified',
    actor: 'workflow',
    organisationId: before.id,
    applicationId: application.id,
    occurredAt: at,
    data: {
      before: { legalName: before.legalName, jurisdiction: before.jurisdiction, primaryDomain: before.primaryDomain },
      after,
      leiCheck: lei.checkKey,
      domainMethod: domain.method,
    },
  });
}

export function confirmationFor(anchor: TrustAnchor): ConfirmationBinding | undefined {
  switch (anchor.kind) {
    case 'X509': {
      const value = base64urlOfHexFingerprint(anchor.fingerprint);
      return value === undefined ? undefined : { method: 'x5t#S256', value };
    }
    case 'SPIFFE': {
      const value = base64urlOfHexFingerprint(anchor.fingerprint);
      if (value !== undefined) return { method: 'x5t#S256', value };
      // A JWT-SVID has no certificate to bind to; the verified SPIFFE ID is the identity.
      const spiffeId = anchor.subject ?? materialString(anchor, 'spiffeId');
      return spiffeId?.startsWith('spiffe://') ? { method: 'spiffe-id', value: spiffeId } : undefined;
    }
    case 'JWK': {
      // The verifier writes RFC 7638 thumbprints as `jwk-sha256:<base64url>` (anchors/fingerprint.ts).
      const thumbprint = (anchor.keyFingerprint ?? anchor.fingerprint).replace(/^jwk-sha256:/, '');
      if (BASE64URL_SHA256.test(thumbprint)) return { method: 'jkt', value: thumbprint };
      const value = base64urlOfHexFingerprint(thumbprint);
      return value === undefined ? undefined : { method: 'jkt', value };
    }
    case 'OIDC': {
      const issuer = materialString(anchor, 'issuer');
      const subject = materialString(anchor, 'subject') ?? anchor.subject ?? undefined;
      if (issuer === undefined || subject === undefined) return undefined;
      // The subject column may already hold "issuer subject".
      return { method: 'oidc-sub', value: subject.startsWith(`${issuer} `) ? subject : `${issuer} ${subject}` };
    }
    default:
      return undefined;
  }
}

function checkScopes(tier: RiskTier, scopes: string[]): void {
  const unknown = scopes.filter((scope) => !isKnownScope(scope));
  if (unknown.length > 0)
    throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, `Not in the scope catalogue, so never granted: ${unknown.join(', ')}.`);
  const beyond = outsideCeiling(tier, scopes);
  if (beyond.length > 0)
    throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, `Beyond the ${tier} ceiling, so never granted at this tier: ${beyond.join(', ')}.`);
}

async function existingEvent(tx: Tx, idempotencyKey: string) {
  return tx.auditEvent.findUnique({ where: { idempotencyKey } });
}

export function grantActivities(registry: Registry) {
  return {
    /**
     * The admission: an ACTIVE grant and a client credential bound to the
     * application's verified anchor; the application becomes ADMITTED. One
     * transaction, so all of it or none. Idempotent per workflow: the
     * `access.granted` event carries the grant and client ids, and a retry
     * (serialised behind the first attempt by the application row lock)
     * returns those instead of granting again.
     */
    async grantAccess(input: Parameters<LifecycleActivities['grantAccess']>[0]): ReturnType<LifecycleActivities['grantAccess']> {
      const grantedAt = instant(input.grantedAt, 'grantedAt');
      if (!isRiskTier(input.tier)) throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, `${JSON.stringify(input.tier)} is not a risk tier.`);
      const scopes = [...new Set(input.scopes)];
      checkScopes(input.tier, scopes);
      const lifetime = input.credentialLifetimeSeconds;
      if (!Number.isSafeInteger(lifetime) || lifetime <= 0 || lifetime > MAX_CREDENTIAL_LIFETIME_SECONDS) {
        throw permanentFailure(
          ACTIVITY_FAILURES.INVALID_INPUT,
          `credentialLifetimeSeconds must be between 1 and ${MAX_CREDENTIAL_LIFETIME_SECONDS}, not ${lifetime}.`,
        );
      }
      const idempotencyKey = `${input.workflowId}:access-granted`;
      return registry.$transaction(async (tx) => {
        const application = await lockApplication(tx, input.applicationId);
        const done = await existingEvent(tx, idempotencyKey);
        if (done !== null) {
          const data = done.data as { grantId: string; clientId: string };
          return { grantId: data.grantId, clientId: data.clientId };
        }
        if (isClosed(application)) {
          throw permanentFailure(ACTIVITY_FAILURES.APPLICATION_CLOSED, `${application.id} is ${application.status}; nothing can be granted to it.`);
        }
        const anchor = await tx.trustAnchor.findUnique({ where: { fingerprint: input.anchorFingerprint } });
        if (anchor === null || anchor.applicationId !== application.id || anchor.status !== 'ACTIVE') {
          throw permanentFailure(
            ACTIVITY_FAILURES.ANCHOR_NOT_BOUND,
            `No active trust anchor ${input.anchorFingerprint} is bound to ${application.id}; verify and bind it before granting access.`,
          );
        }
        const binding = confirmationFor(anchor);
        if (binding === undefined) {
          throw permanentFailure(
            ACTIVITY_FAILURES.ANCHOR_NOT_BOUND,
            `The ${anchor.kind} anchor ${anchor.fingerprint} of ${application.id} does not carry what a credential binds to (certificate digest, key thumbprint, or issuer and subject).`,
          );
        }
        const grant = await tx.grant.create({
          data: {
            applicationId: application.id,
            scopes,
            conditions: input.conditions as JsonObject,
            status: 'ACTIVE',
            tier: input.tier,
            approvedBy: input.approvedBy,
            grantedAt,
          },
        });
        const clientId = `admit-${randomBytes(16).toString('base64url')}`;
        await tx.clientCredential.create({
          data: {
            clientId,
            applicationId: application.id,
            anchorFingerprint: anchor.fingerprint,
            confirmationMethod: binding.method,
            confirmationValue: binding.value,
            tokenLifetimeSeconds: lifetime,
            status: 'ACTIVE',
          },
        });
        await tx.application.update({ where: { id: application.id }, data: { status: 'ADMITTED', admittedAt: grantedAt, tier: input.tier } });
        await appendAuditEvent(tx, {
          idempotencyKey,
          type: 'access.granted',
          actor: input.approvedBy.length > 0 ? input.approvedBy.join(', ') : `template:${input.tier}`,
          organisationId: application.organisationId,
          applicationId: application.id,
          occurredAt: grantedAt,
          data: {
            grantId: grant.id,
            clientId,
            tier: input.tier,
            scopes,
            conditions: input.conditions as JsonObject,
            approvedBy: input.approvedBy,
            anchorKind: anchor.kind,
            anchorFingerprint: anchor.fingerprint,
            confirmationMethod: binding.method,
            confirmationValue: binding.value,
            credentialLifetimeSeconds: lifetime,
          },
        });
        await adoptVerifiedAttributes(tx, application, input.workflowId, grantedAt);
        return { grantId: grant.id, clientId };
      });
    },

    /**
     * Adds scopes to the ACTIVE grant, within its tier's ceiling. Idempotent
     * per expansionId (the event key): a retry finds the event and returns.
     */
    async expandGrant(input: {
      applicationId: string;
      workflowId: string;
      expansionId: string;
      scopes: string[];
      approvedBy: string[];
    }): Promise<void> {
      const idempotencyKey = `${input.workflowId}:expansion:${input.expansionId}`;
      await registry.$transaction(async (tx) => {
        const application = await lockApplication(tx, input.applicationId);
        if ((await existingEvent(tx, idempotencyKey)) !== null) return;
        const grant = await tx.grant.findFirst({ where: { applicationId: application.id, status: 'ACTIVE' }, orderBy: { grantedAt: 'desc' } });
        if (grant === null) {
          throw permanentFailure(ACTIVITY_FAILURES.NO_ACTIVE_GRANT, `${application.id} has no active grant to expand (it is ${application.status}).`);
        }
        const tier = grant.tier as RiskTier;
        checkScopes(tier, input.scopes);
        const added = [...new Set(input.scopes)].filter((scope) => !grant.scopes.includes(scope));
        const scopes = [...grant.scopes, ...added];
        const approvedBy = [...new Set([...grant.approvedBy, ...input.approvedBy])];
        await tx.grant.update({ where: { id: grant.id }, data: { scopes, approvedBy } });
        await appendAuditEvent(tx, {
          idempotencyKey,
          type: 'grant.expanded',
          actor: input.approvedBy.length > 0 ? input.approvedBy.join(', ') : `template:${tier}`,
          organisationId: application.organisationId,
          applicationId: application.id,
          occurredAt: new Date(),
          data: { grantId: grant.id, expansionId: input.expansionId, added, scopes, approvedBy: input.approvedBy },
        });
      });
    },

    /**
     * Suspends every active grant and credential (reversible) and marks the
     * application SUSPENDED. Idempotent per (workflow, `at`).
     */
    async suspendAccess(input: { applicationId: string; workflowId: string; reason: string; at: string }): Promise<void> {
      const at = instant(input.at, 'at');
      const idempotencyKey = `${input.workflowId}:suspended:${at.toISOString()}`;
      await registry.$transaction(async (tx) => {
        const application = await lockApplication(tx, input.applicationId);
        if ((await existingEvent(tx, idempotencyKey)) !== null) return;
        if (isClosed(application) || application.status === 'PENDING') {
          throw permanentFailure(ACTIVITY_FAILURES.NO_ACTIVE_GRANT, `${application.id} is ${application.status}, so it has no access to suspend.`);
        }
        const grants = await tx.grant.updateMany({
          where: { applicationId: application.id, status: 'ACTIVE' },
          data: { status: 'SUSPENDED', suspendedAt: at },
        });
        const credentials = await tx.clientCredential.updateMany({
          where: { applicationId: application.id, status: 'ACTIVE' },
          data: { status: 'SUSPENDED' },
        });
        await tx.application.update({ where: { id: application.id }, data: { status: 'SUSPENDED' } });
        await appendAuditEvent(tx, {
          idempotencyKey,
          type: 'access.suspended',
          actor: 'workflow',
          organisationId: application.organisationId,
          applicationId: application.id,
          occurredAt: at,
          data: { reason: input.reason, grantsSuspended: grants.count, credentialsSuspended: credentials.count },
        });
      });
    },

    /** Reinstates what suspendAccess suspended. Idempotent per (workflow, `at`). */
    async reinstateAccess(input: { applicationId: string; workflowId: string; reason: string; at: string }): Promise<void> {
      const at = instant(input.at, 'at');
      const idempotencyKey = `${input.workflowId}:reinstated:${at.toISOString()}`;
      await registry.$transaction(async (tx) => {
        const application = await lockApplication(tx, input.applicationId);
        if ((await existingEvent(tx, idempotencyKey)) !== null) return;
        if (application.status !== 'SUSPENDED') {
          throw permanentFailure(
            ACTIVITY_FAILURES.NOT_SUSPENDED,
            `${application.id} is ${application.status}, not SUSPENDED; there is nothing to reinstate.`,
          );
        }
        const grants = await tx.grant.updateMany({
          where: { applicationId: application.id, status: 'SUSPENDED' },
          data: { status: 'ACTIVE', suspendedAt: null },
        });
        const credentials = await tx.clientCredential.updateMany({
          where: { applicationId: application.id, status: 'SUSPENDED' },
          data: { status: 'ACTIVE' },
        });
        await tx.application.update({ where: { id: application.id }, data: { status: 'ADMITTED' } });
        await appendAuditEvent(tx, {
          idempotencyKey,
          type: 'access.reinstated',
          actor: 'workflow',
          organisationId: application.organisationId,
          applicationId: application.id,
          occurredAt: at,
          data: { reason: input.reason, grantsReinstated: grants.count, credentialsReinstated: credentials.count },
        });
      });
    },
  };
}
