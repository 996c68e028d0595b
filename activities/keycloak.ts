import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, type Name } from '@peculiar/asn1-x509';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { Registry } from '../registry/client';
import { appendAuditEvent } from '../registry/audit';
import type { TrustAnchor } from '../generated/prisma/client';
import { decodePem } from '../anchors/pem';
import { KeycloakAdmin, KeycloakError, type KeycloakAdminConfig, type KeycloakClientAuth, type KeycloakClientSpec } from '../credentials/keycloak';
import { ACTIVITY_FAILURES, instant, permanentFailure } from './errors';
import type { KeycloakActivityResult, KeycloakClientInput } from './contract';
import type { AuditEventType } from '../domain/audit-events';

/**
 * Workflow activities that keep Keycloak's partner clients in step with the
 * registry, when Keycloak is the authorization server
 * (ADMIT_AUTHORIZATION_SERVER=keycloak). Each reads what the registry says
 * now and converges Keycloak to it, so a retry, or a second call, leaves the
 * same state. With the embedded authorization server they do nothing and say so.
 *
 * Call points (the workflow adds them behind `patched('keycloak-clients')`):
 *   grantAccess, expandGrant, reinstateAccess, a completed rotation → provisionKeycloakClient
 *   suspendAccess                                                   → disableKeycloakClient
 *   closeApplication (offboarding, key compromise, cascade)         → removeKeycloakClient
 */

export type { KeycloakActivityResult, KeycloakClientInput } from './contract';

export interface RemoveKeycloakClientInput extends KeycloakClientInput {
  /** When the revocation takes effect (the not-before pushed to Keycloak), ISO-8601. */
  at: string;
  reason: string;
}

/** Failure types of these activities, beside the registry's ACTIVITY_FAILURES. */
export const KEYCLOAK_FAILURES = {
  /** Keycloak refused a request that will be refused again (permissions, bad configuration, bad input). */
  REJECTED: 'KeycloakRejected',
  /** Keycloak could not be reached or failed (5xx): retried. */
  UNAVAILABLE: 'KeycloakUnavailable',
  /** The anchor is of a kind Keycloak cannot authenticate (OIDC workload, JWT-SVID). */
  UNSUPPORTED_ANCHOR: 'KeycloakUnsupportedAnchor',
} as const;

function failureOf(error: unknown): unknown {
  if (!(error instanceof KeycloakError)) return error;
  return ApplicationFailure.create({
    type: error.retryable ? KEYCLOAK_FAILURES.UNAVAILABLE : KEYCLOAK_FAILURES.REJECTED,
    message: error.message,
    nonRetryable: !error.retryable,
  });
}

const DN_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

