import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createRegistry, type Registry } from '../../registry/client';
import { appendAuditEvent, type AuditEntry } from '../../registry/audit';
import { evidenceKeyringFromSeeds, type EvidenceKeyring } from '../../evidence/keys';
import { createCheckpoint, type CheckpointFile } from '../../evidence/checkpoint';
import { exportDossier } from '../../evidence/dossier';
import { verifyDossier } from '../../evidence/dossier-verify';
import { renderDossierHtml } from '../../evidence/dossier-html';
import { fullChainedEventHash } from '../../evidence/event-hash';
import type { DossierEvent, SignedDossier } from '../../evidence/dossier-format';
import { main } from '../../cli/admit';
import { createTestDatabase } from '../support/stack';
import { randomLei } from '../support/signups';

let databaseUrl: string;
let registry: Registry;
let keyring: EvidenceKeyring;
let dir: string;
const seed = randomBytes(32);
const lei = randomLei();
const applicationId = `app-${lei.toLowerCase()}-evidence-feed-production`;
const APPROVER = { subject: 'https://idp.example approver-ada', name: 'Ada Approver', email: 'ada@admit.example' };
const COMMENT = 'ok <script>alert(1)</script>';

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  registry = createRegistry(databaseUrl);
  keyring = await evidenceKeyringFromSeeds([seed]);
  dir = await mkdtemp(path.join(tmpdir(), 'admit-dossier-'));
  const org = await registry.organisation.create({
    data: { legalName: 'Evidence Bank plc', lei, jurisdiction: 'GB', primaryDomain: 'evidence.example' },
  });
  await registry.application.create({
    data: {
      id: applicationId,
      organisationId: org.id,
      name: 'Evidence <b>Feed</b>',
      nameKey: 'evidence feed',
      environment: 'production',
      purpose: 'Payments',
      requestedScopes: ['payments:write'],
      dataSensitivity: 'confidential',
      regulatedSector: true,
      strategic: false,
      expectedMonthlyCalls: 1000,
      contractEndDate: new Date('2028-01-01'),
      requestedBy: 'bea@evidence.example',
      workflowId: `partner-${applicationId}`,
      contacts: {
        create: [
          { role: 'BUSINESS', name: 'Bea Owner', email: 'bea@evidence.example' },
          { role: 'TECHNICAL', name: 'Tom Tech', email: 'tom@evidence.example' },
          { role: 'SECURITY', name: 'Sam Sec', email: 'sam@evidence.example' },
        ],
      },
    },
  });
  await registry.approver.create({ data: { ...APPROVER, roles: ['approver'] } });
  const entries: Omit<AuditEntry, 'occurredAt'>[] = [
    { idempotencyKey: 'd:registered', type: 'application.registered', actor: 'bea@evidence.example', data: { lei } },
    {
      idempotencyKey: 'd:risk',
      type: 'risk.assessed',
      actor: 'workflow',
      data: { tier: 'REGULATED', score: 42, reasons: [{ code: 'REGULATED_SECTOR' }] },
    },
    {
      idempotencyKey: 'd:vote:admission:1:ada',
      type: 'admission.vote',
      actor: APPROVER.subject,
      data: { decision: 'approve', comment: COMMENT, roles: ['approver'], outcome: 'pending' },
    },
    {
      idempotencyKey: 'd:granted',
      type: 'access.granted',
      actor: APPROVER.subject,
      data: { scopes: ['payments:write'], approvedBy: [APPROVER.subject] },
    },
    {
      idempotencyKey: 'd:competing',
      type: 'application.competing-signup',
      actor: 'mallory@elsewhere.example',
      data: { requestedBy: 'mallory@elsewhere.example' },
    },
  ];
  for (const [i, entry] of entries.entries()) {
    await registry.$transaction((tx) =>
      appendAuditEvent(tx, { ...entry, organisationId: org.id, applicationId, occurredAt: new Date(Date.UTC(2026, 11, 1, 10, i)) }),
    );
  }
  await registry.$transaction((tx) =>
    appendAuditEvent(tx, {
      idempotencyKey: 'd:org-verified',
      type: 'organisation.attributes-verified',
      actor: 'workflow',
      organisationId: org.id,
      occurredAt: new Date(),
      data: { domainMethod: 'dns-txt' },
    }),
  );
});
afterAll(async () => registry.$disconnect());

const clone = (signed: SignedDossier): SignedDossier => structuredClone(signed);
const appChain = (signed: SignedDossier) => {
  const chain = signed.dossier.chains.find((c) => c.kind === 'application');
  if (chain === undefined) throw new Error('no application chain');
  return chain;
};

