import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../registry/audit';
import { admissionConditions } from '../../domain/scopes';
import {
  auditEvents,
  bindTestAnchor,
  certificateFingerprint,
  createActivityHarness,
  registerTestApplication,
  type ActivityHarness,
  type RegisteredTestApplication,
} from '../support/activities';

let harness: ActivityHarness;
beforeAll(async () => {
  harness = await createActivityHarness();
});
afterAll(async () => harness.close());

function grantInput(
  app: RegisteredTestApplication,
  anchorFingerprint: string,
  overrides: Partial<Parameters<ActivityHarness['activities']['grantAccess']>[0]> = {},
) {
  return {
    applicationId: app.applicationId,
    workflowId: app.workflowId,
    tier: 'LOW' as const,
    scopes: ['accounts:read'],
    conditions: admissionConditions('LOW', 'sandbox'),
    anchorFingerprint,
    credentialLifetimeSeconds: 600,
    approvedBy: [],
    grantedAt: '2026-12-05T10:00:00.000Z',
    ...overrides,
  };
}

async function admitted(kind: 'X509' | 'JWK' = 'X509') {
  const app = await registerTestApplication(harness.activities);
  const { fingerprint } = certificateFingerprint();
  await bindTestAnchor(harness.registry, app.applicationId, { kind, fingerprint });
  const granted = await harness.activities.grantAccess(grantInput(app, fingerprint));
  return { app, fingerprint, ...granted };
}

