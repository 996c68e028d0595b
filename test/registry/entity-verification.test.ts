import { cp, mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRegistry, type Registry } from '../../registry/client';
import { applyMigrations, MIGRATIONS_DIR, readMigrations } from '../../registry/migrate';
import { createTestDatabase } from '../support/stack';
import { randomLei } from '../support/signups';

const MIGRATION = '20261203100000_entity_verification';

async function emptyDatabase(): Promise<string> {
  const name = `t_${randomUUID().replace(/-/g, '')}`;
  const admin = new pg.Client({ connectionString: inject('postgresAdminUrl') });
  await admin.connect();
  try {
    await admin.query(`create database ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  return inject('postgresAdminUrl').replace(/\/postgres$/, `/${name}`);
}

describe('the entity-verification migration', () => {
  it('backfills organisations enrolled before it as unverified', async () => {
    const url = await emptyDatabase();
    // The registry as it was: every migration before this one.
    const before = await mkdtemp(path.join(inject('scratchDir'), 'migrations-'));
    for (const m of await readMigrations()) {
      if (m.name < MIGRATION) await cp(path.join(MIGRATIONS_DIR, m.name), path.join(before, m.name), { recursive: true });
    }
    expect(await applyMigrations(url, before)).not.toContain(MIGRATION);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const lei = randomLei();
    await client.query(
      `insert into organisations (id, legal_name, lei, jurisdiction, primary_domain, updated_at) values ($1, 'Old Ltd', $2, 'GB', 'old.example', now())`,
      [randomUUID(), lei],
    );
    // This migration, then any that came after it.
    expect((await applyMigrations(url))[0]).toBe(MIGRATION);
    const { rows } = await client.query(
      'select verified, verified_at, lei_verified_at, domain_verified_at, domain_verification_method from organisations where lei = $1',
      [lei],
    );
    await client.end();
    expect(rows).toEqual([{ verified: false, verified_at: null, lei_verified_at: null, domain_verified_at: null, domain_verification_method: null }]);
  });
});

describe('LEI checks and domain challenges in the registry', () => {
  let registry: Registry;
  beforeAll(async () => {
    registry = createRegistry(await createTestDatabase());
  });
  afterAll(async () => registry.$disconnect());

  async function application() {
    const lei = randomLei();
    const org = await registry.organisation.create({
      data: { legalName: 'Round Trip Ltd', lei, jurisdiction: 'GB', primaryDomain: 'roundtrip.example' },
    });
    const app = await registry.application.create({
      data: {
        id: `app-${lei.toLowerCase()}`,
        organisationId: org.id,
        name: 'RT',
        nameKey: 'rt',
        environment: 'sandbox',
        purpose: 'p',
        requestedScopes: [],
        dataSensitivity: 'public',
        regulatedSector: false,
        strategic: false,
        expectedMonthlyCalls: 1,
        contractEndDate: new Date('2030-01-01'),
        requestedBy: 'a@roundtrip.example',
        workflowId: `wf-${lei}`,
      },
    });
    return { org, app, lei };
  }

  it('writes and reads back every field through the generated client', async () => {
    const { org, app, lei } = await application();
    const updated = await registry.organisation.update({
      where: { id: org.id },
      data: {
        verified: true,
        verifiedAt: new Date('2026-12-03T10:00:00.001Z'),
        leiVerifiedAt: new Date('2026-12-03T09:00:00Z'),
        domainVerifiedAt: new Date('2026-12-03T10:00:00.001Z'),
        domainVerificationMethod: 'dns-txt',
      },
    });
    expect(await registry.organisation.findUniqueOrThrow({ where: { id: org.id } })).toEqual(updated);
    const check = await registry.leiCheck.create({
      data: {
        checkKey: `wf-${lei}:lei-check:0`,
        organisationId: org.id,
        applicationId: app.id,
        lei,
        outcome: 'needs-approval',
        registrationStatus: 'LAPSED',
        entityStatus: 'ACTIVE',
        recordLegalName: 'Round Trip Limited',
        matchedName: null,
        recordJurisdiction: 'GB',
        claimedLegalName: 'Round Trip Ltd',
        claimedJurisdiction: 'GB',
        score: 0.875,
        reasons: { nameScore: 1, jurisdictionScore: 1, reasons: [{ code: 'LEI_REGISTRATION_STATUS', outcome: 'needs-approval', message: 'm' }] },
        record: { lei, nested: { n: 1 } },
        source: 'https://api.gleif.org/api/v1/lei-records/x',
        checkedAt: new Date('2026-12-03T09:00:00.123Z'),
      },
    });
    expect(await registry.leiCheck.findUniqueOrThrow({ where: { id: check.id } })).toEqual(check);
    const challenge = await registry.domainChallenge.create({
      data: {
        organisationId: org.id,
        applicationId: app.id,
        workflowId: app.workflowId,
        domain: 'roundtrip.example',
        round: 2,
        tokenHash: `h-${lei}`,
        issuedAt: new Date('2026-12-03T09:00:00Z'),
        expiresAt: new Date('2026-12-10T09:00:00Z'),
        verifiedAt: new Date('2026-12-03T09:30:00Z'),
        method: 'https-well-known',
        lastCheckedAt: new Date('2026-12-03T09:30:00Z'),
        lastReasons: [{ code: 'HTTPS_MATCH' }],
      },
    });
    expect(await registry.domainChallenge.findUniqueOrThrow({ where: { tokenHash: `h-${lei}` } })).toEqual(challenge);
  });

  it('enforces the keys and checks in the database', async () => {
    const { org, app, lei } = await application();
    const check = {
      checkKey: `k-${lei}`,
      organisationId: org.id,
      applicationId: app.id,
      lei,
      outcome: 'pass',
      claimedLegalName: 'x',
      claimedJurisdiction: 'GB',
      score: 1,
      reasons: [],
      source: 's',
      checkedAt: new Date(),
    };
    await registry.leiCheck.create({ data: check });
    await expect(registry.leiCheck.create({ data: check })).rejects.toMatchObject({ code: 'P2002' });
    await expect(registry.leiCheck.create({ data: { ...check, checkKey: `k2-${lei}`, outcome: 'maybe' } })).rejects.toThrow(
      /lei_checks_outcome_check/,
    );
    await expect(registry.leiCheck.create({ data: { ...check, checkKey: `k3-${lei}`, score: 1.5 } })).rejects.toThrow(/lei_checks_score_check/);
    const challenge = {
      organisationId: org.id,
      applicationId: app.id,
      workflowId: app.workflowId,
      domain: 'd.example',
      round: 0,
      tokenHash: `t-${lei}`,
      issuedAt: new Date(),
      expiresAt: new Date(),
    };
    await registry.domainChallenge.create({ data: challenge });
    await expect(registry.domainChallenge.create({ data: { ...challenge, tokenHash: `t2-${lei}` } })).rejects.toMatchObject({ code: 'P2002' });
    await expect(
      registry.domainChallenge.create({ data: { ...challenge, round: 1, tokenHash: `t3-${lei}`, method: 'carrier-pigeon' } }),
    ).rejects.toThrow(/domain_challenges_method_check/);
  });
});
