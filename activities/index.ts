import type { Config } from '../config/env';
import type { Registry } from '../registry/client';
import type { Mailer } from '../mail/transport';
import type { LifecycleActivities } from './contract';
import type { AnchorTrust } from './anchor-trust';
import { anchorActivities } from './anchors';
import { registryActivities } from './registry';
import { settingsActivities } from './settings';
import { auditActivities } from './audit';
import { contactActivities } from './contacts';
import { notificationActivities } from './notifications';
import { approverActivities } from './approvers';
import { grantActivities } from './grants';
import { usageActivities } from './usage';
import { closingActivities } from './closing';
import { entityActivities } from './entity';
import type { GleifClient } from '../entity/gleif';
import { keycloakActivities } from './keycloak';
import { withNonRetryableDataErrors } from './data-errors';
import { instrumentedAnchorActivities, instrumentedMailer } from '../observability/activity-metrics';

export interface ActivityDependencies {
  registry: Registry;
  mailer: Mailer;
  /** The worker's configuration: lifecycle settings and the public URL links point at. */
  config: Config;
  /** HMAC key of the emailed contact links (links/link-secret.ts); the web verifies with the same one. */
  linkSecret: Uint8Array;
  /** Older link secrets of the ring (ADMIT_LINK_SECRETS): domain challenges issued under them still verify. */
  previousLinkSecrets?: readonly Uint8Array[];
  /** What this deployment trusts to vouch for partners' anchors (activities/anchor-trust.ts). */
  trust: AnchorTrust;
  /** The clock for sent/received stamps; injectable for tests. */
  now?: () => Date;
  /** Overrides the GLEIF client built from the configuration (ADMIT_GLEIF_*). */
  gleif?: GleifClient;
}

/** Every activity the worker registers, bound to its dependencies. */
export function createActivities(deps: ActivityDependencies) {
  const now = deps.now ?? (() => new Date());
  // Mail failures and anchor verification results are counted for /metrics (observability/metrics.ts).
  const mailer = instrumentedMailer(deps.mailer);
  // A write PostgreSQL refuses for its data fails for good, never retried forever.
  return withNonRetryableDataErrors({
    ...registryActivities(deps.registry),
    ...settingsActivities(deps.config),
    ...auditActivities(deps.registry),
    ...contactActivities({ registry: deps.registry, mailer, config: deps.config, linkSecret: deps.linkSecret, now }),
    ...notificationActivities({ registry: deps.registry, mailer, config: deps.config, now }),
    ...approverActivities(deps.registry),
    ...grantActivities(deps.registry),
    ...closingActivities(deps.registry),
    ...usageActivities(deps.registry),
    ...instrumentedAnchorActivities(anchorActivities(deps.registry, deps.trust)),
    ...entityActivities({
      registry: deps.registry,
      config: deps.config,
      secret: deps.linkSecret,
      previousSecrets: deps.previousLinkSecrets ?? [],
      resolver: deps.trust.resolver,
      fetcher: deps.trust.fetcher,
      ...(deps.gleif ? { gleif: deps.gleif } : {}),
      now,
    }),
    // Keycloak clients (ADMIT_AUTHORIZATION_SERVER=keycloak); they do nothing with the embedded server.
    ...keycloakActivities({ registry: deps.registry, keycloak: deps.config.keycloak, now }),
  } satisfies LifecycleActivities);
}

export type Activities = ReturnType<typeof createActivities>;
