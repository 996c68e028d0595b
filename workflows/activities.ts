import { proxyActivities } from '@temporalio/workflow';
import type { LifecycleActivities } from '../activities/contract';

/**
 * Activity stubs with timeouts by kind of work. Registry and mail retry until
 * they succeed (an outage must not lose a step); verifiers run while a partner
 * waits for the answer, so they give up sooner and the partner may resubmit.
 */
const RETRY_FOREVER = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' } as const;

export const registry = proxyActivities<
  Pick<
    LifecycleActivities,
    | 'registerApplication'
    | 'lifecycleSettings'
    | 'recordAudit'
    | 'recordRisk'
    | 'recordContactConfirmation'
    | 'loadApproverDirectory'
    | 'grantAccess'
    | 'expandGrant'
    | 'suspendAccess'
    | 'reinstateAccess'
    | 'closeApplication'
    | 'readUsage'
    | 'retireRotatedAnchors'
    | 'issueAnchorChallenge'
  >
>({
  // Registry writes take milliseconds; a short timeout lets a crashed worker's attempt be retried soon.
  startToCloseTimeout: '10 seconds',
  retry: { ...RETRY_FOREVER, nonRetryableErrorTypes: ['InvalidRegistryInput'] },
});

export const mail = proxyActivities<Pick<LifecycleActivities, 'sendContactConfirmations' | 'notify'>>({
  // Long enough for a slow relay; short enough that a crashed worker's attempt is retried soon.
  startToCloseTimeout: '30 seconds',
  retry: RETRY_FOREVER,
});

export const verifiers = proxyActivities<Pick<LifecycleActivities, 'verifyAndBindAnchor' | 'reverifyAnchor'>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
});

/**
 * Entity verification: GLEIF and DNS may be down for a while, which must not
 * end an admission; the client has its own timeouts and a few quick retries
 * inside each attempt. Input that cannot succeed fails non-retryably.
 */
export const entity = proxyActivities<
  Pick<LifecycleActivities, 'verifyLegalEntity' | 'recordLegalEntityDecision' | 'issueDomainChallenge' | 'checkDomainControl'>
>({
  startToCloseTimeout: '2 minutes',
  retry: RETRY_FOREVER,
});

/**
 * The authorization server that issues partners' tokens, kept in step with the
 * registry (Keycloak; with the embedded server these do nothing). Revocation
 * waits on them, so they retry until they succeed.
 */
export const authorizationServer = proxyActivities<
  Pick<LifecycleActivities, 'provisionKeycloakClient' | 'disableKeycloakClient' | 'removeKeycloakClient'>
>({
  startToCloseTimeout: '30 seconds',
  retry: { ...RETRY_FOREVER, nonRetryableErrorTypes: ['KeycloakRejected', 'KeycloakUnsupportedAnchor'] },
});