describe('the admission dossier', () => {
  let full: SignedDossier;

  it('holds the record, the sections and every event of the application’s and organisation’s chains, and verifies offline', async () => {
    full = await exportDossier(registry, keyring, applicationId, { audience: 'full', checkpointDir: dir });
    expect(full.dossier.chains.map((c) => [c.kind, c.events.length])).toEqual([
      ['application', 5],
      ['organisation', 1],
    ]);
    expect(full.dossier.sections.votes).toMatchObject([
      { decision: 'approve', comment: COMMENT, approver: { subject: APPROVER.subject, name: APPROVER.name, verified: true } },
    ]);
    expect(full.dossier.sections.twoPersonRule).toMatchObject([{ votes: 1, distinctApprovers: 1, requesterVoted: false }]);
    expect((full.dossier.record.contacts as { email: string }[]).map((c) => c.email)).toEqual([
      'b***@evidence.example',
      't***@evidence.example',
      's***@evidence.example',
    ]);
    expect(full.dossier.controls).toBeNull();
    expect(await verifyDossier(full, { jwks: keyring.jwks })).toMatchObject({ ok: true, keys: 'given', problems: [] });
  });

  it('gives the partner a copy without approvers’ names and comments or other people’s details, each marked by its digest, that still verifies', async () => {
    const partner = await exportDossier(registry, keyring, applicationId, { audience: 'partner', checkpointDir: dir });
    const text = JSON.stringify(partner);
    for (const secret of [APPROVER.name, APPROVER.email, APPROVER.subject, 'alert(1)', 'mallory@elsewhere.example'])
      expect(text).not.toContain(secret);
    const vote = appChain(partner).events.find((e) => e.type === 'admission.vote');
    expect(vote?.omitted).toEqual({ '/actor': expect.stringMatching(/^[0-9a-f]{64}$/), '/data/comment': expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(vote?.data).toEqual({ decision: 'approve', roles: ['approver'], outcome: 'pending' });
    expect(vote?.salt).toBeUndefined();
    // The partner's own requester stays.
    expect(appChain(partner).events[0]?.actor).toBe('bea@evidence.example');
    const result = await verifyDossier(partner, { jwks: keyring.jwks });
    expect(result).toMatchObject({ ok: true, problems: [] });
    // The vote's actor and comment, the grant's actor and approvers, the competing signup's actor and requester.
    expect(result.omittedFields).toBe(6);
    // The digest commits to the value: the full copy's comment, salted as the full copy discloses, gives it.
    const fullVote = appChain(full).events.find((e) => e.type === 'admission.vote') as DossierEvent;
    const { fieldDigest, fieldSalt } = await import('../../evidence/event-hash');
    expect(fieldDigest(fieldSalt(fullVote.salt ?? '', '/data/comment'), '/data/comment', COMMENT)).toBe(vote?.omitted?.['/data/comment']);
  });

  it('renders the same document as HTML with every value escaped', () => {
    const page = renderDossierHtml(full);
    expect(page).toContain('Evidence &lt;b&gt;Feed&lt;/b&gt;');
    expect(page).toContain('ok &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain('<script>');
    expect(page).not.toContain('<b>Feed');
  });
});

describe('a tampered dossier', () => {
  let full: SignedDossier;
  beforeAll(async () => {
    full = await exportDossier(registry, keyring, applicationId, { audience: 'full', checkpointDir: dir });
  });

  const firstNamed = async (signed: SignedDossier) => {
    const result = await verifyDossier(signed, { jwks: keyring.jwks });
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.code)).toContain('signature');
    return result.problems.find((p) => p.code !== 'signature');
  };

  it('is refused when one byte outside the events changed (signature)', async () => {
    const edited = clone(full);
    edited.dossier.record.application = { ...(edited.dossier.record.application as object), tier: 'LOW' };
    const result = await verifyDossier(edited, { jwks: keyring.jwks });
    expect(result.problems.map((p) => p.code)).toEqual(['signature']);
  });

  it('is refused under keys other than the published ones', async () => {
    const other = await evidenceKeyringFromSeeds([randomBytes(32)]);
    const result = await verifyDossier(full, { jwks: other.jwks });
    expect(result.problems.map((p) => p.code)).toEqual(['signature', 'checkpoint-signature']);
  });

  it('names an altered event', async () => {
    const edited = clone(full);
    const vote = appChain(edited).events[2] as DossierEvent;
    vote.data.decision = 'reject';
    expect(await firstNamed(edited)).toMatchObject({ code: 'event-altered', chainSeq: 3, eventId: vote.id });
  });

  it('names an altered event whose hash was recomputed to match (its successor’s link gives it away)', async () => {
    const edited = clone(full);
    const chain = appChain(edited);
    const vote = chain.events[2] as DossierEvent;
    vote.data.comment = 'no comment';
    vote.hash = fullChainedEventHash({ ...vote, chainId: chain.chainId, chainSeq: 3 }, vote.actor ?? '', vote.data, vote.salt ?? '');
    expect(await firstNamed(edited)).toMatchObject({ code: 'event-altered', chainSeq: 3, eventId: vote.id });
  });

  it('names a removed event, the last one included', async () => {
    const edited = clone(full);
    appChain(edited).events.splice(1, 1);
    expect(await firstNamed(edited)).toMatchObject({ code: 'event-removed', chainSeq: 2 });
    const truncated = clone(full);
    appChain(truncated).events.pop();
    expect(await firstNamed(truncated)).toMatchObject({ code: 'event-removed', chainSeq: 5 });
  });

  it('names an inserted event, even one correctly hashed and linked to its predecessor', async () => {
    const edited = clone(full);
    const chain = appChain(edited);
    const before = chain.events[1] as DossierEvent;
    const forged: DossierEvent = {
      ...before,
      id: '00000000-0000-4000-8000-000000000000',
      idempotencyKey: 'forged',
      chainSeq: 3,
      prevHash: before.hash,
    };
    forged.data = { decision: 'approve', comment: 'forged' };
    forged.hash = fullChainedEventHash({ ...forged, chainId: chain.chainId, chainSeq: 3 }, forged.actor ?? '', forged.data, forged.salt ?? '');
    chain.events.splice(2, 0, forged);
    expect(await firstNamed(edited)).toMatchObject({ code: 'event-inserted', eventId: forged.id });
  });

  it('is refused when the inclusion proof does not lead to the signed root', async () => {
    const edited = clone(full);
    const chain = appChain(edited);
    chain.leaf = { ...chain.leaf, size: chain.leaf.size + 1 };
    expect((await verifyDossier(edited, { jwks: keyring.jwks })).problems.map((p) => p.code)).toContain('inclusion-proof');
  });
});

describe('a database tampered with before the export', () => {
  it('is caught against a checkpoint held outside it: a truncated tail, with the head row rewound', async () => {
    // The checkpoint file written before the tampering.
    await registry.$transaction((tx) =>
      appendAuditEvent(tx, {
        idempotencyKey: 'd:suspended',
        type: 'access.suspended',
        actor: 'workflow',
        applicationId,
        occurredAt: new Date(),
        data: { reason: 'test' },
      }),
    );
    const held = (await createCheckpoint(registry, keyring, dir)).checkpoint;
    const heldFile = path.join(dir, 'held.json');
    await writeFile(heldFile, JSON.stringify(held));
    const chain = await registry.auditChain.findFirstOrThrow({ where: { kind: 'application', applicationId } });
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query('alter table audit_events disable trigger audit_events_no_update_or_delete');
      await client.query('delete from audit_events where chain_id = $1 and chain_seq = 6', [chain.id]);
      await client.query('alter table audit_events enable trigger audit_events_no_update_or_delete');
      const { rows } = await client.query<{ hash: string }>('select hash from audit_events where chain_id = $1 and chain_seq = 5', [chain.id]);
      await client.query('update audit_chains set size = 5, head_hash = $2 where id = $1', [chain.id, rows[0]?.hash]);
    } finally {
      await client.end();
    }
    // A dossier exported now is consistent with itself (a new checkpoint covers the truncated chain)…
    const exported = await exportDossier(registry, keyring, applicationId, { audience: 'full', checkpointDir: dir });
    expect(await verifyDossier(exported, { jwks: keyring.jwks })).toMatchObject({ ok: true });
    // …but not with the checkpoint held elsewhere.
    const result = await verifyDossier(exported, { jwks: keyring.jwks, checkpoint: JSON.parse(await readFile(heldFile, 'utf8')) as CheckpointFile });
    expect(result.ok).toBe(false);
    expect(result.problems).toMatchObject([{ code: 'event-removed', chainId: chain.id, chainSeq: 6 }]);
  });
});

