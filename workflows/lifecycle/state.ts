import type { ApprovalState, ApproverDirectory } from '../../domain/approval';
import { CONTACT_ROLES, type ContactRoleKey } from '../../domain/contacts';
import type { RiskAssessment } from '../../domain/risk';
import type { LifecycleSettings } from '../../domain/settings';
import type { Signup } from '../../domain/signup';
import type { ApprovalView, LifecycleState, Stage } from '../messages';

export interface LifecycleInput {
  applicationId: string;
  signup: Signup;
  /** When the signup reached the HTTP edge (ISO 8601). */
  submittedAt: string;
  /** Which claim of this application id this is: absent or 1 for the first, n after n−1 ended unverified. */
  claim?: number;
}

export type ClosedStage = 'OFFBOARDED' | 'REJECTED' | 'EXPIRED';

export interface Termination {
  stage: ClosedStage;
  /** Which trigger ended it: `contract-end`, `inactivity`, `key-compromise`, `manual`, … */
  trigger: string;
  reason: string;
  actor: string;
}

export interface OpenApproval {
  purpose: ApprovalView['purpose'];
  state: ApprovalState;
  openedAt: string;
  escalatesAt: string;
  expiresAt: string;
  escalated: boolean;
  scopes?: string[];
  expansionId?: string;
}

/**
 * What the workflow remembers beyond its public state; carried across
 * continue-as-new as JSON. Its shape is a contract with every running
 * lifecycle: fields are only ever added, optional, and read with a default.
 */
export interface InternalState {
  settings: LifecycleSettings;
  environment: string;
  contractEndDate: string;
  primaryDomain: string;
  /** The organisation as the signup claims it, for the LEI checks (absent before entity verification). */
  organisation?: { lei: string; legalName: string; jurisdiction: string };
  /** The requester and every contact: none of them may approve this application. */
  requesterEmails: string[];
  confirmations: { role: ContactRoleKey; tokenHash: string; expiresAt: string; used: boolean; superseded: boolean }[];
  contactRound: number;
  /** True while links are being mailed: a link can reach a mailbox before its hash reaches the workflow. */
  sendingConfirmations: boolean;
  nextReminderAt: string | null;
  anchorDeadline: string | null;
  anchorSubmissionsLeft: number;
  anchorCheckInProgress: boolean;
  approval: OpenApproval | null;
  directory: ApproverDirectory;
  admittedAt: string | null;
  expansionCount: number;
  timers: {
    contractNoticeSent: boolean;
    inactivityDueAt: string | null;
    reverifyAt: string | null;
    recertifyAt: string | null;
    retireRotatedAt: string | null;
    anchorExpiryNoticeFor: string | null;
  };
  termination: Termination | null;
  /**
   * A rotation verified while SUSPENDED asks the main loop to reinstate, with
   * this reason (lifecycles under the serialised-handlers patch; absent before).
   */
  reinstatement?: string | null;
  /** Competing signups recorded so far (their evidence keys count them). */
  competingSignups?: number;
  /** Signals ignored because the codec could not open them (evidence keys count them). */
  unsealedSignals?: number;
  /** The claim of the application id (LifecycleInput.claim); absent means the first. */
  claim?: number;
  /** How many times settings were applied to this lifecycle since its signup (absent: none). */
  settingsVersion?: number;
  /** Entity verification's timers (lifecycles under the entity-verification patch). */
  entity?: {
    /** Looks for the domain proof so far, numbering each check (idempotency). */
    domainChecks: number;
    nextDomainCheckAt: string | null;
    leiRound: number;
    leiRecheckAt: string | null;
    /** The LEI statuses of the last check, to tell a change. */
    leiStatuses: { registrationStatus: string; entityStatus: string } | null;
  };
}

export interface CarriedState {
  state: LifecycleState;
  internal: InternalState;
}

export const TERMINAL: readonly Stage[] = ['OFFBOARDED', 'REJECTED', 'EXPIRED'];

/**
 * Changes to the workflow's commands are guarded with `patched()`, one id each,
 * so lifecycles already running replay their own history unchanged. Once no
 * lifecycle started before a patch is running, it can be deprecated
 * (`deprecatePatch`) and later removed. test/replay/ replays recorded histories.
 */
