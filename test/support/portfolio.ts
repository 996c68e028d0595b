import { randomUUID } from 'node:crypto';
import type { Registry } from '../../registry/client';
import { appendAuditEvent, type JsonObject } from '../../registry/audit';
import type { AuditEventType } from '../../domain/audit-events';
import { MS_PER_DAY } from '../../domain/time';
import { randomLei } from './signups';

/** "Now" of the portfolio tests: every row is placed relative to it. */
export const NOW = new Date('2026-12-03T12:00:00.000Z');
export const at = (days: number, extraMs = 0) => new Date(NOW.getTime() + days * MS_PER_DAY + extraMs);
export const MINUTE = 60_000;

export interface Partner {
  id: string;
  organisationId: string;
  name: string;
}

/**
 * One organisation and one application in the registry, as admission leaves them (status, tier,
 * admittedAt), with three contacts at the organisation's domain unless `contacts` says otherwise.
 */
export async function createPartner(
  registry: Registry,
  name: string,
  options: {
    tier?: string;
    status?: 'PENDING' | 'ADMITTED' | 'SUSPENDED' | 'OFFBOARDED';
    admittedAt?: Date;
    legalName?: string;
    verified?: boolean;
    organisationId?: string;
    contacts?: Partial<Record<'BUSINESS' | 'TECHNICAL' | 'SECURITY', string>>;
  } = {},
): Promise<Partner> {
  const lei = randomLei();
  const domain = `${lei.slice(0, 8).toLowerCase()}.example.com`;
  const organisationId =
    options.organisationId ??
    (
      await registry.organisation.create({
        data: {
          legalName: options.legalName ?? `${name} Holdings Ltd`,
          lei,
          jurisdiction: 'GB',
          primaryDomain: domain,
          verified: options.verified ?? true,
          createdAt: at(-400),
        },
      })
    ).id;
  const organisation = await registry.organisation.findUniqueOrThrow({ where: { id: organisationId } });
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const id = `app-${organisation.lei.toLowerCase()}-${slug}-sandbox`;
  await registry.application.create({
    data: {
      id,
      organisationId,
      name,
      nameKey: slug,
      environment: 'sandbox',
      purpose: 'Portfolio test',
      requestedScopes: ['accounts:read'],
      dataSensitivity: 'internal',
      regulatedSector: false,
      strategic: false,
      expectedMonthlyCalls: 1000,
      contractEndDate: new Date('2028-12-31'),
      requestedBy: `bea@${organisation.primaryDomain}`,
      status: options.status ?? 'ADMITTED',
      tier: options.tier ?? 'LOW',
      riskScore: 3,
      admittedAt: options.status === 'PENDING' ? null : (options.admittedAt ?? at(-10)),
      workflowId: `partner-${id}-${randomUUID()}`,
    },
  });
  for (const role of ['BUSINESS', 'TECHNICAL', 'SECURITY'] as const) {
    const email = options.contacts?.[role] ?? `${role.toLowerCase()}@${organisation.primaryDomain}`;
    await registry.contact.create({ data: { applicationId: id, role, name: `${role} person`, email, confirmedAt: at(-20) } });
  }
  return { id, organisationId, name };
}

export async function addAnchor(
  registry: Registry,
  partner: Partner,
  notAfter: Date | null,
  status: 'ACTIVE' | 'ROTATING_OUT' | 'RETIRED' = 'ACTIVE',
) {
  return registry.trustAnchor.create({
    data: {
      applicationId: partner.id,
      kind: 'X509',
      fingerprint: `sha256:${randomUUID().replace(/-/g, '')}`,
      material: { pem: 'test' },
      status,
      verifiedAt: at(-30),
      notAfter,
    },
  });
}

export async function addUsage(registry: Registry, partner: Partner, lastSeenAt: Date | null, calls = 10) {
  const start = new Date(Math.floor((lastSeenAt ?? at(-1)).getTime() / 3_600_000) * 3_600_000);
  return registry.usageReport.create({
    data: {
      clientId: `client-${partner.id}`,
      applicationId: partner.id,
      source: `gw-${randomUUID().slice(0, 8)}`,
      intervalStart: start,
      intervalEnd: new Date(start.getTime() + 3_600_000),
      calls,
      denials: 0,
      errors: 0,
      anomalies: 0,
      lastSeenAt,
    },
  });
}

export async function addGrant(
  registry: Registry,
  partner: Partner,
  tier: string,
  scopes: string[],
  status: 'ACTIVE' | 'SUSPENDED' | 'REVOKED' = 'ACTIVE',
) {
  return registry.grant.create({
    data: { applicationId: partner.id, scopes, conditions: {}, status, tier, approvedBy: [], grantedAt: at(-10) },
  });
}

export async function addEvent(registry: Registry, partner: Partner, type: AuditEventType, occurredAt: Date, data: JsonObject, actor = 'workflow') {
  return registry.$transaction((tx) =>
    appendAuditEvent(tx, {
      idempotencyKey: `${partner.id}:${type}:${randomUUID()}`,
      type,
      actor,
      organisationId: partner.organisationId,
      applicationId: partner.id,
      occurredAt,
      data,
    }),
  );
}

export async function addLeiCheck(registry: Registry, partner: Partner, outcome: 'pass' | 'needs-approval', checkedAt: Date) {
  const organisation = await registry.organisation.findUniqueOrThrow({ where: { id: partner.organisationId } });
  return registry.leiCheck.create({
    data: {
      checkKey: `${partner.id}:lei-check:${randomUUID()}`,
      organisationId: partner.organisationId,
      applicationId: partner.id,
      lei: organisation.lei,
      outcome,
      claimedLegalName: organisation.legalName,
      claimedJurisdiction: 'GB',
      score: outcome === 'pass' ? 1 : 0.82,
      reasons: outcome === 'pass' ? [] : [{ code: 'NAME_CLOSE', outcome: 'needs-approval', message: 'the legal name differs from the record' }],
      source: 'http://gleif.test/lei-records',
      checkedAt,
    },
  });
}