describe('grantAccess', () => {
  it('creates the grant and a credential bound to the certificate, and admits the application', async () => {
    const app = await registerTestApplication(harness.activities);
    const { fingerprint, der } = certificateFingerprint();
    await bindTestAnchor(harness.registry, app.applicationId, { kind: 'X509', fingerprint });
    const input = grantInput(app, fingerprint, {
      tier: 'MEDIUM',
      approvedBy: ['https://idp.example ada'],
      conditions: admissionConditions('MEDIUM', 'sandbox'),
    });
    const { grantId, clientId } = await harness.activities.grantAccess(input);

    const grant = await harness.registry.grant.findUniqueOrThrow({ where: { id: grantId } });
    expect(grant).toMatchObject({
      applicationId: app.applicationId,
      scopes: ['accounts:read'],
      status: 'ACTIVE',
      tier: 'MEDIUM',
      approvedBy: ['https://idp.example ada'],
    });
    expect(grant.conditions).toEqual(JSON.parse(JSON.stringify(input.conditions)));
    expect(grant.grantedAt.toISOString()).toBe(input.grantedAt);

    const credential = await harness.registry.clientCredential.findUniqueOrThrow({ where: { clientId } });
    expect(credential).toMatchObject({
      applicationId: app.applicationId,
      anchorFingerprint: fingerprint,
      confirmationMethod: 'x5t#S256',
      // RFC 8705: base64url of the SHA-256 of the leaf certificate's DER.
      confirmationValue: createHash('sha256').update(der).digest('base64url'),
      tokenLifetimeSeconds: 600,
      status: 'ACTIVE',
    });
    const application = await harness.registry.application.findUniqueOrThrow({ where: { id: app.applicationId } });
    expect(application.status).toBe('ADMITTED');
    expect(application.admittedAt?.toISOString()).toBe(input.grantedAt);

    const [event] = await auditEvents(harness.registry, app.applicationId, 'access.granted');
    expect(event).toMatchObject({
      actor: 'https://idp.example ada',
      data: { grantId, clientId, anchorFingerprint: fingerprint, confirmationMethod: 'x5t#S256' },
    });
  });

  it('returns the same grant and client on a retry, also when attempts overlap', async () => {
    const app = await registerTestApplication(harness.activities);
    const { fingerprint } = certificateFingerprint();
    await bindTestAnchor(harness.registry, app.applicationId, { kind: 'X509', fingerprint });
    const input = grantInput(app, fingerprint);
    const [first, overlapping] = await Promise.all([harness.activities.grantAccess(input), harness.activities.grantAccess(input)]);
    const retry = await harness.activities.grantAccess(input);
    expect(overlapping).toEqual(first);
    expect(retry).toEqual(first);
    expect(await harness.registry.grant.count({ where: { applicationId: app.applicationId } })).toBe(1);
    expect(await harness.registry.clientCredential.count({ where: { applicationId: app.applicationId } })).toBe(1);
    expect(await auditEvents(harness.registry, app.applicationId, 'access.granted')).toHaveLength(1);
  });

  it('binds a JWK anchor by its key thumbprint (jkt), an OIDC workload by issuer and subject, a JWT-SVID by SPIFFE ID', async () => {
    const jwkApp = await registerTestApplication(harness.activities);
    const thumbprint = createHash('sha256').update(jwkApp.applicationId).digest('base64url');
    await bindTestAnchor(harness.registry, jwkApp.applicationId, { kind: 'JWK', fingerprint: `jwk:${thumbprint}`, keyFingerprint: thumbprint });
    const jwk = await harness.activities.grantAccess(grantInput(jwkApp, `jwk:${thumbprint}`));
    expect(await harness.registry.clientCredential.findUniqueOrThrow({ where: { clientId: jwk.clientId } })).toMatchObject({
      confirmationMethod: 'jkt',
      confirmationValue: thumbprint,
    });

    const oidcApp = await registerTestApplication(harness.activities);
    await bindTestAnchor(harness.registry, oidcApp.applicationId, {
      kind: 'OIDC',
      fingerprint: `oidc:${oidcApp.applicationId}`,
      subject: 'system:serviceaccount:payments:sync',
      material: { issuer: 'https://oidc.partner.example' },
    });
    const oidc = await harness.activities.grantAccess(grantInput(oidcApp, `oidc:${oidcApp.applicationId}`));
    expect(await harness.registry.clientCredential.findUniqueOrThrow({ where: { clientId: oidc.clientId } })).toMatchObject({
      confirmationMethod: 'oidc-sub',
      confirmationValue: 'https://oidc.partner.example system:serviceaccount:payments:sync',
    });

    const spiffeApp = await registerTestApplication(harness.activities);
    await bindTestAnchor(harness.registry, spiffeApp.applicationId, {
      kind: 'SPIFFE',
      fingerprint: `spiffe-jwt:${spiffeApp.applicationId}`,
      subject: 'spiffe://partner.example/sync',
    });
    const spiffe = await harness.activities.grantAccess(grantInput(spiffeApp, `spiffe-jwt:${spiffeApp.applicationId}`));
    expect(await harness.registry.clientCredential.findUniqueOrThrow({ where: { clientId: spiffe.clientId } })).toMatchObject({
      confirmationMethod: 'spiffe-id',
      confirmationValue: 'spiffe://partner.example/sync',
    });
  });

  it('refuses, without retrying and without writing, an anchor that is not this application’s, and scopes beyond the tier', async () => {
    const owner = await registerTestApplication(harness.activities);
    const other = await registerTestApplication(harness.activities);
    const { fingerprint } = certificateFingerprint();
    await bindTestAnchor(harness.registry, owner.applicationId, { kind: 'X509', fingerprint });
    await expect(harness.activities.grantAccess(grantInput(other, fingerprint))).rejects.toMatchObject({
      type: 'AnchorNotBound',
      nonRetryable: true,
    });
    await expect(harness.activities.grantAccess(grantInput(owner, fingerprint, { scopes: ['payments:initiate'] }))).rejects.toMatchObject({
      type: 'InvalidActivityInput',
      nonRetryable: true,
      message: expect.stringContaining('Beyond the LOW ceiling'),
    });
    await expect(harness.activities.grantAccess(grantInput(owner, fingerprint, { scopes: ['accounts:write'] }))).rejects.toMatchObject({
      type: 'InvalidActivityInput',
    });
    await expect(harness.activities.grantAccess(grantInput(owner, fingerprint, { credentialLifetimeSeconds: 7 * 86_400 }))).rejects.toMatchObject({
      type: 'InvalidActivityInput',
    });
    const retired = certificateFingerprint().fingerprint;
    await bindTestAnchor(harness.registry, owner.applicationId, { kind: 'X509', fingerprint: retired, status: 'RETIRED' });
    await expect(harness.activities.grantAccess(grantInput(owner, retired))).rejects.toMatchObject({ type: 'AnchorNotBound' });
    expect(await harness.registry.grant.count({ where: { applicationId: { in: [owner.applicationId, other.applicationId] } } })).toBe(0);
    expect((await harness.registry.application.findUniqueOrThrow({ where: { id: owner.applicationId } })).status).toBe('PENDING');
  });
});

