/**
 * Portfolio views for the security team: questions about every partner at once, answered from the
 * registry's rows (and, for exceptions, its audit events). Each view is a `Report`: columns and rows
 * that the console renders as a table, the CLI as text, and both as CSV (evidence/report-format.ts).
 * Each row links to the partner's dossier.
 */
import type { Registry } from '../registry/client';
import type { ApplicationStatus } from '../generated/prisma/client';
import type { LifecycleDurations } from '../domain/durations';
import { isEmailAtOrBelow } from '../domain/email-domain';
import { recertificationIntervalMs } from '../domain/offboarding';
import { outsideCeiling, tierTemplate } from '../domain/scopes';
import { isRiskTier } from '../domain/tiers';
import { MS_PER_DAY } from '../domain/time';

export const PORTFOLIO_VIEWS = ['anchor-expiry', 'recertification-overdue', 'no-usage', 'broad-grants', 'exceptions'] as const;

export type PortfolioView = (typeof PORTFOLIO_VIEWS)[number];

export function isPortfolioView(value: unknown): value is PortfolioView {
  return typeof value === 'string' && (PORTFOLIO_VIEWS as readonly string[]).includes(value);
}

export const VIEW_INFO: Readonly<Record<PortfolioView, { title: string; description: string; defaultDays: number | null }>> = {
  'anchor-expiry': {
    title: 'Trust anchors expiring',
    description: 'Admitted or suspended partners whose active trust anchor’s notAfter falls within N days (or has passed).',
    defaultDays: 30,
  },
  'recertification-overdue': {
    title: 'Recertification overdue',
    description:
      'STRATEGIC and REGULATED partners whose recertification was due (last recertification, or admission, plus the tier’s interval) before now + N days; N = 0 lists only those already overdue.',
    defaultDays: 0,
  },
  'no-usage': {
    title: 'No usage',
    description: 'Admitted or suspended partners with no call reported by a gateway in the last N days (never used: admitted at least N days ago).',
    defaultDays: 30,
  },
  'broad-grants': {
    title: 'Grants broader than the tier’s minimal template',
    description: 'Active and suspended grants holding scopes outside their tier’s minimal template; any beyond the tier’s ceiling are listed first.',
    defaultDays: null,
  },
  exceptions: {
    title: 'Open exceptions',
    description:
      'Exceptions approvers accepted, or that are under review, for partners still holding access: contacts outside the domain, a doubtful LEI accepted, an LEI status under review, an organisation never verified.',
    defaultDays: null,
  },
};

/** The dossier of one application (the evidence helper's console route). */
export function dossierPath(applicationId: string): string {
  return `/console/applications/${encodeURIComponent(applicationId)}/dossier`;
}

export interface ReportColumn {
  key: string;
  header: string;
}

export interface ReportRow {
  applicationId: string;
  /** Path of the dossier; prefix the public URL for an absolute link. */
  dossier: string;
  cells: Record<string, string>;
}

export interface Report {
  view: PortfolioView;
  title: string;
  description: string;
  /** The N of the view, where it takes one. */
  days: number | null;
  generatedAt: string;
  columns: ReportColumn[];
  rows: ReportRow[];
}

export interface PortfolioOptions {
  now: Date;
  days?: number;
  /** The recertification intervals (the configuration's lifecycle durations). */
  durations: Pick<LifecycleDurations, 'recertificationStrategicMs' | 'recertificationRegulatedMs'>;
}

/** Partners that hold access, or had it suspended: the portfolio. */
const HOLDING_ACCESS: ApplicationStatus[] = ['ADMITTED', 'SUSPENDED'];

const PARTNER_COLUMNS: ReportColumn[] = [
  { key: 'application', header: 'Application' },
  { key: 'applicationId', header: 'Application id' },
  { key: 'organisation', header: 'Organisation' },
  { key: 'tier', header: 'Tier' },
  { key: 'status', header: 'Status' },
];

interface PartnerRow {
  id: string;
  name: string;
  tier: string | null;
  status: string;
  organisation: { legalName: string };
}

function partnerCells(application: PartnerRow): Record<string, string> {
  return {
    application: application.name,
    applicationId: application.id,
    organisation: application.organisation.legalName,
    tier: application.tier ?? '',
    status: application.status,
  };
}

function row(application: PartnerRow, cells: Record<string, string>): ReportRow {
  return { applicationId: application.id, dossier: dossierPath(application.id), cells: { ...partnerCells(application), ...cells } };
}

const iso = (date: Date | null | undefined) => (date === null || date === undefined ? '' : date.toISOString());
const wholeDays = (ms: number) => Math.floor(ms / MS_PER_DAY);

export function validDays(days: unknown): days is number {
  return typeof days === 'number' && Number.isSafeInteger(days) && days >= 0 && days <= 3650;
}

