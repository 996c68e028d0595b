/**
 * The partner-lifecycle workflow's messages: the contract between the workflow,
 * the HTTP service and the CLI. Updates are validated by the workflow itself
 * (a refused update fails with an ApplicationFailure whose `type` is a stable
 * code from UPDATE_REFUSALS), so no caller can skip a rule.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AnchorSubmission } from '../domain/anchor-submission';
import type { ApprovalOutcome } from '../domain/approval';
import type { GrantConditions } from '../domain/policy';
import type { RiskTier } from '../domain/tiers';
import type { OffboardingTrigger } from '../domain/offboarding';
import type { RiskAssessment } from '../domain/risk';
import type { DomainChallengeView, LegalEntityVerification } from '../activities/contract';
import type { ContactRoleKey } from '../domain/contacts';
import type { LifecycleSettings } from '../domain/settings';

export type Stage =
  | 'REGISTERING'
  | 'VERIFYING_ENTITY'
  | 'AWAITING_CONTACTS'
  | 'AWAITING_ANCHOR'
  | 'AWAITING_APPROVAL'
  | 'ADMITTED'
  | 'SUSPENDED'
  | 'OFFBOARDED'
  | 'REJECTED'
  | 'EXPIRED';

/** An authenticated person, as the HTTP service's session established them. */
export interface Actor {
  /** Stable identity: OIDC `iss` and `sub` joined by a space. */
  subject: string;
  email: string;
  name: string;
  roles: string[];
}

export interface ContactConfirmationInput {
  role: ContactRoleKey;
  /** SHA-256 (hex) of the emailed token, computed after its signature and expiry were checked. */
  tokenHash: string;
}

export interface AnchorChallengeView {
  nonce: string;
  audience: string;
  issuedAt: string;
  expiresAt: string;
}

export interface AnchorAttempt {
  at: string;
  kind: AnchorSubmission['kind'];
  ok: boolean;
  reasons: { code: string; message: string }[];
}

export interface VoteInput {
  approver: Actor;
  decision: 'approve' | 'reject';
  comment: string;
}

export interface VoteView {
  approverSubject: string;
  approverEmail: string;
  decision: 'approve' | 'reject';
  comment: string;
  at: string;
}

export interface ApprovalView {
  purpose: 'admission' | 'expansion' | 'recertification';
  required: number;
  votes: VoteView[];
  outcome: ApprovalOutcome;
  openedAt: string;
  escalatesAt: string;
  expiresAt: string;
  /** For an expansion: what it would add. */
  scopes?: string[];
}

export interface ExpansionInput {
  scopes: string[];
  /** Who asked: a contact's email or an approver's subject. */
  requestedBy: string;
}

export interface ExpansionView {
  id: string;
  scopes: string[];
  requestedBy: string;
  requestedAt: string;
  decision: 'auto-grant' | 'needs-approval' | 'refuse' | 'approved' | 'rejected' | 'expired';
  reasons: { code: string; message: string }[];
}

export interface OffboardInput {
  by: Actor;
  reason: string;
}

export interface KeyCompromiseInput {
  reportedBy: Actor;
  detail: string;
}

export type OrganisationEventKind = 'contract-ended' | 'entity-struck-off' | 'offboarded';

export interface OrganisationEvent {
  kind: OrganisationEventKind;
  by: string;
  reason: string;
}

/** A second signup for an application id someone else's claim holds (the web notices it). */
export interface CompetingSignupInput {
  /** When it reached the HTTP edge (ISO 8601). */
  at: string;
  requestedBy: string;
  organisation: { legalName: string; jurisdiction: string; primaryDomain: string };
  contacts: Record<ContactRoleKey, { name: string; email: string }>;
}

/** A competing signup as the state shows it: addresses masked. */
export interface CompetingSignupView {
  at: string;
  requestedBy: string;
  organisation: { legalName: string; jurisdiction: string; primaryDomain: string };
  contacts: string[];
}

/** An operator applies the worker's current settings to a running lifecycle (`npx admit settings apply`). */
export interface ApplySettingsInput {
  settings: LifecycleSettings;
  /** Who applies them: the operator's name or account, for the evidence. */
  by: string;
}

export interface SettingsApplied {
  /** The settings whose values changed (`durations.inactivityMs`, …); empty when none did. */
  changed: string[];
}