describe('expandGrant', () => {
  it('adds scopes to the active grant once per expansion, with evidence', async () => {
    const { app, grantId } = await admitted();
    const input = {
      applicationId: app.applicationId,
      workflowId: app.workflowId,
      expansionId: 'exp-1',
      scopes: ['transactions:read', 'accounts:read'],
      approvedBy: [],
    };
    await harness.activities.expandGrant(input);
    await harness.activities.expandGrant(input);
    const grant = await harness.registry.grant.findUniqueOrThrow({ where: { id: grantId } });
    expect(grant.scopes).toEqual(['accounts:read', 'transactions:read']);
    const events = await auditEvents(harness.registry, app.applicationId, 'grant.expanded');
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toMatchObject({ expansionId: 'exp-1', added: ['transactions:read'] });
  });

  it('refuses scopes beyond the grant’s tier, and expansions of suspended access', async () => {
    const { app } = await admitted();
    const base = { applicationId: app.applicationId, workflowId: app.workflowId, approvedBy: ['https://idp.example ada'] };
    await expect(harness.activities.expandGrant({ ...base, expansionId: 'exp-pay', scopes: ['payments:initiate'] })).rejects.toMatchObject({
      type: 'InvalidActivityInput',
      nonRetryable: true,
    });
    await harness.activities.suspendAccess({
      applicationId: app.applicationId,
      workflowId: app.workflowId,
      reason: 'investigation',
      at: '2026-12-06T00:00:00Z',
    });
    await expect(harness.activities.expandGrant({ ...base, expansionId: 'exp-2', scopes: ['statements:read'] })).rejects.toMatchObject({
      type: 'NoActiveGrant',
      nonRetryable: true,
    });
  });
});

describe('suspendAccess and reinstateAccess', () => {
  it('suspend and reinstate every grant and credential, once each under retry', async () => {
    const { app, grantId, clientId } = await admitted();
    const suspend = { applicationId: app.applicationId, workflowId: app.workflowId, reason: 'anchor unreachable', at: '2026-12-06T00:00:00.000Z' };
    await harness.activities.suspendAccess(suspend);
    await harness.activities.suspendAccess(suspend);
    expect(await harness.registry.grant.findUniqueOrThrow({ where: { id: grantId } })).toMatchObject({
      status: 'SUSPENDED',
      suspendedAt: new Date(suspend.at),
    });
    expect((await harness.registry.clientCredential.findUniqueOrThrow({ where: { clientId } })).status).toBe('SUSPENDED');
    expect((await harness.registry.application.findUniqueOrThrow({ where: { id: app.applicationId } })).status).toBe('SUSPENDED');

    const reinstate = { ...suspend, reason: 'anchor reachable again', at: '2026-12-07T00:00:00.000Z' };
    await harness.activities.reinstateAccess(reinstate);
    await harness.activities.reinstateAccess(reinstate);
    expect(await harness.registry.grant.findUniqueOrThrow({ where: { id: grantId } })).toMatchObject({ status: 'ACTIVE', suspendedAt: null });
    expect((await harness.registry.clientCredential.findUniqueOrThrow({ where: { clientId } })).status).toBe('ACTIVE');
    expect((await harness.registry.application.findUniqueOrThrow({ where: { id: app.applicationId } })).status).toBe('ADMITTED');
    expect((await auditEvents(harness.registry, app.applicationId)).map((e) => e.type).filter((t) => t.startsWith('access.'))).toEqual([
      'access.granted',
      'access.suspended',
      'access.reinstated',
    ]);
  });

  it('refuse to reinstate what is not suspended, and to suspend what was never admitted', async () => {
    const { app } = await admitted();
    await expect(
      harness.activities.reinstateAccess({ applicationId: app.applicationId, workflowId: app.workflowId, reason: 'x', at: '2026-12-06T00:00:00Z' }),
    ).rejects.toMatchObject({
      type: 'NotSuspended',
      nonRetryable: true,
    });
    const pending = await registerTestApplication(harness.activities);
    await expect(
      harness.activities.suspendAccess({
        applicationId: pending.applicationId,
        workflowId: pending.workflowId,
        reason: 'x',
        at: '2026-12-06T00:00:00Z',
      }),
    ).rejects.toMatchObject({
      type: 'NoActiveGrant',
    });
  });
});

