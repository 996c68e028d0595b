import { randomBytes, randomUUID, webcrypto } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../web/app';
import { freePort } from '../../stack/processes';
import { createAuthorizationServer, signingJwk } from '../../oauth/provider';
import { tokenVerifier } from '../../oauth/token-check';
import { startMtlsListener, developmentServerTls, type MtlsListener } from '../../oauth/mtls-listener';
import type { AuthorizationServer } from '../../oauth/plugin';
import type { ResourceServerEntry } from '../../config/env';
import { requestAnchorChallengeUpdate } from '../../workflows/messages';
import { testAppDependencies } from './web';
import {
  GATEWAY_TOKEN,
  clientChain,
  confirmContacts,
  createLifecycleHarness,
  signup,
  submitAnchor,
  waitForStage,
  type LifecycleHarness,
  type SignupOverrides,
} from './lifecycle';
import { readFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const OPAQUE_API = 'https://accounts.api.test/opaque';
export const JWT_API = 'https://accounts.api.test/jwt';
export const RESOURCES: ResourceServerEntry[] = [
  { uri: OPAQUE_API, format: 'opaque' },
  { uri: JWT_API, format: 'jwt' },
];

export interface OAuthHarness {
  h: LifecycleHarness;
  /** The web app with the authorization server, listening at `issuer`. */
  web: FastifyInstance;
  issuer: string;
  tokenEndpoint: string;
  as: AuthorizationServer;
  mtls: MtlsListener;
  /** The development CA that issued the mTLS listener's server certificate. */
  serverCaPem: string;
  serverTls: { certPem: string; keyPem: string };
  close(): Promise<void>;
}

/** The lifecycle harness plus Admit's web app with its authorization server on a real port, and the mTLS listener. */
export async function createOAuthHarness(options: { assertionMaxAgeSeconds?: number; env?: Record<string, string> } = {}): Promise<OAuthHarness> {
  const h = await createLifecycleHarness(options.env ?? {});
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const seed = randomBytes(32);
  const gatewayTokens = [{ name: 'test-gateway', token: GATEWAY_TOKEN }];
  const provider = await createAuthorizationServer({
    issuer,
    registry: h.stack.registry,
    sources: { gatewayTokens },
    resourceServers: RESOURCES,
    signingSeed: seed,
    assertionMaxAgeSeconds: options.assertionMaxAgeSeconds ?? 60,
    workloads: { spiffeBundles: h.stack.trust.spiffeBundles, oidcIssuers: h.stack.trust.oidcIssuers, fetcher: h.stack.trust.fetcher },
  });
  const as: AuthorizationServer = { provider, tokens: tokenVerifier(provider, { keys: [await signingJwk(seed)] }) };
  const web = buildApp({ ...testAppDependencies(h.stack, { publicUrl: issuer }), gatewayTokens, authorizationServer: as });
  await web.listen({ host: '127.0.0.1', port });
  const tls = await developmentServerTls(await mkdtemp(path.join(tmpdir(), 'admit-oauth-tls-')));
  const mtls = await startMtlsListener({
    provider,
    gatewayTokens,
    tls,
    clientCas: [await readFile(h.trustStoreFile, 'utf8')],
    host: '127.0.0.1',
    port: 0,
  });
  return {
    h,
    web,
    issuer,
    tokenEndpoint: `${issuer}/oauth/token`,
    as,
    mtls,
    serverCaPem: tls.caPem ?? '',
    serverTls: tls,
    async close() {
      await mtls.close();
      await web.close();
      await h.close();
    },
  };
}

export interface JwkPartner {
  applicationId: string;
  clientId: string;
  privateJwk: JWK;
  publicJwk: JWK;
  handle: Awaited<ReturnType<typeof signup>>['handle'];
}

export async function keyPair(alg: 'ES256' | 'RS256' | 'PS256' | 'EdDSA' = 'ES256'): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const kid = randomUUID();
  return { privateJwk: { ...(await exportJWK(privateKey)), alg, kid }, publicJwk: { ...(await exportJWK(publicKey)), alg, kid } };
}