export async function portfolioReport(registry: Registry, view: PortfolioView, options: PortfolioOptions): Promise<Report> {
  const info = VIEW_INFO[view];
  const days = info.defaultDays === null ? null : (options.days ?? info.defaultDays);
  if (days !== null && !validDays(days)) throw new RangeError(`days must be a whole number from 0 to 3650, not ${String(days)}`);
  const now = options.now;
  const built = await BUILDERS[view](registry, { now, days: days ?? 0, durations: options.durations });
  return { view, title: info.title, description: info.description, days, generatedAt: now.toISOString(), ...built };
}

type Builder = (
  registry: Registry,
  options: { now: Date; days: number; durations: PortfolioOptions['durations'] },
) => Promise<{ columns: ReportColumn[]; rows: ReportRow[] }>;

const BUILDERS: Record<PortfolioView, Builder> = {
  'anchor-expiry': anchorExpiry,
  'recertification-overdue': recertificationOverdue,
  'no-usage': noUsage,
  'broad-grants': broadGrants,
  exceptions,
};

/** Anchors still accepted (active, or rotating out) whose notAfter is at most now + N days. */
async function anchorExpiry(registry: Registry, { now, days }: { now: Date; days: number }) {
  const horizon = new Date(now.getTime() + days * MS_PER_DAY);
  const anchors = await registry.trustAnchor.findMany({
    where: { status: { in: ['ACTIVE', 'ROTATING_OUT'] }, notAfter: { not: null, lte: horizon }, application: { status: { in: HOLDING_ACCESS } } },
    include: { application: { include: { organisation: { select: { legalName: true } } } } },
    orderBy: [{ notAfter: 'asc' }, { applicationId: 'asc' }],
  });
  return {
    columns: [
      ...PARTNER_COLUMNS,
      { key: 'anchorKind', header: 'Anchor kind' },
      { key: 'anchorStatus', header: 'Anchor status' },
      { key: 'fingerprint', header: 'Fingerprint' },
      { key: 'notAfter', header: 'Not after' },
      { key: 'expires', header: 'Expires' },
    ],
    rows: anchors.map((anchor) => {
      const left = (anchor.notAfter as Date).getTime() - now.getTime();
      return row(anchor.application, {
        anchorKind: anchor.kind,
        anchorStatus: anchor.status,
        fingerprint: anchor.fingerprint,
        notAfter: iso(anchor.notAfter),
        expires: left < 0 ? `expired ${wholeDays(-left)} days ago` : `in ${wholeDays(left)} days`,
      });
    }),
  };
}

/** Due = (the latest recertification of this admission, or the admission) + the tier's interval. */
async function recertificationOverdue(
  registry: Registry,
  { now, days, durations }: { now: Date; days: number; durations: PortfolioOptions['durations'] },
) {
  const applications = await registry.application.findMany({
    where: { status: { in: HOLDING_ACCESS }, tier: { in: ['STRATEGIC', 'REGULATED'] }, admittedAt: { not: null } },
    include: { organisation: { select: { legalName: true } } },
    orderBy: { id: 'asc' },
  });
  const recertified = await registry.auditEvent.groupBy({
    by: ['applicationId'],
    where: { type: 'recertification.approved', applicationId: { in: applications.map((a) => a.id) } },
    _max: { occurredAt: true },
  });
  const lastRecertified = new Map(recertified.map((r) => [r.applicationId, r._max.occurredAt]));
  const horizon = now.getTime() + days * MS_PER_DAY;
  const due = applications.flatMap((application) => {
    const interval = isRiskTier(application.tier) ? recertificationIntervalMs(application.tier, durations) : undefined;
    if (interval === undefined || application.admittedAt === null) return [];
    const recert = lastRecertified.get(application.id) ?? null;
    // A recertification before this admission belonged to an earlier claim of the id.
    const since = recert !== null && recert > application.admittedAt ? recert : application.admittedAt;
    const dueAt = since.getTime() + interval;
    return dueAt <= horizon ? [{ application, since, recertified: since === recert, dueAt }] : [];
  });
  due.sort((a, b) => a.dueAt - b.dueAt || a.application.id.localeCompare(b.application.id));
  return {
    columns: [
      ...PARTNER_COLUMNS,
      { key: 'lastDecision', header: 'Last recertified (or admitted)' },
      { key: 'dueAt', header: 'Due' },
      { key: 'overdue', header: 'Overdue' },
    ],
    rows: due.map(({ application, since, recertified, dueAt }) =>
      row(application, {
        lastDecision: `${iso(since)} (${recertified ? 'recertified' : 'admitted'})`,
        dueAt: new Date(dueAt).toISOString(),
        overdue: dueAt <= now.getTime() ? `by ${wholeDays(now.getTime() - dueAt)} days` : `due in ${wholeDays(dueAt - now.getTime())} days`,
      }),
    ),
  };
}

