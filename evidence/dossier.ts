import { createHmac, randomUUID } from 'node:crypto';
import canonicalize from 'canonicalize';
import { FlattenedSign } from 'jose';
import type { Registry } from '../registry/client';
import type { AuditEvent } from '../generated/prisma/client';
import type { ChainKind } from '../registry/audit';
import { maskEmail } from '../domain/email-domain';
import { committedValues, fieldDigest, fieldSalt } from './event-hash';
import { checkpointCovering, inclusionProofFor, publishedOf } from './checkpoint';
import type { EvidenceKeyring } from './keys';
import {
  DOSSIER_FORMAT,
  DOSSIER_JWS_TYP,
  type Audience,
  type Dossier,
  type DossierChain,
  type DossierEvent,
  type Omission,
  type SignedDossier,
} from './dossier-format';

/**
 * The admission dossier of one application (docs/evidence.md): the registry
 * record and every event of its chains, gathered from the registry as they
 * stand, with the inclusion proof of each chain's head in a signed checkpoint,
 * all signed with the evidence key. It computes nothing the lifecycle decided:
 * the sections are views of the events and rows that recorded each decision.
 */

export class DossierNotFoundError extends Error {
  override name = 'DossierNotFoundError';
  constructor(readonly applicationId: string) {
    super(`There is no application ${applicationId} in the registry.`);
  }
}

/** Actors that are Admit itself, not a person. */
const SYSTEM_ACTORS = new Set(['workflow', 'system', 'template']);
/** Data fields naming or quoting approvers: left out of the partner's copy. */
const APPROVER_FIELDS = new Set(['comment', 'approvedBy', 'approver', 'approvers', 'decidedBy', 'reviewer']);
/** Data fields naming people: left out of the partner's copy unless they are the partner's own people. */
const PEOPLE_FIELDS = new Set(['requestedBy', 'contacts', 'by', 'email', 'name']);