/** LOW signup → three confirmations → a JWK anchor proven over Admit's challenge → ADMITTED. */
export async function admitJwkPartner(
  h: LifecycleHarness,
  alg: 'ES256' | 'RS256' | 'PS256' | 'EdDSA' = 'ES256',
  overrides: SignupOverrides = {},
): Promise<JwkPartner> {
  const { handle, applicationId, body } = await signup(h, overrides);
  await waitForStage(handle, 'AWAITING_CONTACTS');
  await confirmContacts(h, handle, body);
  await waitForStage(handle, 'AWAITING_ANCHOR');
  const { privateJwk, publicJwk } = await keyPair(alg);
  const assertion = await anchorAssertion(handle, applicationId, privateJwk);
  const attempt = await submitAnchor(handle, { kind: 'jwk', jwks: { keys: [publicJwk] }, assertion });
  if (!attempt.ok) throw new Error(`anchor refused: ${JSON.stringify(attempt.reasons)}`);
  const admitted = await waitForStage(handle, 'ADMITTED');
  const clientId = admitted.grant?.clientId;
  if (clientId === undefined) throw new Error('admitted without a client');
  return { applicationId, clientId, privateJwk, publicJwk, handle };
}

/** A proof of possession of `privateJwk` over a fresh challenge of the workflow (for submitAnchor and rotateAnchor). */
export async function anchorAssertion(handle: JwkPartner['handle'], applicationId: string, privateJwk: JWK): Promise<string> {
  const alg = privateJwk.alg as string;
  const challenge = await handle.executeUpdate(requestAnchorChallengeUpdate, { args: [] });
  const now = Math.floor(Date.now() / 1000);
  const partnerName = `partner-${applicationId}`.slice(0, 60);
  return new SignJWT({ nonce: challenge.nonce })
    .setProtectedHeader({ alg, kid: privateJwk.kid as string })
    .setIssuer(partnerName)
    .setSubject(partnerName)
    .setAudience(challenge.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + 120)
    .setJti(randomUUID())
    .sign(await importJWK(privateJwk, alg));
}

/** LOW signup → confirmations → an X.509 client certificate from the trust store's CA → ADMITTED. */
export async function admitX509Partner(h: LifecycleHarness) {
  const { handle, applicationId, body } = await signup(h);
  await waitForStage(handle, 'AWAITING_CONTACTS');
  await confirmContacts(h, handle, body);
  await waitForStage(handle, 'AWAITING_ANCHOR');
  const leafSubject = `CN=${applicationId}`;
  const chain = await clientChainWithKey(h, leafSubject);
  const attempt = await submitAnchor(handle, { kind: 'x509', certificateChainPem: chain.chainPem });
  if (!attempt.ok) throw new Error(`anchor refused: ${JSON.stringify(attempt.reasons)}`);
  const admitted = await waitForStage(handle, 'ADMITTED');
  const clientId = admitted.grant?.clientId;
  if (clientId === undefined) throw new Error('admitted without a client');
  return { applicationId, clientId, handle, ...chain };
}

/** A client certificate (leaf + issuing CA) and its private key, from the harness's partner CA. */
export async function clientChainWithKey(h: LifecycleHarness, subject: string): Promise<{ chainPem: string; keyPem: string; leafPem: string }> {
  const { makeCert } = await import('../anchors/fixtures');
  const DAY = 24 * 3600 * 1000;
  const leaf = await makeCert({ subject, issuer: h.ca.issuing, notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 365 * DAY) });
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', leaf.keys.pair.privateKey as webcrypto.CryptoKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trim()}\n-----END PRIVATE KEY-----\n`;
  return { chainPem: `${leaf.pem}${h.ca.issuing.pem}`, keyPem, leafPem: leaf.pem };
}

export { clientChain };

export interface HttpsAnswer {
  status: number;
  json: Record<string, unknown>;
}

/** One HTTPS request presenting a client certificate (what `curl --cert --key --cacert` does). */
export async function httpsWithCert(
  url: string,
  options: { method: 'GET' | 'POST'; certPem?: string; keyPem?: string; caPem: string; headers?: Record<string, string>; body?: string },
): Promise<HttpsAnswer> {
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method: options.method,
        ...(options.certPem === undefined ? {} : { cert: options.certPem, key: options.keyPem }),
        ca: options.caPem,
        headers: { ...(options.body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }), ...options.headers },
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = { text };
          }
          resolve({ status: response.statusCode ?? 0, json });
        });
      },
    );
    request.on('error', reject);
    if (options.body !== undefined) request.write(options.body);
    request.end();
  });
}
