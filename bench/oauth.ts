// The partners' authorization server: token issuance (private_key_jwt + DPoP over HTTP, clients read
// from the registry, opaque tokens written to it) against a bare jose baseline doing the same signing
// and verifying in-process; and revocation-to-deny latency (closeApplication, the closing activity the
// workflow runs, until the gateway's introspection of an outstanding token says inactive).
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import type { Registry } from '../registry/client';
import { closingActivities } from '../activities/closing';
import { createAuthorizationServer } from '../oauth/provider';
import { forwardToProvider } from '../oauth/plugin';
import { dpopProof, fetchToken } from '../cli/token';
import type { Benchmark } from './harness';

const GATEWAY = { name: 'bench', token: 'bench-gateway-token-0123456789abcdefghijkl' };
const RESOURCE = 'https://api.bench.example/opaque';

export interface AuthorizationServerBench {
  issuance: Benchmark;
  revocation(samples: number): Promise<{ samples: number; p50Ms: number; p99Ms: number; maxMs: number }>;
  close(): Promise<void>;
}

interface Partner {
  applicationId: string;
  clientId: string;
  privateJwk: JWK;
}

let sequence = 0;

/** An admitted application with a JWK anchor and its client, written as grantAccess writes them. */
async function admittedPartner(registry: Registry): Promise<Partner> {
  sequence += 1;
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), alg: 'ES256' };
  const privateJwk = { ...(await exportJWK(privateKey)), alg: 'ES256' };
  const thumbprint = await calculateJwkThumbprint(publicJwk);
  const lei = `BENCH${randomBytes(8).toString('hex').toUpperCase()}`.slice(0, 20);
  const organisation = await registry.organisation.create({
    data: { legalName: `Bench ${sequence}`, lei, jurisdiction: 'GB', primaryDomain: `b${sequence}.example` },
  });
  const applicationId = `app-bench-${sequence}-${randomUUID()}`;
  await registry.application.create({
    data: {
      id: applicationId,
      organisationId: organisation.id,
      name: `Bench ${sequence}`,
      nameKey: `bench ${sequence}`,
      environment: 'sandbox',
      purpose: 'bench',
      requestedScopes: ['accounts:read'],
      dataSensitivity: 'internal',
      regulatedSector: false,
      strategic: false,
      expectedMonthlyCalls: 1000,
      contractEndDate: new Date('2030-01-01'),
      requestedBy: 'bench@example.com',
      status: 'ADMITTED',
      tier: 'LOW',
      admittedAt: new Date(),
      workflowId: `partner-lifecycle-${applicationId}`,
    },
  });
  await registry.trustAnchor.create({
    data: {
      applicationId,
      kind: 'JWK',
      fingerprint: `jwk-sha256:${thumbprint}`,
      keyFingerprint: `jwk-sha256:${thumbprint}`,
      material: { jwks: { keys: [publicJwk] } },
      verifiedAt: new Date(),
    },
  });
  await registry.grant.create({
    data: { applicationId, scopes: ['accounts:read'], conditions: { environments: ['sandbox'] }, tier: 'LOW', approvedBy: [], grantedAt: new Date() },
  });
  const clientId = `admit-${randomBytes(16).toString('base64url')}`;
  await registry.clientCredential.create({
    data: {
      clientId,
      applicationId,
      anchorFingerprint: `jwk-sha256:${thumbprint}`,
      confirmationMethod: 'jkt',
      confirmationValue: thumbprint,
      tokenLifetimeSeconds: 900,
    },
  });
  return { applicationId, clientId, privateJwk };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export async function authorizationServerBench(registry: Registry): Promise<AuthorizationServerBench> {
  let server: Server | undefined;
  const port = await new Promise<number>((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port: p } = probe.address() as AddressInfo;
      probe.close(() => resolve(p));
    });
  });
  const issuer = `http://127.0.0.1:${port}`;
  const provider = await createAuthorizationServer({
    issuer,
    registry,
    sources: { gatewayTokens: [GATEWAY] },
    resourceServers: [{ uri: RESOURCE, format: 'opaque' }],
    signingSeed: randomBytes(32),
    assertionMaxAgeSeconds: 60,
  });
  const forward = forwardToProvider(provider, [GATEWAY]);
  server = createServer((req, res) => void forward(req, res));
  await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
  const tokenEndpoint = `${issuer}/oauth/token`;
  const partner = await admittedPartner(registry);

  // The baseline: the same JWS work with jose alone — sign and verify the client assertion and the
  // DPoP proof, sign an access token — with no HTTP, no registry and no provider.
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const { privateKey: asKey } = await generateKeyPair('EdDSA');
  const baseline = async (i: number) => {
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(partner.clientId)
      .setSubject(partner.clientId)
      .setAudience(issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .setJti(`b-${i}`)
      .sign(privateKey);
    const proof = await new SignJWT({ htm: 'POST', htu: tokenEndpoint })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt' })
      .setIssuedAt(now)
      .setJti(`d-${i}`)
      .sign(privateKey);
    await jwtVerify(assertion, publicKey, { audience: issuer, issuer: partner.clientId });
    await jwtVerify(proof, publicKey, { typ: 'dpop+jwt' });
    return new SignJWT({ client_id: partner.clientId, scope: 'accounts:read', cnf: { jkt: 'x' } })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' })
      .setIssuer(issuer)
      .setAudience(RESOURCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 900)
      .setJti(`t-${i}`)
      .sign(asKey);
  };

  const introspect = async (token: string): Promise<boolean> => {
    const response = await fetch(`${issuer}/oauth/introspect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${GATEWAY.token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    return ((await response.json()) as { active: boolean }).active;
  };

  return {
    issuance: {
      name: 'token issuance (private_key_jwt + DPoP, opaque)',
      baseline: 'jose sign+verify assertion and proof, sign a JWT',
      admit: () => fetchToken(partner, { clientId: partner.clientId, issuer, tokenEndpoint, scope: 'accounts:read' }),
      base: baseline,
      concurrency: 4,
      warmup: 40,
      iterations: 200,
      rounds: 3,
    },
    async revocation(samples) {
      const closing = closingActivities(registry);
      const latencies: number[] = [];
      for (let i = 0; i < samples; i += 1) {
        const p = await admittedPartner(registry);
        const token = await fetchToken(p, { clientId: p.clientId, issuer, tokenEndpoint, scope: 'accounts:read' });
        if (!(await introspect(token.access_token))) throw new Error('a fresh token introspected inactive');
        // A gateway keeps asking while the revocation runs; the clock stops at its first "inactive".
        const started = performance.now();
        let denied: number | undefined;
        const watcher = (async () => {
          while (denied === undefined) {
            if (!(await introspect(token.access_token))) denied = performance.now();
          }
        })();
        await closing.closeApplication({
          applicationId: p.applicationId,
          workflowId: `partner-lifecycle-${p.applicationId}`,
          status: 'OFFBOARDED',
          trigger: 'key-compromise',
          reason: 'bench',
          actor: 'bench',
          at: new Date().toISOString(),
        });
        const committed = performance.now();
        await watcher;
        // The ordering the tests assert: after the activity returns, the token is denied.
        if (await introspect(token.access_token)) throw new Error('a token stayed active after its revocation committed');
        latencies.push((denied ?? committed) - started);
        await dpopProof(p, 'GET', RESOURCE); // keep the partner's key in use, as a client would
      }
      latencies.sort((a, b) => a - b);
      return { samples, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: latencies.at(-1) ?? Number.NaN };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server?.closeAllConnections();
        server?.close(() => resolve());
        server = undefined;
      }),
  };
}
