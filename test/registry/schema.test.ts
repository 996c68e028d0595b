import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createRegistry, type Registry } from '../../registry/client';
import { applyMigrations, readMigrations } from '../../registry/migrate';
import { createTestDatabase } from '../support/stack';
import { randomLei } from '../support/signups';

let databaseUrl: string;
let registry: Registry;

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  registry = createRegistry(databaseUrl);
});
afterAll(async () => registry.$disconnect());

describe('registry migrations', () => {
  it('records every migration in Prisma’s _prisma_migrations table with its checksum', async () => {
    const migrations = await readMigrations();
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const { rows } = await client.query(
      'select migration_name, checksum, finished_at, applied_steps_count from _prisma_migrations order by migration_name',
    );
    await client.end();
    expect(rows.map((r) => r.migration_name)).toEqual(migrations.map((m) => m.name));
    expect(rows.map((r) => r.checksum)).toEqual(migrations.map((m) => m.checksum));
    for (const row of rows) {
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it('applies nothing the second time', async () => {
    expect(await applyMigrations(databaseUrl)).toEqual([]);
  });

  it('refuses a database whose applied migration was edited afterwards', async () => {
    const url = await createTestDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`update _prisma_migrations set checksum = repeat('0', 64)`);
    await client.end();
    await expect(applyMigrations(url)).rejects.toThrow(/was edited after it was applied/);
  });
});

describe('the migrated database matches the Prisma schema', () => {
  it('writes and reads back every field of every model through the generated client', async () => {
    const lei = randomLei();
    const org = await registry.organisation.create({
      data: { legalName: 'Round Trip Ltd', lei, jurisdiction: 'US-DE', primaryDomain: 'roundtrip.example', status: 'CLOSED' },
    });
    expect(await registry.organisation.findUniqueOrThrow({ where: { lei } })).toEqual(org);

    const application = await registry.application.create({
      data: {
        id: `app-${lei.toLowerCase()}-round-trip-production`,
        organisationId: org.id,
        name: 'Round Trip',
        nameKey: 'round-trip',
        environment: 'production',
        purpose: 'Schema round trip',
        requestedScopes: ['accounts:read', 'payments:initiate'],
        dataSensitivity: 'restricted',
        regulatedSector: true,
        strategic: true,
        expectedMonthlyCalls: 2_000_000_000,
        contractEndDate: new Date('2030-01-31T00:00:00Z'),
        requestedBy: 'owner@roundtrip.example',
        status: 'SUSPENDED',
        workflowId: `wf-${lei}`,
        closedAt: new Date('2029-05-05T05:05:05.123Z'),
      },
    });
    const readApplication = await registry.application.findUniqueOrThrow({ where: { id: application.id } });
    expect(readApplication).toEqual(application);
    expect(readApplication.contractEndDate.toISOString()).toBe('2030-01-31T00:00:00.000Z');
    expect(readApplication.closedAt?.toISOString()).toBe('2029-05-05T05:05:05.123Z');

    for (const role of ['BUSINESS', 'TECHNICAL', 'SECURITY'] as const) {
      const contact = await registry.contact.create({
        data: {
          applicationId: application.id,
          role,
          name: `${role} person`,
          email: `${role.toLowerCase()}@roundtrip.example`,
          confirmedAt: role === 'SECURITY' ? new Date() : null,
        },
      });
      expect(await registry.contact.findUniqueOrThrow({ where: { id: contact.id } })).toEqual(contact);
    }

    const anchor = await registry.trustAnchor.create({
      data: {
        applicationId: application.id,
        kind: 'SPIFFE',
        fingerprint: `sha256:${lei}`,
        keyFingerprint: `jwk-sha256:${lei}`,
        subject: 'spiffe://roundtrip.example/payments',
        material: { bundle: ['-----BEGIN CERTIFICATE-----'], nested: { n: 1, ok: true, none: null } },
        status: 'ROTATING_OUT',
        verifiedAt: new Date('2026-01-01T00:00:00Z'),
        notAfter: new Date('2027-01-01T00:00:00Z'),
        retiredAt: new Date('2026-06-01T00:00:00Z'),
      },
    });
    expect(await registry.trustAnchor.findUniqueOrThrow({ where: { id: anchor.id } })).toEqual(anchor);

    const chain = await registry.auditChain.create({
      data: {
        id: randomUUID(),
        kind: 'application',
        applicationId: application.id,
        size: 1,
        headHash: `h-${lei}`,
        openedAt: new Date('2026-12-01T00:00:00.002Z'),
      },
    });
    expect(await registry.auditChain.findUniqueOrThrow({ where: { id: chain.id } })).toEqual(chain);
    expect(typeof chain.position).toBe('bigint');

    const event = await registry.auditEvent.create({
      data: {
        chainId: chain.id,
        chainSeq: 1,
        salt: 'ab'.repeat(32),
        idempotencyKey: `schema-test-${lei}`,
        organisationId: org.id,
        applicationId: application.id,
        type: 'schema.round-trip',
        actor: 'test',
        occurredAt: new Date('2026-12-01T00:00:00.001Z'),
        data: { list: [1, 'two', false] },
        prevHash: 'a'.repeat(64),
        hash: `h-${lei}`,
      },
    });
    const readEvent = await registry.auditEvent.findUniqueOrThrow({ where: { id: event.id } });
    expect(readEvent).toEqual(event);
    expect(typeof readEvent.seq).toBe('bigint');

    const checkpoint = await registry.auditCheckpoint.create({
      data: {
        createdAt: new Date('2026-12-01T00:00:00.003Z'),
        treeSize: 1,
        rootHash: 'c'.repeat(64),
        leaves: [{ chainId: chain.id }],
        kid: 'k',
        jws: 'a.b.c',
      },
    });
    expect(await registry.auditCheckpoint.findUniqueOrThrow({ where: { seq: checkpoint.seq } })).toEqual(checkpoint);

    const confirmation = await registry.contactConfirmation.create({
      data: {
        applicationId: application.id,
        workflowId: application.workflowId,
        role: 'TECHNICAL',
        round: 2,
        tokenHash: `hash-${lei}`,
        expiresAt: new Date('2026-12-08T00:00:00.999Z'),
        sentAt: new Date('2026-12-01T00:00:00Z'),
        usedAt: new Date('2026-12-02T00:00:00Z'),
      },
    });
    expect(await registry.contactConfirmation.findUniqueOrThrow({ where: { tokenHash: `hash-${lei}` } })).toEqual(confirmation);

    const grant = await registry.grant.create({
      data: {
        applicationId: application.id,
        scopes: ['accounts:read', 'payments:initiate'],
        conditions: { environments: ['production'], maxAmount: { value: 1000.5, currency: 'EUR' } },
        status: 'REVOKED',
        tier: 'REGULATED',
        approvedBy: ['https://idp.example a', 'https://idp.example b'],
        grantedAt: new Date('2026-12-01T00:00:00Z'),
        suspendedAt: new Date('2026-12-02T00:00:00Z'),
        revokedAt: new Date('2026-12-03T00:00:00Z'),
        revocationReason: 'key-compromise: reported',
      },
    });
    expect(await registry.grant.findUniqueOrThrow({ where: { id: grant.id } })).toEqual(grant);

    const credential = await registry.clientCredential.create({
      data: {
        clientId: `client-${lei}`,
        applicationId: application.id,
        anchorFingerprint: anchor.fingerprint,
        confirmationMethod: 'x5t#S256',
        confirmationValue: 'A'.repeat(43),
        tokenLifetimeSeconds: 300,
        status: 'SUSPENDED',
        revokedAt: new Date('2026-12-04T00:00:00Z'),
      },
    });
    expect(await registry.clientCredential.findUniqueOrThrow({ where: { clientId: `client-${lei}` } })).toEqual(credential);

    const usage = await registry.usageReport.create({
      data: {
        clientId: credential.clientId,
        applicationId: application.id,
        source: 'kong',
        intervalStart: new Date('2026-12-05T00:00:00Z'),
        intervalEnd: new Date('2026-12-05T01:00:00Z'),
        calls: 2_147_483_647,
        denials: 3,
        errors: 2,
        anomalies: 1,
        lastSeenAt: new Date('2026-12-05T00:59:59.999Z'),
      },
    });
    expect(await registry.usageReport.findUniqueOrThrow({ where: { id: usage.id } })).toEqual(usage);

    const approver = await registry.approver.create({
      data: {
        subject: `https://idp.example ${lei}`,
        email: `approver-${lei}@roundtrip.example`,
        name: 'Round Trip Approver',
        roles: ['approver', 'security-reviewer'],
        active: false,
      },
    });
    expect(await registry.approver.findUniqueOrThrow({ where: { subject: approver.subject } })).toEqual(approver);

    const assertion = await registry.usedAssertion.create({ data: { jti: `jti-${lei}`, expiresAt: new Date('2026-12-01T00:05:00Z') } });
    expect(await registry.usedAssertion.findUniqueOrThrow({ where: { jti: assertion.jti } })).toEqual(assertion);

    const delivery = await registry.notificationDelivery.create({
      data: {
        idempotencyKey: `notify-${lei}`,
        applicationId: application.id,
        template: 'offboarded',
        recipient: 'business@roundtrip.example',
        messageId: `<notify.${lei}@admit.test>`,
        sentAt: new Date('2026-12-06T00:00:00.001Z'),
        acceptedAt: new Date('2026-12-06T00:00:01.002Z'),
      },
    });
    expect(await registry.notificationDelivery.findUniqueOrThrow({ where: { id: delivery.id } })).toEqual(delivery);

    const graph = await registry.organisation.findUniqueOrThrow({
      where: { id: org.id },
      include: {
        applications: { include: { contacts: true, trustAnchors: true, confirmations: true, grants: true, credentials: true, notifications: true } },
      },
    });
    expect(graph.applications[0]?.contacts).toHaveLength(3);
    expect(graph.applications[0]?.trustAnchors).toHaveLength(1);
    expect(graph.applications[0]?.confirmations).toHaveLength(1);
    expect(graph.applications[0]?.grants).toHaveLength(1);
    expect(graph.applications[0]?.credentials).toHaveLength(1);
    expect(graph.applications[0]?.notifications).toHaveLength(1);
  });

  it('enforces the schema’s unique keys in the database', async () => {
    const lei = randomLei();
    const org = await registry.organisation.create({
      data: { legalName: 'Unique Ltd', lei, jurisdiction: 'GB', primaryDomain: 'unique.example' },
    });
    await expect(
      registry.organisation.create({ data: { legalName: 'Other', lei, jurisdiction: 'GB', primaryDomain: 'other.example' } }),
    ).rejects.toMatchObject({ code: 'P2002' });
    const base = {
      organisationId: org.id,
      name: 'U',
      nameKey: 'u',
      environment: 'sandbox',
      purpose: 'p',
      requestedScopes: [],
      dataSensitivity: 'public',
      regulatedSector: false,
      strategic: false,
      expectedMonthlyCalls: 1,
      contractEndDate: new Date('2030-01-01'),
      requestedBy: 'a@unique.example',
    };
    await registry.application.create({ data: { ...base, id: `a1-${lei}`, workflowId: `w1-${lei}` } });
    await expect(registry.application.create({ data: { ...base, id: `a2-${lei}`, workflowId: `w2-${lei}` } })).rejects.toMatchObject({
      code: 'P2002',
    });
    await registry.trustAnchor.create({
      data: { applicationId: `a1-${lei}`, kind: 'X509', fingerprint: `fp-${lei}`, material: {}, verifiedAt: new Date() },
    });
    await expect(
      registry.trustAnchor.create({
        data: { applicationId: `a1-${lei}`, kind: 'JWK', fingerprint: `fp-${lei}`, material: {}, verifiedAt: new Date() },
      }),
    ).rejects.toMatchObject({ code: 'P2002' });
    const confirmation = {
      applicationId: `a1-${lei}`,
      workflowId: `w1-${lei}`,
      role: 'BUSINESS' as const,
      round: 0,
      expiresAt: new Date(),
      sentAt: new Date(),
    };
    await registry.contactConfirmation.create({ data: { ...confirmation, tokenHash: `h1-${lei}` } });
    await expect(registry.contactConfirmation.create({ data: { ...confirmation, tokenHash: `h2-${lei}` } })).rejects.toMatchObject({ code: 'P2002' });
    await expect(registry.contactConfirmation.create({ data: { ...confirmation, round: 1, tokenHash: `h1-${lei}` } })).rejects.toMatchObject({
      code: 'P2002',
    });
    // A later claim of the same application restarts its rounds at 0 beside the earlier claim's links.
    await registry.contactConfirmation.create({ data: { ...confirmation, workflowId: `w1-${lei}#2`, tokenHash: `h3-${lei}` } });
    const usage = {
      clientId: `c-${lei}`,
      applicationId: `a1-${lei}`,
      source: 'kong',
      intervalStart: new Date('2026-01-01'),
      intervalEnd: new Date('2026-01-02'),
      calls: 1,
      denials: 0,
      errors: 0,
      anomalies: 0,
    };
    await registry.usageReport.create({ data: usage });
    await expect(registry.usageReport.create({ data: usage })).rejects.toMatchObject({ code: 'P2002' });
    await registry.usageReport.create({ data: { ...usage, source: 'edge' } });
    const delivery = {
      idempotencyKey: `n-${lei}`,
      applicationId: `a1-${lei}`,
      template: 'admitted',
      recipient: 'x@unique.example',
      messageId: '<m@x>',
      sentAt: new Date(),
    };
    await registry.notificationDelivery.create({ data: delivery });
    await expect(registry.notificationDelivery.create({ data: delivery })).rejects.toMatchObject({ code: 'P2002' });
  });
});
