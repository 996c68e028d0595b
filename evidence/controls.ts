/**
 * Which controls each audit event evidences: reviewed data, in this one file.
 *
 * - `CONTROLS` is the catalogue (id, framework, title as the source words it, and where a control
 *   cannot be evidenced by Admit's events, why).
 * - `EVENT_CONTROLS` maps every type in domain/audit-events.ts to the controls it evidences, one line
 *   per (event, control) with a short justification. The compiler refuses a missing event type or a
 *   control id not in the catalogue; test/evidence/controls.test.ts checks the same at run time.
 * - `controlsSection(events)` is the dossier's controls section for one partner's events.
 *
 * Sources:
 * - OWASP Top 10 Non-Human Identities Risks – 2025: https://owasp.org/www-project-non-human-identities-top-10/2025/top-10-2025
 * - NIST CSF 2.0 (CSWP 29), PR.AA and GV.SC subcategories: https://doi.org/10.6028/NIST.CSWP.29
 * - NIST SP 800-207 Zero Trust Architecture, §2.1 tenets and §3 logical components: https://doi.org/10.6028/NIST.SP.800-207
 */
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../domain/audit-events';

export const FRAMEWORKS = {
  'OWASP-NHI-2025': 'OWASP Top 10 Non-Human Identities Risks (2025)',
  'NIST-CSF-2.0': 'NIST Cybersecurity Framework 2.0',
  'NIST-SP-800-207': 'NIST SP 800-207 Zero Trust Architecture',
} as const;

export type Framework = keyof typeof FRAMEWORKS;

export interface Control {
  readonly id: string;
  readonly framework: Framework;
  readonly title: string;
  /** Why Admit's audit events cannot (or do not yet) evidence it, where that is so. */
  readonly gap?: string;
}

