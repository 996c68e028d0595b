import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnchorFetchError, createSafeFetcher, parseSpiffeId, parseTrustBundle, verifyAnchor } from '../../anchors/index';
import type { VerificationResult } from '../../anchors/index';
import { AT, CLIENT_AUTH, jwtKey, makeCert, signJwt, x509 } from './fixtures/index';
import type { Issued, JwtKey } from './fixtures/index';
import { json, startHttps } from './fixtures/servers';
import type { LocalServer } from './fixtures/servers';

const TD = 'partner.example';
const ID = `spiffe://${TD}/ns/prod/sa/api`;
const at = Math.floor(AT.getTime() / 1000);

describe('SPIFFE ID syntax', () => {
  it.each([ID, 'spiffe://td', 'spiffe://a-b.c_d/x/y.z'])('accepts %s', (id) => expect(parseSpiffeId(id)?.id).toBe(id));
  it.each([
    'spiffe://Partner.example/x',
    'spiffe:///x',
    'spiffe://td/',
    'spiffe://td//x',
    'spiffe://td/./x',
    'spiffe://td/../x',
    'spiffe://td/x?y',
    'spiffe://td/x#y',
    'spiffe://user@td/x',
    'spiffe://td:443/x',
    'SPIFFE://td/x',
    'https://td/x',
    `spiffe://td/${'a'.repeat(2100)}`,
  ])('refuses %s', (id) => expect(parseSpiffeId(id)).toBeUndefined());
});

let ca: Issued;
let jwtSvidKey: JwtKey;
let bundleJson: string;

beforeAll(async () => {
  ca = await makeCert({ subject: 'CN=Partner SPIFFE CA', ca: true, san: [{ type: 'url', value: `spiffe://${TD}` }] });
  jwtSvidKey = await jwtKey('ES256', 'jwt-svid-1');
  const { alg: _alg, ...publicJwk } = jwtSvidKey.publicJwk;
  bundleJson = JSON.stringify({
    keys: [
      { use: 'x509-svid', kty: 'EC', x5c: [ca.der.toString('base64')] },
      { use: 'jwt-svid', ...publicJwk },
    ],
  });
});

async function svid(overrides: Parameters<typeof makeCert>[0] extends infer S ? Partial<S> : never = {}): Promise<string> {
  const leaf = await makeCert({ subject: 'O=SPIRE', issuer: ca, san: [{ type: 'url', value: ID }], eku: [CLIENT_AUTH], ...overrides });
  return leaf.pem;
}

async function x509Svid(pem: string, expectedId = ID): Promise<VerificationResult> {
  return verifyAnchor({ kind: 'spiffe', bundle: await parseTrustBundle(bundleJson), expectedId, x509Svid: pem, at: AT });
}

async function jwtSvid(token: string, audience = 'admit'): Promise<VerificationResult> {
  return verifyAnchor({ kind: 'spiffe', bundle: await parseTrustBundle(bundleJson), expectedId: ID, jwtSvid: token, audience, at: AT });
}

