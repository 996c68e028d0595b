/**
 * The activities the partner-lifecycle workflow calls, as one interface: the
 * workflow proxies exactly this, and activities/index.ts must implement it.
 * Every activity is idempotent under retry (each takes the key that makes it
 * so) and throws ApplicationFailure with `nonRetryable: true` only when a
 * retry cannot help.
 */
import type { AnchorSubmission } from '../domain/anchor-submission';
import type { ApproverDirectory } from '../domain/approval';
import type { GrantConditions } from '../domain/policy';
import type { RiskTier } from '../domain/tiers';
import type { Signup } from '../domain/signup';
import type { ContactRoleKey } from '../domain/contacts';
import type { LifecycleSettings } from '../domain/settings';
import type { AuditEventType } from '../domain/audit-events';
import type { AnchorChallengeView } from '../workflows/messages';

/** Mail the workflow sends; the activity renders each from its template and data. */
export type NotificationTemplate =
  | 'domain-challenge'
  | 'entity-refused'
  | 'competing-signup'
  | 'competing-signup-received'
  | 'contacts-expired'
  | 'anchor-requested'
  | 'anchor-refused'
  | 'approval-requested'
  | 'approval-escalated'
  | 'admission-rejected'
  | 'admission-expired'
  | 'admitted'
  | 'expansion-decided'
  | 'anchor-expiring'
  | 'suspended'
  | 'reinstated'
  | 'contract-ending'
  | 'recertification-due'
  | 'offboarded';

export interface NotifyInput {
  applicationId: string;
  /**
   * Who receives it: contacts by role, `approvers` (every active approver), or
   * people named by address who are not the application's contacts (the
   * contacts of a competing signup).
   */
  to: (ContactRoleKey | 'approvers' | { email: string; name: string })[];
  template: NotificationTemplate;
  /** Template fields (reasons, scopes, dates…); rendered as text and escaped HTML. */
  data: Record<string, string | string[] | number | null>;
  /** Same key, same message: a retry sends nothing twice (it is also the Message-ID). */
  idempotencyKey: string;
}

export interface VerifiedAnchor {
  ok: true;
  kind: AnchorSubmission['kind'];
  fingerprint: string;
  keyFingerprint: string | null;
  subject: string | null;
  notAfter: string | null;
  verifiedAt: string;
}

export interface RefusedAnchor {
  ok: false;
  kind: AnchorSubmission['kind'];
  reasons: { code: string; message: string }[];
}

export interface UsageSummary {
  calls: number;
  denials: number;
  errors: number;
  anomalies: number;
  lastSeenAt: string | null;
}

/** One finding of a legal-entity check (domain/legal-entity.ts), positive or not. */
export interface LegalEntityReason {
  code: string;
  outcome: 'pass' | 'needs-approval' | 'refused';
  message: string;
}

/** What of the GLEIF record the check read, shown to approvers. */
export interface LeiRecordView {
  lei: string;
  legalName: string;
  /** The record's name the signup matched, when it matched one. */
  matchedName: string | null;
  jurisdiction: string | null;
  registrationStatus: string;
  entityStatus: string;
  successorLei: string | null;
  successorName: string | null;
  nextRenewalDate: string | null;
  lastUpdateDate: string | null;
  managingLou: string | null;
  corroborationLevel: string | null;
}

export interface LegalEntityVerification {
  /** `pass`: nothing to decide; `needs-approval`: an approver decides, with `reasons` shown; `refused`: the LEI cannot be admitted. */
  outcome: 'pass' | 'needs-approval' | 'refused';
  /** 0..1, the lower of `nameScore` and `jurisdictionScore`. */
  score: number;
  nameScore: number;
  jurisdictionScore: number;
  reasons: LegalEntityReason[];
  /** Null when GLEIF has no record of the LEI. */
  record: LeiRecordView | null;
  /** The URL the record was read from. */
  source: string;
  checkedAt: string;
}

export interface DomainChallengeView {
  domain: string;
  round: number;
  /** The token; the https method serves `keyAuthorization` at `httpUrl`. */
  token: string;
  keyAuthorization: string;
  /** `_admit-challenge.<domain>`, to hold a TXT record with `txtValue`. */
  txtName: string;
  txtValue: string;
  httpUrl: string;
  expiresAt: string;
}

