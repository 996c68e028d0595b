import { createHash, randomUUID, webcrypto } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { SignJWT, calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { admissionConditions } from '../../domain/scopes';
import { groupAlive, startKeycloak, type KeycloakServer } from '../../stack/keycloak';
import { freePort } from '../../stack/processes';
import { keycloakActivities } from '../../activities/keycloak';
import { verifyAuditChain } from '../../registry/audit';
import { createActivityHarness, registerTestApplication, type ActivityHarness } from '../support/activities';
import { KeycloakOperator } from '../support/keycloak';
import { approvers, confirmContacts, createLifecycleHarness, signup, submitAnchor, waitForStage } from '../support/lifecycle';
import { reportKeyCompromiseUpdate, requestAnchorChallengeUpdate } from '../../workflows/messages';
import { createTestStack, type TestStack } from '../support/stack';
import { startTestWeb, type RunningWeb } from '../support/web';
import { launchChromium, screenshotter } from '../support/browser';
import { SERVER_AUTH, keys, makeCert, type Issued } from '../anchors/fixtures';

/**
 * Against one real Keycloak 26 (started once for this file: a cold start is
 * the expensive part): the provisioner, where a partner with a JWK anchor gets
 * its token from Keycloak by private_key_jwt and DPoP with the grant's scopes,
 * and suspension and offboarding end it; and approvers signing in to the
 * console with a Keycloak realm as the OpenID Connect provider, in Chromium.
 */

let keycloak: KeycloakServer;
let operator: KeycloakOperator;
let realm: string;
let issuer: string;
let provisioner: { clientId: string; clientSecret: string };
let harness: ActivityHarness;
let certificates: { dir: string; serverCa: Issued; partnerCa: Issued };

async function privateKeyPem(issued: Issued): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', issued.keys.pair.privateKey));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`;
}

