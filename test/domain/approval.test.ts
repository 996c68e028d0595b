import { describe, expect, it } from 'vitest';
import type { ApprovalState, ApproverDirectory, VoteInput } from '../../domain';
import {
  applyVote,
  approvalOutcome,
  closeApprovalStage,
  DomainInputError,
  expansionApprovalsRequired,
  openApprovalStage,
  validateVote,
} from '../../domain';

const directory: ApproverDirectory = [
  { approverId: 'ana', email: 'ana@platform.example', roles: ['approver'] },
  { approverId: 'ben', email: 'ben@platform.example', roles: ['approver'] },
  { approverId: 'sec', email: 'sec@platform.example', roles: ['approver', 'security-reviewer'] },
  { approverId: 'sec-only', email: 'sec-only@platform.example', roles: ['security-reviewer'] },
  { approverId: 'viewer', email: 'viewer@platform.example', roles: ['auditor'] },
  { approverId: 'insider', email: '  Owner@Partner.Example ', roles: ['approver'] },
  { approverId: 'no-email', email: '', roles: ['approver'] },
];

const contacts = ['owner@partner.example', 'tech@partner.example', 'security@partner.example'];

function vote(approverId: string, decision: 'approve' | 'reject' = 'approve', comment = 'looks right'): VoteInput {
  return { approverId, decision, comment, at: '2026-12-01T09:00:00.000Z' };
}

/** Validate then apply, failing the test on a refusal. */
function cast(state: ApprovalState, input: VoteInput) {
  const validation = validateVote(state, input, directory);
  if (!validation.ok) throw new Error(`unexpected refusal ${validation.refusal.code}`);
  return applyVote(state, validation.vote);
}

function refusalCode(state: ApprovalState, input: VoteInput): string | undefined {
  const validation = validateVote(state, input, directory);
  return validation.ok ? undefined : validation.refusal.code;
}

describe('openApprovalStage', () => {
  it('opens with the number of approvals the tier requires', () => {
    expect(openApprovalStage({ tier: 'MEDIUM', requesterEmails: contacts })).toEqual({
      tier: 'MEDIUM',
      required: 1,
      votes: [],
      closed: false,
      requesterEmails: contacts,
    });
    expect(openApprovalStage({ tier: 'REGULATED', requesterEmails: [] }).required).toBe(2);
  });

  it('opens a LOW expansion stage that needs one approver', () => {
    const state = openApprovalStage({ tier: 'LOW', requesterEmails: contacts, required: expansionApprovalsRequired('LOW') });
    expect(state.required).toBe(1);
    expect(state.closed).toBe(false);
    expect(cast(state, vote('ana')).outcome).toBe('approved');
  });

  it('refuses a required count that is not a non-negative integer', () => {
    expect(() => openApprovalStage({ tier: 'HIGH', requesterEmails: [], required: -1 })).toThrow(DomainInputError);
    expect(() => openApprovalStage({ tier: 'HIGH', requesterEmails: [], required: 1.5 })).toThrow(/non-negative integer/);
  });

  it('copies the requester emails rather than alias them', () => {
    const emails = ['a@partner.example'];
    const state = openApprovalStage({ tier: 'HIGH', requesterEmails: emails });
    emails.push('b@partner.example');
    expect(state.requesterEmails).toEqual(['a@partner.example']);
  });

  it('opens a LOW stage already closed and approved', () => {
    const state = openApprovalStage({ tier: 'LOW', requesterEmails: contacts });
    expect(state.closed).toBe(true);
    expect(approvalOutcome(state)).toBe('approved');
    expect(refusalCode(state, vote('ana'))).toBe('APPROVAL_STAGE_CLOSED');
  });
});