export interface DomainControlCheck {
  verified: boolean;
  method: 'dns-txt' | 'https-well-known' | null;
  reasons: { code: string; method: 'dns-txt' | 'https-well-known' | null; message: string }[];
  /** Contacts whose email address is not at the domain or below it: each needs an approver's accepted exception. */
  contactsOutsideDomain: ContactRoleKey[];
}

export interface AuditInput {
  applicationId: string;
  /** Unique per event; e.g. `${workflowId}:vote:${subject}`. */
  idempotencyKey: string;
  type: AuditEventType;
  actor: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

export interface LifecycleActivities {
  /** Registry entry: organisation, application, contacts, first audit event. */
  registerApplication(input: { applicationId: string; workflowId: string; signup: Signup; submittedAt: string }): Promise<{
    organisationId: string;
    applicationId: string;
    /** Verified, and with an application still admitted by a person (absent from results recorded before it existed). */
    organisationEstablished?: boolean;
  }>;

  /** The durations, thresholds and policies in force (from the worker's configuration). */
  lifecycleSettings(): Promise<LifecycleSettings>;

  /** Appends one event to the tamper-evident audit log. */
  recordAudit(input: AuditInput): Promise<void>;

  /** Records the risk assessment on the application. */
  recordRisk(input: { applicationId: string; workflowId: string; tier: RiskTier; score: number; reasons: unknown[] }): Promise<void>;

  /**
   * Emails each role a single-use, signed, expiring link (round 0 the first
   * time, then one round per reminder) and returns the SHA-256 of each token;
   * only the hash is stored. Every attempt mails the same link with the same
   * Message-ID (at-least-once: a retry may mail it again, never a different one).
   */
  sendContactConfirmations(input: {
    applicationId: string;
    /** The workflow's claim key: links of a later claim of the same application differ. Absent: its first claim. */
    workflowId?: string;
    roles: ContactRoleKey[];
    round: number;
    expiresAt: string;
  }): Promise<{ role: ContactRoleKey; tokenHash: string }[]>;

  /** Marks the link used and the contact confirmed, with evidence. */
  recordContactConfirmation(input: {
    applicationId: string;
    workflowId: string;
    role: ContactRoleKey;
    tokenHash: string;
    confirmedAt: string;
  }): Promise<void>;

  notify(input: NotifyInput): Promise<void>;

  /** The current approver directory (active approvers and their roles). */
  loadApproverDirectory(): Promise<ApproverDirectory>;

  /** A fresh challenge for a signed-assertion proof of possession (random nonce, short expiry). */
  issueAnchorChallenge(input: { applicationId: string }): Promise<AnchorChallengeView>;

  /**
   * Verifies the submitted anchor and, when it holds, binds it to the
   * application (a fingerprint already bound to another participant is
   * refused with ANCHOR_IN_USE, without saying who holds it).
   */
  verifyAndBindAnchor(input: {
    applicationId: string;
    workflowId: string;
    submission: AnchorSubmission;
    challenge: AnchorChallengeView | null;
    /** The organisation's verified domain, for certificate SAN binding. */
    primaryDomain: string;
    /** Rotation: the new anchor is bound beside the current one (which becomes ROTATING_OUT). */
    rotation: boolean;
  }): Promise<VerifiedAnchor | RefusedAnchor>;

  /** Re-verifies the bound anchor now (expiry, revocation, reachability); `expiring` within `expiryNoticeMs` of notAfter. */
  reverifyAnchor(input: { applicationId: string; expiryNoticeMs: number }): Promise<{
    health: 'healthy' | 'expiring' | 'expired' | 'revoked' | 'unreachable';
    notAfter: string | null;
    reasons: { code: string; message: string }[];
  }>;

  /** Retires anchors in ROTATING_OUT once the overlap has passed. */
  retireRotatedAnchors(input: { applicationId: string; workflowId: string }): Promise<void>;

  /**
   * The admission grant: scopes with conditions, and a client registration
   * bound to the anchor's fingerprint; the application becomes ADMITTED.
   */
  grantAccess(input: {
    applicationId: string;
    workflowId: string;
    tier: RiskTier;
    scopes: string[];
    conditions: GrantConditions;
    anchorFingerprint: string;
    credentialLifetimeSeconds: number;
    approvedBy: string[];
    grantedAt: string;
  }): Promise<{ grantId: string; clientId: string }>;

  /** Adds scopes to the active grant (an expansion). */
  expandGrant(input: { applicationId: string; workflowId: string; expansionId: string; scopes: string[]; approvedBy: string[] }): Promise<void>;