/** The last call any gateway reported (reports with calls only) at or before now − N days, or none since an admission that old. */
async function noUsage(registry: Registry, { now, days }: { now: Date; days: number }) {
  const cutoff = new Date(now.getTime() - days * MS_PER_DAY);
  const applications = await registry.application.findMany({
    where: { status: { in: HOLDING_ACCESS }, admittedAt: { not: null } },
    include: { organisation: { select: { legalName: true } } },
    orderBy: { id: 'asc' },
  });
  const usage = await registry.usageReport.groupBy({
    by: ['applicationId'],
    where: { applicationId: { in: applications.map((a) => a.id) }, calls: { gt: 0 } },
    _max: { lastSeenAt: true },
  });
  const lastSeen = new Map(usage.map((u) => [u.applicationId, u._max.lastSeenAt]));
  const idle = applications.flatMap((application) => {
    const seen = lastSeen.get(application.id) ?? null;
    const since = seen ?? (application.admittedAt as Date);
    return since <= cutoff ? [{ application, seen, since }] : [];
  });
  idle.sort((a, b) => a.since.getTime() - b.since.getTime() || a.application.id.localeCompare(b.application.id));
  return {
    columns: [
      ...PARTNER_COLUMNS,
      { key: 'lastCall', header: 'Last call' },
      { key: 'admittedAt', header: 'Admitted' },
      { key: 'idle', header: 'Without a call' },
    ],
    rows: idle.map(({ application, seen, since }) =>
      row(application, {
        lastCall: seen === null ? 'never' : iso(seen),
        admittedAt: iso(application.admittedAt),
        idle: `${wholeDays(now.getTime() - since.getTime())} days`,
      }),
    ),
  };
}

/** Scopes outside the tier's minimal template, and any outside its ceiling (the application's tier, else the grant's). */
async function broadGrants(registry: Registry) {
  const grants = await registry.grant.findMany({
    where: { status: { in: ['ACTIVE', 'SUSPENDED'] }, application: { status: { in: HOLDING_ACCESS } } },
    include: { application: { include: { organisation: { select: { legalName: true } } } } },
    orderBy: [{ applicationId: 'asc' }, { grantedAt: 'asc' }],
  });
  const findings = grants.flatMap((grant) => {
    const tier = isRiskTier(grant.application.tier) ? grant.application.tier : isRiskTier(grant.tier) ? grant.tier : null;
    // A grant whose tier is unknown has no template: every scope is outside it.
    const beyondMinimal =
      tier === null ? [...grant.scopes] : grant.scopes.filter((scope) => !(tierTemplate(tier).minimal as readonly string[]).includes(scope));
    const beyondCeiling = tier === null ? [...grant.scopes] : outsideCeiling(tier, grant.scopes);
    return beyondMinimal.length === 0 && beyondCeiling.length === 0 ? [] : [{ grant, tier, beyondMinimal, beyondCeiling }];
  });
  findings.sort((a, b) => Number(b.beyondCeiling.length > 0) - Number(a.beyondCeiling.length > 0));
  return {
    columns: [
      ...PARTNER_COLUMNS,
      { key: 'finding', header: 'Finding' },
      { key: 'grantStatus', header: 'Grant status' },
      { key: 'scopes', header: 'Scopes' },
      { key: 'beyondMinimal', header: 'Beyond the minimal template' },
      { key: 'beyondCeiling', header: 'Beyond the ceiling' },
      { key: 'approvedBy', header: 'Approved by' },
      { key: 'grantedAt', header: 'Granted' },
    ],
    rows: findings.map(({ grant, tier, beyondMinimal, beyondCeiling }) =>
      row(
        { ...grant.application, tier: tier ?? grant.tier },
        {
          finding: beyondCeiling.length > 0 ? 'beyond the ceiling' : 'broader than the minimal template',
          grantStatus: grant.status,
          scopes: grant.scopes.join(' '),
          beyondMinimal: beyondMinimal.join(' '),
          beyondCeiling: beyondCeiling.join(' '),
          approvedBy: grant.approvedBy.length === 0 ? `template:${grant.tier}` : grant.approvedBy.join(', '),
          grantedAt: iso(grant.grantedAt),
        },
      ),
    ),
  };
}

interface ExceptionFinding {
  kind: string;
  detail: string;
  since: Date | null;
  acceptedBy: string;
  reason: string;
}

const text = (value: unknown) => (typeof value === 'string' ? value : '');
const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/**
 * Exceptions derived from the registry's rows and audit events (the registry keeps no table of them):
 * - contacts outside the domain: a contact's address is not at or below the organisation's domain;
 *   accepted by the approvers whose admission vote approved it, with their comment as the reason;
 * - doubtful LEI accepted: an `entity.lei-accepted` decision on the organisation's latest LEI check;
 * - LEI status under review: the application's latest LEI re-check asked approvers to review it;
 * - organisation not verified: enrolled before entity verification existed.
 */