export const CONTROLS = [
  // OWASP NHI Top 10 (2025): risks; an event evidences a control against the risk.
  { id: 'NHI1', framework: 'OWASP-NHI-2025', title: 'NHI1:2025 Improper Offboarding' },
  { id: 'NHI2', framework: 'OWASP-NHI-2025', title: 'NHI2:2025 Secret Leakage' },
  { id: 'NHI3', framework: 'OWASP-NHI-2025', title: 'NHI3:2025 Vulnerable Third-Party NHI' },
  { id: 'NHI4', framework: 'OWASP-NHI-2025', title: 'NHI4:2025 Insecure Authentication' },
  { id: 'NHI5', framework: 'OWASP-NHI-2025', title: 'NHI5:2025 Overprivileged NHI' },
  { id: 'NHI6', framework: 'OWASP-NHI-2025', title: 'NHI6:2025 Insecure Cloud Deployment Configurations' },
  { id: 'NHI7', framework: 'OWASP-NHI-2025', title: 'NHI7:2025 Long-Lived Secrets' },
  { id: 'NHI8', framework: 'OWASP-NHI-2025', title: 'NHI8:2025 Environment Isolation' },
  { id: 'NHI9', framework: 'OWASP-NHI-2025', title: 'NHI9:2025 NHI Reuse' },
  {
    id: 'NHI10',
    framework: 'OWASP-NHI-2025',
    title: 'NHI10:2025 Human Use of NHI',
    gap: 'Admit never sees who holds the partner’s private key; gateways’ usage anomalies are the only signal, and they are usage reports, not audit events.',
  },
  // NIST CSF 2.0: PR.AA (identity management, authentication and access control).
  {
    id: 'PR.AA-01',
    framework: 'NIST-CSF-2.0',
    title: 'Identities and credentials for authorized users, services, and hardware are managed by the organization',
  },
  { id: 'PR.AA-02', framework: 'NIST-CSF-2.0', title: 'Identities are proofed and bound to credentials based on the context of interactions' },
  { id: 'PR.AA-03', framework: 'NIST-CSF-2.0', title: 'Users, services, and hardware are authenticated' },
  { id: 'PR.AA-04', framework: 'NIST-CSF-2.0', title: 'Identity assertions are protected, conveyed, and verified' },
  {
    id: 'PR.AA-05',
    framework: 'NIST-CSF-2.0',
    title:
      'Access permissions, entitlements, and authorizations are defined in a policy, managed, enforced, and reviewed, and incorporate the principles of least privilege and separation of duties',
  },
  {
    id: 'PR.AA-06',
    framework: 'NIST-CSF-2.0',
    title: 'Physical access to assets is managed, monitored, and enforced commensurate with risk',
    gap: 'Physical access is outside what Admit does; listed so the PR.AA category is complete.',
  },
  // NIST CSF 2.0: GV.SC (cybersecurity supply chain risk management), where partner admission fits.
  {
    id: 'GV.SC-02',
    framework: 'NIST-CSF-2.0',
    title:
      'Cybersecurity roles and responsibilities for suppliers, customers, and partners are established, communicated, and coordinated internally and externally',
  },
  { id: 'GV.SC-04', framework: 'NIST-CSF-2.0', title: 'Suppliers are known and prioritized by criticality' },
  {
    id: 'GV.SC-05',
    framework: 'NIST-CSF-2.0',
    title:
      'Requirements to address cybersecurity risks in supply chains are established, prioritized, and integrated into contracts and other types of agreements with suppliers and other relevant third parties',
  },
  {
    id: 'GV.SC-06',
    framework: 'NIST-CSF-2.0',
    title: 'Planning and due diligence are performed to reduce risks before entering into formal supplier or other third-party relationships',
  },
  {
    id: 'GV.SC-07',
    framework: 'NIST-CSF-2.0',
    title:
      'The risks posed by a supplier, their products and services, and other third parties are understood, recorded, prioritized, assessed, responded to, and monitored over the course of the relationship',
  },
  {
    id: 'GV.SC-08',
    framework: 'NIST-CSF-2.0',
    title: 'Relevant suppliers and other third parties are included in incident planning, response, and recovery activities',
  },
  {
    id: 'GV.SC-10',
    framework: 'NIST-CSF-2.0',
    title:
      'Cybersecurity supply chain risk management plans include provisions for activities that occur after the conclusion of a partnership or service agreement',
  },
  // NIST SP 800-207 §2.1: the seven tenets.
  { id: 'ZTA-T1', framework: 'NIST-SP-800-207', title: 'Tenet 1: All data sources and computing services are considered resources' },
  { id: 'ZTA-T2', framework: 'NIST-SP-800-207', title: 'Tenet 2: All communication is secured regardless of network location' },
  { id: 'ZTA-T3', framework: 'NIST-SP-800-207', title: 'Tenet 3: Access to individual enterprise resources is granted on a per-session basis' },
  {
    id: 'ZTA-T4',
    framework: 'NIST-SP-800-207',
    title:
      'Tenet 4: Access to resources is determined by dynamic policy—including the observable state of client identity, application/service, and the requesting asset—and may include other behavioral and environmental attributes',
  },
  {
    id: 'ZTA-T5',
    framework: 'NIST-SP-800-207',
    title: 'Tenet 5: The enterprise monitors and measures the integrity and security posture of all owned and associated assets',
  },
  {
    id: 'ZTA-T6',
    framework: 'NIST-SP-800-207',
    title: 'Tenet 6: All resource authentication and authorization are dynamic and strictly enforced before access is allowed',
  },
  {
    id: 'ZTA-T7',
    framework: 'NIST-SP-800-207',
    title:
      'Tenet 7: The enterprise collects as much information as possible about the current state of assets, network infrastructure and communications and uses it to improve its security posture',
  },
  // NIST SP 800-207 §3: logical components and the data sources that feed the policy engine.
  { id: 'ZTA-PE', framework: 'NIST-SP-800-207', title: '§3 Policy engine (PE)' },
  { id: 'ZTA-PA', framework: 'NIST-SP-800-207', title: '§3 Policy administrator (PA)' },
  { id: 'ZTA-PEP', framework: 'NIST-SP-800-207', title: '§3 Policy enforcement point (PEP)' },
  { id: 'ZTA-DS-CDM', framework: 'NIST-SP-800-207', title: '§3 data source: Continuous diagnostics and mitigation (CDM) system' },
  { id: 'ZTA-DS-COMPLIANCE', framework: 'NIST-SP-800-207', title: '§3 data source: Industry compliance system' },
  {
    id: 'ZTA-DS-THREAT',
    framework: 'NIST-SP-800-207',
    title: '§3 data source: Threat intelligence feed(s)',
    gap: 'Admit takes no threat-intelligence feed; a reported key compromise is an operator’s signal, evidenced under NHI2.',
  },
  { id: 'ZTA-DS-ACTIVITY', framework: 'NIST-SP-800-207', title: '§3 data source: Network and system activity logs' },
  { id: 'ZTA-DS-POLICY', framework: 'NIST-SP-800-207', title: '§3 data source: Data access policies' },
  { id: 'ZTA-DS-PKI', framework: 'NIST-SP-800-207', title: '§3 data source: Enterprise public key infrastructure (PKI)' },
  { id: 'ZTA-DS-ID', framework: 'NIST-SP-800-207', title: '§3 data source: ID management system' },
  {
    id: 'ZTA-DS-SIEM',
    framework: 'NIST-SP-800-207',
    title: '§3 data source: Security information and event management (SIEM) system',
    gap: 'Admit keeps its own hash-chained log and exports dossiers; it does not feed or read a SIEM.',
  },
] as const satisfies readonly Control[];

