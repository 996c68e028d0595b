import { DomainInputError } from './errors';
import { approvalsRequired } from './risk';
import type { RiskTier } from './tiers';
import { epochMs } from './time';

/** Needed by everyone who votes. */
export const APPROVER_ROLE = 'approver';
/** Needed, in addition, by at least one of the approvers of a REGULATED admission. */
export const SECURITY_REVIEWER_ROLE = 'security-reviewer';

export interface ApproverRecord {
  approverId: string;
  email: string;
  roles: readonly string[];
}

/** A snapshot of the people who may vote, held in workflow state so validation is deterministic. */
export type ApproverDirectory = readonly ApproverRecord[];

export type VoteDecision = 'approve' | 'reject';

/** What an approver sends (the Update's argument); `at` is the workflow time it arrived, ISO-8601. */
export interface VoteInput {
  approverId: string;
  decision: VoteDecision;
  comment: string;
  at: string;
}

/** A vote as recorded, with the roles the approver held when voting (evidence for the audit log). */
export interface Vote extends VoteInput {
  roles: string[];
}

export interface ApprovalState {
  tier: RiskTier;
  required: number;
  votes: Vote[];
  closed: boolean;
  /** The requester and every contact of the application: none of them may approve it. */
  requesterEmails: string[];
}

export type ApprovalOutcome = 'pending' | 'approved' | 'rejected';

export type VoteRefusalCode =
  | 'APPROVAL_STAGE_CLOSED'
  | 'VOTE_INVALID'
  | 'APPROVER_UNKNOWN'
  | 'APPROVER_NOT_AUTHORISED'
  | 'APPROVER_IS_REQUESTER'
  | 'APPROVER_ALREADY_VOTED'
  | 'COMMENT_REQUIRED'
  | 'SECURITY_REVIEWER_REQUIRED';

export interface VoteRefusal {
  code: VoteRefusalCode;
  message: string;
}

/** On success, the vote as it will be recorded: pass it to `applyVote`. */
export type VoteValidation = { ok: true; vote: Vote } | { ok: false; refusal: VoteRefusal };

/**
 * Opens a stage needing `required` distinct approvals, by default the tier's admission count
 * (pass `expansionApprovalsRequired(tier)` for an expansion). A stage needing none (a LOW
 * admission) opens already closed and approved.
 */
export function openApprovalStage({
  tier,
  requesterEmails,
  required = approvalsRequired(tier),
}: {
  tier: RiskTier;
  requesterEmails: readonly string[];
  required?: number;
}): ApprovalState {
  if (!Number.isSafeInteger(required) || required < 0) {
    throw new DomainInputError('APPROVALS_REQUIRED_INVALID', `required approvals must be a non-negative integer, not ${required}`);
  }
  return { tier, required, votes: [], closed: required === 0, requesterEmails: [...requesterEmails] };
}

/**
 * The Update validator. Checks in this order, reporting the first failure: stage open, vote
 * well-formed, approver known, holds `approver`, is not the requester or a contact (emails compared
 * trimmed and case-insensitively), has not voted yet, explains a rejection, and — for REGULATED —
 * the approval that would complete the stage comes from a security reviewer unless one already
 * approved. Refusing that last vote (rather than recording it and waiting) tells the sender at once
 * that a security reviewer is needed, and keeps "approved" meaning exactly `required` approvals.
 */