describe('validateVote', () => {
  const high = openApprovalStage({ tier: 'HIGH', requesterEmails: contacts });

  it('accepts an authorised, independent approver and returns the vote with their roles', () => {
    expect(validateVote(high, vote('sec'), directory)).toEqual({
      ok: true,
      vote: { ...vote('sec'), roles: ['approver', 'security-reviewer'] },
    });
  });

  it('refuses votes on a closed stage', () => {
    const validation = validateVote(closeApprovalStage(high), vote('ana'), directory);
    expect(validation).toEqual({ ok: false, refusal: { code: 'APPROVAL_STAGE_CLOSED', message: 'the approval stage is closed' } });
  });

  it('refuses someone not in the directory', () => {
    expect(refusalCode(high, vote('mallory'))).toBe('APPROVER_UNKNOWN');
    expect(refusalCode(high, vote('ANA'))).toBe('APPROVER_UNKNOWN');
  });

  it('refuses someone without the approver role, even a security reviewer', () => {
    expect(refusalCode(high, vote('viewer'))).toBe('APPROVER_NOT_AUTHORISED');
    expect(refusalCode(high, vote('sec-only'))).toBe('APPROVER_NOT_AUTHORISED');
  });

  it('refuses an approver with no email, whose independence cannot be checked', () => {
    expect(refusalCode(high, vote('no-email'))).toBe('APPROVER_NOT_AUTHORISED');
  });

  it('refuses an approver who is a contact or the requester, ignoring case and spaces', () => {
    expect(refusalCode(high, vote('insider'))).toBe('APPROVER_IS_REQUESTER');
    const requestedByBen = openApprovalStage({ tier: 'HIGH', requesterEmails: ['BEN@PLATFORM.EXAMPLE'] });
    expect(refusalCode(requestedByBen, vote('ben'))).toBe('APPROVER_IS_REQUESTER');
    expect(refusalCode(requestedByBen, vote('ana'))).toBeUndefined();
  });

  it('refuses a second vote by the same approver, whatever the decision', () => {
    const { state } = cast(high, vote('ana'));
    expect(refusalCode(state, vote('ana'))).toBe('APPROVER_ALREADY_VOTED');
    expect(refusalCode(state, vote('ana', 'reject', 'changed my mind'))).toBe('APPROVER_ALREADY_VOTED');
  });

  it('requires a rejection to say why', () => {
    expect(refusalCode(high, vote('ana', 'reject', '   '))).toBe('COMMENT_REQUIRED');
    expect(refusalCode(high, vote('ana', 'reject', 'anchor belongs to another entity'))).toBeUndefined();
    expect(refusalCode(high, vote('ana', 'approve', ''))).toBeUndefined();
  });

  it.each([
    [{ approverId: '', decision: 'approve', comment: '', at: '2026-12-01T09:00:00Z' }, /approverId/],
    [{ approverId: 'ana', decision: 'maybe', comment: '', at: '2026-12-01T09:00:00Z' }, /decision/],
    [{ approverId: 'ana', decision: 'approve', comment: 3, at: '2026-12-01T09:00:00Z' }, /comment/],
    [{ approverId: 'ana', decision: 'approve', comment: '', at: 'yesterday' }, /at must be/],
    [{ approverId: 'ana', decision: 'approve', comment: '' }, /at must be/],
  ])('refuses a malformed vote %j', (input, message) => {
    const validation = validateVote(high, input as unknown as VoteInput, directory);
    expect(validation.ok).toBe(false);
    if (!validation.ok) {
      expect(validation.refusal.code).toBe('VOTE_INVALID');
      expect(validation.refusal.message).toMatch(message);
    }
  });

  it('refuses a null vote', () => {
    expect(refusalCode(high, null as unknown as VoteInput)).toBe('VOTE_INVALID');
  });

  it('checks in order: a closed stage is reported before anything else', () => {
    expect(refusalCode(closeApprovalStage(high), vote('mallory'))).toBe('APPROVAL_STAGE_CLOSED');
  });
});

