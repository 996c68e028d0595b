import type { GrantConditions } from '../domain/policy';
import type { Registry } from './client';

/**
 * What a request-time decision about one client reads from the registry (web/decision-route.ts):
 * its credential, the status and environment of its application, and the application's newest
 * active grant. `null` when no client has this id.
 */
export interface DecisionFacts {
  clientId: string;
  applicationId: string;
  credentialStatus: 'ACTIVE' | 'SUSPENDED' | 'REVOKED';
  /** When the credential was revoked (for the revocation-to-deny metric). */
  revokedAt: Date | null;
  /** The anchor the credential is bound to: RFC 8705 `x5t#S256`, RFC 9449 `jkt`, `spiffe-id` or `oidc-sub`. */
  confirmation: { method: string; value: string };
  applicationStatus: string;
  environment: string;
  grant: { scopes: readonly string[]; conditions: GrantConditions } | undefined;
}

export interface DecisionCacheSettings {
  /**
   * The staleness bound: a cached answer is used only while a read of the version counter sent
   * less than this long ago found nothing the cache had not applied. Otherwise decisions read the
   * database (ADMIT_DECISION_CACHE_MAX_STALENESS).
   */
  maxStalenessMs: number;
  /** How often the version counter is read (ADMIT_DECISION_CACHE_POLL); below maxStalenessMs. */
  pollIntervalMs: number;
  /** Clients kept; the oldest entry goes first (ADMIT_DECISION_CACHE_SIZE). */
  maxEntries: number;
}

export const DEFAULT_DECISION_CACHE_SETTINGS: DecisionCacheSettings = { maxStalenessMs: 1_000, pollIntervalMs: 200, maxEntries: 100_000 };

/** Where decisions get their facts: the database itself, or the cache in front of it (registry/decision-cache.ts). */
export interface DecisionFactSource {
  /** A value when the answer is at hand (a cache hit), else a promise of it. */
  lookup(clientId: string): DecisionFacts | null | Promise<DecisionFacts | null>;
}

/** Reads one client's facts from the registry: one query per decision. */
export async function loadDecisionFacts(registry: Registry, clientId: string): Promise<DecisionFacts | null> {
  const credential = await registry.clientCredential.findUnique({
    where: { clientId },
    select: {
      clientId: true,
      applicationId: true,
      status: true,
      revokedAt: true,
      confirmationMethod: true,
      confirmationValue: true,
      application: {
        select: {
          status: true,
          environment: true,
          grants: { where: { status: 'ACTIVE' }, orderBy: { grantedAt: 'desc' }, take: 1, select: { scopes: true, conditions: true } },
        },
      },
    },
  });
  if (credential === null) return null;
  const grant = credential.application.grants[0];
  return {
    clientId: credential.clientId,
    applicationId: credential.applicationId,
    credentialStatus: credential.status,
    revokedAt: credential.revokedAt,
    confirmation: { method: credential.confirmationMethod, value: credential.confirmationValue },
    applicationStatus: credential.application.status,
    environment: credential.application.environment,
    grant: grant === undefined ? undefined : { scopes: grant.scopes, conditions: grant.conditions as GrantConditions },
  };
}

/** No cache: every decision reads the registry (ADMIT_DECISION_CACHE_SIZE=0, and the token form). */
export function databaseDecisionFacts(registry: Registry): DecisionFactSource {
  return { lookup: (clientId) => loadDecisionFacts(registry, clientId) };
}