describe('npx admit evidence', () => {
  it('exports a dossier to a file and verifies it offline, exit 0; a tampered one exits 1 naming the event', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      NODE_ENV: 'test',
      DATABASE_URL: databaseUrl,
      ADMIT_EVIDENCE_KEYS: seed.toString('base64'),
      ADMIT_EVIDENCE_DIR: dir,
      ADMIT_DATA_DIR: dir,
    });
    const out: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: (t: string) => void out.push(t) };
    const file = path.join(dir, 'dossier.json');
    const keys = path.join(dir, 'jwks.json');
    try {
      expect(await main(['evidence', 'export', applicationId, '--audience', 'partner', '--out', file], io)).toBe(0);
      expect(await main(['evidence', 'export', applicationId, '--format', 'html', '--out', path.join(dir, 'dossier.html')], io)).toBe(0);
      expect(await main(['evidence', 'export', 'app-nobody', '--out', path.join(dir, 'none.json')], io)).toBe(1);
      expect(await main(['evidence', 'export', applicationId, '--audience', 'everyone'], io)).toBe(2);
    } finally {
      process.env = saved;
    }
    await writeFile(keys, JSON.stringify(keyring.jwks));
    out.length = 0;
    expect(await main(['evidence', 'verify', file, '--keys', keys], io)).toBe(0);
    expect(out.join('')).toMatch(/^verified: .* \(partner\), 2 chains, 6 events, .*6 fields omitted/);
    const signed = JSON.parse(await readFile(file, 'utf8')) as SignedDossier;
    appChain(signed).events.splice(3, 1);
    await writeFile(file, JSON.stringify(signed));
    out.length = 0;
    expect(await main(['evidence', 'verify', file, '--keys', keys], io)).toBe(1);
    expect(out.join('')).toMatch(/NOT VERIFIED[^]*signature[^]*event-removed: event 4 of chain/);
    expect(await readFile(path.join(dir, 'dossier.html'), 'utf8')).toContain('Admission dossier');
  });
});
