import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { calculateJwkThumbprint, type JWK } from 'jose';
import {
  AnchorConfigError,
  AnchorFetchError,
  issueChallenge,
  parseChallenge,
  parseSpiffeId,
  reason,
  verifyAnchor,
  type AnchorInput,
  type VerificationResult,
} from '../anchors';
import type { AnchorSubmission } from '../domain/anchor-submission';
import { anchorHealth } from '../domain/offboarding';
import { Prisma, type Registry } from '../registry/client';
import { appendAuditEvent } from '../registry/audit';
import { registryReplayStore } from '../registry/replay-store';
import type { AnchorKind as RegistryAnchorKind } from '../generated/prisma/client';
import type { AnchorTrust } from './anchor-trust';
import { confirmationFor } from './grants';
import type { LifecycleActivities, RefusedAnchor, VerifiedAnchor } from './contract';

const CHALLENGE_TTL_SECONDS = 600;
const REGISTRY_KIND: Record<AnchorSubmission['kind'], RegistryAnchorKind> = { x509: 'X509', jwk: 'JWK', spiffe: 'SPIFFE', oidc: 'OIDC' };

/** The public material kept in the registry; assertions and tokens are proofs, not identity, and are not kept. */
function publicMaterial(submission: AnchorSubmission, result: VerificationResult): Prisma.InputJsonObject {
  switch (submission.kind) {
    case 'x509':
      return { chainPem: submission.certificateChainPem };
    case 'jwk':
      return {
        ...(submission.jwksUrl === undefined ? { jwks: submission.jwks as Prisma.InputJsonObject } : { jwksUrl: submission.jwksUrl }),
        clientId: result.subject ?? null,
      };
    case 'spiffe':
      return { spiffeId: submission.spiffeId, svid: submission.svidPem === undefined ? 'jwt' : 'x509' };
    case 'oidc':
      return { issuer: submission.issuer, subject: submission.subject };
  }
}

function refused(kind: AnchorSubmission['kind'], reasons: { code: string; message: string }[]): RefusedAnchor {
  return { ok: false, kind, reasons: reasons.map((r) => ({ code: r.code, message: r.message })) };
}

