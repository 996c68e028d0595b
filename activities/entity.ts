import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../config/env';
import type { DnsResolver } from '../anchors/dns-resolver';
import type { SafeFetcher } from '../anchors';
import { isValidLei } from '../domain/identity';
import { assessLeiRecord, assessMissingLei, type LeiAssessment, type LeiRecordSummary } from '../domain/legal-entity';
import { gleifClientFromSettings, type GleifClient } from '../entity/gleif';
import { checkDomainControl as checkDomain, domainChallenge, tokenHash } from '../entity/domain-control';
import { checkPrimaryDomain, emailWithinDomain, canonicalDomain } from '../entity/domain-names';
import type { Prisma, Registry } from '../registry/client';
import { appendAuditEvent, type JsonObject } from '../registry/audit';
import { CONTACT_ROLES, type ContactRoleKey } from '../domain/contacts';
import { REGISTRY_CONTACT_ROLE } from '../registry/contact-roles';
import type { DomainChallengeView, DomainControlCheck, LegalEntityVerification, LeiRecordView, LifecycleActivities } from './contract';
import { ACTIVITY_FAILURES, instant, permanentFailure, RETRYABLE_FAILURES } from './errors';
import { lockApplication } from './locking';

type Tx = Prisma.TransactionClient;

export interface EntityActivityDependencies {
  registry: Registry;
  config: Pick<Config, 'entity'>;
  /** Derives the domain-challenge tokens (HMAC, domain-separated from the links it also signs). */
  secret: Uint8Array;
  /** Older secrets of the ring: a challenge issued under one of them is still the partner's to prove. */
  previousSecrets?: readonly Uint8Array[];
  /** The one resolver: TXT lookups here, address lookups in `fetcher`. */
  resolver: DnsResolver;
  /** The SSRF-safe fetcher for partner URLs. */
  fetcher: SafeFetcher;
  /** Overrides the client built from `config.entity` (GLEIF's URL, CA, timeouts, retries, cache). */
  gleif?: GleifClient;
  now: () => Date;
}

function nonNegativeInteger(value: number | undefined, field: string): number {
  const v = value ?? 0;
  if (!Number.isSafeInteger(v) || v < 0)
    throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, `${field} must be a whole number ≥ 0, not ${JSON.stringify(value)}.`);
  return v;
}

function recordView(record: LeiRecordSummary, assessment: LeiAssessment): LeiRecordView {
  return {
    lei: record.lei,
    legalName: record.legalName,
    matchedName: assessment.matchedName,
    jurisdiction: record.jurisdiction,
    registrationStatus: record.registrationStatus,
    entityStatus: record.entityStatus,
    successorLei: record.successorLei,
    successorName: record.successorName,
    nextRenewalDate: record.nextRenewalDate,
    lastUpdateDate: record.lastUpdateDate,
    managingLou: record.managingLou,
    corroborationLevel: record.corroborationLevel,
  };
}

function verificationFromRow(row: {
  outcome: string;
  score: number;
  reasons: Prisma.JsonValue;
  record: Prisma.JsonValue;
  source: string;
  checkedAt: Date;
}): LegalEntityVerification {
  const stored = row.reasons as unknown as { nameScore: number; jurisdictionScore: number; reasons: LegalEntityVerification['reasons'] };
  return {
    outcome: row.outcome as LegalEntityVerification['outcome'],
    score: row.score,
    nameScore: stored.nameScore,
    jurisdictionScore: stored.jurisdictionScore,
    reasons: stored.reasons,
    record: (row.record as unknown as LeiRecordView | null) ?? null,
    source: row.source,
    checkedAt: row.checkedAt.toISOString(),
  };
}

/** Verified once both the LEI and the primary domain are; the first time is kept. */
async function refreshVerified(tx: Tx, organisationId: string, at: Date): Promise<void> {
  const org = await tx.organisation.findUniqueOrThrow({ where: { id: organisationId } });
  const verified = org.leiVerifiedAt !== null && org.domainVerifiedAt !== null;
  if (verified !== org.verified) {
    await tx.organisation.update({ where: { id: organisationId }, data: { verified, verifiedAt: verified ? at : null } });
  }
}

function acceptableDomain(domain: string): string {
  const check = checkPrimaryDomain(domain);
  if (!check.ok) throw permanentFailure(ACTIVITY_FAILURES.DOMAIN_NOT_ACCEPTABLE, check.message);
  return check.domain;
}