/** What was verified about the organisation before anyone was mailed a link (docs/entity-verification.md). */
export interface EntityView {
  /** The LEI record at GLEIF, compared with the signup; null until checked. */
  lei: LegalEntityVerification | null;
  domain: {
    name: string;
    /** What the partner publishes to prove control (a TXT record or a well-known URL). */
    challenge: DomainChallengeView | null;
    verified: boolean;
    method: 'dns-txt' | 'https-well-known' | null;
    verifiedAt: string | null;
    /** Why the last look found no proof. */
    reasons: { code: string; message: string }[];
  };
  /** Contacts whose address is not at the verified domain: each an exception an approver must accept with a reason. */
  contactsOutsideDomain: ContactRoleKey[];
  /** No application of this organisation was admitted before: a person must approve, whatever the tier. */
  firstEnrolment: boolean;
  /** Why a person must approve this admission, beyond its tier; empty when the tier alone decides. */
  approvalReasons: string[];
}

export interface LifecycleState {
  applicationId: string;
  organisationId: string | null;
  stage: Stage;
  /** What the workflow is waiting for, in words a person can act on; null when nothing. */
  waitingFor: string | null;
  tier: RiskTier;
  risk: RiskAssessment;
  /** Lifecycles started before entity verification have none. */
  entity?: EntityView | null;
  /** Other parties' signups for this application id while this claim holds it (the latest ten). */
  competingSignups?: CompetingSignupView[];
  requestedScopes: string[];
  contacts: Record<ContactRoleKey, { confirmedAt: string | null }>;
  contactsDeadline: string | null;
  challenge: AnchorChallengeView | null;
  anchor: {
    kind: AnchorSubmission['kind'];
    fingerprint: string;
    subject: string | null;
    notAfter: string | null;
    verifiedAt: string;
    health: 'healthy' | 'expiring' | 'expired' | 'revoked' | 'unreachable';
  } | null;
  anchorAttempts: AnchorAttempt[];
  approval: ApprovalView | null;
  grant: {
    scopes: string[];
    conditions: GrantConditions;
    clientId: string;
    grantedAt: string;
    credentialLifetimeSeconds: number;
  } | null;
  probationEndsAt: string | null;
  expansions: ExpansionView[];
  triggers: OffboardingTrigger[];
  suspension: { reason: string; since: string; graceEndsAt: string } | null;
  outcome: { stage: 'OFFBOARDED' | 'REJECTED' | 'EXPIRED'; trigger: string; reason: string; at: string } | null;
  transitions: { stage: Stage; at: string; reason: string }[];
}

/** Stable codes of refused updates (the ApplicationFailure `type`). */
export const UPDATE_REFUSALS = {
  WRONG_STAGE: 'WRONG_STAGE',
  CONFIRMATION_INVALID: 'CONFIRMATION_INVALID',
  CONFIRMATION_USED: 'CONFIRMATION_USED',
  CONFIRMATION_EXPIRED: 'CONFIRMATION_EXPIRED',
  ANCHOR_KIND_NOT_ALLOWED: 'ANCHOR_KIND_NOT_ALLOWED',
  CHALLENGE_MISSING: 'CHALLENGE_MISSING',
  RESUBMISSIONS_EXHAUSTED: 'RESUBMISSIONS_EXHAUSTED',
  NOT_AUTHORISED: 'NOT_AUTHORISED',
  INVALID_INPUT: 'INVALID_INPUT',
  /** The verifier cannot check this kind of anchor until operators fix its configuration. */
  VERIFIER_MISCONFIGURED: 'VERIFIER_MISCONFIGURED',
  /** The message was not sealed with Admit's payload key (domain/unauthenticated.ts). */
  UNSEALED_MESSAGE: 'UNSEALED_MESSAGE',
} as const;

export const stateQuery = defineQuery<LifecycleState>('state');

export const confirmContactUpdate = defineUpdate<{ role: ContactRoleKey; allConfirmed: boolean }, [ContactConfirmationInput]>('confirmContact');
export const requestAnchorChallengeUpdate = defineUpdate<AnchorChallengeView, []>('requestAnchorChallenge');
export const submitAnchorUpdate = defineUpdate<AnchorAttempt, [AnchorSubmission]>('submitAnchor');
export const voteUpdate = defineUpdate<{ outcome: ApprovalOutcome }, [VoteInput]>('vote');
export const requestExpansionUpdate = defineUpdate<ExpansionView, [ExpansionInput]>('requestExpansion');
export const reportKeyCompromiseUpdate = defineUpdate<void, [KeyCompromiseInput]>('reportKeyCompromise');
export const offboardUpdate = defineUpdate<void, [OffboardInput]>('offboard');
export const rotateAnchorUpdate = defineUpdate<AnchorAttempt, [AnchorSubmission]>('rotateAnchor');
export const noteCompetingSignupUpdate = defineUpdate<{ recorded: boolean }, [CompetingSignupInput]>('noteCompetingSignup');
export const applySettingsUpdate = defineUpdate<SettingsApplied, [ApplySettingsInput]>('applySettings');
export const organisationEventSignal = defineSignal<[OrganisationEvent]>('organisationEvent');