export function anchorActivities(
  registry: Registry,
  trust: AnchorTrust,
): Pick<LifecycleActivities, 'issueAnchorChallenge' | 'verifyAndBindAnchor' | 'reverifyAnchor' | 'retireRotatedAnchors'> {
  const replayStore = registryReplayStore(registry);

  /** The verifier's input for a submission, or a refusal when this deployment trusts nothing that could vouch for it. */
  async function verifierInput(
    submission: AnchorSubmission,
    challenge: Parameters<LifecycleActivities['verifyAndBindAnchor']>[0]['challenge'],
    primaryDomain: string,
    now: Date,
  ): Promise<AnchorInput | RefusedAnchor> {
    switch (submission.kind) {
      case 'x509':
        if (trust.trustStore.length === 0) return refused('x509', [reason('TRUST_STORE_NOT_CONFIGURED')]);
        return {
          kind: 'x509',
          chain: submission.certificateChainPem,
          trustStore: trust.trustStore,
          eku: 'clientAuth',
          fetcher: trust.fetcher,
          at: now,
          ...(trust.requireDomainSan ? { expectedName: { dns: primaryDomain } } : {}),
        };
      case 'jwk': {
        if (challenge === null) return refused('jwk', [reason('JWT_CHALLENGE_EXPIRED', 'no challenge was issued')]);
        const common = { token: submission.assertion, challenge: parseChallenge(challenge), audience: trust.audience, replayStore, now };
        return submission.jwksUrl !== undefined
          ? { kind: 'jwk', ...common, jwksUrl: submission.jwksUrl, fetcher: trust.fetcher }
          : { kind: 'jwk', ...common, keys: submission.jwks };
      }
      case 'spiffe': {
        const id = parseSpiffeId(submission.spiffeId);
        if (!id) return refused('spiffe', [reason('SPIFFE_ID_INVALID')]);
        const bundle = trust.spiffeBundles.get(id.trustDomain);
        if (bundle === undefined) return refused('spiffe', [reason('SPIFFE_TRUST_DOMAIN_NOT_TRUSTED', id.trustDomain)]);
        return {
          kind: 'spiffe',
          bundle,
          expectedId: submission.spiffeId,
          audience: trust.audience,
          at: now,
          ...(submission.svidPem !== undefined ? { x509Svid: submission.svidPem } : { jwtSvid: submission.jwtSvid ?? '' }),
        };
      }
      case 'oidc':
        if (!trust.oidcIssuers.includes(submission.issuer)) return refused('oidc', [reason('OIDC_ISSUER_NOT_TRUSTED', submission.issuer)]);
        return {
          kind: 'oidc',
          token: submission.token,
          issuer: submission.issuer,
          subject: submission.subject,
          audience: trust.audience,
          fetcher: trust.fetcher,
          now,
        };
    }
  }

  /** Runs the verifier; infrastructure faults become retryable failures, operator mistakes non-retryable ones. */
  async function runVerifier(input: AnchorInput): Promise<VerificationResult> {
    try {
      return await verifyAnchor(input);
    } catch (error) {
      if (error instanceof AnchorFetchError) {
        if (!error.retryable) return { ok: false, kind: input.kind, reasons: [{ code: error.code, message: error.message }] };
        throw ApplicationFailure.create({ type: 'AnchorFetchError', message: `Could not fetch the partner's material: ${error.message}` });
      }
      if (error instanceof AnchorConfigError) {
        throw ApplicationFailure.create({
          type: 'AnchorConfigError',
          message: `The verifier configuration is unusable (fix ADMIT_TRUST_STORE / ADMIT_SPIFFE_BUNDLES): ${error.message}`,
          nonRetryable: true,
        });
      }
      throw error;
    }
  }

  async function recordRefusal(applicationId: string, workflowId: string, submission: AnchorSubmission, refusal: RefusedAnchor, at: Date) {
    const digest = createHash('sha256').update(JSON.stringify(submission)).digest('hex').slice(0, 32);
    await registry.$transaction((tx) =>
      appendAuditEvent(tx, {
        idempotencyKey: `${workflowId}:anchor-refused:${digest}`,
        type: 'anchor.refused',
        actor: 'partner',
        applicationId,
        occurredAt: at,
        data: { kind: submission.kind, reasons: refusal.reasons },
      }),
    );
  }

  return {
    async issueAnchorChallenge() {
      return issueChallenge({ audience: trust.audience, ttlSeconds: CHALLENGE_TTL_SECONDS });
    },

    async verifyAndBindAnchor({ applicationId, workflowId, submission, challenge, primaryDomain, rotation }) {
      const now = new Date();
      const input = await verifierInput(submission, challenge, primaryDomain, now);
      const result = 'ok' in input ? input : await runVerifier(input);
      if (!result.ok || result.fingerprint === undefined) {
        const refusal = refused(submission.kind, result.ok ? [reason('JWK_INVALID', 'no fingerprint')] : result.reasons);
        await recordRefusal(applicationId, workflowId, submission, refusal, now);
        return refusal;
      }
      const verified = result as VerificationResult & { fingerprint: string };
      const fingerprint = verified.fingerprint;
      const keyFingerprint = verified.keyFingerprint ?? null;
      const bound = await registry
        .$transaction(async (tx): Promise<VerifiedAnchor | RefusedAnchor> => {
          const holders = await tx.trustAnchor.findMany({
            where: { OR: [{ fingerprint }, ...(keyFingerprint === null ? [] : [{ keyFingerprint }])] },
            select: { applicationId: true, fingerprint: true, status: true, verifiedAt: true },
          });
          // One anchor, one participant; the refusal does not say who holds it.
          if (holders.some((h) => h.applicationId !== applicationId)) return refused(submission.kind, [reason('ANCHOR_IN_USE')]);
          const same = holders.find((h) => h.fingerprint === fingerprint);
          if (same !== undefined && same.status === 'ACTIVE') {
            return verifiedView(submission.kind, fingerprint, keyFingerprint, verified, same.verifiedAt);
          }
          if (same !== undefined) return refused(submission.kind, [reason('ANCHOR_IN_USE', 'this anchor was retired; present a new one')]);
          if (rotation) {
            await tx.trustAnchor.updateMany({ where: { applicationId, status: 'ACTIVE' }, data: { status: 'ROTATING_OUT' } });
          }
          const anchor = await tx.trustAnchor.create({
            data: {
              applicationId,
              kind: REGISTRY_KIND[submission.kind],
              fingerprint,
              keyFingerprint,
              subject: verified.subject ?? null,
              material: publicMaterial(submission, verified),
              verifiedAt: now,
              notAfter: verified.notAfter === undefined ? null : new Date(verified.notAfter),
            },
          });
          const binding = confirmationFor(anchor);
          if (rotation && binding !== undefined) {
            // The client keeps its id; its tokens are bound to the new anchor from now on.
            await tx.clientCredential.updateMany({
              where: { applicationId, status: { not: 'REVOKED' } },
              data: { anchorFingerprint: fingerprint, confirmationMethod: binding.method, confirmationValue: binding.value },
            });
          }
          await appendAuditEvent(tx, {
            idempotencyKey: `${workflowId}:anchor-bound:${fingerprint}`,
            type: rotation ? 'anchor.rotated-in' : 'anchor.bound',
            actor: 'partner',
            applicationId,
            occurredAt: now,
            data: {
              kind: submission.kind,
              fingerprint,
              keyFingerprint,
              subject: verified.subject ?? null,
              notAfter: verified.notAfter ?? null,
              checks: (verified.details ?? {}) as Prisma.InputJsonObject,
            },
          });
          return verifiedView(submission.kind, fingerprint, keyFingerprint, verified, now);
        })
        .catch((error: unknown) => {
          // Two participants binding the same anchor at once: the unique index decides.
          if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
            return refused(submission.kind, [reason('ANCHOR_IN_USE')]);
          }
          throw error;
        });
      if (!bound.ok) await recordRefusal(applicationId, workflowId, submission, bound, now);
      return bound;
    },

    async reverifyAnchor({ applicationId, expiryNoticeMs }) {
      const now = new Date();
      const anchor = await registry.trustAnchor.findFirst({ where: { applicationId, status: 'ACTIVE' }, orderBy: { verifiedAt: 'desc' } });
      if (anchor === null) {
        return { health: 'revoked' as const, notAfter: null, reasons: [{ code: 'ANCHOR_MISSING', message: 'No active trust anchor is bound.' }] };
      }
      const material = anchor.material as Record<string, unknown>;
      const healthy = (notAfter: Date | null, reasons: { code: string; message: string }[] = []) => ({
        health: notAfter === null ? ('healthy' as const) : anchorHealth({ notAfter, now, noticeMs: expiryNoticeMs }),
        notAfter: notAfter?.toISOString() ?? null,
        reasons,
      });
      try {
        switch (anchor.kind) {
          case 'X509': {
            if (trust.trustStore.length === 0) return { health: 'revoked', notAfter: null, reasons: [reason('TRUST_STORE_NOT_CONFIGURED')] };
            const result = await verifyAnchor({
              kind: 'x509',
              chain: String(material.chainPem),
              trustStore: trust.trustStore,
              eku: 'clientAuth',
              fetcher: trust.fetcher,
              at: now,
            });
            if (result.ok) return healthy(result.notAfter === undefined ? anchor.notAfter : new Date(result.notAfter));
            const codes = result.reasons.map((r) => r.code);
            const health = codes.includes('CERT_EXPIRED') ? 'expired' : 'revoked';
            return { health, notAfter: anchor.notAfter?.toISOString() ?? null, reasons: result.reasons };
          }
          case 'JWK': {
            if (typeof material.jwksUrl !== 'string') return healthy(null);
            const { body } = await trust.fetcher.fetch(material.jwksUrl, { accept: 'application/json', cache: false });
            const keys = (JSON.parse(body.toString('utf8')) as { keys?: unknown }).keys;
            const thumbprints = await Promise.all(
              (Array.isArray(keys) ? keys : []).map((key) => calculateJwkThumbprint(key as JWK, 'sha256').catch(() => '')),
            );
            const wanted = (anchor.keyFingerprint ?? anchor.fingerprint).replace(/^jwk-sha256:/, '');
            return thumbprints.includes(wanted) ? healthy(null) : { health: 'revoked', notAfter: null, reasons: [reason('ANCHOR_KEY_WITHDRAWN')] };
          }
          case 'SPIFFE': {
            // SVIDs live for hours; what stays trusted is the federation with the trust domain.
            const id = parseSpiffeId(anchor.fingerprint);
            return id && trust.spiffeBundles.has(id.trustDomain)
              ? healthy(null)
              : { health: 'revoked', notAfter: null, reasons: [reason('SPIFFE_TRUST_DOMAIN_NOT_TRUSTED', id?.trustDomain)] };
          }
          case 'OIDC': {
            const issuer = String(material.issuer);
            if (!trust.oidcIssuers.includes(issuer))
              return { health: 'revoked', notAfter: null, reasons: [reason('OIDC_ISSUER_NOT_TRUSTED', issuer)] };
            await trust.fetcher.fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { accept: 'application/json', cache: false });
            return healthy(null);
          }
        }
      } catch (error) {
        if (error instanceof AnchorFetchError || error instanceof SyntaxError) {
          return {
            health: 'unreachable',
            notAfter: anchor.notAfter?.toISOString() ?? null,
            reasons: [{ code: 'URL_FETCH_FAILED', message: error.message }],
          };
        }
        throw error;
      }
    },

    async retireRotatedAnchors({ applicationId, workflowId }) {
      const now = new Date();
      await registry.$transaction(async (tx) => {
        const rotating = await tx.trustAnchor.findMany({ where: { applicationId, status: 'ROTATING_OUT' } });
        for (const anchor of rotating) {
          await tx.trustAnchor.update({ where: { id: anchor.id }, data: { status: 'RETIRED', retiredAt: now } });
          await appendAuditEvent(tx, {
            idempotencyKey: `${workflowId}:anchor-retired:${anchor.fingerprint}`,
            type: 'anchor.retired',
            actor: 'workflow',
            applicationId,
            occurredAt: now,
            data: { fingerprint: anchor.fingerprint, reason: 'rotation overlap ended' },
          });
        }
      });
    },
  };
}

function verifiedView(
  kind: AnchorSubmission['kind'],
  fingerprint: string,
  keyFingerprint: string | null,
  result: VerificationResult,
  verifiedAt: Date,
): VerifiedAnchor {
  return {
    ok: true,
    kind,
    fingerprint,
    keyFingerprint,
    subject: result.subject ?? null,
    notAfter: result.notAfter ?? null,
    verifiedAt: verifiedAt.toISOString(),
  };
}