beforeAll(async () => {
  // HTTPS for certificate-bound clients: a server certificate from a local test CA, and the
  // partner CA as the trust store Keycloak checks client certificates against.
  const dir = await mkdtemp(path.join(tmpdir(), 'admit-keycloak-tls-'));
  const validity = { notBefore: new Date(Date.now() - 86_400_000), notAfter: new Date(Date.now() + 30 * 86_400_000) };
  const serverCa = await makeCert({ subject: 'CN=Admit Test Server CA', ca: true, ...validity });
  const server = await makeCert({
    subject: 'CN=localhost',
    issuer: serverCa,
    eku: [SERVER_AUTH],
    san: [
      { type: 'dns', value: 'localhost' },
      { type: 'ip', value: '127.0.0.1' },
    ],
    ...validity,
  });
  const partnerCa = await makeCert({ subject: 'CN=Admit Test Partner CA', ca: true, ...validity });
  certificates = { dir, serverCa, partnerCa };
  await writeFile(path.join(dir, 'server.pem'), server.pem + serverCa.pem);
  await writeFile(path.join(dir, 'server.key'), await privateKeyPem(server), { mode: 0o600 });
  await writeFile(path.join(dir, 'partner-cas.pem'), partnerCa.pem);

  const started = Date.now();
  keycloak = await startKeycloak({
    tls: { certificateFile: path.join(dir, 'server.pem'), keyFile: path.join(dir, 'server.key'), trustStoreFile: path.join(dir, 'partner-cas.pem') },
  });
  console.error(`Keycloak ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  operator = new KeycloakOperator(keycloak);
  ({ realm, issuer } = await operator.createRealm());
  provisioner = await operator.createProvisionerClient(realm);
  harness = await createActivityHarness({
    config: {
      ADMIT_AUTHORIZATION_SERVER: 'keycloak',
      ADMIT_KEYCLOAK_URL: keycloak.url,
      ADMIT_KEYCLOAK_REALM: realm,
      ADMIT_KEYCLOAK_CLIENT_ID: provisioner.clientId,
      ADMIT_KEYCLOAK_CLIENT_SECRET: provisioner.clientSecret,
    },
  });
}, 420_000);

afterAll(async () => {
  await harness?.close();
  await keycloak?.stop();
  if (certificates !== undefined) await rm(certificates.dir, { recursive: true, force: true });
}, 60_000);

interface Partner {
  applicationId: string;
  workflowId: string;
  clientId: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  thumbprint: string;
}

/** A LOW application admitted on a JWK anchor (ES256), as grantAccess leaves it. */
async function admittedPartner(): Promise<Partner> {
  const app = await registerTestApplication(harness.activities);
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const publicJwk = { ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig' };
  const thumbprint = await calculateJwkThumbprint(publicJwk, 'sha256');
  const fingerprint = `jwk-sha256:${thumbprint}`;
  await harness.registry.trustAnchor.create({
    data: {
      applicationId: app.applicationId,
      kind: 'JWK',
      fingerprint,
      keyFingerprint: fingerprint,
      material: { jwks: { keys: [publicJwk] }, clientId: null },
      status: 'ACTIVE',
      verifiedAt: new Date(),
    },
  });
  const { clientId } = await harness.activities.grantAccess({
    applicationId: app.applicationId,
    workflowId: app.workflowId,
    tier: 'LOW',
    scopes: ['accounts:read'],
    conditions: admissionConditions('LOW', 'sandbox'),
    anchorFingerprint: fingerprint,
    credentialLifetimeSeconds: 300,
    approvedBy: [],
    grantedAt: new Date().toISOString(),
  });
  return { applicationId: app.applicationId, workflowId: app.workflowId, clientId, privateKey, publicJwk, thumbprint };
}

const tokenEndpoint = () => `${issuer}/protocol/openid-connect/token`;

/** The partner's side: a private_key_jwt assertion (RFC 7523) and a DPoP proof (RFC 9449), both with the anchor key. */
async function requestToken(partner: Partner, options: { signWith?: CryptoKey; dpop?: boolean } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: partner.publicJwk.kid ?? partner.thumbprint })
    .setIssuer(partner.clientId)
    .setSubject(partner.clientId)
    .setAudience(issuer)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(options.signWith ?? partner.privateKey);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (options.dpop !== false) {
    headers.dpop = await new SignJWT({ htm: 'POST', htu: tokenEndpoint() })
      .setProtectedHeader({
        alg: 'ES256',
        typ: 'dpop+jwt',
        jwk: { kty: partner.publicJwk.kty!, crv: partner.publicJwk.crv!, x: partner.publicJwk.x!, y: partner.publicJwk.y! },
      })
      .setJti(randomUUID())
      .setIssuedAt(now)
      .sign(partner.privateKey);
  }
  const response = await fetch(tokenEndpoint(), {
    method: 'POST',
    headers,
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: partner.clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }),
  });
  return { status: response.status, body: (await response.json()) as { access_token?: string; token_type?: string; scope?: string; error?: string } };
}

/** What a gateway that introspects learns (RFC 7662), asked by the provisioner's confidential client. */
async function introspect(token: string): Promise<{ active: boolean; scope?: string; cnf?: { jkt?: string } }> {
  const response = await fetch(`${issuer}/protocol/openid-connect/token/introspect`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${provisioner.clientId}:${provisioner.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { active: boolean; scope?: string; cnf?: { jkt?: string } };
}

async function keycloakClient(clientId: string) {
  const { body } = await operator.admin<Record<string, unknown>[]>('GET', `/${realm}/clients?clientId=${encodeURIComponent(clientId)}`);
  return body.find((client) => client.clientId === clientId);
}

async function defaultScopes(id: string): Promise<string[]> {
  const { body } = await operator.admin<{ name: string }[]>('GET', `/${realm}/clients/${id}/default-client-scopes`);
  return body.map((s) => s.name).sort();
}

describe('Keycloak provisioning (real Keycloak 26)', () => {
  it('provisions a client-jwt, DPoP-bound client with the grant scopes; a second run changes nothing', async () => {
    const partner = await admittedPartner();
    const input = { applicationId: partner.applicationId, workflowId: partner.workflowId };
    const first = await harness.activities.provisionKeycloakClient(input);
    const snapshot = await keycloakClient(partner.clientId);
    const second = await harness.activities.provisionKeycloakClient(input);
    expect(first).toEqual({ provider: 'keycloak', clientId: partner.clientId, state: 'enabled', scopes: ['accounts:read'] });
    expect(second).toEqual(first);

    const client = await keycloakClient(partner.clientId);
    expect(client).toEqual(snapshot);
    expect(client).toMatchObject({
      enabled: true,
      clientAuthenticatorType: 'client-jwt',
      publicClient: false,
      serviceAccountsEnabled: true,
      standardFlowEnabled: false,
      directAccessGrantsEnabled: false,
      attributes: expect.objectContaining({
        'use.jwks.string': 'true',
        'dpop.bound.access.tokens': 'true',
        'tls.client.certificate.bound.access.tokens': 'false',
        'access.token.lifespan': '300',
        'token.endpoint.auth.signing.alg': 'ES256',
      }),
    });
    // Only the bound public key, never anything private.
    const jwks = JSON.parse(String((client?.attributes as Record<string, string>)['jwks.string'])) as { keys: JWK[] };
    expect(jwks.keys).toHaveLength(1);
    expect(await calculateJwkThumbprint(jwks.keys[0]!, 'sha256')).toBe(partner.thumbprint);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    // `basic` (sub) and `service_account` (client_id claim) are Keycloak's own; nothing else.
    expect(await defaultScopes(String(client?.id))).toEqual(['accounts:read', 'basic', 'service_account']);
    // The provisioning is evidence too, recorded once per distinct state.
    const events = await harness.registry.auditEvent.findMany({
      where: { applicationId: partner.applicationId, type: 'keycloak.client-provisioned' },
    });
    expect(events).toHaveLength(1);
  });

  it('during a rotation overlap both bound keys authenticate; once the old is retired only the new one does', async () => {
    const partner = await admittedPartner();
    const input = { applicationId: partner.applicationId, workflowId: partner.workflowId };
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const publicJwk = { ...(await exportJWK(publicKey)), alg: 'ES256' };
    const thumbprint = await calculateJwkThumbprint(publicJwk, 'sha256');
    // What a rotation leaves in the registry: the old anchor ROTATING_OUT, the new one ACTIVE.
    await harness.registry.trustAnchor.updateMany({ where: { applicationId: partner.applicationId }, data: { status: 'ROTATING_OUT' } });
    const next = await harness.registry.trustAnchor.create({
      data: {
        applicationId: partner.applicationId,
        kind: 'JWK',
        fingerprint: `jwk-sha256:${thumbprint}`,
        keyFingerprint: `jwk-sha256:${thumbprint}`,
        material: { jwks: { keys: [publicJwk] }, clientId: null },
        status: 'ACTIVE',
        verifiedAt: new Date(),
      },
    });
    const rotated: Partner = { ...partner, privateKey, publicJwk, thumbprint };
    await harness.activities.provisionKeycloakClient(input);
    // The partner's new JWK names no `use`; Admit sends it as a signing key, or Keycloak would skip it.
    expect(await requestToken(rotated)).toMatchObject({ status: 200 });
    expect(await requestToken(partner)).toMatchObject({ status: 200 });

    await harness.registry.trustAnchor.updateMany({
      where: { applicationId: partner.applicationId, id: { not: next.id } },
      data: { status: 'RETIRED', retiredAt: new Date() },
    });
    await harness.activities.provisionKeycloakClient(input);
    expect((await requestToken(partner)).body).toMatchObject({ error: 'invalid_client' });
    expect(await requestToken(rotated)).toMatchObject({ status: 200 });
  });

  it('issues the partner a DPoP-bound token with the grant scopes for private_key_jwt with the anchor key, and nothing for another key', async () => {
    const partner = await admittedPartner();
    await harness.activities.provisionKeycloakClient({ applicationId: partner.applicationId, workflowId: partner.workflowId });

    const { status, body } = await requestToken(partner);
    expect(status).toBe(200);
    expect(body.token_type).toBe('DPoP');
    expect(body.scope?.split(' ')).toContain('accounts:read');
    const claims = decodeJwt(body.access_token!);
    expect(claims.cnf).toEqual({ jkt: partner.thumbprint });
    expect(claims.azp).toBe(partner.clientId);
    expect(Number(claims.exp) - Number(claims.iat)).toBe(300);
    const introspection = await introspect(body.access_token!);
    expect(introspection.active).toBe(true);

    const { privateKey: stranger } = await generateKeyPair('ES256');
    const refused = await requestToken(partner, { signWith: stranger });
    expect(refused.body).toMatchObject({ error: 'invalid_client' });
    expect(refused.body.access_token).toBeUndefined();

    const withoutDpop = await requestToken(partner, { dpop: false });
    expect(withoutDpop.status).toBe(400);
    expect(withoutDpop.body.access_token).toBeUndefined();
  });

  it('adds scopes on expansion; suspension disables the client and kills its tokens; reinstatement enables it again', async () => {
    const partner = await admittedPartner();
    const input = { applicationId: partner.applicationId, workflowId: partner.workflowId };
    await harness.activities.provisionKeycloakClient(input);
    const before = await requestToken(partner);
    expect(before.body.scope?.split(' ')).not.toContain('transactions:read');

    await harness.activities.expandGrant({ ...input, expansionId: 'e1', scopes: ['transactions:read'], approvedBy: [] });
    const expanded = await harness.activities.provisionKeycloakClient(input);
    expect(expanded).toMatchObject({ state: 'enabled', scopes: ['accounts:read', 'transactions:read'] });
    const after = await requestToken(partner);
    expect(after.body.scope?.split(' ')).toEqual(expect.arrayContaining(['accounts:read', 'transactions:read']));

    await harness.activities.suspendAccess({ ...input, reason: 'anchor expired', at: new Date().toISOString() });
    // Keycloak's not-before has a one-second grain: a token issued in the same second would survive it.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const disabled = await harness.activities.disableKeycloakClient(input);
    expect(disabled).toMatchObject({ provider: 'keycloak', clientId: partner.clientId, state: 'disabled' });
    expect(await harness.activities.disableKeycloakClient(input)).toEqual(disabled);
    expect((await keycloakClient(partner.clientId))?.enabled).toBe(false);
    const refused = await requestToken(partner);
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.body.access_token).toBeUndefined();
    expect((await introspect(after.body.access_token!)).active).toBe(false);

    await harness.activities.reinstateAccess({ ...input, reason: 'anchor renewed', at: new Date().toISOString() });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await harness.activities.provisionKeycloakClient(input)).toMatchObject({
      state: 'enabled',
      scopes: ['accounts:read', 'transactions:read'],
    });
    const again = await requestToken(partner);
    expect(again.status).toBe(200);
    expect((await introspect(again.body.access_token!)).active).toBe(true);
    // The token from before the suspension stays dead.
    expect((await introspect(after.body.access_token!)).active).toBe(false);
  });

  it('offboarding revokes the tokens and deletes the client; a second run finds it gone and is done', async () => {
    const partner = await admittedPartner();
    const input = { applicationId: partner.applicationId, workflowId: partner.workflowId };
    await harness.activities.provisionKeycloakClient(input);
    const { body } = await requestToken(partner);
    expect((await introspect(body.access_token!)).active).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const at = new Date().toISOString();
    await harness.activities.closeApplication({
      ...input,
      status: 'OFFBOARDED',
      trigger: 'key-compromise',
      reason: 'key reported compromised',
      actor: 'sec-ops',
      at,
    });
    const removed = await harness.activities.removeKeycloakClient({ ...input, at, reason: 'key reported compromised' });
    expect(removed).toEqual({ provider: 'keycloak', clientId: partner.clientId, state: 'absent', scopes: [] });
    expect(await harness.activities.removeKeycloakClient({ ...input, at, reason: 'key reported compromised' })).toEqual(removed);

    expect(await keycloakClient(partner.clientId)).toBeUndefined();
    expect((await introspect(body.access_token!)).active).toBe(false);
    const refused = await requestToken(partner);
    expect(refused.status).toBe(401);
    // A closed application is never provisioned again.
    await expect(harness.activities.provisionKeycloakClient(input)).rejects.toMatchObject({ type: 'ApplicationClosed', nonRetryable: true });
    const events = await harness.registry.auditEvent.findMany({ where: { applicationId: partner.applicationId, type: 'keycloak.client-removed' } });
    expect(events).toHaveLength(1);
    expect(await verifyAuditChain(harness.registry)).toMatchObject({ ok: true });
  });

  it('fails typed: a wrong admin secret is not retried, an unreachable Keycloak is', async () => {
    const partner = await admittedPartner();
    const input = { applicationId: partner.applicationId, workflowId: partner.workflowId };
    const wrongSecret = keycloakActivities({
      registry: harness.registry,
      keycloak: { url: keycloak.url, realm, clientId: provisioner.clientId, clientSecret: 'not-the-secret' },
    });
    const refused = await wrongSecret.provisionKeycloakClient(input).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ type: 'KeycloakRejected', nonRetryable: true });
    expect(String((refused as Error).message)).not.toContain('not-the-secret');

    const unreachable = keycloakActivities({
      registry: harness.registry,
      keycloak: { url: 'http://127.0.0.1:9', realm, clientId: provisioner.clientId, clientSecret: provisioner.clientSecret, timeoutMs: 2_000 },
    });
    await expect(unreachable.provisionKeycloakClient(input)).rejects.toMatchObject({ type: 'KeycloakUnavailable', nonRetryable: false });

    // With the embedded authorization server the activities do nothing, and say so.
    const embedded = keycloakActivities({ registry: harness.registry, keycloak: undefined });
    expect(await embedded.provisionKeycloakClient(input)).toEqual({ provider: 'embedded' });
    expect(await keycloakClient(partner.clientId)).toBeUndefined();
  });
});

/** A token request over Keycloak's HTTPS listener, presenting `client` (or no certificate). */
async function mtlsTokenRequest(clientId: string, client: { cert: Issued; key: string } | undefined) {
  const url = new URL(`${keycloak.httpsUrl}/realms/${realm}/protocol/openid-connect/token`);
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId }).toString();
  return new Promise<{ status: number; body: { access_token?: string; token_type?: string; scope?: string; error?: string } }>((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
        ca: certificates.serverCa.pem,
        ...(client === undefined ? {} : { cert: client.cert.pem, key: client.key }),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as never }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('certificate-bound clients over Keycloak HTTPS (client-x509)', () => {
  it('issues a token bound to the presented certificate; refuses no certificate and another subject; a same-DN certificate is told apart by x5t#S256', async () => {
    const app = await registerTestApplication(harness.activities);
    const validity = { notBefore: new Date(Date.now() - 86_400_000), notAfter: new Date(Date.now() + 30 * 86_400_000) };
    const subject = `CN=${app.applicationId},O=Partner Ltd,C=GB`;
    const leaf = await makeCert({ subject, issuer: certificates.partnerCa, keys: await keys('ec256', `leaf-${app.applicationId}`), ...validity });
    const fingerprint = `sha256:${createHash('sha256').update(leaf.der).digest('hex')}`;
    await harness.registry.trustAnchor.create({
      data: {
        applicationId: app.applicationId,
        kind: 'X509',
        fingerprint,
        subject,
        material: { chainPem: leaf.pem + certificates.partnerCa.pem },
        status: 'ACTIVE',
        verifiedAt: new Date(),
      },
    });
    const { clientId } = await harness.activities.grantAccess({
      applicationId: app.applicationId,
      workflowId: app.workflowId,
      tier: 'LOW',
      scopes: ['accounts:read'],
      conditions: admissionConditions('LOW', 'sandbox'),
      anchorFingerprint: fingerprint,
      credentialLifetimeSeconds: 300,
      approvedBy: [],
      grantedAt: new Date().toISOString(),
    });
    const input = { applicationId: app.applicationId, workflowId: app.workflowId };
    expect(await harness.activities.provisionKeycloakClient(input)).toMatchObject({ state: 'enabled', scopes: ['accounts:read'] });
    const client = await keycloakClient(clientId);
    expect(client).toMatchObject({
      clientAuthenticatorType: 'client-x509',
      attributes: expect.objectContaining({
        // RFC 2253: most specific first.
        'x509.subjectdn': `C=GB,O=Partner Ltd,CN=${app.applicationId}`,
        'x509.allow.regex.pattern.comparison': 'false',
        'tls.client.certificate.bound.access.tokens': 'true',
        'dpop.bound.access.tokens': 'false',
      }),
    });

    const credential = await harness.registry.clientCredential.findUniqueOrThrow({ where: { clientId } });
    const issued = await mtlsTokenRequest(clientId, { cert: leaf, key: await privateKeyPem(leaf) });
    expect(issued.status).toBe(200);
    expect(issued.body.scope?.split(' ')).toContain('accounts:read');
    const claims = decodeJwt(issued.body.access_token!);
    // RFC 8705: bound to the certificate presented, which is the registered anchor.
    expect(claims.cnf).toEqual({ 'x5t#S256': credential.confirmationValue });

    const noCertificate = await mtlsTokenRequest(clientId, undefined);
    expect(noCertificate.body).toMatchObject({ error: expect.stringMatching(/invalid_client|unauthorized_client/) });
    expect(noCertificate.body.access_token).toBeUndefined();

    const otherSubject = await makeCert({
      subject: 'CN=someone-else,O=Partner Ltd,C=GB',
      issuer: certificates.partnerCa,
      keys: await keys('ec256', `other-${app.applicationId}`),
      ...validity,
    });
    const wrong = await mtlsTokenRequest(clientId, { cert: otherSubject, key: await privateKeyPem(otherSubject) });
    expect(wrong.body.access_token).toBeUndefined();

    // Keycloak's limit: it matches the subject DN, so another certificate with the same DN from a
    // trusted CA authenticates too. Its token is bound to *that* certificate, so a gateway comparing
    // cnf.x5t#S256 with Admit's credential (POST /decisions does) refuses it.
    const sameDn = await makeCert({ subject, issuer: certificates.partnerCa, keys: await keys('ec256', `twin-${app.applicationId}`), ...validity });
    const twin = await mtlsTokenRequest(clientId, { cert: sameDn, key: await privateKeyPem(sameDn) });
    expect(twin.status).toBe(200);
    const twinClaims = decodeJwt(twin.body.access_token!);
    expect((twinClaims.cnf as Record<string, string>)['x5t#S256']).toBe(createHash('sha256').update(sameDn.der).digest('base64url'));
    expect((twinClaims.cnf as Record<string, string>)['x5t#S256']).not.toBe(credential.confirmationValue);

    await harness.activities.suspendAccess({ ...input, reason: 'certificate revoked', at: new Date().toISOString() });
    await harness.activities.disableKeycloakClient(input);
    expect((await mtlsTokenRequest(clientId, { cert: leaf, key: await privateKeyPem(leaf) })).body.access_token).toBeUndefined();
  });
});

describe('approver sign-in against a Keycloak realm (Chromium)', () => {
  let stack: TestStack;
  let web: RunningWeb;
  let console_: { realm: string; issuer: string };
  const password = `pw-${randomUUID()}`;

  beforeAll(async () => {
    stack = await createTestStack();
    // The realm first, so the web can be configured with its issuer; the redirect URI needs the web's port.
    console_ = await operator.createRealm();
    const port = await freePort();
    const redirectUri = `http://127.0.0.1:${port}/auth/callback`;
    // A public client: authorization code with PKCE (S256 enforced by Keycloak too), nothing else.
    await operator.admin('POST', `/${console_.realm}/clients`, {
      clientId: 'admit-console',
      publicClient: true,
      standardFlowEnabled: true,
      directAccessGrantsEnabled: false,
      implicitFlowEnabled: false,
      redirectUris: [redirectUri],
      webOrigins: [],
      attributes: { 'pkce.code.challenge.method': 'S256', 'post.logout.redirect.uris': '+' },
      protocolMappers: [
        {
          // The approver's realm roles as a `roles` array in the ID token, where Admit reads them.
          name: 'roles',
          protocol: 'openid-connect',
          protocolMapper: 'oidc-usermodel-realm-role-mapper',
          config: {
            'claim.name': 'roles',
            multivalued: 'true',
            'jsonType.label': 'String',
            'id.token.claim': 'true',
            'access.token.claim': 'false',
            'userinfo.token.claim': 'true',
          },
        },
      ],
    });
    for (const role of ['approver', 'security-reviewer']) await operator.admin('POST', `/${console_.realm}/roles`, { name: role });
    await operator.admin('POST', `/${console_.realm}/users`, {
      username: 'kira',
      email: 'kira@platform.example',
      emailVerified: true,
      firstName: 'Kira',
      lastName: 'Keycloak',
      enabled: true,
      credentials: [{ type: 'password', value: password, temporary: false }],
    });
    const { body: users } = await operator.admin<{ id: string }[]>('GET', `/${console_.realm}/users?username=kira&exact=true`);
    const { body: roles } = await operator.admin<{ id: string; name: string }[]>('GET', `/${console_.realm}/roles`);
    await operator.admin(
      'POST',
      `/${console_.realm}/users/${users[0]!.id}/role-mappings/realm`,
      roles.filter((r) => ['approver', 'security-reviewer'].includes(r.name)),
    );
    web = await startTestWeb(stack, { port, oidc: { issuer: console_.issuer, clientId: 'admit-console', rolesClaim: 'roles' } });
  }, 120_000);

  afterAll(async () => {
    await web?.close();
    await stack?.close();
  });

  it('signs an approver in with code flow + PKCE at Keycloak and takes the roles from its ID token', async () => {
    const browser = await launchChromium();
    const shots = await screenshotter('keycloak-sign-in');
    try {
      const page = await browser.newPage();
      await page.goto(`${web.url}/auth/login?returnTo=%2Fconsole`);
      // Keycloak's own login page, for this realm.
      await page.waitForURL((url) => url.href.startsWith(`${console_.issuer}/protocol/openid-connect/auth`), { timeout: 30_000 });
      const authorize = new URL(page.url());
      expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorize.searchParams.get('client_id')).toBe('admit-console');
      await shots.shoot(page, '01-keycloak-login');
      await page.fill('#username', 'kira');
      await page.fill('#password', 'not-her-password');
      await page.click('#kc-login');
      await page.waitForSelector('#input-error, .kc-feedback-text, [id*="error"]', { timeout: 30_000 });
      expect(page.url().startsWith(console_.issuer)).toBe(true);

      await page.fill('#password', password);
      await page.click('#kc-login');
      await page.waitForURL(`${web.url}/console`, { timeout: 30_000 });
      const main = await page.locator('main').innerText();
      expect(main).toContain('Signed in as Kira Keycloak (kira@platform.example)');
      // The realm role mapper sends every effective realm role (Keycloak's defaults too).
      const roles = /roles: ([^.]*)\./.exec(main)?.[1]?.split(', ') ?? [];
      expect(roles).toEqual(expect.arrayContaining(['approver', 'security-reviewer']));
      await shots.shoot(page, '02-console-signed-in');
    } finally {
      await browser.close();
    }
  }, 120_000);
});