export type ControlId = (typeof CONTROLS)[number]['id'];

export interface Evidences {
  readonly control: ControlId;
  /** Why this event is evidence for this control, in a sentence. */
  readonly why: string;
  /** Only events whose data has this top-level field equal to one of these values (e.g. a closure's trigger). */
  readonly when?: { readonly field: string; readonly equals: readonly string[] };
}

/** Every audit event type, and the controls it evidences. Reviewed data: one line per (event, control). */
export const EVENT_CONTROLS: Readonly<Record<AuditEventType, readonly Evidences[]>> = {
  'application.registered': [
    {
      control: 'PR.AA-01',
      why: 'The application, its organisation and its contacts enter the registry: the non-human identity is managed from its first day.',
    },
    {
      control: 'GV.SC-04',
      why: 'Every partner is on record with its LEI, purpose, data sensitivity and requested scopes, the inputs of its criticality.',
    },
    { control: 'NHI3', why: 'A third party’s machine identity exists only after it is registered with an owner organisation and named contacts.' },
    { control: 'ZTA-DS-ID', why: 'The registry is the ID management system the access decisions read.' },
  ],
  'application.competing-signup': [
    { control: 'PR.AA-02', why: 'A second claim to an identity another requester holds is recorded and held apart, not merged into it.' },
    { control: 'GV.SC-06', why: 'Conflicting claims surface before any relationship is entered.' },
  ],
  'application.closed': [
    {
      control: 'NHI1',
      why: 'Grants and client credentials are revoked and anchors retired (revoked on key compromise) in the same transaction as the closure.',
    },
    {
      control: 'NHI2',
      why: 'On a reported key compromise the anchor is revoked with every credential bound to it.',
      when: { field: 'trigger', equals: ['key-compromise'] },
    },
    { control: 'PR.AA-01', why: 'The credentials’ end is recorded with the trigger, reason and actor.' },
    {
      control: 'GV.SC-10',
      why: 'The end of the partnership (contract end, inactivity, failed recertification, manual) is carried into access at once.',
    },
    { control: 'ZTA-PA', why: 'The policy administrator tears down the partner’s path to resources.' },
  ],
  'organisation.attributes-verified': [
    { control: 'PR.AA-02', why: 'The organisation’s name, jurisdiction and domain are taken from the verified LEI record and domain proof.' },
    { control: 'GV.SC-06', why: 'Due diligence on the legal entity is complete before admission.' },
    { control: 'ZTA-DS-ID', why: 'Verified attributes update the ID management system.' },
  ],
  'organisation.contract-ended': [
    { control: 'NHI1', why: 'The end of the organisation’s contract offboards every application it runs.' },
    { control: 'GV.SC-05', why: 'The contract’s term is enforced in access, not only on paper.' },
    { control: 'GV.SC-10', why: 'What happens after the agreement ends is executed and recorded.' },
  ],
  'organisation.entity-struck-off': [
    { control: 'NHI1', why: 'A struck-off legal entity loses every application’s access.' },
    { control: 'GV.SC-07', why: 'A change in the third party’s standing is responded to during the relationship.' },
    { control: 'GV.SC-10', why: 'The relationship’s end is carried into access for all its applications.' },
  ],
  'organisation.offboarded': [
    { control: 'NHI1', why: 'Offboarding the organisation ends every open admission it holds.' },
    { control: 'GV.SC-10', why: 'The end of the partnership is executed across all its applications.' },
  ],
  'entity.lei-checked': [
    {
      control: 'PR.AA-02',
      why: 'The claimed legal entity is proofed against its GLEIF record (status, name, jurisdiction) with the score and reasons kept.',
    },
    { control: 'GV.SC-06', why: 'Due diligence on the prospective partner happens before any access.' },
    { control: 'NHI3', why: 'The third party behind the machine identity is shown to be a live, registered legal entity.' },
  ],
  'entity.lei-accepted': [
    { control: 'PR.AA-02', why: 'A person accepted the LEI record’s differences, with a reason, before the identity counted as proofed.' },
    { control: 'GV.SC-06', why: 'A doubtful due-diligence result is decided by a named approver, on record.' },
  ],
  'entity.lei-rejected': [
    { control: 'PR.AA-02', why: 'A person refused an identity whose LEI record did not match, with a reason.' },
    { control: 'GV.SC-06', why: 'Due diligence stopped the relationship before it began.' },
  ],
  'entity.lei-rechecked': [
    { control: 'GV.SC-07', why: 'The partner’s legal standing is checked again on a schedule while it holds access.' },
    { control: 'ZTA-T5', why: 'The posture of an associated party is measured again, not assumed from admission.' },
    { control: 'ZTA-DS-CDM', why: 'A periodic re-check whose result (review, offboard) feeds the lifecycle.' },
    { control: 'NHI1', why: 'An ended LEI offboards the application.' },
  ],
  'entity.domain-challenge-issued': [
    { control: 'PR.AA-02', why: 'An ACME-style challenge asks the organisation to prove control of the domain it claims.' },
  ],
  'entity.domain-checked': [
    { control: 'PR.AA-02', why: 'Control of the claimed domain is proven (DNS TXT or HTTPS well-known) and the method kept.' },
    { control: 'GV.SC-06', why: 'The partner’s domain, where its contacts live, is proven before admission.' },
  ],
  'contact.confirmation-sent': [
    { control: 'GV.SC-02', why: 'The partner’s business, technical and security contacts are asked to confirm their role.' },
  ],
  'contact.confirmed': [
    { control: 'GV.SC-02', why: 'A named person at the partner accepted a role for this application.' },
    { control: 'GV.SC-08', why: 'A confirmed security contact is who incident response reaches at the partner.' },
  ],
  'anchor.refused': [
    { control: 'PR.AA-03', why: 'Authentication material that does not verify is refused, with stable reason codes.' },
    { control: 'NHI4', why: 'Weak keys, disallowed algorithms, expired or unchained certificates are refused at submission.' },
    { control: 'NHI6', why: 'Workload-identity tokens whose issuer, subject or audience do not match are refused, not trusted broadly.' },
    { control: 'NHI9', why: 'An anchor or key already bound to another participant is refused.' },
    { control: 'ZTA-DS-PKI', why: 'The refusal comes from path validation against the partner trust store, CRL and OCSP.' },
  ],
  'anchor.bound': [
    { control: 'PR.AA-02', why: 'The proofed identity is bound to a verified cryptographic anchor, with its fingerprint.' },
    { control: 'PR.AA-03', why: 'The application authenticates with this anchor (mTLS, signed assertion, SVID or OIDC token), not a password.' },
    { control: 'PR.AA-04', why: 'Signed assertions are verified against the bound key; replayed ones are refused.' },
    { control: 'NHI2', why: 'Only public material is stored: Admit holds no shared secret that could leak.' },
    { control: 'NHI4', why: 'Only asymmetric, verified authentication methods are accepted.' },
    { control: 'NHI6', why: 'Workload identity federation is pinned to one issuer and subject.' },
    { control: 'NHI9', why: 'The anchor’s fingerprint is unique in the registry: one key, one participant.' },
    { control: 'ZTA-T2', why: 'Tokens are bound to this key, so they are worthless off the authenticated channel whatever the network.' },
    { control: 'ZTA-DS-PKI', why: 'Verification used the trust store and revocation sources.' },
  ],
  'anchor.rotated-in': [
    { control: 'NHI7', why: 'A new key replaces the old one; the client keeps its id and its tokens bind to the new key.' },
    { control: 'PR.AA-01', why: 'Key management: the new anchor is verified before it is accepted.' },
    { control: 'ZTA-DS-PKI', why: 'The new anchor passed the same validation as the first.' },
  ],
  'anchor.rotated': [
    { control: 'NHI7', why: 'The lifecycle completed a key rotation, with an overlap that ends.' },
    { control: 'PR.AA-01', why: 'Credential rotation is recorded with who asked and when.' },
  ],
  'anchor.retired': [
    { control: 'NHI7', why: 'The old key stops being accepted when the rotation overlap ends.' },
    { control: 'NHI1', why: 'A retired anchor no longer authenticates anything.' },
    { control: 'PR.AA-01', why: 'The credential’s end is recorded.' },
  ],
  'risk.assessed': [
    { control: 'GV.SC-04', why: 'The partner gets an explainable score and tier: prioritised by criticality.' },
    { control: 'GV.SC-07', why: 'The risk is assessed and recorded with its reasons.' },
    { control: 'NHI3', why: 'The third party’s risk sets its approvals, anchor kinds and ceiling.' },
    { control: 'ZTA-PE', why: 'The trust algorithm’s inputs and result, which the later decisions use.' },
    { control: 'ZTA-DS-COMPLIANCE', why: 'A regulated sector is an input that raises the tier to REGULATED.' },
  ],
  'admission.vote': [
    {
      control: 'PR.AA-05',
      why: 'Separation of duties: an approver’s verified identity and comment; the requester and the applicant’s own staff cannot vote.',
    },
    { control: 'GV.SC-06', why: 'People review the due diligence before the relationship starts.' },
  ],
  'admission.approved': [
    { control: 'PR.AA-05', why: 'The admission decision under the tier’s approval rule (a LOW tier’s template, or the two-person rule).' },
    { control: 'GV.SC-06', why: 'The relationship is entered only once the due diligence is decided.' },
    { control: 'ZTA-PE', why: 'The policy decision that grants the partner access.' },
  ],
  'expansion.requested': [
    { control: 'PR.AA-05', why: 'More access is requested, tracked and decided, never taken.' },
    { control: 'NHI5', why: 'Scopes beyond the minimal grant are asked for one request at a time.' },
    { control: 'ZTA-DS-ACTIVITY', why: 'The request carries the usage window it will be judged on.' },
  ],
  'expansion.vote': [
    { control: 'PR.AA-05', why: 'An approver decides an entitlement change, by verified identity.' },
    { control: 'NHI5', why: 'Privilege grows only with a person’s decision on usage evidence.' },
  ],
  'recertification.vote': [
    { control: 'PR.AA-05', why: 'Periodic review of the partner’s entitlements by approvers.' },
    { control: 'GV.SC-07', why: 'The third party’s risk is re-assessed over the relationship.' },
  ],
  'recertification.approved': [
    { control: 'PR.AA-05', why: 'Entitlements were reviewed and confirmed still needed.' },
    { control: 'GV.SC-07', why: 'The relationship’s risk was reviewed on its schedule.' },
    { control: 'NHI5', why: 'Access still held is re-justified.' },
    { control: 'NHI3', why: 'A high-scrutiny third party is re-approved, or offboarded.' },
    { control: 'ZTA-DS-COMPLIANCE', why: 'Regulated and strategic partners are recertified on the schedule their tier requires.' },
  ],
  'access.granted': [
    { control: 'PR.AA-01', why: 'A client credential is issued, bound to the verified anchor.' },
    { control: 'PR.AA-04', why: 'Tokens carry the anchor’s confirmation (x5t#S256 or jkt), checked on every use.' },
    { control: 'PR.AA-05', why: 'The grant is the tier’s minimal template intersected with the request, within the ceiling.' },
    { control: 'NHI5', why: 'Least privilege at admission: only the tier’s minimal scopes.' },
    { control: 'NHI7', why: 'Access tokens live minutes (the tier’s credential lifetime); nothing long-lived is issued.' },
    { control: 'NHI8', why: 'The grant is pinned to the application’s environment: a sandbox grant is refused in production.' },
    { control: 'ZTA-T1', why: 'Each API capability is a named scope, granted as a resource of its own.' },
    { control: 'ZTA-T3', why: 'Short-lived tokens and per-request decisions: access is per session.' },
    { control: 'ZTA-PA', why: 'The policy administrator establishes the path: client, scopes, conditions.' },
    { control: 'ZTA-DS-POLICY', why: 'The grant’s conditions (environments, windows, transaction types, amounts) are the data access policy.' },
  ],
  'grant.expanded': [
    { control: 'PR.AA-05', why: 'The entitlement change, inside the tier’s ceiling, with who decided it.' },
    { control: 'NHI5', why: 'Scopes were added on usage evidence, never beyond the ceiling.' },
    { control: 'ZTA-T4', why: 'Access changes on observed behaviour (denial and error rates, volume).' },
    { control: 'ZTA-PA', why: 'The administrator updates the partner’s path.' },
    { control: 'ZTA-DS-POLICY', why: 'The data access policy changed, on record.' },
    { control: 'ZTA-DS-ACTIVITY', why: 'The decision used the gateways’ activity reports.' },
  ],
  'access.suspended': [
    { control: 'PR.AA-05', why: 'Authorization is enforced: grants and credentials suspended together.' },
    {
      control: 'ZTA-T5',
      why: 'Access is suspended when a posture check fails (anchor expiry, revocation, unreachable keys) or a compromise is reported.',
    },
    { control: 'ZTA-T6', why: 'Authorization is dynamic: it is withdrawn as soon as its conditions fail.' },
    { control: 'ZTA-PA', why: 'The administrator closes the partner’s path.' },
    { control: 'ZTA-DS-CDM', why: 'The re-verification result acted on.' },
  ],
  'access.reinstated': [
    { control: 'PR.AA-05', why: 'Access returns only when the cause was fixed, on record.' },
    { control: 'ZTA-PA', why: 'The administrator re-opens the path.' },
  ],
  'keycloak.client-provisioned': [
    { control: 'PR.AA-01', why: 'The partner’s client at the authorization server is created or updated from the registry.' },
    { control: 'ZTA-PA', why: 'The administrator configures the authorization server.' },
    { control: 'ZTA-PEP', why: 'The authorization server enforces token issuance: its client state (enabled, scopes, binding) is recorded.' },
  ],
  'keycloak.client-removed': [
    { control: 'NHI1', why: 'The partner’s client is removed from the authorization server.' },
    { control: 'PR.AA-01', why: 'The credential’s removal at the server is recorded.' },
    { control: 'ZTA-PA', why: 'The administrator tears down the server-side path.' },
  ],
  'notification.sent': [{ control: 'GV.SC-02', why: 'The partner’s contacts (or approvers) were told what happened and what is expected of them.' }],
  'notification.undeliverable': [{ control: 'GV.SC-02', why: 'A communication that reached nobody is on record rather than silently lost.' }],
  'lifecycle.transition': [
    { control: 'GV.SC-07', why: 'Each change of the partner’s stage is recorded with its reason.' },
    { control: 'ZTA-T7', why: 'The current state of each partner is collected and kept.' },
  ],
  'lifecycle.settings-applied': [
    { control: 'PR.AA-05', why: 'A change of the lifecycle policy (timings, thresholds) for this partner, with who applied it.' },
  ],
  'lifecycle.unsealed-message-ignored': [
    { control: 'PR.AA-04', why: 'A message to the lifecycle without Admit’s seal is not trusted, and the attempt is recorded.' },
    { control: 'ZTA-T6', why: 'Nothing changes a partner’s access without an authenticated request.' },
  ],
  'approver.enrolled': [
    { control: 'PR.AA-01', why: 'The people who decide admissions are enrolled with their verified identity and roles.' },
    { control: 'PR.AA-05', why: 'Approver roles are what the separation-of-duties rules check.' },
    { control: 'ZTA-DS-ID', why: 'Approvers are in the same ID management system.' },
  ],
};