describe('REGULATED needs a security reviewer among the approvers', () => {
  const regulated = openApprovalStage({ tier: 'REGULATED', requesterEmails: contacts });

  it('accepts a first approval from a plain approver but refuses a second one', () => {
    const { state, outcome } = cast(regulated, vote('ana'));
    expect(outcome).toBe('pending');
    const validation = validateVote(state, vote('ben'), directory);
    expect(validation.ok).toBe(false);
    if (!validation.ok) {
      expect(validation.refusal.code).toBe('SECURITY_REVIEWER_REQUIRED');
      expect(validation.refusal.message).toContain('security-reviewer');
    }
  });

  it('approves with a plain approver and a security reviewer, in either order', () => {
    expect(cast(cast(regulated, vote('ana')).state, vote('sec')).outcome).toBe('approved');
    expect(cast(cast(regulated, vote('sec')).state, vote('ana')).outcome).toBe('approved');
  });

  it('lets a plain approver reject without a security reviewer', () => {
    const { state } = cast(regulated, vote('ana'));
    expect(cast(state, vote('ben', 'reject', 'insufficient evidence')).outcome).toBe('rejected');
  });

  it('does not apply the rule to HIGH or STRATEGIC', () => {
    for (const tier of ['HIGH', 'STRATEGIC'] as const) {
      const stage = openApprovalStage({ tier, requesterEmails: contacts });
      expect(cast(cast(stage, vote('ana')).state, vote('ben')).outcome).toBe('approved');
    }
  });
});

describe('applyVote', () => {
  it('approves MEDIUM on one approval and closes the stage', () => {
    const medium = openApprovalStage({ tier: 'MEDIUM', requesterEmails: contacts });
    const { state, outcome } = cast(medium, vote('ana'));
    expect(outcome).toBe('approved');
    expect(state.closed).toBe(true);
    expect(state.votes).toEqual([{ ...vote('ana'), roles: ['approver'] }]);
  });

  it('keeps HIGH pending after one approval, approves after two distinct approvers', () => {
    const high = openApprovalStage({ tier: 'HIGH', requesterEmails: contacts });
    const first = cast(high, vote('ana'));
    expect(first.outcome).toBe('pending');
    expect(first.state.closed).toBe(false);
    const second = cast(first.state, vote('ben'));
    expect(second.outcome).toBe('approved');
    expect(second.state.closed).toBe(true);
    expect(second.state.votes.map((recorded) => recorded.approverId)).toEqual(['ana', 'ben']);
  });

  it('rejects on a single rejection even after an approval', () => {
    const high = openApprovalStage({ tier: 'HIGH', requesterEmails: contacts });
    const { state, outcome } = cast(cast(high, vote('ana')).state, vote('ben', 'reject', 'wrong legal entity'));
    expect(outcome).toBe('rejected');
    expect(state.closed).toBe(true);
    expect(approvalOutcome(state)).toBe('rejected');
  });

  it('never mutates the state it was given', () => {
    const high = openApprovalStage({ tier: 'HIGH', requesterEmails: contacts });
    const snapshot = structuredClone(high);
    const { state } = cast(high, vote('ana'));
    expect(high).toEqual(snapshot);
    expect(state).not.toBe(high);
    expect(state.votes).not.toBe(high.votes);
  });

  it('throws rather than record a vote on a closed stage or a repeat voter', () => {
    const medium = openApprovalStage({ tier: 'MEDIUM', requesterEmails: contacts });
    const { state } = cast(medium, vote('ana'));
    expect(() => applyVote(state, { ...vote('ben'), roles: ['approver'] })).toThrow(DomainInputError);
    const high = openApprovalStage({ tier: 'HIGH', requesterEmails: contacts });
    const once = cast(high, vote('ana')).state;
    expect(() => applyVote(once, { ...vote('ana'), roles: ['approver'] })).toThrow(/already voted/);
  });
});

describe('approvalOutcome and closeApprovalStage', () => {
  it('is pending on an open stage with no votes', () => {
    expect(approvalOutcome(openApprovalStage({ tier: 'HIGH', requesterEmails: [] }))).toBe('pending');
  });

  it('keeps a REGULATED stage pending when two approvals lack a security reviewer', () => {
    const state: ApprovalState = {
      ...openApprovalStage({ tier: 'REGULATED', requesterEmails: [] }),
      votes: [
        { ...vote('ana'), roles: ['approver'] },
        { ...vote('ben'), roles: ['approver'] },
      ],
    };
    expect(approvalOutcome(state)).toBe('pending');
  });

  it('closes without a decision and without mutating the input', () => {
    const open = openApprovalStage({ tier: 'HIGH', requesterEmails: contacts });
    const closed = closeApprovalStage(open);
    expect(closed.closed).toBe(true);
    expect(open.closed).toBe(false);
    expect(approvalOutcome(closed)).toBe('pending');
  });
});