export function entityActivities(
  deps: EntityActivityDependencies,
): Pick<LifecycleActivities, 'verifyLegalEntity' | 'recordLegalEntityDecision' | 'issueDomainChallenge' | 'checkDomainControl'> {
  const { registry } = deps;
  let gleif: Promise<GleifClient> | undefined = deps.gleif ? Promise.resolve(deps.gleif) : undefined;
  const gleifClient = (): Promise<GleifClient> => (gleif ??= gleifClientFromSettings(deps.config.entity, deps.resolver));

  return {
    async verifyLegalEntity(input) {
      const lei = typeof input.lei === 'string' ? input.lei.trim().toUpperCase() : '';
      if (!isValidLei(lei))
        throw permanentFailure(
          ACTIVITY_FAILURES.INVALID_INPUT,
          `${JSON.stringify(input.lei)} is not an LEI (ISO 17442: 20 characters, valid check digits).`,
        );
      if (typeof input.legalName !== 'string' || input.legalName.trim() === '' || typeof input.jurisdiction !== 'string') {
        throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, 'A legal-entity check needs the signup’s legal name and jurisdiction.');
      }
      const round = nonNegativeInteger(input.round, 'round');
      const checkKey = `${input.workflowId}:lei-check:${round}`;

      const earlier = await registry.leiCheck.findUnique({ where: { checkKey } });
      if (earlier !== null) return verificationFromRow(earlier);
      const application = await registry.application.findUnique({ where: { id: input.applicationId }, include: { organisation: true } });
      if (application === null)
        throw permanentFailure(ACTIVITY_FAILURES.APPLICATION_NOT_FOUND, `There is no application ${input.applicationId}; register it first.`);
      if (application.organisation.lei !== lei) {
        throw permanentFailure(
          ACTIVITY_FAILURES.INVALID_INPUT,
          `Application ${input.applicationId} belongs to the organisation with LEI ${application.organisation.lei}, not ${lei}.`,
        );
      }

      // The network call stays outside the transaction: no row is locked while GLEIF answers.
      const client = await gleifClient();
      const lookup = await client.lookup(lei);
      if (lookup.kind === 'unavailable') {
        throw ApplicationFailure.retryable(`GLEIF did not answer usefully for ${lei}: ${lookup.reason}`, RETRYABLE_FAILURES.LEI_SOURCE_UNAVAILABLE);
      }
      const claim = { lei, legalName: input.legalName, jurisdiction: input.jurisdiction };
      const assessment = lookup.kind === 'found' ? assessLeiRecord(claim, lookup.record) : assessMissingLei(lei);
      const record = lookup.kind === 'found' ? recordView(lookup.record, assessment) : null;
      const checkedAt = deps.now();

      return registry.$transaction(async (tx) => {
        const app = await lockApplication(tx, input.applicationId);
        const raced = await tx.leiCheck.findUnique({ where: { checkKey } });
        if (raced !== null) return verificationFromRow(raced);
        const row = await tx.leiCheck.create({
          data: {
            checkKey,
            organisationId: app.organisationId,
            applicationId: app.id,
            lei,
            outcome: assessment.outcome,
            registrationStatus: record?.registrationStatus ?? null,
            entityStatus: record?.entityStatus ?? null,
            recordLegalName: record?.legalName ?? null,
            matchedName: assessment.matchedName,
            recordJurisdiction: record?.jurisdiction ?? null,
            claimedLegalName: input.legalName,
            claimedJurisdiction: input.jurisdiction,
            score: assessment.score,
            reasons: {
              nameScore: assessment.nameScore,
              jurisdictionScore: assessment.jurisdictionScore,
              reasons: assessment.reasons as unknown as Prisma.InputJsonArray,
            },
            ...(record === null ? {} : { record: record as unknown as Prisma.InputJsonObject }),
            source: lookup.source,
            checkedAt,
          },
        });
        // A pass verifies the LEI; a refusal (at a re-check: a retired or merged entity) withdraws it; a doubt changes nothing until an approver decides.
        if (assessment.outcome !== 'needs-approval') {
          await tx.organisation.update({
            where: { id: app.organisationId },
            data: { leiVerifiedAt: assessment.outcome === 'pass' ? checkedAt : null },
          });
          await refreshVerified(tx, app.organisationId, checkedAt);
        }
        const result = verificationFromRow(row);
        await appendAuditEvent(tx, {
          idempotencyKey: checkKey,
          type: 'entity.lei-checked',
          actor: 'workflow',
          organisationId: app.organisationId,
          applicationId: app.id,
          occurredAt: checkedAt,
          data: { lei, round, claimedLegalName: input.legalName, claimedJurisdiction: input.jurisdiction, ...(result as unknown as JsonObject) },
        });
        return result;
      });
    },

    async recordLegalEntityDecision(input) {
      const round = nonNegativeInteger(input.round, 'round');
      const decidedAt = instant(input.decidedAt, 'decidedAt');
      if (typeof input.reason !== 'string' || input.reason.trim() === '' || typeof input.decidedBy !== 'string' || input.decidedBy.trim() === '') {
        throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, 'A decision on a legal-entity check needs the approver and a reason.');
      }
      const checkKey = `${input.workflowId}:lei-check:${round}`;
      await registry.$transaction(async (tx) => {
        const app = await lockApplication(tx, input.applicationId);
        const check = await tx.leiCheck.findUnique({ where: { checkKey } });
        if (check === null || check.applicationId !== app.id) {
          throw permanentFailure(ACTIVITY_FAILURES.INVALID_INPUT, `There is no legal-entity check ${checkKey} of ${input.applicationId} to decide.`);
        }
        if (check.outcome !== 'needs-approval') {
          throw permanentFailure(
            ACTIVITY_FAILURES.INVALID_INPUT,
            `The legal-entity check ${checkKey} ${check.outcome === 'pass' ? 'passed and needs no decision' : 'refused the LEI, which no approver can override'}.`,
          );
        }
        const idempotencyKey = `${checkKey}:decision`;
        if ((await tx.auditEvent.findUnique({ where: { idempotencyKey } })) !== null) return;
        if (input.accepted) {
          await tx.organisation.update({ where: { id: app.organisationId }, data: { leiVerifiedAt: decidedAt } });
          await refreshVerified(tx, app.organisationId, decidedAt);
        }
        await appendAuditEvent(tx, {
          idempotencyKey,
          type: input.accepted ? 'entity.lei-accepted' : 'entity.lei-rejected',
          actor: input.decidedBy,
          organisationId: app.organisationId,
          applicationId: app.id,
          occurredAt: decidedAt,
          data: { lei: check.lei, round, checkId: check.id, score: check.score, reason: input.reason.trim() },
        });
      });
    },

    async issueDomainChallenge(input) {
      const domain = acceptableDomain(input.domain);
      const round = nonNegativeInteger(input.round, 'round');
      const challenge = domainChallenge(deps.secret, { workflowId: input.workflowId, domain, round });
      const hash = tokenHash(challenge.token);
      return registry.$transaction(async (tx): Promise<DomainChallengeView> => {
        const app = await lockApplication(tx, input.applicationId);
        const existing = await tx.domainChallenge.findUnique({ where: { workflowId_domain_round: { workflowId: input.workflowId, domain, round } } });
        let expiresAt: Date;
        if (existing !== null) {
          expiresAt = existing.expiresAt;
        } else {
          const issuedAt = deps.now();
          expiresAt = new Date(issuedAt.getTime() + deps.config.entity.domainChallengeTtlMs);
          await tx.domainChallenge.create({
            data: {
              organisationId: app.organisationId,
              applicationId: app.id,
              workflowId: input.workflowId,
              domain,
              round,
              tokenHash: hash,
              issuedAt,
              expiresAt,
            },
          });
          await appendAuditEvent(tx, {
            idempotencyKey: `${input.workflowId}:domain-challenge:${domain}:${round}`,
            type: 'entity.domain-challenge-issued',
            actor: 'workflow',
            organisationId: app.organisationId,
            applicationId: app.id,
            occurredAt: issuedAt,
            data: { domain, round, tokenHash: hash, txtName: challenge.txtName, httpUrl: challenge.httpUrl, expiresAt: expiresAt.toISOString() },
          });
        }
        return { domain, round, ...challenge, expiresAt: expiresAt.toISOString() };
      });
    },

    async checkDomainControl(input) {
      const domain = acceptableDomain(input.domain);
      const round = nonNegativeInteger(input.round, 'round');
      const check = nonNegativeInteger(input.check, 'check');
      const eventKey = `${input.workflowId}:domain-check:${domain}:${round}:${check}`;
      const recorded = await registry.auditEvent.findUnique({ where: { idempotencyKey: eventKey } });
      if (recorded !== null) return (recorded.data as unknown as { result: DomainControlCheck }).result;

      const row = await registry.domainChallenge.findUnique({ where: { workflowId_domain_round: { workflowId: input.workflowId, domain, round } } });
      if (row === null)
        throw permanentFailure(
          ACTIVITY_FAILURES.DOMAIN_CHALLENGE_UNKNOWN,
          `No domain challenge (round ${round}) was issued for ${domain} in ${input.workflowId}.`,
        );
      const contacts = await registry.contact.findMany({ where: { applicationId: input.applicationId } });
      const contactsOutsideDomain: ContactRoleKey[] = CONTACT_ROLES.filter((role) => {
        const contact = contacts.find((c) => c.role === REGISTRY_CONTACT_ROLE[role]);
        return contact !== undefined && !emailWithinDomain(contact.email, domain);
      });

      const checkedAt = deps.now();
      let outcome: Omit<DomainControlCheck, 'contactsOutsideDomain'>;
      if (row.verifiedAt !== null) {
        outcome = {
          verified: true,
          method: row.method as DomainControlCheck['method'],
          reasons: [
            {
              code: 'ALREADY_VERIFIED',
              method: row.method as DomainControlCheck['method'],
              message: `${domain} was verified at ${row.verifiedAt.toISOString()}.`,
            },
          ],
        };
      } else if (checkedAt.getTime() > row.expiresAt.getTime()) {
        outcome = {
          verified: false,
          method: null,
          reasons: [
            {
              code: 'CHALLENGE_EXPIRED',
              method: null,
              message: `The challenge expired at ${row.expiresAt.toISOString()}; a new round must be issued.`,
            },
          ],
        };
      } else {
        const challenge = [deps.secret, ...(deps.previousSecrets ?? [])]
          .map((secret) => domainChallenge(secret, { workflowId: input.workflowId, domain, round }))
          .find((candidate) => tokenHash(candidate.token) === row.tokenHash);
        if (challenge === undefined) {
          // The secret changed since the challenge was issued: what the partner published cannot match.
          outcome = {
            verified: false,
            method: null,
            reasons: [
              { code: 'CHALLENGE_SUPERSEDED', method: null, message: 'The challenge was issued under another secret; a new round must be issued.' },
            ],
          };
        } else {
          outcome = await checkDomain({ resolver: deps.resolver, fetcher: deps.fetcher }, challenge);
        }
      }
      const result: DomainControlCheck = { ...outcome, contactsOutsideDomain };

      return registry.$transaction(async (tx) => {
        const app = await lockApplication(tx, input.applicationId);
        const again = await tx.auditEvent.findUnique({ where: { idempotencyKey: eventKey } });
        if (again !== null) return (again.data as unknown as { result: DomainControlCheck }).result;
        await tx.domainChallenge.update({
          where: { id: row.id },
          data: {
            lastCheckedAt: checkedAt,
            lastReasons: result.reasons as unknown as Prisma.InputJsonArray,
            ...(result.verified && row.verifiedAt === null ? { verifiedAt: checkedAt, method: result.method } : {}),
          },
        });
        if (result.verified) {
          // Only the organisation's own primary domain verifies the organisation.
          const org = await tx.organisation.findUniqueOrThrow({ where: { id: app.organisationId } });
          if (canonicalDomain(org.primaryDomain) === domain && org.domainVerifiedAt === null) {
            await tx.organisation.update({ where: { id: org.id }, data: { domainVerifiedAt: checkedAt, domainVerificationMethod: result.method } });
            await refreshVerified(tx, org.id, checkedAt);
          }
        }
        await appendAuditEvent(tx, {
          idempotencyKey: eventKey,
          type: 'entity.domain-checked',
          actor: 'workflow',
          organisationId: app.organisationId,
          applicationId: app.id,
          occurredAt: checkedAt,
          data: { domain, round, check, result: result as unknown as JsonObject },
        });
        return result;
      });
    },
  };
}