function escapeDnValue(value: string): string {
  let escaped = value.replace(/[\\,+"<>;]/g, (c) => `\\${c}`);
  if (escaped.startsWith('#') || escaped.startsWith(' ')) escaped = `\\${escaped}`;
  if (escaped.endsWith(' ') && escaped.length > 1) escaped = `${escaped.slice(0, -1)}\\ `;
  return escaped;
}

/**
 * The subject of a certificate as an RFC 2253 string (most specific RDN
 * first), the form Keycloak's client-x509 authenticator parses into an
 * X500Principal and compares with the presented certificate's subject.
 * Attribute types without an RFC 2253 keyword are written as OID=#hex of the DER value.
 */
export function rfc2253(name: Name): string {
  return [...name]
    .reverse()
    .map((rdn) =>
      rdn
        .map((ava) => {
          const keyword = DN_NAMES[ava.type];
          if (keyword === undefined) return `${ava.type}=#${Buffer.from(AsnConvert.serialize(ava.value)).toString('hex')}`;
          return `${keyword}=${escapeDnValue(ava.value.toString())}`;
        })
        .join('+'),
    )
    .join(',');
}

/** The leaf certificate's subject DN from the chain the registry keeps. */
export function subjectDnOfChain(chainPem: string): string {
  const [leaf] = decodePem(chainPem, 'CERTIFICATE');
  if (leaf === undefined) throw permanentFailure(ACTIVITY_FAILURES.ANCHOR_NOT_BOUND, 'The X.509 anchor keeps no certificate.');
  const certificate = AsnConvert.parse(leaf, Certificate);
  if (certificate.tbsCertificate.subject.length === 0) {
    throw ApplicationFailure.create({
      type: KEYCLOAK_FAILURES.UNSUPPORTED_ANCHOR,
      message: 'The certificate has an empty subject; Keycloak client-x509 authenticates by subject DN only.',
      nonRetryable: true,
    });
  }
  return rfc2253(certificate.tbsCertificate.subject);
}

function materialOf(anchor: TrustAnchor): Record<string, unknown> {
  const material = anchor.material;
  return typeof material === 'object' && material !== null && !Array.isArray(material) ? (material as Record<string, unknown>) : {};
}

/** Only the bound keys of a JWKS: those whose RFC 7638 thumbprint is an active anchor's. */
async function boundKeys(anchors: TrustAnchor[], thumbprints: Set<string>): Promise<Record<string, unknown>[]> {
  const keys: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  for (const anchor of anchors) {
    const jwks = materialOf(anchor).jwks as { keys?: unknown } | undefined;
    const candidates = Array.isArray(jwks?.keys) ? (jwks.keys as JWK[]) : [];
    for (const key of candidates) {
      const thumbprint = await calculateJwkThumbprint(key, 'sha256').catch(() => undefined);
      if (thumbprint === undefined || !thumbprints.has(thumbprint) || seen.has(thumbprint)) continue;
      seen.add(thumbprint);
      // Public members only, whatever the partner pasted.
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, k: _k, oth: _oth, ...publicKey } = key as JWK & { oth?: unknown };
      // Keycloak ignores keys without `use` when it loads a client's JWKS: these authenticate the client, so `sig`.
      keys.push({ ...publicKey, kid: key.kid ?? thumbprint, use: key.use ?? 'sig' });
    }
  }
  return keys;
}

/**
 * How Keycloak authenticates the client, from the application's active
 * anchors (two during a rotation overlap): client-jwt with the bound keys, or
 * client-x509 with the certificate's subject DN.
 */
export async function clientAuthFor(anchors: TrustAnchor[]): Promise<{ auth: KeycloakClientAuth; binding: 'dpop' | 'mtls' }> {
  const jwkAnchors = anchors.filter((a) => a.kind === 'JWK');
  if (jwkAnchors.length > 0) {
    const urls = [...new Set(jwkAnchors.map((a) => materialOf(a).jwksUrl).filter((u): u is string => typeof u === 'string'))];
    const thumbprints = new Set(jwkAnchors.map((a) => (a.keyFingerprint ?? a.fingerprint).replace(/^jwk-sha256:/, '')));
    const keys = await boundKeys(jwkAnchors, thumbprints);
    if (keys.length > 0) {
      const algs = [...new Set(keys.map((k) => k.alg).filter((a): a is string => typeof a === 'string'))];
      return { auth: { kind: 'client-jwt', jwks: { keys }, ...(algs.length === 1 ? { signingAlg: algs[0] } : {}) }, binding: 'dpop' };
    }
    // Keycloak takes one JWKS URL per client; during a rotation from one URL to another the newest wins.
    const url = urls.at(-1);
    if (url !== undefined) return { auth: { kind: 'client-jwt', jwksUrl: url }, binding: 'dpop' };
    throw permanentFailure(ACTIVITY_FAILURES.ANCHOR_NOT_BOUND, 'The JWK anchor keeps neither the bound key nor a JWKS URL.');
  }
  const certificates = anchors.filter((a) => a.kind === 'X509' || (a.kind === 'SPIFFE' && typeof materialOf(a).chainPem === 'string'));
  const x509 = certificates.at(-1);
  if (x509 !== undefined) {
    const chainPem = materialOf(x509).chainPem;
    if (typeof chainPem !== 'string') throw permanentFailure(ACTIVITY_FAILURES.ANCHOR_NOT_BOUND, 'The X.509 anchor keeps no certificate chain.');
    // Keycloak holds one subject DN per client: during a rotation to a certificate with another
    // subject, the newest is provisioned and the old one stops authenticating at Keycloak.
    return { auth: { kind: 'client-x509', subjectDn: subjectDnOfChain(chainPem) }, binding: 'mtls' };
  }
  const kinds = [...new Set(anchors.map((a) => a.kind))].join(', ') || 'none';
  throw ApplicationFailure.create({
    type: KEYCLOAK_FAILURES.UNSUPPORTED_ANCHOR,
    message: `Keycloak authenticates clients by key (client-jwt) or certificate subject (client-x509); this application's active anchor is ${kinds}, which it cannot check. Use the embedded authorization server for workload identities.`,
    nonRetryable: true,
  });
}

function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

export interface KeycloakActivityDependencies {
  registry: Registry;
  /** Undefined when the embedded authorization server is in use: the activities then do nothing. */
  keycloak: KeycloakAdminConfig | undefined;
  now?: () => Date;
}

export function keycloakActivities(deps: KeycloakActivityDependencies) {
  const admin = deps.keycloak === undefined ? undefined : new KeycloakAdmin(deps.keycloak);
  const now = deps.now ?? (() => new Date());
  const { registry } = deps;

  async function applicationOf(applicationId: string) {
    const application = await registry.application.findUnique({ where: { id: applicationId } });
    if (application === null) throw permanentFailure(ACTIVITY_FAILURES.APPLICATION_NOT_FOUND, `No application ${applicationId} in the registry.`);
    return application;
  }

  /** The spec of the application's client from the registry as it is now. */
  async function specFor(applicationId: string): Promise<KeycloakClientSpec> {
    const application = await applicationOf(applicationId);
    const credential = await registry.clientCredential.findFirst({
      where: { applicationId, status: { in: ['ACTIVE', 'SUSPENDED'] } },
      orderBy: { createdAt: 'desc' },
    });
    const grant = await registry.grant.findFirst({
      where: { applicationId, status: { in: ['ACTIVE', 'SUSPENDED'] } },
      orderBy: { grantedAt: 'desc' },
    });
    if (credential === null || grant === null) {
      throw permanentFailure(
        ACTIVITY_FAILURES.NO_ACTIVE_GRANT,
        `${applicationId} has no current grant and credential (it is ${application.status}); there is nothing to provision.`,
      );
    }
    const anchors = await registry.trustAnchor.findMany({
      where: { applicationId, status: { in: ['ACTIVE', 'ROTATING_OUT'] } },
      orderBy: { verifiedAt: 'asc' },
    });
    const { auth, binding } = await clientAuthFor(anchors);
    return {
      clientId: credential.clientId,
      name: applicationId,
      description: `Admit partner application ${applicationId}`,
      auth,
      binding,
      scopes: [...grant.scopes].sort(),
      accessTokenLifespanSeconds: credential.tokenLifetimeSeconds,
      enabled: application.status === 'ADMITTED' && credential.status === 'ACTIVE' && grant.status === 'ACTIVE',
    };
  }

  async function record(
    applicationId: string,
    organisationId: string,
    idempotencyKey: string,
    type: AuditEventType,
    occurredAt: Date,
    data: Record<string, string | string[] | boolean>,
  ) {
    await registry.$transaction(async (tx) => {
      await appendAuditEvent(tx, { idempotencyKey, type, actor: 'system', organisationId, applicationId, occurredAt, data });
    });
  }

  return {
    /**
     * Creates the application's Keycloak client, or brings it to what the
     * registry says: authenticator and keys/subject, DPoP- or
     * certificate-bound tokens, lifetime, the grant's scopes as default
     * client scopes, enabled while the application is admitted. Call after
     * grantAccess, expandGrant, reinstateAccess and a completed rotation.
     */
    async provisionKeycloakClient(input: KeycloakClientInput): Promise<KeycloakActivityResult> {
      if (admin === undefined) return { provider: 'embedded' };
      const application = await applicationOf(input.applicationId);
      if (['OFFBOARDED', 'REJECTED', 'EXPIRED'].includes(application.status)) {
        throw permanentFailure(ACTIVITY_FAILURES.APPLICATION_CLOSED, `${application.id} is ${application.status}; no client is provisioned for it.`);
      }
      const spec = await specFor(input.applicationId);
      const state = await admin.upsertClient(spec).catch((error: unknown) => {
        throw failureOf(error);
      });
      await record(
        application.id,
        application.organisationId,
        `${input.workflowId}:keycloak-client:${digest(spec)}`,
        'keycloak.client-provisioned',
        now(),
        {
          clientId: spec.clientId,
          authenticator: spec.auth.kind,
          binding: spec.binding,
          scopes: state.scopes,
          enabled: spec.enabled,
        },
      );
      return { provider: 'keycloak', clientId: spec.clientId, state: spec.enabled ? 'enabled' : 'disabled', scopes: state.scopes };
    },

    /**
     * Suspension: the client is disabled (Keycloak issues it nothing) and its
     * not-before moves to now, so tokens it already holds fail introspection.
     * Call after suspendAccess; reinstatement is provisionKeycloakClient.
     */
    async disableKeycloakClient(input: KeycloakClientInput): Promise<KeycloakActivityResult> {
      if (admin === undefined) return { provider: 'embedded' };
      const application = await applicationOf(input.applicationId);
      const credential = await registry.clientCredential.findFirst({ where: { applicationId: application.id }, orderBy: { createdAt: 'desc' } });
      if (credential === null) throw permanentFailure(ACTIVITY_FAILURES.NO_ACTIVE_GRANT, `${application.id} has no client credential.`);
      try {
        const present = await admin.setEnabled(credential.clientId, false);
        if (present) await admin.revokeClientTokens(credential.clientId, now());
        return { provider: 'keycloak', clientId: credential.clientId, state: present ? 'disabled' : 'absent', scopes: [] };
      } catch (error) {
        throw failureOf(error);
      }
    },

    /**
     * Offboarding, key compromise, cascade: for every client the application
     * ever had, push a not-before of `at`, end its sessions, then delete it.
     * Call after closeApplication. Idempotent: a client already gone is done.
     */
    async removeKeycloakClient(input: RemoveKeycloakClientInput): Promise<KeycloakActivityResult> {
      if (admin === undefined) return { provider: 'embedded' };
      const at = instant(input.at, 'at');
      const application = await applicationOf(input.applicationId);
      const credentials = await registry.clientCredential.findMany({ where: { applicationId: application.id }, orderBy: { createdAt: 'asc' } });
      try {
        for (const credential of credentials) {
          // Disabled first: between the not-before and the delete, no new token can be issued.
          await admin.setEnabled(credential.clientId, false);
          await admin.revokeClientTokens(credential.clientId, at);
          await admin.deleteClient(credential.clientId);
        }
      } catch (error) {
        throw failureOf(error);
      }
      const clientId = credentials.at(-1)?.clientId ?? '';
      await record(application.id, application.organisationId, `${input.workflowId}:keycloak-client-removed`, 'keycloak.client-removed', at, {
        clientIds: credentials.map((c) => c.clientId),
        reason: input.reason,
      });
      return { provider: 'keycloak', clientId, state: 'absent', scopes: [] };
    },
  };
}

export type KeycloakActivities = ReturnType<typeof keycloakActivities>;
