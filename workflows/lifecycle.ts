import {
  ApplicationFailure,
  condition,
  log,
  patched,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { LifecycleSettings, NotificationTemplate, VerifiedAnchor } from '../activities/contract';
import type { AnchorSubmission } from '../domain/anchor-submission';
import {
  applyVote,
  approvalOutcome,
  closeApprovalStage,
  openApprovalStage,
  validateVote,
  APPROVER_ROLE,
  SECURITY_REVIEWER_ROLE,
  type ApprovalState,
  type ApproverDirectory,
} from '../domain/approval';
import { decideExpansion } from '../domain/expansion';
import { armTriggers, inactivityDueAt, isInactive, recertificationIntervalMs } from '../domain/offboarding';
import { expansionApprovalsRequired, isAnchorKindAllowed, allowedAnchorKinds, recertificationRequired, scoreRisk } from '../domain/risk';
import { admissionConditions, minimalGrant, probationMs, tierTemplate } from '../domain/scopes';
import type { Signup } from '../domain/signup';
import { mail, registry, verifiers } from './activities';
import {
  CONTACT_ROLES,
  UPDATE_REFUSALS,
  type Actor,
  type AnchorAttempt,
  type AnchorChallengeView,
  type ApprovalView,
  type ContactConfirmationInput,
  type ContactRoleKey,
  type ExpansionInput,
  type ExpansionView,
  type KeyCompromiseInput,
  type LifecycleState,
  type OffboardInput,
  type OrganisationEvent,
  type Stage,
  type VoteInput,
} from './messages';
import { STAGE_KEY, TIER_KEY, WAITING_FOR_KEY } from './search-attributes';

export interface LifecycleInput {
  applicationId: string;
  signup: Signup;
  /** When the signup reached the HTTP edge (ISO 8601). */
  submittedAt: string;
}

type ClosedStage = 'OFFBOARDED' | 'REJECTED' | 'EXPIRED';

interface Termination {
  stage: ClosedStage;
  /** Which trigger ended it: `contract-end`, `inactivity`, `key-compromise`, `manual`, … */
  trigger: string;
  reason: string;
  actor: string;
}

interface OpenApproval {
  purpose: ApprovalView['purpose'];
  state: ApprovalState;
  openedAt: string;
  escalatesAt: string;
  expiresAt: string;
  escalated: boolean;
  scopes?: string[];
  expansionId?: string;
}

/** What the workflow remembers beyond its public state; carried across continue-as-new. */
interface InternalState {
  settings: LifecycleSettings;
  environment: string;
  contractEndDate: string;
  primaryDomain: string;
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
}

export interface CarriedState {
  state: LifecycleState;
  internal: InternalState;
}

const TERMINAL: readonly Stage[] = ['OFFBOARDED', 'REJECTED', 'EXPIRED'];

/**
 * Changes to the workflow's commands are guarded with `patched()`, one id each,
 * so lifecycles already running replay their own history unchanged. Once no
 * lifecycle started before a patch is running, it can be deprecated
 * (`deprecatePatch`) and later removed. test/replay/ replays recorded histories.
 */
const PATCHES = {
  directoryAtRegistration: 'approver-directory-at-registration',
} as const;
const MAX_TRANSITIONS_KEPT = 50;
const MAX_ATTEMPTS_KEPT = 20;

const nowIso = (): string => new Date().toISOString();
const addMs = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();
const msUntil = (iso: string): number => Math.max(0, Date.parse(iso) - Date.now());

function refuse(type: string, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}

/**
 * One partner application's lifecycle. The main loop (`run`) drives the stages;
 * message handlers validate, record and wake it. All time is workflow time.
 */
export class PartnerLifecycle {
  /** Set by handlers when the main loop has something to act on. */
  private wake = false;

  private constructor(
    readonly state: LifecycleState,
    private readonly internal: InternalState,
  ) {}

  static async begin(input: LifecycleInput): Promise<PartnerLifecycle> {
    const settings = await registry.lifecycleSettings();
    const { application, contacts, organisation } = input.signup;
    const risk = scoreRisk(
      {
        requestedScopes: application.requestedScopes,
        dataSensitivity: application.dataSensitivity,
        regulatedSector: application.regulatedSector,
        strategic: application.strategic,
        expectedMonthlyCalls: application.expectedMonthlyCalls,
        environment: application.environment,
      },
      settings.riskThresholds,
    );
    const at = nowIso();
    const state: LifecycleState = {
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
    };
    const internal: InternalState = {
      settings,
      environment: application.environment,
      contractEndDate: application.contractEndDate,
      primaryDomain: organisation.primaryDomain,
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
    };
    const lifecycle = new PartnerLifecycle(state, internal);
    const registered = await registry.registerApplication({
      applicationId: input.applicationId,
      workflowId: workflowInfo().workflowId,
      signup: input.signup,
      submittedAt: input.submittedAt,
    });
    state.organisationId = registered.organisationId;
    // Who may offboard or report a compromise is known from the start; refreshed at each decision.
    // Lifecycles started before this step existed replay without it.
    if (patched(PATCHES.directoryAtRegistration)) internal.directory = await registry.loadApproverDirectory();
    await registry.recordRisk({
      applicationId: input.applicationId,
      workflowId: workflowInfo().workflowId,
      tier: risk.tier,
      score: risk.score,
      reasons: risk.reasons,
    });
    return lifecycle;
  }

  static resume(carried: CarriedState): PartnerLifecycle {
    return new PartnerLifecycle(carried.state, carried.internal);
  }

  carry(): CarriedState {
    return { state: this.state, internal: this.internal };
  }

  get isClosed(): boolean {
    return TERMINAL.includes(this.state.stage);
  }

  private get workflowId(): string {
    return workflowInfo().workflowId;
  }

  private get durations() {
    return this.internal.settings.durations;
  }

  /** Drives the stages until the lifecycle closes or should continue as new. */
  async run(): Promise<'closed' | 'continue-as-new'> {
    if (this.state.stage === 'REGISTERING') await this.enterContacts();
    for (;;) {
      if (this.isClosed) return 'closed';
      // Only the main loop closes, so nothing it is doing can race the revocation.
      if (this.internal.termination !== null) {
        await this.close(this.internal.termination);
        return 'closed';
      }
      switch (this.state.stage) {
        case 'AWAITING_CONTACTS':
          await this.awaitContacts();
          break;
        case 'AWAITING_ANCHOR':
          await this.awaitAnchor();
          break;
        case 'AWAITING_APPROVAL':
          await this.awaitAdmissionApproval();
          break;
        case 'ADMITTED':
        case 'SUSPENDED':
          await this.monitorOnce();
          if (workflowInfo().continueAsNewSuggested && !this.isClosed) return 'continue-as-new';
          break;
        default:
          return 'closed';
      }
    }
  }

  // ── Stage 2: contacts ───────────────────────────────────────────────────

  private async enterContacts(): Promise<void> {
    const deadline = addMs(nowIso(), this.durations.contactExpiryMs);
    this.state.contactsDeadline = deadline;
    await this.transition('AWAITING_CONTACTS', 'registry entry written');
    await this.sendConfirmations([...CONTACT_ROLES]);
  }

  private async sendConfirmations(roles: ContactRoleKey[]): Promise<void> {
    const deadline = this.state.contactsDeadline ?? nowIso();
    this.internal.sendingConfirmations = true;
    let sent;
    try {
      sent = await mail.sendContactConfirmations({
        applicationId: this.state.applicationId,
        roles,
        round: this.internal.contactRound,
        expiresAt: deadline,
      });
    } finally {
      this.internal.sendingConfirmations = false;
    }
    for (const { role, tokenHash } of sent) {
      // A reminder's link replaces the role's earlier ones.
      for (const earlier of this.internal.confirmations) if (earlier.role === role) earlier.superseded = true;
      this.internal.confirmations.push({ role, tokenHash, expiresAt: deadline, used: false, superseded: false });
    }
    this.internal.contactRound += 1;
    const reminder = addMs(nowIso(), this.durations.contactReminderMs);
    this.internal.nextReminderAt = reminder < deadline ? reminder : null;
  }

  private unconfirmedRoles(): ContactRoleKey[] {
    return CONTACT_ROLES.filter((role) => this.state.contacts[role].confirmedAt === null);
  }

  private async awaitContacts(): Promise<void> {
    const deadline = this.state.contactsDeadline ?? nowIso();
    const until = this.internal.nextReminderAt ?? deadline;
    await this.waitUntil(() => this.unconfirmedRoles().length === 0, until);
    if (this.internal.termination !== null || this.state.stage !== 'AWAITING_CONTACTS') return;
    if (this.unconfirmedRoles().length === 0) return this.enterAnchor();
    if (this.due(deadline)) {
      this.internal.termination = {
        stage: 'EXPIRED',
        trigger: 'contact-expiry',
        reason: `not every contact confirmed by ${deadline} (waiting for: ${this.unconfirmedRoles().join(', ')})`,
        actor: 'workflow',
      };
      return;
    }
    if (this.due(this.internal.nextReminderAt)) {
      await this.sendConfirmations(this.unconfirmedRoles());
      this.refreshWaitingFor();
    }
  }

  validateContactConfirmation(input: ContactConfirmationInput, linksInFlight = this.internal.sendingConfirmations): void {
    const issued = this.internal.confirmations.find((c) => c.tokenHash === input?.tokenHash);
    // A link being mailed right now is checked by the handler once its hash has arrived.
    if (issued === undefined && linksInFlight) return;
    if (issued === undefined || issued.role !== input.role) {
      refuse(UPDATE_REFUSALS.CONFIRMATION_INVALID, 'This confirmation link is not valid for this application.');
    }
    if (issued.used || this.state.contacts[issued.role].confirmedAt !== null) {
      refuse(UPDATE_REFUSALS.CONFIRMATION_USED, `The ${issued.role} contact has already confirmed; this link cannot be used again.`);
    }
    if (issued.superseded) {
      refuse(UPDATE_REFUSALS.CONFIRMATION_EXPIRED, 'A newer confirmation link was sent to you; use the link in the latest email.');
    }
    if (this.state.stage !== 'AWAITING_CONTACTS') {
      refuse(UPDATE_REFUSALS.CONFIRMATION_EXPIRED, 'Contact confirmation for this application has closed.');
    }
    if (Date.now() >= Date.parse(issued.expiresAt)) {
      refuse(UPDATE_REFUSALS.CONFIRMATION_EXPIRED, `This link expired at ${issued.expiresAt}.`);
    }
  }

  async confirmContact(input: ContactConfirmationInput): Promise<{ role: ContactRoleKey; allConfirmed: boolean }> {
    await condition(() => !this.internal.sendingConfirmations);
    this.validateContactConfirmation(input, false);
    const issued = this.internal.confirmations.find((c) => c.tokenHash === input.tokenHash);
    if (issued === undefined) refuse(UPDATE_REFUSALS.CONFIRMATION_INVALID, 'Unknown confirmation link.');
    issued.used = true;
    const confirmedAt = nowIso();
    this.state.contacts[issued.role].confirmedAt = confirmedAt;
    await registry.recordContactConfirmation({
      applicationId: this.state.applicationId,
      workflowId: this.workflowId,
      role: issued.role,
      tokenHash: issued.tokenHash,
      confirmedAt,
    });
    this.refreshWaitingFor();
    this.wake = true;
    return { role: issued.role, allConfirmed: this.unconfirmedRoles().length === 0 };
  }

  // ── Stage 3: trust anchor ───────────────────────────────────────────────

  private async enterAnchor(): Promise<void> {
    this.internal.anchorDeadline = addMs(nowIso(), this.durations.anchorSubmissionMs);
    await this.transition('AWAITING_ANCHOR', 'all three contacts confirmed');
    await mail.notify({
      applicationId: this.state.applicationId,
      to: ['technical'],
      template: 'anchor-requested',
      data: { allowedKinds: [...allowedAnchorKinds(this.state.tier)], deadline: this.internal.anchorDeadline },
      idempotencyKey: `${this.workflowId}:anchor-requested`,
    });
  }

  private async awaitAnchor(): Promise<void> {
    const deadline = this.internal.anchorDeadline ?? nowIso();
    await this.waitUntil(() => this.state.anchor !== null || this.internal.anchorSubmissionsLeft === 0, deadline);
    if (this.internal.termination !== null || this.state.stage !== 'AWAITING_ANCHOR') return;
    // A verification may still be running when the deadline passes; let it finish first.
    await condition(() => !this.internal.anchorCheckInProgress);
    if (this.state.anchor !== null) return this.enterApproval();
    if (this.internal.anchorSubmissionsLeft > 0 && !this.due(deadline)) return;
    this.internal.termination =
      this.internal.anchorSubmissionsLeft === 0
        ? {
            stage: 'REJECTED',
            trigger: 'anchor-failure',
            reason: 'the trust anchor was refused on every allowed submission',
            actor: 'workflow',
          }
        : { stage: 'EXPIRED', trigger: 'anchor-expiry', reason: `no trust anchor was verified by ${deadline}`, actor: 'workflow' };
  }

  validateChallengeRequest(): void {
    if (!['AWAITING_ANCHOR', 'ADMITTED', 'SUSPENDED'].includes(this.state.stage)) {
      refuse(UPDATE_REFUSALS.WRONG_STAGE, `A trust anchor is not being collected (the application is ${this.state.stage}).`);
    }
  }

  async requestChallenge(): Promise<AnchorChallengeView> {
    this.validateChallengeRequest();
    const challenge = await registry.issueAnchorChallenge({ applicationId: this.state.applicationId });
    this.state.challenge = challenge;
    return challenge;
  }

  validateAnchorSubmission(submission: AnchorSubmission, rotation: boolean): void {
    const stages: Stage[] = rotation ? ['ADMITTED', 'SUSPENDED'] : ['AWAITING_ANCHOR'];
    if (!stages.includes(this.state.stage)) {
      refuse(
        UPDATE_REFUSALS.WRONG_STAGE,
        rotation
          ? `Only an admitted application can rotate its trust anchor (this one is ${this.state.stage}).`
          : `A trust anchor is not being collected (the application is ${this.state.stage}).`,
      );
    }
    if (typeof submission !== 'object' || submission === null || typeof submission.kind !== 'string') {
      refuse(UPDATE_REFUSALS.INVALID_INPUT, 'The submission must name its kind: x509, jwk, spiffe or oidc.');
    }
    if (!isAnchorKindAllowed(this.state.tier, submission.kind)) {
      refuse(
        UPDATE_REFUSALS.ANCHOR_KIND_NOT_ALLOWED,
        `A ${this.state.tier} application must prove itself with one of: ${allowedAnchorKinds(this.state.tier).join(', ')}.`,
      );
    }
    if (!rotation && this.internal.anchorSubmissionsLeft <= 0) {
      refuse(UPDATE_REFUSALS.RESUBMISSIONS_EXHAUSTED, 'No further trust-anchor submissions are allowed for this application.');
    }
    if (this.internal.anchorCheckInProgress) {
      refuse(UPDATE_REFUSALS.WRONG_STAGE, 'A trust anchor is being verified; wait for its result.');
    }
    if (submission.kind === 'jwk' && this.state.challenge === null) {
      refuse(UPDATE_REFUSALS.CHALLENGE_MISSING, 'Request a challenge first and sign it: the assertion must cover its nonce.');
    }
  }

  async submitAnchor(submission: AnchorSubmission, rotation: boolean): Promise<AnchorAttempt> {
    this.validateAnchorSubmission(submission, rotation);
    this.internal.anchorCheckInProgress = true;
    try {
      const at = nowIso();
      let result;
      try {
        result = await verifiers.verifyAndBindAnchor({
          applicationId: this.state.applicationId,
          workflowId: this.workflowId,
          submission,
          challenge: this.state.challenge,
          primaryDomain: this.internal.primaryDomain,
          rotation,
        });
      } catch (error) {
        // Our verifier could not reach a verdict (e.g. the partner's JWKS host did not answer):
        // it does not count against the partner's submissions.
        log.warn('trust-anchor verification failed to complete', { error: String(error) });
        return this.recordAttempt({
          at,
          kind: submission.kind,
          ok: false,
          reasons: [{ code: 'VERIFIER_UNAVAILABLE', message: 'The verification could not be completed just now; submit again shortly.' }],
        });
      }
      if (submission.kind === 'jwk') this.state.challenge = null;
      if (!result.ok) {
        if (!rotation) this.internal.anchorSubmissionsLeft -= 1;
        const attempt = this.recordAttempt({ at, kind: submission.kind, ok: false, reasons: result.reasons });
        await mail.notify({
          applicationId: this.state.applicationId,
          to: ['technical'],
          template: 'anchor-refused',
          data: {
            reasons: result.reasons.map((r) => `${r.code}: ${r.message}`),
            submissionsLeft: rotation ? null : this.internal.anchorSubmissionsLeft,
          },
          idempotencyKey: `${this.workflowId}:anchor-refused:${this.state.anchorAttempts.length}:${at}`,
        });
        this.wake = true;
        return attempt;
      }
      this.bindAnchor(result);
      if (rotation) await this.afterRotation();
      this.wake = true;
      return this.recordAttempt({ at, kind: submission.kind, ok: true, reasons: [] });
    } finally {
      this.internal.anchorCheckInProgress = false;
    }
  }

  private recordAttempt(attempt: AnchorAttempt): AnchorAttempt {
    this.state.anchorAttempts.push(attempt);
    if (this.state.anchorAttempts.length > MAX_ATTEMPTS_KEPT) this.state.anchorAttempts.shift();
    return attempt;
  }

  private bindAnchor(anchor: VerifiedAnchor): void {
    this.state.anchor = {
      kind: anchor.kind,
      fingerprint: anchor.fingerprint,
      subject: anchor.subject,
      notAfter: anchor.notAfter,
      verifiedAt: anchor.verifiedAt,
      health: 'healthy',
    };
  }

  private async afterRotation(): Promise<void> {
    this.internal.timers.retireRotatedAt = addMs(nowIso(), this.durations.rotationOverlapMs);
    this.internal.timers.anchorExpiryNoticeFor = null;
    await registry.recordAudit({
      applicationId: this.state.applicationId,
      idempotencyKey: `${this.workflowId}:anchor-rotated:${this.state.anchor?.fingerprint ?? ''}`,
      type: 'anchor.rotated',
      actor: 'partner',
      occurredAt: nowIso(),
      data: { fingerprint: this.state.anchor?.fingerprint ?? null, overlapEndsAt: this.internal.timers.retireRotatedAt },
    });
    if (this.state.stage === 'SUSPENDED') await this.reinstate('a renewed trust anchor was verified');
  }

  // ── Stage 4: risk tier and approval ─────────────────────────────────────

  private async enterApproval(): Promise<void> {
    const required = openApprovalStage({ tier: this.state.tier, requesterEmails: this.internal.requesterEmails }).required;
    if (required === 0) {
      // LOW: the tier's pre-approved template decides; no person is needed.
      await registry.recordAudit({
        applicationId: this.state.applicationId,
        idempotencyKey: `${this.workflowId}:auto-approved`,
        type: 'admission.approved',
        actor: 'template',
        occurredAt: nowIso(),
        data: { tier: this.state.tier, template: this.state.tier, score: this.state.risk.score },
      });
      return this.admit([]);
    }
    // The stage is ready to take votes before anyone can see it is waiting for them.
    await this.prepareApproval('admission', required);
    await this.transition('AWAITING_APPROVAL', 'trust anchor verified');
    await this.announceApproval();
  }

  private async openApproval(purpose: OpenApproval['purpose'], required: number, extra: Partial<OpenApproval> = {}): Promise<void> {
    await this.prepareApproval(purpose, required, extra);
    this.publishSearchAttributes();
    await this.announceApproval();
  }

  private async prepareApproval(purpose: OpenApproval['purpose'], required: number, extra: Partial<OpenApproval> = {}): Promise<void> {
    this.internal.directory = await registry.loadApproverDirectory();
    const openedAt = nowIso();
    this.internal.approval = {
      purpose,
      state: openApprovalStage({ tier: this.state.tier, requesterEmails: this.internal.requesterEmails, required }),
      openedAt,
      escalatesAt: addMs(openedAt, this.durations.approvalEscalationMs),
      expiresAt: addMs(openedAt, this.durations.approvalExpiryMs),
      escalated: false,
      ...extra,
    };
    this.publishApproval();
    this.refreshWaitingFor();
  }

  private async announceApproval(): Promise<void> {
    const approval = this.internal.approval;
    if (approval === null) return;
    await mail.notify({
      applicationId: this.state.applicationId,
      to: ['approvers'],
      template: approval.purpose === 'recertification' ? 'recertification-due' : 'approval-requested',
      data: {
        purpose: approval.purpose,
        tier: this.state.tier,
        required: approval.state.required,
        scopes: approval.scopes ?? this.state.requestedScopes,
        expiresAt: approval.expiresAt,
      },
      idempotencyKey: `${this.workflowId}:approval-opened:${approval.purpose}:${approval.openedAt}`,
    });
  }

  private publishApproval(): void {
    const approval = this.internal.approval;
    this.state.approval =
      approval === null
        ? null
        : {
            purpose: approval.purpose,
            required: approval.state.required,
            votes: approval.state.votes.map((v) => ({
              approverSubject: v.approverId,
              approverEmail: this.internal.directory.find((d) => d.approverId === v.approverId)?.email ?? '',
              decision: v.decision,
              comment: v.comment,
              at: v.at,
            })),
            outcome: approvalOutcome(approval.state),
            openedAt: approval.openedAt,
            escalatesAt: approval.escalatesAt,
            expiresAt: approval.expiresAt,
            ...(approval.scopes === undefined ? {} : { scopes: approval.scopes }),
          };
  }

  private async awaitAdmissionApproval(): Promise<void> {
    const approval = this.internal.approval;
    if (approval === null) return this.enterApproval();
    const decided = (): boolean => approvalOutcome(approval.state) !== 'pending';
    await this.waitUntil(decided, approval.escalated ? approval.expiresAt : approval.escalatesAt);
    if (this.internal.termination !== null || this.state.stage !== 'AWAITING_APPROVAL') return;
    const outcome = approvalOutcome(approval.state);
    if (outcome === 'approved') {
      this.internal.approval = null;
      this.publishApproval();
      return this.admit(approval.state.votes.filter((v) => v.decision === 'approve').map((v) => v.approverId));
    }
    if (outcome === 'rejected') {
      const rejection = approval.state.votes.find((v) => v.decision === 'reject');
      this.internal.termination = {
        stage: 'REJECTED',
        trigger: 'approval-rejected',
        reason: rejection?.comment ?? 'rejected by an approver',
        actor: rejection?.approverId ?? 'approver',
      };
      return;
    }
    if (!approval.escalated && Date.now() >= Date.parse(approval.escalatesAt)) return this.escalate(approval);
    if (Date.now() >= Date.parse(approval.expiresAt)) {
      approval.state = closeApprovalStage(approval.state);
      this.publishApproval();
      this.internal.termination = {
        stage: 'EXPIRED',
        trigger: 'approval-expiry',
        reason: `no decision by ${approval.expiresAt}`,
        actor: 'workflow',
      };
    }
  }

  private async escalate(approval: OpenApproval): Promise<void> {
    approval.escalated = true;
    await mail.notify({
      applicationId: this.state.applicationId,
      to: ['approvers'],
      template: 'approval-escalated',
      data: {
        purpose: approval.purpose,
        tier: this.state.tier,
        votesSoFar: approval.state.votes.length,
        required: approval.state.required,
        expiresAt: approval.expiresAt,
      },
      idempotencyKey: `${this.workflowId}:approval-escalated:${approval.openedAt}`,
    });
  }

  validateVote(input: VoteInput) {
    const approval = this.internal.approval;
    if (approval === null) {
      refuse('APPROVAL_STAGE_CLOSED', `Nothing is waiting for a decision on this application (it is ${this.state.stage}).`);
    }
    if (typeof input !== 'object' || input === null || typeof input.approver?.subject !== 'string') {
      refuse(UPDATE_REFUSALS.INVALID_INPUT, 'A vote names its approver, decision and comment.');
    }
    const validation = validateVote(
      approval.state,
      { approverId: input.approver.subject, decision: input.decision, comment: input.comment ?? '', at: nowIso() },
      this.internal.directory,
    );
    if (!validation.ok) refuse(validation.refusal.code, sentence(validation.refusal.message));
    return { approval, vote: validation.vote };
  }

  async vote(input: VoteInput): Promise<{ outcome: ApprovalView['outcome'] }> {
    // Validators do not run on replay, so the handler checks again against the state it sees.
    const { approval, vote } = this.validateVote(input);
    const applied = applyVote(approval.state, vote);
    approval.state = applied.state;
    this.publishApproval();
    this.refreshWaitingFor();
    await registry.recordAudit({
      applicationId: this.state.applicationId,
      idempotencyKey: `${this.workflowId}:vote:${approval.purpose}:${approval.openedAt}:${vote.approverId}`,
      type: `${approval.purpose}.vote`,
      actor: vote.approverId,
      occurredAt: vote.at,
      data: {
        decision: vote.decision,
        comment: vote.comment,
        roles: vote.roles,
        tier: this.state.tier,
        outcome: applied.outcome,
        ...(approval.scopes === undefined ? {} : { scopes: approval.scopes }),
      },
    });
    this.wake = true;
    return { outcome: applied.outcome };
  }

  // ── Stage 5: minimal grant ──────────────────────────────────────────────

  private async admit(approvedBy: string[]): Promise<void> {
    const anchor = this.state.anchor;
    if (anchor === null) throw ApplicationFailure.create({ message: 'cannot grant without a verified anchor', nonRetryable: true });
    const tier = this.state.tier;
    const template = tierTemplate(tier);
    const minimal = minimalGrant(tier, this.state.requestedScopes);
    const conditions = admissionConditions(tier, this.internal.environment);
    const grantedAt = nowIso();
    const credentialLifetimeSeconds = Math.round(template.credentialLifetimeMs / 1000);
    const { clientId } = await registry.grantAccess({
      applicationId: this.state.applicationId,
      workflowId: this.workflowId,
      tier,
      scopes: minimal.granted,
      conditions,
      anchorFingerprint: anchor.fingerprint,
      credentialLifetimeSeconds,
      approvedBy,
      grantedAt,
    });
    this.state.grant = { scopes: minimal.granted, conditions, clientId, grantedAt, credentialLifetimeSeconds };
    this.internal.admittedAt = grantedAt;
    this.state.probationEndsAt = addMs(grantedAt, probationMs(tier, this.durations.probationMs));
    this.state.triggers = armTriggers({ tier, contractEndDate: this.internal.contractEndDate, admittedAt: grantedAt, durations: this.durations });
    const timers = this.internal.timers;
    timers.inactivityDueAt = addMs(grantedAt, this.durations.inactivityMs);
    timers.reverifyAt = addMs(grantedAt, this.durations.anchorReverificationEveryMs);
    timers.recertifyAt = recertificationRequired(tier) ? addMs(grantedAt, recertificationIntervalMs(tier, this.durations) ?? 0) : null;
    this.internal.directory = await registry.loadApproverDirectory();
    await this.transition('ADMITTED', approvedBy.length === 0 ? `approved by the ${tier} template` : `approved by ${approvedBy.join(', ')}`);
    await mail.notify({
      applicationId: this.state.applicationId,
      to: [...CONTACT_ROLES],
      template: 'admitted',
      data: {
        tier,
        scopes: minimal.granted,
        notGranted: minimal.dropped.map((d) => `${d.scope}: ${d.message}`),
        clientId,
        probationEndsAt: this.state.probationEndsAt,
        triggers: this.state.triggers.map((t) => t.description),
      },
      idempotencyKey: `${this.workflowId}:admitted`,
    });
  }

  // ── Stages 6 and 7: monitored expansion and offboarding triggers ────────

  private contractTrigger() {
    return this.state.triggers.find((t) => t.kind === 'contract-end');
  }

  /** One turn of the admitted loop: sleep until the next due timer or message, then act. */
  private async monitorOnce(): Promise<void> {
    const timers = this.internal.timers;
    const approval = this.internal.approval;
    const contract = this.contractTrigger();
    const candidates = [
      timers.contractNoticeSent ? undefined : contract?.noticeAt,
      contract?.dueAt,
      timers.inactivityDueAt,
      timers.reverifyAt,
      approval === null ? timers.recertifyAt : undefined,
      timers.retireRotatedAt,
      this.state.suspension?.graceEndsAt,
      approval === null ? undefined : approval.escalated ? approval.expiresAt : approval.escalatesAt,
    ].filter((at): at is string => typeof at === 'string');
    const next = candidates.reduce((a, b) => (a < b ? a : b), addMs(nowIso(), 365 * 24 * 3600 * 1000));
    await this.waitUntil(() => false, next);
    if (this.internal.termination !== null || this.isClosed) return;
    await this.concludeApprovalIfDecided();
    await this.runDueTimers();
  }

  private due(at: string | null | undefined): at is string {
    return typeof at === 'string' && Date.now() >= Date.parse(at);
  }

  private async runDueTimers(): Promise<void> {
    const timers = this.internal.timers;
    const contract = this.contractTrigger();
    if (!timers.contractNoticeSent && this.due(contract?.noticeAt)) {
      timers.contractNoticeSent = true;
      await mail.notify({
        applicationId: this.state.applicationId,
        to: [...CONTACT_ROLES],
        template: 'contract-ending',
        data: { contractEndsAt: contract?.dueAt ?? null },
        idempotencyKey: `${this.workflowId}:contract-ending`,
      });
    }
    if (this.due(contract?.dueAt)) {
      this.internal.termination = { stage: 'OFFBOARDED', trigger: 'contract-end', reason: `the contract ended (${this.internal.contractEndDate})`, actor: 'workflow' };
      return;
    }
    if (this.due(this.state.suspension?.graceEndsAt)) {
      this.internal.termination = {
        stage: 'OFFBOARDED',
        trigger: 'anchor-failure',
        reason: `suspended since ${this.state.suspension?.since} (${this.state.suspension?.reason}) and not reinstated within the grace period`,
        actor: 'workflow',
      };
      return;
    }
    if (this.due(timers.inactivityDueAt)) await this.checkInactivity();
    if (this.internal.termination !== null) return;
    if (this.due(timers.reverifyAt)) await this.reverifyAnchor();
    if (this.internal.termination !== null) return;
    if (this.due(timers.retireRotatedAt)) {
      timers.retireRotatedAt = null;
      await registry.retireRotatedAnchors({ applicationId: this.state.applicationId, workflowId: this.workflowId });
    }
    if (this.internal.approval === null && this.due(timers.recertifyAt)) {
      timers.recertifyAt = null;
      await this.openApproval('recertification', openApprovalStage({ tier: this.state.tier, requesterEmails: [] }).required);
    }
    const approval = this.internal.approval;
    if (approval !== null && !approval.escalated && this.due(approval.escalatesAt)) await this.escalate(approval);
    if (approval !== null && this.due(approval.expiresAt)) {
      approval.state = closeApprovalStage(approval.state);
      await this.concludeApproval(approval, 'expired');
    }
  }

  private async checkInactivity(): Promise<void> {
    const admittedAt = this.internal.admittedAt ?? nowIso();
    const usage = await registry.readUsage({ applicationId: this.state.applicationId, since: admittedAt });
    const lastSeen = usage.lastSeenAt ?? admittedAt;
    const window = this.durations.inactivityMs;
    if (isInactive(lastSeen, nowIso(), window)) {
      this.internal.termination = {
        stage: 'OFFBOARDED',
        trigger: 'inactivity',
        reason: usage.lastSeenAt === null ? `no call since admission (${admittedAt})` : `no call since ${usage.lastSeenAt}`,
        actor: 'workflow',
      };
      return;
    }
    this.internal.timers.inactivityDueAt = inactivityDueAt(lastSeen, window);
  }

  private async reverifyAnchor(): Promise<void> {
    const timers = this.internal.timers;
    timers.reverifyAt = addMs(nowIso(), this.durations.anchorReverificationEveryMs);
    this.internal.directory = await registry.loadApproverDirectory();
    let check;
    try {
      check = await verifiers.reverifyAnchor({ applicationId: this.state.applicationId, expiryNoticeMs: this.durations.anchorExpiryNoticeMs });
    } catch (error) {
      log.warn('re-verification could not complete; will try again at the next interval', { error: String(error) });
      return;
    }
    if (this.state.anchor !== null) {
      this.state.anchor.health = check.health;
      this.state.anchor.notAfter = check.notAfter;
    }
    if (check.health === 'healthy' || check.health === 'expiring') {
      if (this.state.stage === 'SUSPENDED') await this.reinstate('the trust anchor verifies again');
      if (check.health === 'expiring' && timers.anchorExpiryNoticeFor !== check.notAfter) {
        timers.anchorExpiryNoticeFor = check.notAfter;
        await mail.notify({
          applicationId: this.state.applicationId,
          to: ['technical', 'security'],
          template: 'anchor-expiring',
          data: { notAfter: check.notAfter, fingerprint: this.state.anchor?.fingerprint ?? null },
          idempotencyKey: `${this.workflowId}:anchor-expiring:${check.notAfter ?? ''}`,
        });
      }
      return;
    }
    if (this.state.stage === 'ADMITTED') {
      await this.suspend(`trust anchor ${check.health}: ${check.reasons.map((r) => r.code).join(', ') || check.health}`);
    }
  }

  private async suspend(reason: string): Promise<void> {
    const since = nowIso();
    const graceEndsAt = addMs(since, this.durations.suspensionGraceMs);
    await registry.suspendAccess({ applicationId: this.state.applicationId, workflowId: this.workflowId, reason, at: since });
    this.state.suspension = { reason, since, graceEndsAt };
    await this.transition('SUSPENDED', reason);
    await mail.notify({
      applicationId: this.state.applicationId,
      to: [...CONTACT_ROLES],
      template: 'suspended',
      data: { reason, graceEndsAt },
      idempotencyKey: `${this.workflowId}:suspended:${since}`,
    });
  }

  private async reinstate(reason: string): Promise<void> {
    const at = nowIso();
    await registry.reinstateAccess({ applicationId: this.state.applicationId, workflowId: this.workflowId, reason, at });
    this.state.suspension = null;
    await this.transition('ADMITTED', reason);
    await mail.notify({
      applicationId: this.state.applicationId,
      to: [...CONTACT_ROLES],
      template: 'reinstated',
      data: { reason },
      idempotencyKey: `${this.workflowId}:reinstated:${at}`,
    });
  }

  validateExpansion(input: ExpansionInput): void {
    if (this.state.stage !== 'ADMITTED') {
      refuse(UPDATE_REFUSALS.WRONG_STAGE, `Only an admitted application can ask for more scopes (this one is ${this.state.stage}).`);
    }
    if (
      typeof input !== 'object' ||
      input === null ||
      !Array.isArray(input.scopes) ||
      input.scopes.length === 0 ||
      input.scopes.length > 30 ||
      !input.scopes.every((s) => typeof s === 'string' && s.length <= 100) ||
      typeof input.requestedBy !== 'string'
    ) {
      refuse(UPDATE_REFUSALS.INVALID_INPUT, 'Name between 1 and 30 scopes, and who is asking.');
    }
    if (this.internal.approval !== null) {
      refuse(UPDATE_REFUSALS.WRONG_STAGE, 'A decision is already pending for this application; ask again once it is made.');
    }
  }

  async requestExpansion(input: ExpansionInput): Promise<ExpansionView> {
    this.validateExpansion(input);
    const grant = this.state.grant;
    if (grant === null || this.state.probationEndsAt === null) refuse(UPDATE_REFUSALS.WRONG_STAGE, 'Nothing has been granted yet.');
    const usage = await registry.readUsage({ applicationId: this.state.applicationId, since: this.internal.admittedAt ?? grant.grantedAt });
    const requestedAt = nowIso();
    const decision = decideExpansion({
      tier: this.state.tier,
      currentScopes: grant.scopes,
      requestedScopes: input.scopes,
      probationEndsAt: this.state.probationEndsAt,
      now: requestedAt,
      usage: {
        calls: usage.calls,
        denials: usage.denials,
        errors: usage.errors,
        anomalies: usage.anomalies,
        ...(usage.lastSeenAt === null ? {} : { lastSeenAt: usage.lastSeenAt }),
      },
      policy: this.internal.settings.expansionPolicy,
    });
    this.internal.expansionCount += 1;
    const view: ExpansionView = {
      id: `expansion-${this.internal.expansionCount}`,
      scopes: decision.scopes,
      requestedBy: input.requestedBy,
      requestedAt,
      decision: decision.decision,
      reasons: decision.reasons.map((r) => ({ code: r.code, message: r.message })),
    };
    this.state.expansions.push(view);
    await registry.recordAudit({
      applicationId: this.state.applicationId,
      idempotencyKey: `${this.workflowId}:${view.id}:requested`,
      type: 'expansion.requested',
      actor: input.requestedBy,
      occurredAt: requestedAt,
      data: { scopes: input.scopes, decision: decision.decision, reasons: view.reasons, usage: { ...usage } },
    });
    if (decision.decision === 'auto-grant') {
      await this.applyExpansion(view, []);
    } else if (decision.decision === 'needs-approval') {
      await this.openApproval('expansion', expansionApprovalsRequired(this.state.tier), { scopes: decision.scopes, expansionId: view.id });
    } else {
      await this.notifyExpansion(view);
    }
    return view;
  }

  private async applyExpansion(view: ExpansionView, approvedBy: string[]): Promise<void> {
    const grant = this.state.grant;
    if (grant === null) return;
    await registry.expandGrant({
      applicationId: this.state.applicationId,
      workflowId: this.workflowId,
      expansionId: view.id,
      scopes: view.scopes,
      approvedBy,
    });
    grant.scopes = [...new Set([...grant.scopes, ...view.scopes])].sort();
    await this.notifyExpansion(view);
  }

  private async notifyExpansion(view: ExpansionView): Promise<void> {
    await mail.notify({
      applicationId: this.state.applicationId,
      to: ['business', 'technical'],
      template: 'expansion-decided',
      data: { scopes: view.scopes, decision: view.decision, reasons: view.reasons.map((r) => r.message) },
      idempotencyKey: `${this.workflowId}:${view.id}:${view.decision}`,
    });
  }

  private async concludeApprovalIfDecided(): Promise<void> {
    const approval = this.internal.approval;
    if (approval === null) return;
    const outcome = approvalOutcome(approval.state);
    if (outcome !== 'pending') await this.concludeApproval(approval, outcome);
  }

  /** Ends an expansion or recertification decision taken while admitted. */
  private async concludeApproval(approval: OpenApproval, outcome: 'approved' | 'rejected' | 'expired'): Promise<void> {
    this.internal.approval = null;
    this.publishApproval();
    this.refreshWaitingFor();
    if (approval.purpose === 'expansion') {
      const view = this.state.expansions.find((e) => e.id === approval.expansionId);
      if (view === undefined) return;
      view.decision = outcome;
      if (outcome === 'approved') {
        await this.applyExpansion(view, approval.state.votes.map((v) => v.approverId));
      } else {
        await this.notifyExpansion(view);
      }
      return;
    }
    if (approval.purpose === 'recertification') {
      if (outcome === 'approved') {
        this.internal.timers.recertifyAt = addMs(nowIso(), recertificationIntervalMs(this.state.tier, this.durations) ?? 0);
        await registry.recordAudit({
          applicationId: this.state.applicationId,
          idempotencyKey: `${this.workflowId}:recertified:${approval.openedAt}`,
          type: 'recertification.approved',
          actor: approval.state.votes.map((v) => v.approverId).join(', '),
          occurredAt: nowIso(),
          data: { nextRecertificationAt: this.internal.timers.recertifyAt },
        });
      } else {
        this.internal.termination = {
          stage: 'OFFBOARDED',
          trigger: 'recertification',
          reason: outcome === 'rejected' ? 'recertification was refused' : `not recertified by ${approval.expiresAt}`,
          actor: outcome === 'rejected' ? (approval.state.votes.find((v) => v.decision === 'reject')?.approverId ?? 'approver') : 'workflow',
        };
      }
    }
  }

  // ── Messages that end a lifecycle ───────────────────────────────────────

  private directoryEntry(actor: Actor) {
    return this.internal.directory.find((entry) => entry.approverId === actor?.subject);
  }

  validateOffboard(input: OffboardInput): void {
    if (this.isClosed || this.internal.termination !== null) refuse(UPDATE_REFUSALS.WRONG_STAGE, `This application is already ${this.state.stage}.`);
    const entry = this.directoryEntry(input?.by);
    if (entry === undefined || !entry.roles.includes(APPROVER_ROLE)) {
      refuse(UPDATE_REFUSALS.NOT_AUTHORISED, 'Only an approver in the directory can offboard a partner.');
    }
    if (typeof input.reason !== 'string' || input.reason.trim() === '') refuse(UPDATE_REFUSALS.INVALID_INPUT, 'Say why the partner is offboarded.');
  }

  async offboard(input: OffboardInput): Promise<void> {
    this.validateOffboard(input);
    await this.terminate({ stage: 'OFFBOARDED', trigger: 'manual', reason: input.reason.trim(), actor: input.by.subject });
  }

  validateKeyCompromise(input: KeyCompromiseInput): void {
    if (this.isClosed) refuse(UPDATE_REFUSALS.WRONG_STAGE, `This application is already ${this.state.stage}.`);
    const entry = this.directoryEntry(input?.reportedBy);
    if (entry === undefined || !(entry.roles.includes(APPROVER_ROLE) || entry.roles.includes(SECURITY_REVIEWER_ROLE))) {
      refuse(UPDATE_REFUSALS.NOT_AUTHORISED, 'Only an approver or security reviewer in the directory can record a key compromise.');
    }
    if (typeof input.detail !== 'string' || input.detail.trim() === '') refuse(UPDATE_REFUSALS.INVALID_INPUT, 'Describe the compromise.');
  }

  /** Revokes at once: when this update returns, every grant and credential is revoked. */
  async reportKeyCompromise(input: KeyCompromiseInput): Promise<void> {
    this.validateKeyCompromise(input);
    await this.terminate({ stage: 'OFFBOARDED', trigger: 'key-compromise', reason: input.detail.trim(), actor: input.reportedBy.subject });
  }

  organisationEvent(event: OrganisationEvent): void {
    if (this.isClosed || this.internal.termination !== null) return;
    this.internal.termination = {
      stage: 'OFFBOARDED',
      trigger: `organisation-${event.kind}`,
      reason: event.reason,
      actor: event.by,
    };
    this.wake = true;
  }

  /**
   * Asks the main loop to close the lifecycle and waits until it has: the
   * first trigger wins, and the update answers only once access is revoked.
   */
  private async terminate(termination: Termination): Promise<void> {
    this.internal.termination ??= termination;
    this.wake = true;
    await condition(() => this.isClosed);
  }

  private async close(termination: Termination): Promise<void> {
    const at = nowIso();
    await registry.closeApplication({
      applicationId: this.state.applicationId,
      workflowId: this.workflowId,
      status: termination.stage,
      trigger: termination.trigger,
      reason: termination.reason,
      actor: termination.actor,
      at,
    });
    if (this.internal.approval !== null) {
      this.internal.approval.state = closeApprovalStage(this.internal.approval.state);
      this.internal.approval = null;
      this.publishApproval();
    }
    this.state.outcome = { stage: termination.stage, trigger: termination.trigger, reason: termination.reason, at };
    this.state.suspension = null;
    await this.transition(termination.stage, `${termination.trigger}: ${termination.reason}`);
    await mail.notify({
      applicationId: this.state.applicationId,
      to: [...CONTACT_ROLES],
      template: closingTemplate(termination),
      data: { trigger: termination.trigger, reason: termination.reason, at },
      idempotencyKey: `${this.workflowId}:closed`,
    });
  }

  // ── Plumbing ────────────────────────────────────────────────────────────

  /** Waits for `ready`, a message that needs the main loop, a termination, or `until`. */
  private async waitUntil(ready: () => boolean, until: string): Promise<void> {
    // `wake` is not cleared before waiting: a message that arrived while the loop was busy still counts.
    await condition(() => ready() || this.wake || this.internal.termination !== null || this.isClosed, msUntil(until));
    this.wake = false;
  }

  private async transition(stage: Stage, reason: string): Promise<void> {
    const from = this.state.stage;
    const at = nowIso();
    this.state.stage = stage;
    this.state.transitions.push({ stage, at, reason });
    if (this.state.transitions.length > MAX_TRANSITIONS_KEPT) this.state.transitions.shift();
    this.refreshWaitingFor();
    this.publishSearchAttributes();
    await registry.recordAudit({
      applicationId: this.state.applicationId,
      idempotencyKey: `${this.workflowId}:transition:${this.state.transitions.length}:${stage}:${at}`,
      type: 'lifecycle.transition',
      actor: 'workflow',
      occurredAt: at,
      data: { from, to: stage, reason, tier: this.state.tier },
    });
  }

  private waitingFor(): { code: string; text: string | null } {
    const approval = this.internal.approval;
    const approvalText = (): string => {
      if (approval === null) return '';
      const approvals = approval.state.votes.filter((v) => v.decision === 'approve').length;
      const more = approval.state.required - approvals;
      const reviewer = this.state.tier === 'REGULATED' ? ', one of them a security reviewer' : '';
      return `${more} more approval${more === 1 ? '' : 's'} from distinct approvers${reviewer} (${approval.purpose}), by ${approval.expiresAt}`;
    };
    switch (this.state.stage) {
      case 'REGISTERING':
        return { code: 'registry', text: 'the registry entry to be written' };
      case 'AWAITING_CONTACTS':
        return { code: 'contacts', text: `confirmation from the ${this.unconfirmedRoles().join(', ')} contact(s), by ${this.state.contactsDeadline}` };
      case 'AWAITING_ANCHOR':
        return {
          code: 'anchor',
          text: `the technical contact to prove a trust anchor (${allowedAnchorKinds(this.state.tier).join(', ')}), by ${this.internal.anchorDeadline}`,
        };
      case 'AWAITING_APPROVAL':
        return { code: 'approval', text: approvalText() };
      case 'ADMITTED':
        return approval === null ? { code: 'nothing', text: null } : { code: approval.purpose, text: approvalText() };
      case 'SUSPENDED':
        return { code: 'anchor-renewal', text: `a renewed trust anchor before ${this.state.suspension?.graceEndsAt}` };
      default:
        return { code: 'nothing', text: null };
    }
  }

  private refreshWaitingFor(): void {
    this.state.waitingFor = this.waitingFor().text;
  }

  private publishSearchAttributes(): void {
    const pairs: SearchAttributeUpdatePair[] = [
      { key: STAGE_KEY, value: this.state.stage },
      { key: TIER_KEY, value: this.state.tier },
      { key: WAITING_FOR_KEY, value: this.waitingFor().code },
    ];
    upsertSearchAttributes(pairs);
  }
}

function closingTemplate(termination: Termination): NotificationTemplate {
  if (termination.stage === 'REJECTED') return 'admission-rejected';
  if (termination.stage === 'EXPIRED') return termination.trigger === 'contact-expiry' ? 'contacts-expired' : 'admission-expired';
  return 'offboarded';
}

function sentence(message: string): string {
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return text.endsWith('.') ? text : `${text}.`;
}