describe('SPIFFE SVIDs', () => {
  it('accepts an X.509-SVID against a JSON bundle; fingerprint is the SPIFFE ID', async () => {
    const r = await x509Svid(await svid());
    expect(r.reasons).toEqual([]);
    expect(r.fingerprint).toBe(ID);
    expect(r.keyFingerprint).toMatch(/^jwk-sha256:/);
  });

  it('accepts an X.509-SVID against a PEM bundle', async () => {
    const r = await verifyAnchor({ kind: 'spiffe', bundle: await parseTrustBundle(ca.pem), expectedId: ID, x509Svid: await svid(), at: AT });
    expect(r.ok).toBe(true);
  });

  it('accepts a JWT-SVID', async () => {
    const r = await jwtSvid(await signJwt(jwtSvidKey, { sub: ID, aud: 'admit', exp: at + 300, iat: at }));
    expect(r.reasons).toEqual([]);
    expect(r.fingerprint).toBe(ID);
  });

  const hostile: [string, string, () => Promise<VerificationResult>][] = [
    ['expected ID with an uppercase trust domain', 'SPIFFE_ID_INVALID', async () => x509Svid(await svid(), 'spiffe://Partner.example/x')],
    [
      'two URI SANs',
      'SVID_MALFORMED',
      async () =>
        x509Svid(
          await svid({
            san: [
              { type: 'url', value: ID },
              { type: 'url', value: `spiffe://${TD}/other` },
            ],
          }),
        ),
    ],
    [
      'leaf is a CA',
      'SVID_MALFORMED',
      async () => x509Svid(await svid({ ca: true, keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign })),
    ],
    [
      'SVID from another trust domain',
      'SPIFFE_TRUST_DOMAIN_MISMATCH',
      async () => x509Svid(await svid({ san: [{ type: 'url', value: 'spiffe://evil.example/ns/prod/sa/api' }] })),
    ],
    [
      'SVID for another workload',
      'SPIFFE_ID_MISMATCH',
      async () => x509Svid(await svid({ san: [{ type: 'url', value: `spiffe://${TD}/ns/dev/sa/api` }] })),
    ],
    ['SVID URI with a query', 'SPIFFE_ID_INVALID', async () => x509Svid(await svid({ san: [{ type: 'url', value: `${ID}?admin=1` }] }))],
    [
      'SVID from a CA outside the bundle',
      'CERT_UNTRUSTED',
      async () => {
        const rogue = await makeCert({ subject: 'CN=Rogue CA', ca: true });
        return x509Svid((await makeCert({ subject: 'O=SPIRE', issuer: rogue, san: [{ type: 'url', value: ID }] })).pem);
      },
    ],
    [
      'JWT-SVID for another audience',
      'JWT_AUDIENCE_MISMATCH',
      async () => jwtSvid(await signJwt(jwtSvidKey, { sub: ID, aud: 'someone-else', exp: at + 300 })),
    ],
    [
      'JWT-SVID with an unknown kid',
      'JWT_KID_UNKNOWN',
      async () => jwtSvid(await signJwt(await jwtKey('ES256', 'rogue'), { sub: ID, aud: 'admit', exp: at + 300 })),
    ],
    [
      'JWT-SVID from another trust domain',
      'SPIFFE_TRUST_DOMAIN_MISMATCH',
      async () => jwtSvid(await signJwt(jwtSvidKey, { sub: 'spiffe://evil.example/x', aud: 'admit', exp: at + 300 })),
    ],
    [
      'JWT-SVID whose sub is not a SPIFFE ID',
      'SPIFFE_ID_INVALID',
      async () => jwtSvid(await signJwt(jwtSvidKey, { sub: 'root', aud: 'admit', exp: at + 300 })),
    ],
    ['expired JWT-SVID', 'JWT_EXPIRED', async () => jwtSvid(await signJwt(jwtSvidKey, { sub: ID, aud: 'admit', exp: at - 300 }))],
    ['JWT-SVID without exp', 'JWT_CLAIM_MISSING', async () => jwtSvid(await signJwt(jwtSvidKey, { sub: ID, aud: 'admit' }))],
  ];
  it.each(hostile)('%s → %s', async (_name, code, run) => {
    const r = await run();
    expect(r.ok).toBe(false);
    expect(r.reasons[0]?.code).toBe(code);
  });
});

