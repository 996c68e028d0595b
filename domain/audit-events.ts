/**
 * Every type of event Admit writes to its audit log, in one place. `appendAuditEvent` and the
 * workflow's `recordAudit` take only these (the compiler refuses any other literal, and the
 * registry refuses any other string at run time), and evidence/controls.ts maps each one to the
 * controls it evidences: a new type is added here, then mapped there, or the build fails.
 */
export const AUDIT_EVENT_TYPES = [
  // Registry entries and the application's end.
  'application.registered',
  'application.competing-signup',
  'application.closed',
  // The organisation: its verified attributes, and organisation-wide events (operations/organisation-events.ts).
  'organisation.attributes-verified',
  'organisation.contract-ended',
  'organisation.entity-struck-off',
  'organisation.offboarded',
  // Legal-entity and domain verification (docs/entity-verification.md).
  'entity.lei-checked',
  'entity.lei-accepted',
  'entity.lei-rejected',
  'entity.lei-rechecked',
  'entity.domain-challenge-issued',
  'entity.domain-checked',
  // Contacts.
  'contact.confirmation-sent',
  'contact.confirmed',
  // Trust anchors.
  'anchor.refused',
  'anchor.bound',
  'anchor.rotated-in',
  'anchor.rotated',
  'anchor.retired',
  // Risk and decisions by people (or by a LOW tier's template).
  'risk.assessed',
  'admission.vote',
  'admission.approved',
  'expansion.requested',
  'expansion.vote',
  'recertification.vote',
  'recertification.approved',
  // Grants and their credential.
  'access.granted',
  'grant.expanded',
  'access.suspended',
  'access.reinstated',
  'keycloak.client-provisioned',
  'keycloak.client-removed',
  // Notifications, the lifecycle itself, and approvers.
  'notification.sent',
  'notification.undeliverable',
  'lifecycle.transition',
  'lifecycle.settings-applied',
  'lifecycle.unsealed-message-ignored',
  'approver.enrolled',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

const KNOWN: ReadonlySet<string> = new Set(AUDIT_EVENT_TYPES);

export function isAuditEventType(value: unknown): value is AuditEventType {
  return typeof value === 'string' && KNOWN.has(value);
}