async function exceptions(registry: Registry) {
  const applications = await registry.application.findMany({
    where: { status: { in: HOLDING_ACCESS } },
    include: { organisation: true, contacts: { orderBy: { role: 'asc' } } },
    orderBy: { id: 'asc' },
  });
  const ids = applications.map((a) => a.id);
  const [events, latestChecks, approvers] = await Promise.all([
    registry.auditEvent.findMany({
      where: {
        applicationId: { in: ids },
        type: { in: ['admission.vote', 'entity.lei-accepted', 'entity.lei-rechecked', 'recertification.approved'] },
      },
      orderBy: { seq: 'asc' },
    }),
    registry.leiCheck.findMany({
      where: { organisationId: { in: [...new Set(applications.map((a) => a.organisationId))] } },
      orderBy: [{ organisationId: 'asc' }, { checkedAt: 'desc' }],
      distinct: ['organisationId'],
    }),
    registry.approver.findMany({ select: { subject: true, name: true } }),
  ]);
  const nameOf = new Map(approvers.map((a) => [a.subject, a.name]));
  const who = (actor: string) => nameOf.get(actor) ?? actor;
  const latestCheck = new Map(latestChecks.map((c) => [c.organisationId, c]));
  const rows: ReportRow[] = [];
  for (const application of applications) {
    const own = events.filter((e) => e.applicationId === application.id);
    const findings: ExceptionFinding[] = [];

    const outside = application.contacts.filter((c) => !isEmailAtOrBelow(c.email, application.organisation.primaryDomain));
    if (outside.length > 0) {
      const approvals = own.filter((e) => e.type === 'admission.vote' && text(record(e.data).decision) === 'approve');
      findings.push({
        kind: 'contacts outside the domain',
        // The role and the address's domain, not the address: the report is shared more widely than the registry.
        detail: outside
          .map((c) => `${c.role.toLowerCase()} contact at ${c.email.slice(c.email.lastIndexOf('@') + 1)}`)
          .concat(`organisation domain ${application.organisation.primaryDomain}`)
          .join('; '),
        since: application.admittedAt,
        acceptedBy: approvals.map((e) => who(e.actor)).join(', '),
        reason: approvals
          .map((e) => text(record(e.data).comment))
          .filter((c) => c !== '')
          .join(' | '),
      });
    }

    const check = latestCheck.get(application.organisationId);
    const accepted = own.filter((e) => e.type === 'entity.lei-accepted' && text(record(e.data).checkId) === check?.id).at(-1);
    if (check !== undefined && check.outcome === 'needs-approval' && accepted !== undefined) {
      const reasons = Array.isArray(check.reasons) ? check.reasons.map((r) => text(record(r).message)).filter((m) => m !== '') : [];
      findings.push({
        kind: 'doubtful LEI accepted',
        detail: `LEI ${check.lei} score ${check.score.toFixed(2)}${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}`,
        since: accepted.occurredAt,
        acceptedBy: who(accepted.actor),
        reason: text(record(accepted.data).reason),
      });
    }

    const recheck = own.filter((e) => e.type === 'entity.lei-rechecked').at(-1);
    if (recheck !== undefined && text(record(recheck.data).action) === 'review') {
      const after = own.filter((e) => e.type === 'recertification.approved' && e.seq > recheck.seq);
      findings.push({
        kind: 'LEI status under review',
        detail: text(record(recheck.data).reason),
        since: recheck.occurredAt,
        acceptedBy: after.length === 0 ? 'awaiting approvers' : after.map((e) => who(e.actor)).join(', '),
        reason: after.length === 0 ? '' : 'recertified since',
      });
    }

    if (!application.organisation.verified) {
      findings.push({
        kind: 'organisation not verified',
        detail: `${application.organisation.legalName} (LEI ${application.organisation.lei}) was enrolled before its LEI and domain were verified`,
        since: application.organisation.createdAt,
        acceptedBy: '',
        reason: '',
      });
    }

    for (const finding of findings) {
      rows.push(
        row(application, {
          kind: finding.kind,
          detail: finding.detail,
          since: iso(finding.since),
          acceptedBy: finding.acceptedBy,
          reason: finding.reason,
        }),
      );
    }
  }
  return {
    columns: [
      ...PARTNER_COLUMNS,
      { key: 'kind', header: 'Exception' },
      { key: 'detail', header: 'Detail' },
      { key: 'since', header: 'Since' },
      { key: 'acceptedBy', header: 'Accepted by' },
      { key: 'reason', header: 'Reason given' },
    ],
    rows,
  };
}