describe('closeApplication', () => {
  it('revokes every grant and credential with the reason, closes the record and records trigger and actor, once', async () => {
    const { app, grantId, clientId, fingerprint } = await admitted();
    await harness.activities.expandGrant({
      applicationId: app.applicationId,
      workflowId: app.workflowId,
      expansionId: 'e',
      scopes: ['statements:read'],
      approvedBy: [],
    });
    const input = {
      applicationId: app.applicationId,
      workflowId: app.workflowId,
      status: 'OFFBOARDED' as const,
      trigger: 'key-compromise',
      reason: 'private key published on a paste site',
      actor: 'https://idp.example secops',
      at: '2026-12-08T00:00:00.000Z',
    };
    await harness.activities.closeApplication(input);
    await harness.activities.closeApplication({ ...input, at: '2026-12-09T00:00:00.000Z' });

    expect(await harness.registry.grant.findUniqueOrThrow({ where: { id: grantId } })).toMatchObject({
      status: 'REVOKED',
      revokedAt: new Date(input.at),
      revocationReason: 'key-compromise: private key published on a paste site',
    });
    expect(await harness.registry.clientCredential.findUniqueOrThrow({ where: { clientId } })).toMatchObject({
      status: 'REVOKED',
      revokedAt: new Date(input.at),
    });
    expect(await harness.registry.trustAnchor.findUniqueOrThrow({ where: { fingerprint } })).toMatchObject({
      status: 'REVOKED',
      applicationId: app.applicationId,
    });
    const application = await harness.registry.application.findUniqueOrThrow({ where: { id: app.applicationId } });
    expect(application).toMatchObject({ status: 'OFFBOARDED', closedAt: new Date(input.at) });
    const events = await auditEvents(harness.registry, app.applicationId, 'application.closed');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor: input.actor,
      data: { status: 'OFFBOARDED', previousStatus: 'ADMITTED', trigger: 'key-compromise', revokedGrants: [grantId], revokedClients: [clientId] },
    });
    expect(await verifyAuditChain(harness.registry)).toMatchObject({ ok: true });

    // Nothing can be granted again under a closed record.
    await expect(harness.activities.grantAccess(grantInput(app, fingerprint, { workflowId: `${app.workflowId}-again` }))).rejects.toMatchObject({
      type: 'ApplicationClosed',
    });
  });

  it('closes an application that never got access (rejected) and retires nothing it does not have', async () => {
    const app = await registerTestApplication(harness.activities);
    await harness.activities.closeApplication({
      applicationId: app.applicationId,
      workflowId: app.workflowId,
      status: 'REJECTED',
      trigger: 'approval',
      reason: 'purpose unclear',
      actor: 'https://idp.example rui',
      at: '2026-12-08T00:00:00.000Z',
    });
    expect((await harness.registry.application.findUniqueOrThrow({ where: { id: app.applicationId } })).status).toBe('REJECTED');
    expect((await auditEvents(harness.registry, app.applicationId, 'application.closed'))[0]?.data).toMatchObject({
      revokedGrants: [],
      revokedClients: [],
    });
  });
});
