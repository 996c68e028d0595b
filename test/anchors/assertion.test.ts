import { describe, expect, it } from 'vitest';
import { InMemoryReplayStore, issueChallenge, verifyAnchor } from '../../anchors/index';
import type { Challenge } from '../../anchors/index';
import { jwtKey, signJwt, unsignedJwt } from './fixtures/index';
import type { JwtKey } from './fixtures/index';

const AUDIENCE = 'https://admit.example/token';
const CLIENT = 'partner-app-42';
const NOW = new Date('2026-06-01T12:00:00Z');
const now = Math.floor(NOW.getTime() / 1000);

function claims(challenge: Challenge, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: CLIENT, sub: CLIENT, aud: AUDIENCE, iat: now, exp: now + 120, jti: `jti-${Math.random()}`, nonce: challenge.nonce, ...overrides };
}

async function setup(alg: Parameters<typeof jwtKey>[0] = 'ES256') {
  const key = await jwtKey(alg);
  const challenge = issueChallenge({ audience: AUDIENCE, ttlSeconds: 300, now: NOW });
  return { key, challenge, store: new InMemoryReplayStore(() => NOW) };
}

async function check(
  token: string,
  key: JwtKey,
  challenge: Challenge,
  extra: { keys?: unknown; store?: InMemoryReplayStore; audience?: string; clientId?: string } = {},
) {
  return verifyAnchor({
    kind: 'jwk',
    token,
    keys: extra.keys ?? { keys: [key.publicJwk] },
    challenge,
    audience: extra.audience ?? AUDIENCE,
    clientId: extra.clientId ?? CLIENT,
    replayStore: extra.store ?? new InMemoryReplayStore(() => NOW),
    now: NOW,
  });
}

describe('signed assertion: accepted', () => {
  it.each(['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const)('accepts a fresh %s proof over the challenge', async (alg) => {
    const { key, challenge } = await setup(alg);
    const r = await check(await signJwt(key, claims(challenge)), key, challenge);
    expect(r.reasons).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.fingerprint).toMatch(/^jwk-sha256:[A-Za-z0-9_-]{43}$/);
    expect(r.subject).toBe(CLIENT);
  });

  it('accepts a single JWK (not a set) and a token without kid when one key fits', async () => {
    const { key, challenge } = await setup();
    const token = await signJwt(key, claims(challenge), { kid: undefined });
    const r = await check(token, key, challenge, { keys: key.publicJwk });
    expect(r.reasons).toEqual([]);
  });

  it('challenge nonces are unguessable and distinct', () => {
    const a = issueChallenge({ audience: AUDIENCE });
    const b = issueChallenge({ audience: AUDIENCE });
    expect(a.nonce).not.toBe(b.nonce);
    expect(Buffer.from(a.nonce, 'base64url')).toHaveLength(32);
  });
});

type Case = [name: string, code: string, run: () => Promise<{ ok: boolean; reasons: { code: string }[] }>];