describe('OIDC workload identity federation', () => {
  let idp: LocalServer;
  let signing: JwtKey;
  let issuer: string;

  beforeAll(async () => {
    idp = await startHttps();
    issuer = `${idp.origin}/tenant`;
    signing = await jwtKey('RS256', 'idp-key');
    idp.routes.set('/tenant/.well-known/openid-configuration', json({ issuer, jwks_uri: `${idp.origin}/tenant/jwks` }));
    idp.routes.set('/tenant/jwks', json({ keys: [signing.publicJwk, { kty: 'oct', k: 'ignored' }] }));
  });
  afterAll(() => idp.close());

  const fetcher = () => createSafeFetcher({ allow: [idp.hostPort], ca: [idp.ca!] });
  const token = (overrides: Record<string, unknown> = {}) =>
    signJwt(signing, { iss: issuer, sub: 'repo:partner/app:ref:main', aud: 'admit', iat: at, exp: at + 600, ...overrides });
  const verify = async (t: string, opts: { issuer?: string; subject?: string } = {}) =>
    verifyAnchor({
      kind: 'oidc',
      token: t,
      issuer: opts.issuer ?? issuer,
      subject: opts.subject ?? 'repo:partner/app:ref:main',
      audience: 'admit',
      fetcher: fetcher(),
      now: AT,
    });

  it('accepts a token found through discovery; fingerprint is oidc:issuer#subject', async () => {
    const r = await verify(await token());
    expect(r.reasons).toEqual([]);
    expect(r.fingerprint).toBe(`oidc:${issuer}#repo:partner/app:ref:main`);
  });

  it('a 5xx from the identity provider is a retryable infrastructure error, not a refusal', async () => {
    idp.routes.set('/down/.well-known/openid-configuration', (_q, _b, res) => res.writeHead(503).end());
    const err = await verify(await token(), { issuer: `${idp.origin}/down` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AnchorFetchError);
    expect((err as AnchorFetchError).retryable).toBe(true);
  });

  const hostile: [string, string, () => Promise<VerificationResult>][] = [
    [
      'discovery document names another issuer',
      'OIDC_DISCOVERY_INVALID',
      async () => {
        idp.routes.set('/liar/.well-known/openid-configuration', json({ issuer: 'https://accounts.example', jwks_uri: `${idp.origin}/tenant/jwks` }));
        return verify(await token({ iss: `${idp.origin}/liar` }), { issuer: `${idp.origin}/liar` });
      },
    ],
    ['issuer with a trailing slash is not the same issuer', 'OIDC_DISCOVERY_INVALID', async () => verify(await token(), { issuer: `${issuer}/` })],
    ['another subject', 'OIDC_SUBJECT_MISMATCH', async () => verify(await token({ sub: 'repo:attacker/app:ref:main' }))],
    ['token from another issuer', 'JWT_ISSUER_MISMATCH', async () => verify(await token({ iss: 'https://token.actions.example' }))],
    ['token for another audience', 'JWT_AUDIENCE_MISMATCH', async () => verify(await token({ aud: 'sts.amazonaws.com' }))],
    [
      'jwks_uri that redirects',
      'URL_FORBIDDEN',
      async () => {
        idp.routes.set('/redir/.well-known/openid-configuration', json({ issuer: `${idp.origin}/redir`, jwks_uri: `${idp.origin}/redir/jwks` }));
        idp.routes.set('/redir/jwks', (_q, _b, res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end());
        return verify(await token({ iss: `${idp.origin}/redir` }), { issuer: `${idp.origin}/redir` });
      },
    ],
    [
      'jwks_uri on a loopback host that is not allow-listed',
      'URL_FORBIDDEN',
      async () => {
        idp.routes.set('/ssrf/.well-known/openid-configuration', json({ issuer: `${idp.origin}/ssrf`, jwks_uri: 'https://127.0.0.2:8443/jwks' }));
        return verify(await token({ iss: `${idp.origin}/ssrf` }), { issuer: `${idp.origin}/ssrf` });
      },
    ],
    [
      'jwks_uri over http',
      'URL_FORBIDDEN',
      async () => {
        idp.routes.set(
          '/plain/.well-known/openid-configuration',
          json({ issuer: `${idp.origin}/plain`, jwks_uri: 'http://jwks.partner.example/jwks' }),
        );
        return verify(await token({ iss: `${idp.origin}/plain` }), { issuer: `${idp.origin}/plain` });
      },
    ],
    [
      'oversized JWKS',
      'URL_RESPONSE_TOO_LARGE',
      async () => {
        idp.routes.set('/big/.well-known/openid-configuration', json({ issuer: `${idp.origin}/big`, jwks_uri: `${idp.origin}/big/jwks` }));
        idp.routes.set('/big/jwks', (_q, _b, res) => res.writeHead(200).end(Buffer.alloc(2 * 1024 * 1024, 0x20)));
        return verify(await token({ iss: `${idp.origin}/big` }), { issuer: `${idp.origin}/big` });
      },
    ],
    [
      'JWKS with no usable key',
      'JWKS_INVALID',
      async () => {
        idp.routes.set('/nokeys/.well-known/openid-configuration', json({ issuer: `${idp.origin}/nokeys`, jwks_uri: `${idp.origin}/nokeys/jwks` }));
        idp.routes.set('/nokeys/jwks', json({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }));
        return verify(await token({ iss: `${idp.origin}/nokeys` }), { issuer: `${idp.origin}/nokeys` });
      },
    ],
  ];
  it.each(hostile)('%s → %s', async (_name, code, run) => {
    const r = await run();
    expect(r.ok).toBe(false);
    expect(r.reasons[0]?.code).toBe(code);
  });
});