export interface DossierOptions {
  audience: Audience;
  /** Where checkpoints are also written (a new one is made when none covers the chains' heads). */
  checkpointDir?: string;
  /** The lifecycle's armed triggers, when the caller could ask the workflow; else the section says so. */
  triggers?: unknown[];
  /** The controls section (issue 12, item 4): given the dossier's events, the controls they evidence. */
  controls?: (events: readonly DossierEvent[]) => unknown;
  now?: Date;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const iso = (d: Date | null | undefined): string | null => (d == null ? null : d.toISOString());

export async function buildDossier(registry: Registry, keyring: EvidenceKeyring, applicationId: string, options: DossierOptions): Promise<Dossier> {
  const application = await registry.application.findUnique({
    where: { id: applicationId },
    include: {
      organisation: true,
      contacts: { orderBy: { role: 'asc' } },
      trustAnchors: { orderBy: { createdAt: 'asc' } },
      confirmations: { orderBy: [{ sentAt: 'asc' }] },
      grants: { orderBy: { grantedAt: 'asc' } },
    },
  });
  if (application === null) throw new DossierNotFoundError(applicationId);
  const [credentials, leiChecks, domainChallenges] = await Promise.all([
    registry.clientCredential.findMany({ where: { applicationId }, orderBy: { createdAt: 'asc' } }),
    registry.leiCheck.findMany({ where: { applicationId }, orderBy: { checkedAt: 'asc' } }),
    registry.domainChallenge.findMany({ where: { applicationId }, orderBy: { issuedAt: 'asc' } }),
  ]);

  // The chains: every claim's of this application id, its organisation's, and its part of the legacy segment.
  const chainRows = await registry.auditChain.findMany({
    where: {
      OR: [{ kind: 'application', applicationId }, { kind: 'organisation', organisationId: application.organisationId }, { kind: 'legacy' }],
    },
    orderBy: { position: 'asc' },
  });
  const checkpoint = await checkpointCovering(
    registry,
    keyring,
    options.checkpointDir,
    chainRows.map((c) => c.id),
  );
  const exportId = randomUUID();
  const own = ownPeople(application);
  const chains: DossierChain[] = [];
  // Who acted, before the partner's copy leaves approvers out: the two-person rule is reported on it.
  const actorOf = new Map<string, string>();
  for (const chain of chainRows) {
    const leaf = checkpoint.leaves.find((l) => l.chainId === chain.id);
    const proof = inclusionProofFor(checkpoint.leaves, chain.id);
    if (leaf === undefined || proof === undefined) continue; // opened after the checkpoint: nothing to prove yet
    const legacy = chain.kind === 'legacy';
    const events = await registry.auditEvent.findMany({
      where: legacy
        ? { chainId: null, OR: [{ applicationId }, { applicationId: null, organisationId: application.organisationId }] }
        : { chainId: chain.id, chainSeq: { lte: leaf.size } },
      orderBy: { seq: 'asc' },
    });
    if (legacy && events.length === 0) continue;
    for (const e of events) actorOf.set(e.id, e.actor);
    chains.push({
      chainId: chain.id,
      kind: chain.kind as ChainKind,
      openedAt: iso(chain.openedAt),
      supersededAt: iso(chain.supersededAt),
      ...(legacy ? { partial: true as const } : {}),
      events: events.map((e) => dossierEvent(e, options.audience, own)),
      leaf,
      inclusionProof: proof,
    });
  }
  const events = chains.flatMap((c) => c.events);
  const omit = omitter(keyring.omissionSecret, exportId);
  const partner = options.audience === 'partner';
  const approverSubjects = new Set<string>();
  for (const e of events) if (e.type.endsWith('.vote')) approverSubjects.add(actorOf.get(e.id) ?? '');
  for (const g of application.grants) for (const s of g.approvedBy) approverSubjects.add(s);
  const approvers = await registry.approver.findMany({ where: { subject: { in: [...approverSubjects] } } });
  const approverOf = (subject: string) => {
    const a = approvers.find((x) => x.subject === subject);
    return a === undefined ? { subject, verified: false } : { subject: a.subject, name: a.name, email: a.email, roles: a.roles, verified: true };
  };
  const ref = (e: DossierEvent) => ({ chainSeq: e.chainSeq, seq: e.seq, hash: e.hash });
  const byType = (test: (type: string) => boolean) => events.filter((e) => test(e.type));
  const eventView = (e: DossierEvent) => ({
    type: e.type,
    occurredAt: e.occurredAt,
    ...(e.actor === undefined ? { actor: { omitted: true, digest: e.omitted?.['/actor'] } } : { actor: e.actor }),
    data: e.data,
    ...(e.omitted === undefined ? {} : { omitted: Object.keys(e.omitted) }),
    event: ref(e),
  });

  const votes = byType((t) => t.endsWith('.vote')).map((e) => ({
    purpose: e.type.slice(0, -'.vote'.length),
    occurredAt: e.occurredAt,
    decision: e.data.decision ?? null,
    outcome: e.data.outcome ?? null,
    roles: e.data.roles ?? null,
    approver: partner ? omit(`votes/${e.seq}/approver`, approverOf(actorOf.get(e.id) ?? '')) : approverOf(actorOf.get(e.id) ?? ''),
    comment: partner ? { omitted: true, digest: e.omitted?.['/data/comment'] ?? null } : (e.data.comment ?? null),
    event: ref(e),
  }));
  // The two-person rule as applied: per decision, how many distinct approvers voted, none of them the requester.
  const decisions = new Map<string, { purpose: string; approvers: Set<string>; votes: number; decisions: string[] }>();
  for (const e of byType((t) => t.endsWith('.vote'))) {
    const key = e.idempotencyKey.split(':vote:')[1]?.split(':').slice(0, -1).join(':') ?? e.type;
    const entry = decisions.get(key) ?? { purpose: e.type.slice(0, -'.vote'.length), approvers: new Set<string>(), votes: 0, decisions: [] };
    entry.votes += 1;
    entry.approvers.add(actorOf.get(e.id) ?? '');
    entry.decisions.push(String(e.data.decision));
    decisions.set(key, entry);
  }
  const twoPersonRule = [...decisions.entries()].map(([key, d]) => ({
    decision: key,
    purpose: d.purpose,
    votes: d.votes,
    distinctApprovers: d.approvers.size,
    // Separation of duties as applied: no voter is the requester (by the approver directory's address).
    requesterVoted: [...d.approvers].some((subject) => {
      const email = approvers.find((a) => a.subject === subject)?.email ?? subject;
      return email.toLowerCase() === application.requestedBy.toLowerCase();
    }),
    decisionsCast: d.decisions,
  }));

  const sections: Record<string, unknown> = {
    entityVerification: {
      leiChecks: leiChecks.map((c) => ({
        lei: c.lei,
        outcome: c.outcome,
        registrationStatus: c.registrationStatus,
        entityStatus: c.entityStatus,
        recordLegalName: c.recordLegalName,
        matchedName: c.matchedName,
        recordJurisdiction: c.recordJurisdiction,
        claimedLegalName: c.claimedLegalName,
        claimedJurisdiction: c.claimedJurisdiction,
        score: c.score,
        reasons: c.reasons,
        source: c.source,
        checkedAt: iso(c.checkedAt),
      })),
      domainChallenges: domainChallenges.map((c) => ({
        domain: c.domain,
        round: c.round,
        issuedAt: iso(c.issuedAt),
        expiresAt: iso(c.expiresAt),
        verifiedAt: iso(c.verifiedAt),
        method: c.method,
        lastCheckedAt: iso(c.lastCheckedAt),
        lastReasons: c.lastReasons,
      })),
      events: byType((t) => t.startsWith('entity.') || t.startsWith('organisation.')).map(eventView),
    },
    contactConfirmations: {
      contacts: application.contacts.map((c) => ({ role: c.role, email: maskEmail(c.email), confirmedAt: iso(c.confirmedAt) })),
      links: application.confirmations.map((c) => ({
        role: c.role,
        round: c.round,
        sentAt: iso(c.sentAt),
        expiresAt: iso(c.expiresAt),
        usedAt: iso(c.usedAt),
      })),
      events: byType((t) => t.startsWith('contact.')).map(eventView),
    },
    anchors: {
      trustAnchors: application.trustAnchors.map((a) => ({
        kind: a.kind,
        fingerprint: a.fingerprint,
        keyFingerprint: a.keyFingerprint,
        subject: a.subject,
        status: a.status,
        verifiedAt: iso(a.verifiedAt),
        notAfter: iso(a.notAfter),
        retiredAt: iso(a.retiredAt),
      })),
      // Each verification, refusal, rotation and retirement with its reason codes, fingerprints and trust store.
      events: byType((t) => t.startsWith('anchor.')).map(eventView),
    },
    risk: byType((t) => t === 'risk.assessed').map(eventView),
    votes,
    twoPersonRule,
    approvals: byType((t) => t.endsWith('.approved') || t.endsWith('.rejected')).map(eventView),
    grants: application.grants.map((g) => ({
      scopes: g.scopes,
      conditions: g.conditions,
      status: g.status,
      tier: g.tier,
      approvedBy: partner ? omit(`grants/${g.id}/approvedBy`, g.approvedBy) : g.approvedBy.map(approverOf),
      grantedAt: iso(g.grantedAt),
      suspendedAt: iso(g.suspendedAt),
      revokedAt: iso(g.revokedAt),
      revocationReason: g.revocationReason,
    })),
    // Each expansion request with the usage it was decided on, and the grant it changed.
    expansions: byType((t) => t.startsWith('expansion.') || t === 'grant.expanded').map(eventView),
    triggers:
      options.triggers === undefined
        ? { available: false, note: 'The lifecycle was not asked for its armed triggers; the admission events below record them.' }
        : { available: true, armed: options.triggers },
    suspensionsAndRevocations: byType((t) => t.startsWith('access.') || t === 'application.closed' || t === 'anchor.retired').map(eventView),
    credentials: credentials.map((c) => ({
      clientId: c.clientId,
      anchorFingerprint: c.anchorFingerprint,
      confirmationMethod: c.confirmationMethod,
      confirmationValue: c.confirmationValue,
      tokenLifetimeSeconds: c.tokenLifetimeSeconds,
      status: c.status,
      issuedAt: iso(c.createdAt),
      revokedAt: iso(c.revokedAt),
    })),
    transitions: byType((t) => t === 'lifecycle.transition').map((e) => ({ occurredAt: e.occurredAt, ...e.data, event: ref(e) })),
  };

  const org = application.organisation;
  const dossier: Dossier = {
    format: DOSSIER_FORMAT,
    audience: options.audience,
    exportId,
    generatedAt: (options.now ?? new Date()).toISOString(),
    applicationId,
    record: {
      application: {
        id: application.id,
        name: application.name,
        environment: application.environment,
        purpose: application.purpose,
        requestedScopes: application.requestedScopes,
        dataSensitivity: application.dataSensitivity,
        regulatedSector: application.regulatedSector,
        strategic: application.strategic,
        expectedMonthlyCalls: application.expectedMonthlyCalls,
        contractEndDate: application.contractEndDate.toISOString().slice(0, 10),
        requestedBy: maskEmail(application.requestedBy),
        status: application.status,
        tier: application.tier,
        riskScore: application.riskScore,
        createdAt: iso(application.createdAt),
        admittedAt: iso(application.admittedAt),
        closedAt: iso(application.closedAt),
      },
      organisation: {
        id: org.id,
        legalName: org.legalName,
        lei: org.lei,
        jurisdiction: org.jurisdiction,
        primaryDomain: org.primaryDomain,
        status: org.status,
        verified: org.verified,
        verifiedAt: iso(org.verifiedAt),
        leiVerifiedAt: iso(org.leiVerifiedAt),
        domainVerifiedAt: iso(org.domainVerifiedAt),
        domainVerificationMethod: org.domainVerificationMethod,
      },
      contacts: application.contacts.map((c) => ({ role: c.role, name: c.name, email: maskEmail(c.email), confirmedAt: iso(c.confirmedAt) })),
    },
    sections: JSON.parse(JSON.stringify(sections)) as Record<string, unknown>,
    controls: null,
    chains,
    checkpoint: publishedOf(checkpoint),
    keys: keyring.jwks,
  };
  if (options.controls !== undefined) dossier.controls = JSON.parse(JSON.stringify(options.controls(events) ?? null)) as Json;
  return dossier;
}

/** The partner's own people: the contacts, the requester and their roles. */
function ownPeople(application: { requestedBy: string; contacts: { email: string; role: string }[] }): Set<string> {
  const own = new Set([application.requestedBy.toLowerCase()]);
  for (const c of application.contacts) {
    own.add(c.email.toLowerCase());
    own.add(c.role.toLowerCase());
  }
  for (const role of ['business', 'technical', 'security']) own.add(role);
  return own;
}

function isOwn(value: unknown, own: Set<string>): boolean {
  if (typeof value === 'string') return own.has(value.toLowerCase()) || SYSTEM_ACTORS.has(value) || value.startsWith('template');
  return false;
}

/** Which committed fields of an event the partner's copy leaves out. */
function omittedPaths(actor: string, data: Record<string, unknown>, own: Set<string>): Set<string> {
  const out = new Set<string>();
  if (!isOwn(actor, own)) out.add('/actor');
  for (const [key, value] of Object.entries(data)) {
    if (APPROVER_FIELDS.has(key) || (PEOPLE_FIELDS.has(key) && !isOwn(value, own))) out.add(`/data/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
  }
  return out;
}

function dossierEvent(event: AuditEvent, audience: Audience, own: Set<string>): DossierEvent {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const envelope = {
    seq: event.seq.toString(),
    chainSeq: event.chainSeq,
    id: event.id,
    idempotencyKey: event.idempotencyKey,
    type: event.type,
    organisationId: event.organisationId,
    applicationId: event.applicationId,
    occurredAt: event.occurredAt.toISOString(),
    prevHash: event.prevHash,
    hash: event.hash,
  };
  if (audience === 'full') return { ...envelope, actor: event.actor, data, ...(event.salt === null ? {} : { salt: event.salt }) };
  const leave = omittedPaths(event.actor, data, own);
  if (event.salt === null) {
    // A legacy event hashes its fields in clear: leaving one out leaves only its hash to show.
    if (leave.size === 0) return { ...envelope, actor: event.actor, data };
    return { ...envelope, data: {}, omitted: { '*': event.hash } };
  }
  const salts: Record<string, string> = {};
  const omitted: Record<string, string> = {};
  const shown: Record<string, unknown> = {};
  let actor: string | undefined;
  for (const [path, value] of committedValues(event.actor, data)) {
    const salt = fieldSalt(event.salt, path);
    if (leave.has(path)) {
      omitted[path] = fieldDigest(salt, path, value);
      continue;
    }
    salts[path] = salt;
    if (path === '/actor') actor = event.actor;
  }
  for (const [key, value] of Object.entries(data)) if (!leave.has(`/data/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`)) shown[key] = value;
  return { ...envelope, ...(actor === undefined ? {} : { actor }), data: shown, salts, ...(Object.keys(omitted).length === 0 ? {} : { omitted }) };
}

/**
 * Omissions of values that come from registry rows rather than events: the
 * salt is HMAC-SHA256(omission secret, export id + path), never disclosed, so
 * a short value cannot be found from its digest; Admit can disclose one salt
 * to prove what was left out.
 */
function omitter(secret: Buffer, exportId: string): (path: string, value: unknown) => Omission {
  return (path, value) => {
    const salt = createHmac('sha256', secret).update(`${exportId}:${path}`).digest('hex');
    return { omitted: true, digest: fieldDigest(salt, path, value) };
  };
}

/** The dossier's RFC 8785 canonical bytes: what its signature covers. */
export function canonicalBytes(dossier: Dossier): Buffer {
  return Buffer.from(canonicalize(dossier) ?? '');
}

/** Signs the canonical bytes with the newest evidence key (a JWS with a detached payload). */
export async function signDossier(dossier: Dossier, keyring: EvidenceKeyring): Promise<SignedDossier> {
  const jws = await new FlattenedSign(canonicalBytes(dossier))
    .setProtectedHeader({ alg: 'EdDSA', kid: keyring.signing.kid, typ: DOSSIER_JWS_TYP })
    .sign(keyring.signing.privateKey);
  return { dossier, signature: { protected: jws.protected ?? '', signature: jws.signature } };
}

export async function exportDossier(
  registry: Registry,
  keyring: EvidenceKeyring,
  applicationId: string,
  options: DossierOptions,
): Promise<SignedDossier> {
  return signDossier(await buildDossier(registry, keyring, applicationId, options), keyring);
}