  /** Suspends every grant and credential (reversible). */
  suspendAccess(input: { applicationId: string; workflowId: string; reason: string; at: string }): Promise<void>;

  /** Reinstates what suspendAccess suspended. */
  reinstateAccess(input: { applicationId: string; workflowId: string; reason: string; at: string }): Promise<void>;

  /**
   * Ends the admission: revokes every grant and credential, closes the
   * registry record with `status`, and records why.
   */
  closeApplication(input: {
    applicationId: string;
    workflowId: string;
    status: 'OFFBOARDED' | 'REJECTED' | 'EXPIRED';
    trigger: string;
    reason: string;
    actor: string;
    at: string;
  }): Promise<void>;

  /**
   * Checks the organisation's LEI against GLEIF: the record exists, its registration and entity
   * statuses (the table in docs/entity-verification.md), and the legal name and jurisdiction
   * against the signup. Idempotent per (workflowId, round); a retry returns the first check.
   * GLEIF unreachable → retryable `LeiSourceUnavailable`; a malformed LEI → non-retryable.
   */
  verifyLegalEntity(input: {
    applicationId: string;
    workflowId: string;
    lei: string;
    legalName: string;
    jurisdiction: string;
    /** 0 for the admission; the monitoring re-checks count up. */
    round?: number;
  }): Promise<LegalEntityVerification>;

  /**
   * Records an approver's decision on a `needs-approval` LEI check (round `round`): accepted, the
   * organisation's LEI counts as verified; either way the approver and reason go into the evidence.
   * A `pass` check needs no decision and a `refused` one cannot be overridden (non-retryable
   * `InvalidActivityInput`). Idempotent per (workflowId, round).
   */
  recordLegalEntityDecision(input: {
    applicationId: string;
    workflowId: string;
    round?: number;
    accepted: boolean;
    /** The approver's verified identity (`iss sub`). */
    decidedBy: string;
    reason: string;
    decidedAt: string;
  }): Promise<void>;

  /**
   * Issues (or, on a retry, returns again) the domain-control challenge of round `round`
   * (default 0) for `domain`: the same token on every attempt. A domain that is not a
   * registrable name (a public suffix, an IP address) → non-retryable `DomainNotAcceptable`.
   */
  issueDomainChallenge(input: { applicationId: string; workflowId: string; domain: string; round?: number }): Promise<DomainChallengeView>;

  /**
   * Looks for the proof now: the TXT record, then the well-known https URL. Not verified is a
   * result, not a failure. `check` numbers the workflow's checks of one challenge (default 0);
   * a retry of the same check returns the same result.
   */
  checkDomainControl(input: {
    applicationId: string;
    workflowId: string;
    domain: string;
    round?: number;
    check?: number;
  }): Promise<DomainControlCheck>;

  /** Usage the gateways reported for the application since `since`. */
  readUsage(input: { applicationId: string; since: string }): Promise<UsageSummary>;

  /**
   * Keycloak as the authorization server (ADMIT_AUTHORIZATION_SERVER=keycloak,
   * docs/keycloak.md); with the embedded server each returns `{ provider: 'embedded' }`
   * and does nothing. Each converges Keycloak to the registry's current state,
   * so a retry or a repeat is harmless. Creates or updates the application's
   * client (anchor, binding, lifetime, the grant's scopes, enabled while
   * admitted): after grantAccess, expandGrant, reinstateAccess, a completed rotation.
   */
  provisionKeycloakClient(input: KeycloakClientInput): Promise<KeycloakActivityResult>;

  /** Disables the client and cuts its tokens (not-before, sessions): after suspendAccess. */
  disableKeycloakClient(input: KeycloakClientInput): Promise<KeycloakActivityResult>;

  /** Cuts the tokens of every client the application had (not-before `at`, sessions) and deletes them: after closeApplication. */
  removeKeycloakClient(input: KeycloakClientInput & { at: string; reason: string }): Promise<KeycloakActivityResult>;
}

/** Input of the Keycloak activities: the application, and its workflow (the audit events' idempotency keys). */
export interface KeycloakClientInput {
  applicationId: string;
  workflowId: string;
}

export type KeycloakActivityResult =
  | { provider: 'embedded' }
  | {
      provider: 'keycloak';
      clientId: string;
      /** What Keycloak holds now. */
      state: 'enabled' | 'disabled' | 'absent';
      /** The client's granted scopes in Keycloak (empty once disabled or removed). */
      scopes: string[];
    };