export function validateVote(state: ApprovalState, vote: VoteInput, directory: ApproverDirectory): VoteValidation {
  const refuse = (code: VoteRefusalCode, message: string): VoteValidation => ({ ok: false, refusal: { code, message } });

  if (state.closed) return refuse('APPROVAL_STAGE_CLOSED', 'the approval stage is closed');

  const shapeProblem = voteShapeProblem(vote);
  if (shapeProblem) return refuse('VOTE_INVALID', shapeProblem);

  const approver = directory.find((entry) => entry.approverId === vote.approverId);
  if (!approver) return refuse('APPROVER_UNKNOWN', `${JSON.stringify(vote.approverId)} is not in the approver directory`);

  if (!approver.roles.includes(APPROVER_ROLE)) {
    return refuse('APPROVER_NOT_AUTHORISED', `${vote.approverId} does not hold the ${APPROVER_ROLE} role`);
  }
  const approverEmail = normaliseEmail(approver.email);
  if (approverEmail === '') {
    return refuse('APPROVER_NOT_AUTHORISED', `${vote.approverId} has no email on record, so independence from the requester cannot be checked`);
  }
  if (state.requesterEmails.some((email) => normaliseEmail(email) === approverEmail)) {
    return refuse('APPROVER_IS_REQUESTER', `${vote.approverId} is the requester or a contact of this application`);
  }
  if (state.votes.some((recorded) => recorded.approverId === vote.approverId)) {
    return refuse('APPROVER_ALREADY_VOTED', `${vote.approverId} has already voted`);
  }
  if (vote.decision === 'reject' && vote.comment.trim() === '') {
    return refuse('COMMENT_REQUIRED', 'a rejection must say why');
  }
  if (vote.decision === 'approve' && state.tier === 'REGULATED' && !approver.roles.includes(SECURITY_REVIEWER_ROLE)) {
    const approvals = approvingVotes(state);
    const completes = approvals.length + 1 >= state.required;
    if (completes && !approvals.some((recorded) => recorded.roles.includes(SECURITY_REVIEWER_ROLE))) {
      return refuse(
        'SECURITY_REVIEWER_REQUIRED',
        `a REGULATED admission needs one approval from a ${SECURITY_REVIEWER_ROLE}; this would be the last approval and none has come from one`,
      );
    }
  }
  return {
    ok: true,
    vote: { approverId: vote.approverId, decision: vote.decision, comment: vote.comment, at: vote.at, roles: [...approver.roles] },
  };
}

/**
 * Record a validated vote. One rejection rejects; `required` distinct approvals approve; either
 * closes the stage. Throws on a closed stage or a repeat voter, which `validateVote` refuses first.
 */
export function applyVote(state: ApprovalState, vote: Vote): { state: ApprovalState; outcome: ApprovalOutcome } {
  if (state.closed) throw new DomainInputError('APPROVAL_STAGE_CLOSED', 'cannot record a vote on a closed approval stage');
  if (state.votes.some((recorded) => recorded.approverId === vote.approverId)) {
    throw new DomainInputError('APPROVER_ALREADY_VOTED', `${vote.approverId} has already voted`);
  }
  const votes = [...state.votes, { ...vote, roles: [...vote.roles] }];
  const next: ApprovalState = { ...state, votes, requesterEmails: [...state.requesterEmails] };
  const outcome = approvalOutcome(next);
  return { state: { ...next, closed: outcome !== 'pending' }, outcome };
}

/** The outcome the votes so far amount to (a closed stage with no decision expired or was withdrawn). */
export function approvalOutcome(state: ApprovalState): ApprovalOutcome {
  if (state.votes.some((vote) => vote.decision === 'reject')) return 'rejected';
  const approvals = approvingVotes(state);
  if (approvals.length < state.required) return 'pending';
  if (state.tier === 'REGULATED' && state.required > 0 && !approvals.some((vote) => vote.roles.includes(SECURITY_REVIEWER_ROLE))) {
    return 'pending';
  }
  return 'approved';
}

/** Close without a decision, e.g. when the approval expiry timer fires. */
export function closeApprovalStage(state: ApprovalState): ApprovalState {
  return { ...state, votes: [...state.votes], requesterEmails: [...state.requesterEmails], closed: true };
}

function approvingVotes(state: ApprovalState): Vote[] {
  return state.votes.filter((vote) => vote.decision === 'approve');
}

function voteShapeProblem(vote: unknown): string | undefined {
  if (typeof vote !== 'object' || vote === null) return 'a vote must be an object';
  const { approverId, decision, comment, at } = vote as Record<string, unknown>;
  if (typeof approverId !== 'string' || approverId.trim() === '') return 'approverId must be a non-empty string';
  if (decision !== 'approve' && decision !== 'reject') return 'decision must be "approve" or "reject"';
  if (typeof comment !== 'string') return 'comment must be a string';
  if (typeof at !== 'string' || epochMs(at) === undefined) return 'at must be an ISO-8601 instant';
  return undefined;
}

function normaliseEmail(email: unknown): string {
  return typeof email === 'string' ? email.trim().toLowerCase() : '';
}