describe('a whole lifecycle with Keycloak as the authorization server', () => {
  it('LOW signup → contacts → JWK anchor → admitted: the workflow provisions the client, the partner gets a DPoP token; once a key compromise Update returns, the token is dead', async () => {
    const h = await createLifecycleHarness({
      ADMIT_AUTHORIZATION_SERVER: 'keycloak',
      ADMIT_KEYCLOAK_URL: keycloak.url,
      ADMIT_KEYCLOAK_REALM: realm,
      ADMIT_KEYCLOAK_CLIENT_ID: provisioner.clientId,
      ADMIT_KEYCLOAK_CLIENT_SECRET: provisioner.clientSecret,
    });
    try {
      const started = await signup(h);
      await waitForStage(started.handle, 'AWAITING_CONTACTS');
      await confirmContacts(h, started.handle, started.body);
      await waitForStage(started.handle, 'AWAITING_ANCHOR');
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const publicJwk = { ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig' };
      const challenge = await started.handle.executeUpdate(requestAnchorChallengeUpdate, { args: [] });
      const partnerId = `partner-${randomUUID()}`;
      const now = Math.floor(Date.now() / 1000);
      const assertion = await new SignJWT({ nonce: challenge.nonce })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer(partnerId)
        .setSubject(partnerId)
        .setAudience(challenge.audience)
        .setJti(randomUUID())
        .setIssuedAt(now)
        .setExpirationTime(now + 120)
        .sign(privateKey);
      const attempt = await submitAnchor(started.handle, { kind: 'jwk', jwks: { keys: [publicJwk] }, assertion });
      expect(attempt.ok).toBe(true);
      const admitted = await waitForStage(started.handle, 'ADMITTED');
      const clientId = admitted.grant?.clientId ?? '';
      // The workflow provisioned the client before it announced the admission.
      expect(await keycloakClient(clientId)).toMatchObject({ clientId, enabled: true });

      const partner: Partner = {
        applicationId: started.applicationId,
        workflowId: started.handle.workflowId,
        clientId,
        privateKey,
        publicJwk,
        thumbprint: await calculateJwkThumbprint(publicJwk, 'sha256'),
      };
      const issued = await requestToken(partner);
      expect(issued.status).toBe(200);
      expect((await introspect(issued.body.access_token ?? '')).active).toBe(true);

      await started.handle.executeUpdate(reportKeyCompromiseUpdate, {
        args: [{ reportedBy: approvers.rui, detail: 'The signing key was published by mistake.' }],
      });
      // No waiting: by the time the Update has answered, Keycloak has revoked and removed the client.
      expect((await introspect(issued.body.access_token ?? '')).active).toBe(false);
      expect((await requestToken(partner)).status).toBeGreaterThanOrEqual(400);
      expect(await keycloakClient(clientId)).toBeUndefined();
    } finally {
      await h.close();
    }
  });
});

describe('stopping Keycloak', () => {
  it('ends kc.sh and its JVM (the whole process group) and removes the data directory', async () => {
    const group = keycloak.process.child.pid!;
    expect(groupAlive(group)).toBe(true);
    await keycloak.stop();
    expect(groupAlive(group)).toBe(false);
    await expect(stat(keycloak.dataDir)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(fetch(`${keycloak.url}/realms/master`)).rejects.toThrow();
  }, 60_000);
});