const hostile: Case[] = [
  [
    'alg none',
    'JWT_ALG_NOT_ALLOWED',
    async () => {
      const { key, challenge } = await setup();
      return check(unsignedJwt({ alg: 'none', kid: key.publicJwk.kid }, claims(challenge)), key, challenge);
    },
  ],
  [
    'HS256 forged with the public key as the secret',
    'JWT_ALG_NOT_ALLOWED',
    async () => {
      const { key, challenge } = await setup('RS256');
      const { createHmac } = await import('node:crypto');
      const signingInput = unsignedJwt({ alg: 'HS256', kid: key.publicJwk.kid }, claims(challenge)).slice(0, -1);
      const mac = createHmac('sha256', JSON.stringify(key.publicJwk)).update(signingInput).digest('base64url');
      return check(`${signingInput}.${mac}`, key, challenge);
    },
  ],
  [
    'RS512 (outside the allow-list)',
    'JWT_ALG_NOT_ALLOWED',
    async () => {
      const { challenge } = await setup();
      const k = await jwtKey('RS512');
      return check(await signJwt(k, claims(challenge)), k, challenge, { keys: { keys: [{ ...k.publicJwk, alg: undefined }] } });
    },
  ],
  [
    'embedded jwk header with the attacker key',
    'JWT_EMBEDDED_KEY_REFUSED',
    async () => {
      const { key, challenge } = await setup();
      const attacker = await jwtKey('ES256', key.publicJwk.kid);
      return check(await signJwt(attacker, claims(challenge), { jwk: attacker.publicJwk }), key, challenge);
    },
  ],
  [
    'jku header',
    'JWT_EMBEDDED_KEY_REFUSED',
    async () => {
      const { key, challenge } = await setup();
      return check(await signJwt(key, claims(challenge), { jku: 'https://attacker.example/jwks' }), key, challenge);
    },
  ],
  [
    'x5u header',
    'JWT_EMBEDDED_KEY_REFUSED',
    async () => {
      const { key, challenge } = await setup();
      return check(await signJwt(key, claims(challenge), { x5u: 'https://attacker.example/cert' }), key, challenge);
    },
  ],
  [
    'crit header',
    'JWT_CRIT_UNSUPPORTED',
    async () => {
      const { key, challenge } = await setup();
      return check(unsignedJwt({ alg: 'ES256', kid: key.publicJwk.kid, crit: ['exp'] }, claims(challenge), 'AAAA'), key, challenge);
    },
  ],
  [
    'kid naming no registered key',
    'JWT_KID_UNKNOWN',
    async () => {
      const { key, challenge } = await setup();
      return check(await signJwt(key, claims(challenge), { kid: 'someone-else' }), key, challenge);
    },
  ],
  [
    'signed by another key under the registered kid',
    'JWT_SIGNATURE_INVALID',
    async () => {
      const { key, challenge } = await setup();
      const other = await jwtKey('ES256', key.publicJwk.kid);
      return check(await signJwt(other, claims(challenge)), key, challenge);
    },
  ],
  [
    'tampered payload',
    'JWT_SIGNATURE_INVALID',
    async () => {
      const { key, challenge } = await setup();
      const [h, , s] = (await signJwt(key, claims(challenge))).split('.');
      const forged = Buffer.from(JSON.stringify(claims(challenge, { sub: 'admin', iss: 'admin' }))).toString('base64url');
      return check(`${h}.${forged}.${s}`, key, challenge);
    },
  ],
  [
    'ES256 token against an ES384 key',
    'JWT_ALG_NOT_ALLOWED',
    async () => {
      const { challenge } = await setup();
      const k384 = await jwtKey('ES384', 'shared');
      const k256 = await jwtKey('ES256', 'shared');
      return check(await signJwt(k256, claims(challenge)), k384, challenge);
    },
  ],
  [
    'wrong audience',
    'JWT_AUDIENCE_MISMATCH',
    async () => {
      const { key, challenge } = await setup();
      return check(await signJwt(key, claims(challenge, { aud: 'https://other.example' })), key, challenge);
    },
  ],
  [
    'wrong issuer',
    'JWT_ISSUER_MISMATCH',
    async () => {
      const { key, challenge } = await setup();
      return check(await signJwt(key, claims(challenge, { iss: 'another-client' })), key, challenge);
    },
  ],
  [
    'sub differs from iss',
    'JWT_SUBJECT_MISMATCH',
    async () => {
      const { key, challenge } = await setup();
      return check(await signJwt(key, claims(challenge, { sub: 'someone' })), key, challenge, { clientId: undefined as never });
    },
  ],
  [
    'expired',
    'JWT_EXPIRED',
    async () => {
      const { key, challenge } = await setup();
      return check(await signJwt(key, claims(challenge, { iat: now - 900, exp: now - 300 })), key, challenge);
    },
  ],
  [
    'iat in the future',
    'JWT_NOT_YET_VALID',
    async () => {
      const { key, challenge } = await setup();
      return check(await signJwt(key, claims(challenge, { iat: now + 300, exp: now + 400 })), key, challenge);
    },
  ],
  [
    'exp an hour ahead',
    'JWT_LIFETIME_TOO_LONG',
    async () => {
      const { key, challenge } = await setup();
      return check(await signJwt(key, claims(challenge, { exp: now + 3600 })), key, challenge);
    },
  ],
  [
    'missing jti',
    'JWT_CLAIM_MISSING',
    async () => {
      const { key, challenge } = await setup();
      return check(await signJwt(key, claims(challenge, { jti: undefined })), key, challenge);
    },
  ],
  [
    'missing nonce',
    'JWT_CLAIM_MISSING',
    async () => {
      const { key, challenge } = await setup();
      return check(await signJwt(key, claims(challenge, { nonce: undefined })), key, challenge);
    },
  ],
  [
    'nonce of another challenge',
    'JWT_NONCE_MISMATCH',
    async () => {
      const { key, challenge } = await setup();
      const other = issueChallenge({ audience: AUDIENCE, now: NOW });
      return check(await signJwt(key, claims(other)), key, challenge);
    },
  ],
  [
    'challenge expired',
    'JWT_CHALLENGE_EXPIRED',
    async () => {
      const { key } = await setup();
      const stale = issueChallenge({ audience: AUDIENCE, ttlSeconds: 60, now: new Date(NOW.getTime() - 120_000) });
      return check(await signJwt(key, claims(stale)), key, stale);
    },
  ],
  [
    'reused jti',
    'JWT_REPLAYED',
    async () => {
      const { key, challenge, store } = await setup();
      const token = await signJwt(key, claims(challenge, { jti: 'once' }));
      const first = await check(token, key, challenge, { store });
      expect(first.ok).toBe(true);
      return check(token, key, challenge, { store });
    },
  ],
  [
    'garbage token',
    'JWT_MALFORMED',
    async () => {
      const { key, challenge } = await setup();
      return check('this is not a jwt', key, challenge);
    },
  ],
  [
    'oversized token',
    'INPUT_TOO_LARGE',
    async () => {
      const { key, challenge } = await setup();
      return check(`${'a'.repeat(20_000)}.b.c`, key, challenge);
    },
  ],
  [
    'header that is not JSON',
    'JWT_MALFORMED',
    async () => {
      const { key, challenge } = await setup();
      return check(`${Buffer.from('{nope').toString('base64url')}.e30.AAAA`, key, challenge);
    },
  ],
  [
    'registered key is a private JWK',
    'JWK_INVALID',
    async () => {
      const { key, challenge } = await setup();
      const { exportJWK } = await import('jose');
      return check(await signJwt(key, claims(challenge)), key, challenge, { keys: { ...(await exportJWK(key.privateKey)), kid: key.publicJwk.kid } });
    },
  ],
  [
    'registered key is symmetric',
    'JWK_INVALID',
    async () => {
      const { key, challenge } = await setup();
      return check(await signJwt(key, claims(challenge)), key, challenge, { keys: { kty: 'oct', k: 'c2VjcmV0' } });
    },
  ],
  [
    'registered RSA key of 1024 bits',
    'JWK_INVALID',
    async () => {
      const { key, challenge } = await setup();
      const { generateKeyPairSync } = await import('node:crypto');
      const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
      return check(await signJwt(key, claims(challenge)), key, challenge, { keys: { ...weak, kid: key.publicJwk.kid } });
    },
  ],
  [
    'registered EC key with a point off the curve',
    'JWK_INVALID',
    async () => {
      const { key, challenge } = await setup();
      const x = Buffer.from(key.publicJwk.x!, 'base64url');
      x[5] = x[5]! ^ 0xff;
      return check(await signJwt(key, claims(challenge)), key, challenge, { keys: { ...key.publicJwk, x: x.toString('base64url') } });
    },
  ],
  [
    'JWKS with duplicate kids',
    'JWKS_INVALID',
    async () => {
      const { key, challenge } = await setup();
      return check(await signJwt(key, claims(challenge)), key, challenge, { keys: { keys: [key.publicJwk, key.publicJwk] } });
    },
  ],
  [
    'JWKS that is garbage',
    'JWK_INVALID',
    async () => {
      const { key, challenge } = await setup();
      return check(await signJwt(key, claims(challenge)), key, challenge, { keys: 'not json' });
    },
  ],
];

describe('signed assertion: hostile input', () => {
  it.each(hostile)('%s → %s', async (_name, code, run) => {
    const r = await run();
    expect(r.ok).toBe(false);
    expect(r.reasons[0]?.code).toBe(code);
  });
});

describe('signed assertion: random input never crashes', () => {
  it('refuses 300 random or truncated tokens with a reason', async () => {
    const { key, challenge } = await setup();
    const good = await signJwt(key, claims(challenge));
    const { randomBytes } = await import('node:crypto');
    for (let i = 0; i < 300; i++) {
      const token =
        i % 3 === 0
          ? good.slice(0, i % good.length)
          : i % 3 === 1
            ? randomBytes(i).toString('base64url')
            : `${good.split('.')[0]}.${randomBytes(i).toString('base64url')}.${randomBytes(64).toString('base64url')}`;
      const r = await check(token, key, challenge);
      expect(r.ok).toBe(false);
      expect(r.reasons[0]?.code).toMatch(/^JWT_/);
    }
  }, 60_000);
});
