/**
 * The seeded approvers the development identity provider signs in. Their
 * subjects are `${issuer} ${sub}`, the same shape the approver directory
 * (activities/approvers.ts, DEVELOPMENT_APPROVERS) records, so the workflow
 * recognises whoever signs in here.
 */
export interface DevelopmentAccount {
  sub: string;
  name: string;
  email: string;
  roles: string[];
}

export const DEVELOPMENT_ACCOUNTS: readonly DevelopmentAccount[] = Object.freeze([
  { sub: 'ada', name: 'Ada Approver', email: 'ada.approver@admit.example', roles: ['approver'] },
  { sub: 'rui', name: 'Rui Reviewer', email: 'rui.reviewer@admit.example', roles: ['approver', 'security-reviewer'] },
  { sub: 'sam', name: 'Sam Second', email: 'sam.second@admit.example', roles: ['approver'] },
]);
