import type { Stage } from '../workflows/messages';

/**
 * What anyone who knows (or guesses) an application's id may learn: where it
 * stands, and what it waits for in general terms. No names, contacts,
 * requester emails, approvers or their comments: those are for a browser in
 * which one of the application's contacts confirmed, or a signed-in approver.
 */
export interface PublicApplicationView {
  applicationId: string;
  workflow: {
    /** Temporal's execution status (RUNNING, COMPLETED, …). */
    status: string;
    stage: Stage | null;
    /** In general terms; the specifics are on the full view. */
    waitingFor: string | null;
  };
}

const WAITING_FOR: Partial<Record<Stage, string>> = {
  REGISTERING: 'registration',
  AWAITING_CONTACTS: 'contact confirmation',
  AWAITING_ANCHOR: 'trust-anchor verification',
  AWAITING_APPROVAL: 'an approval decision',
  SUSPENDED: 'a valid trust anchor',
};

export function publicApplicationView(applicationId: string, workflow: { status: string; stage?: Stage }): PublicApplicationView {
  const stage = workflow.stage ?? null;
  return {
    applicationId,
    workflow: { status: workflow.status, stage, waitingFor: stage === null ? null : (WAITING_FOR[stage] ?? null) },
  };
}