/** One event of a partner's history, as the dossier or the registry holds it. */
export interface EventRef {
  type: string;
  /** The event's data; lines with a `when` condition count only events whose data meets it. */
  data?: unknown;
  seq?: bigint | number | string;
  id?: string;
  hash?: string;
  occurredAt?: Date | string;
}

export interface ControlEvidence {
  control: ControlId;
  framework: Framework;
  title: string;
  status: 'evidenced' | 'not evidenced';
  events: { seq?: string; id?: string; hash?: string; type: string; occurredAt?: string; why: string }[];
  /** Set when the control cannot be evidenced by audit events at all. */
  gap?: string;
}

export interface ControlsSection {
  controls: ControlEvidence[];
  /** Types of events in the history that this mapping does not know (older or newer code). */
  unmappedTypes: string[];
}

/**
 * For each control in the catalogue, in catalogue order: the events of this history that evidence it,
 * or "not evidenced". Events keep the order given (a chain's order).
 */
export function controlsSection(events: readonly EventRef[]): ControlsSection {
  const byControl = new Map<ControlId, ControlEvidence['events']>();
  const unmapped = new Set<string>();
  for (const event of events) {
    const lines = (EVENT_CONTROLS as Readonly<Record<string, readonly Evidences[] | undefined>>)[event.type];
    if (lines === undefined) {
      unmapped.add(event.type);
      continue;
    }
    for (const line of lines) {
      if (line.when !== undefined && !meets(event.data, line.when)) continue;
      const list = byControl.get(line.control) ?? [];
      list.push({
        ...(event.seq === undefined ? {} : { seq: String(event.seq) }),
        ...(event.id === undefined ? {} : { id: event.id }),
        ...(event.hash === undefined ? {} : { hash: event.hash }),
        type: event.type,
        ...(event.occurredAt === undefined
          ? {}
          : { occurredAt: event.occurredAt instanceof Date ? event.occurredAt.toISOString() : event.occurredAt }),
        why: line.why,
      });
      byControl.set(line.control, list);
    }
  }
  const controls = CONTROLS.map((control): ControlEvidence => {
    const found = byControl.get(control.id) ?? [];
    return {
      control: control.id,
      framework: control.framework,
      title: control.title,
      status: found.length > 0 ? 'evidenced' : 'not evidenced',
      events: found,
      ...('gap' in control ? { gap: control.gap } : {}),
    };
  });
  return { controls, unmappedTypes: [...unmapped].sort() };
}

function meets(data: unknown, when: NonNullable<Evidences['when']>): boolean {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return false;
  const value = (data as Record<string, unknown>)[when.field];
  return typeof value === 'string' && when.equals.includes(value);
}

/**
 * The name the dossier (evidence/dossier.ts, through evidence/controls-hook.ts) calls: its events
 * (`DossierEvent`: seq, id, type, occurredAt, data, hash) are `EventRef`s. In a partner's copy some
 * data fields may be omitted; a conditional line whose field is omitted does not count.
 */
export const controlsFor = controlsSection;

/** The event types that evidence a control (for docs and the console). */
export function eventTypesFor(control: ControlId): AuditEventType[] {
  return AUDIT_EVENT_TYPES.filter((type) => EVENT_CONTROLS[type].some((line) => line.control === control));
}
