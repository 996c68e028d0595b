// Wycheproof JWS, JWK-set and signature vectors through the signed-assertion path: Admit's key policy
// (jwkProblem / parseKeySet), its header and key-selection rules, and jose's verification.
import { webcrypto } from 'node:crypto';
import { importJWK } from 'jose';
import type { JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { verifyJwsSignature } from '../../anchors/assertion';
import { ALGORITHM_KEYS, jwkProblem, parseKeySet } from '../../anchors/jwk';
import type { AllowedAlgorithm } from '../../anchors/jwk';
import { Tally, loadCorpus } from './corpora';

interface Test {
  tcId: number;
  comment: string;
  result: 'valid' | 'invalid' | 'acceptable';
  flags: string[];
}
interface JwsTest extends Test {
  jws: unknown;
}
interface SigTest extends Test {
  msg: string;
  sig: string;
}
interface Group<T> {
  comment?: string;
  private?: Record<string, unknown>;
  public?: Record<string, unknown>;
  publicKeyJwk?: JWK;
  keyJwk?: JWK;
  publicKey?: { uncompressed?: string };
  tests: T[];
}

/** Some ECDSA groups give the key only as an uncompressed point (04 || x || y). */
function ecJwk(group: Group<unknown>): JWK | undefined {
  const point = group.publicKey?.uncompressed ? Buffer.from(group.publicKey.uncompressed, 'hex') : undefined;
  if (point?.length !== 65) return undefined;
  return { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') };
}

/** Valid vectors Admit refuses by policy: the reason code they get, and why. */
export const JWS_DEVIATIONS: Record<string, string> = {
  JWT_ALG_NOT_ALLOWED: "HS256/384/512, RS384/512, PS384/512 and ES512 are outside Admit's allow-list (RS256, PS256, ES256, ES384, EdDSA).",
  JWK_INVALID:
    'Symmetric (oct) keys, P-521 keys and keys declared for an algorithm outside the allow-list (alg RS384, PS512, ...) are not accepted as partner keys.',
  JWKS_INVALID: 'A key set holding a symmetric or otherwise refused key is refused whole.',
};

const PRIVATE = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];
/** Wycheproof ships key pairs; a partner registers only the public half. */
function publicHalf(key: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(key).filter(([k]) => !PRIVATE.includes(k)));
}

function classify(
  tally: Tally,
  category: string,
  expected: Test['result'],
  accepted: boolean,
  code: string | undefined,
  falseAccepts: string[],
  unexplained: string[],
  id: string,
  deviations: Map<string, number>,
) {
  if (expected === 'acceptable') tally.add(category, 'acceptable');
  else if (accepted === (expected === 'valid')) tally.add(category, 'agree');
  else if (accepted) {
    tally.add(category, 'false-accept');
    falseAccepts.push(id);
  } else {
    tally.add(category, 'false-reject');
    if (!code || !JWS_DEVIATIONS[code]) unexplained.push(`${id}: ${code}`);
    const key = `${category} → ${code}`;
    deviations.set(key, (deviations.get(key) ?? 0) + 1);
  }
}

describe('Wycheproof JWS and JWK-set vectors', () => {
  it.each([
    ['json_web_signature_test.json', 'jws'],
    ['json_web_key_test.json', 'jwk-set'],
  ])(
    '%s: no false accepts; every refused valid vector is a policy deviation',
    async (file, label) => {
      const corpus = loadCorpus<{ testGroups: Group<JwsTest>[] }>(`wycheproof/${file}`);
      const tally = new Tally();
      const falseAccepts: string[] = [];
      const unexplained: string[] = [];
      const deviations = new Map<string, number>();
      for (const group of corpus.testGroups) {
        const material = group.public ?? group.private!;
        const registered = 'keys' in material ? { keys: (material.keys as Record<string, unknown>[]).map(publicHalf) } : publicHalf(material);
        const keys = await parseKeySet(registered);
        const category = `${label}:${group.comment}`;
        for (const t of group.tests) {
          const outcome = 'code' in keys ? keys : await verifyJwsSignature(t.jws, keys);
          const accepted = !('code' in outcome);
          classify(
            tally,
            category,
            t.result,
            accepted,
            'code' in outcome ? outcome.code : undefined,
            falseAccepts,
            unexplained,
            `${file}#${t.tcId}`,
            deviations,
          );
        }
      }
      const listed = [...deviations].map(([k, n]) => `- ${k}: ${n}`).join('\n');
      console.log(`${tally.table(`Wycheproof ${file}`)}\n\nvalid vectors refused by policy:\n${listed}\n`);
      expect(falseAccepts).toEqual([]);
      expect(unexplained).toEqual([]);
    },
    60_000,
  );
});

const SIGNATURE_FILES: [file: string, alg: AllowedAlgorithm, jwk: (g: Group<SigTest>) => JWK | undefined][] = [
  ['ecdsa_secp256r1_sha256_p1363_test.json', 'ES256', (g) => g.publicKeyJwk ?? ecJwk(g)],
  ['ed25519_test.json', 'EdDSA', (g) => g.publicKeyJwk],
  ['rsa_signature_2048_sha256_test.json', 'RS256', (g) => g.keyJwk],
  ['rsa_pss_2048_sha256_mgf1_32_test.json', 'PS256', (g) => g.publicKeyJwk],
];

describe('Wycheproof signature vectors', () => {
  it.each(SIGNATURE_FILES)(
    '%s (%s): the key is admitted and jose-imported; no invalid signature verifies',
    async (file, alg, jwkOf) => {
      const corpus = loadCorpus<{ testGroups: Group<SigTest>[] }>(`wycheproof/${file}`);
      const tally = new Tally();
      const falseAccepts: string[] = [];
      const falseRejects: string[] = [];
      for (const group of corpus.testGroups) {
        const jwk = jwkOf(group);
        expect(jwk, `${file}: every group carries a JWK`).toBeDefined();
        // The same admission rule a partner's registered key goes through.
        expect(await jwkProblem(jwk)).toBeUndefined();
        const key = await importJWK({ ...jwk!, alg }, alg);
        for (const t of group.tests) {
          let accepted: boolean;
          try {
            accepted = await webcrypto.subtle.verify(
              ALGORITHM_KEYS[alg].webcrypto,
              key as never,
              Buffer.from(t.sig, 'hex'),
              Buffer.from(t.msg, 'hex'),
            );
          } catch {
            accepted = false;
          }
          const category = `${alg}:${t.flags[0] ?? 'none'}`;
          if (t.result === 'acceptable') tally.add(category, 'acceptable');
          else if (accepted === (t.result === 'valid')) tally.add(category, 'agree');
          else if (accepted) {
            tally.add(category, 'false-accept');
            falseAccepts.push(`${file}#${t.tcId}`);
          } else {
            tally.add(category, 'false-reject');
            falseRejects.push(`${file}#${t.tcId} ${t.comment}`);
          }
        }
      }
      console.log(`${tally.table(`Wycheproof ${file}`)}\n`);
      expect(falseAccepts).toEqual([]);
      expect(falseRejects).toEqual([]);
    },
    60_000,
  );
});