export const PATCHES = {
  directoryAtRegistration: 'approver-directory-at-registration',
  /**
   * One owner of stage changes: handlers that await run under the lifecycle's
   * mutex; a rotation asks the main loop to reinstate; the termination is
   * checked before contacts are mailed; `AdmitWaitingFor` follows a concluded
   * approval; a verifier's permanent failure is reported as what it is; and a
   * continued run takes the worker's current settings.
   */
  serialisedHandlers: 'serialised-handlers',
  /** A signup the registry refuses for good ends the lifecycle as REJECTED instead of failing the workflow. */
  registrationRefusal: 'registration-refusal',
  /**
   * The legal entity (LEI at GLEIF) and the control of the primary domain are
   * verified before any contact is mailed; the first enrolment of an
   * organisation, a doubtful LEI and contacts outside the domain go to a
   * person; the LEI is re-checked while admitted.
   */
  entityVerification: 'entity-verification',
  /** The external authorization server (Keycloak) follows every grant, suspension, rotation and closing. */
  authorizationServer: 'authorization-server-clients',
  /**
   * A monitoring run stays short: an admitted or suspended lifecycle continues
   * as new before its next turn once its run passes MONITORING_RUN_EVENTS
   * (so at once after admission), and waking it after the worker evicted it
   * replays that run only, however long the partner has been admitted.
   */
  shortMonitoringRuns: 'short-monitoring-runs',
} as const;

/**
 * The history a monitoring run may reach before the lifecycle continues as
 * new. A replay costs the worker about a millisecond of CPU per event, and a
 * turn of monitoring adds about ten events (docs/benchmarks.md, "Scale").
 */
export const MONITORING_RUN_EVENTS = 40;

export const MAX_TRANSITIONS_KEPT = 50;
export const MAX_ATTEMPTS_KEPT = 20;

/** The public and internal state of a signup that has not been registered yet. */
export function initialState(input: LifecycleInput, settings: LifecycleSettings, risk: RiskAssessment, at: string): CarriedState {
  const { application, contacts, organisation } = input.signup;
  return {
    state: {
      applicationId: input.applicationId,
      organisationId: null,
      stage: 'REGISTERING',
      waitingFor: 'the registry entry to be written',
      tier: risk.tier,
      risk,
      requestedScopes: application.requestedScopes,
      contacts: { business: { confirmedAt: null }, technical: { confirmedAt: null }, security: { confirmedAt: null } },
      contactsDeadline: null,
      challenge: null,
      anchor: null,
      anchorAttempts: [],
      approval: null,
      grant: null,
      probationEndsAt: null,
      expansions: [],
      triggers: [],
      suspension: null,
      outcome: null,
      transitions: [{ stage: 'REGISTERING', at, reason: 'signup received' }],
    },
    internal: {
      settings,
      environment: application.environment,
      contractEndDate: application.contractEndDate,
      primaryDomain: organisation.primaryDomain,
      organisation: { lei: organisation.lei, legalName: organisation.legalName, jurisdiction: organisation.jurisdiction },
      requesterEmails: [input.signup.requestedBy, contacts.business.email, contacts.technical.email, contacts.security.email],
      confirmations: [],
      contactRound: 0,
      sendingConfirmations: false,
      nextReminderAt: null,
      anchorDeadline: null,
      anchorSubmissionsLeft: settings.durations.anchorResubmissionLimit + 1,
      anchorCheckInProgress: false,
      approval: null,
      directory: [],
      admittedAt: null,
      expansionCount: 0,
      timers: {
        contractNoticeSent: false,
        inactivityDueAt: null,
        reverifyAt: null,
        recertifyAt: null,
        retireRotatedAt: null,
        anchorExpiryNoticeFor: null,
      },
      termination: null,
      reinstatement: null,
      ...(input.claim !== undefined && input.claim > 1 ? { claim: input.claim } : {}),
    },
  };
}

/** The contacts that have not confirmed yet, in the order of CONTACT_ROLES. */
export function unconfirmedRoles(state: LifecycleState): ContactRoleKey[] {
  return CONTACT_ROLES.filter((role) => state.contacts[role].confirmedAt === null);
}
