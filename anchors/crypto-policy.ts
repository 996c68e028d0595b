// Which signature algorithms and keys Admit accepts, and raw signature checks for signed objects
// (CRLs, OCSP responses) that node:crypto has no dedicated verifier for.
import { constants, verify as cryptoVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';

const HASH_BY_OID: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

type SignatureScheme = { kind: 'rsa' | 'ecdsa'; hash: string } | { kind: 'rsa-pss' } | { kind: 'ed25519' };

const ALLOWED: Record<string, SignatureScheme> = {
  '1.2.840.113549.1.1.11': { kind: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { kind: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { kind: 'rsa', hash: 'sha512' },
  '1.2.840.113549.1.1.10': { kind: 'rsa-pss' },
  '1.2.840.10045.4.3.2': { kind: 'ecdsa', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { kind: 'ecdsa', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { kind: 'ecdsa', hash: 'sha512' },
  '1.3.101.112': { kind: 'ed25519' },
};

const NAMED_WEAK: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10040.4.3': 'dsa-with-SHA1',
  '1.3.14.3.2.29': 'sha1WithRSASignature',
};

export interface AlgorithmId {
  oid: string;
  /** DER of the parameters field, if present. */
  params?: ArrayBuffer | null;
}

/** Undefined when the algorithm is allowed, otherwise why not. */
export function signatureAlgorithmProblem(alg: AlgorithmId): string | undefined {
  if (NAMED_WEAK[alg.oid]) return `${NAMED_WEAK[alg.oid]} is not accepted`;
  const scheme = ALLOWED[alg.oid];
  if (!scheme) return `signature algorithm ${alg.oid} is not accepted`;
  if (scheme.kind === 'rsa-pss') {
    const pss = parsePss(alg.params);
    if (!pss) return 'RSASSA-PSS parameters are missing or use a hash other than SHA-256/384/512';
  }
  return undefined;
}

function parsePss(params: ArrayBuffer | null | undefined): { hash: string; saltLength: number } | undefined {
  if (!params) return undefined;
  try {
    const p = AsnConvert.parse(params, RsaSaPssParams);
    const hash = HASH_BY_OID[p.hashAlgorithm.algorithm];
    const mgfParams = p.maskGenAlgorithm.parameters;
    const mgfHash = mgfParams ? HASH_BY_OID[parseAlgOid(mgfParams) ?? ''] : undefined;
    if (!hash || mgfHash !== hash) return undefined;
    return { hash, saltLength: p.saltLength };
  } catch {
    return undefined;
  }
}

function parseAlgOid(der: ArrayBuffer): string | undefined {
  try {
    return AsnConvert.parse(der, AlgorithmIdentifier).algorithm;
  } catch {
    return undefined;
  }
}

/**
 * Verifies `signature` over `data`; false for any failure, including a key that does not fit the algorithm.
 * `knownType` is the key's asymmetricKeyType when the caller already knows it (the getter calls into C++).
 */
export function verifySignature(alg: AlgorithmId, data: Uint8Array, signature: Uint8Array, key: KeyObject, knownType?: string): boolean {
  if (signatureAlgorithmProblem(alg)) return false;
  const scheme = ALLOWED[alg.oid];
  try {
    const type = knownType ?? key.asymmetricKeyType;
    switch (scheme?.kind) {
      case 'rsa':
        return type === 'rsa' && cryptoVerify(scheme.hash, data, key, signature);
      case 'ecdsa':
        // ECDSA signatures are DER-encoded (RFC 5480 2.2), node:crypto's default dsaEncoding.
        return type === 'ec' && cryptoVerify(scheme.hash, data, key, signature);
      case 'ed25519':
        return type === 'ed25519' && cryptoVerify(null, data, key, signature);
      case 'rsa-pss': {
        const pss = parsePss(alg.params);
        if (!pss || (type !== 'rsa' && type !== 'rsa-pss')) return false;
        return cryptoVerify(pss.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pss.saltLength }, signature);
      }
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/** Algorithms refused by policy but still checked while building paths, so a refusal names the algorithm, not a bad signature. */
const LEGACY: Record<string, SignatureScheme> = {
  '1.2.840.113549.1.1.4': { kind: 'rsa', hash: 'md5' },
  '1.2.840.113549.1.1.5': { kind: 'rsa', hash: 'sha1' },
  '1.2.840.10045.4.1': { kind: 'ecdsa', hash: 'sha1' },
};

/**
 * Verifies a signature whatever Admit's policy says of its algorithm (policy is judged separately by
 * signatureAlgorithmProblem); false for any failure.
 */
export function verifyAnySignature(alg: AlgorithmId, data: Uint8Array, signature: Uint8Array, key: KeyObject, knownType?: string): boolean {
  const legacy = LEGACY[alg.oid];
  if (!legacy || legacy.kind === 'rsa-pss' || legacy.kind === 'ed25519') return verifySignature(alg, data, signature, key, knownType);
  try {
    if (legacy.kind === 'rsa') return key.asymmetricKeyType === 'rsa' && cryptoVerify(legacy.hash, data, key, signature);
    return key.asymmetricKeyType === 'ec' && cryptoVerify(legacy.hash, data, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

/** Undefined when the key is strong enough for Admit, otherwise why not. */
export function keyStrengthProblem(key: KeyObject): string | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss': {
      const bits = details.modulusLength ?? 0;
      if (bits < 2048) return `RSA key of ${bits} bits is below 2048`;
      // CA/B Forum: modulus size in whole bytes; odd sizes indicate a broken generator.
      if (bits % 8 !== 0) return `RSA key of ${bits} bits is not a whole number of bytes`;
      return undefined;
    }
    case 'ec':
      return details.namedCurve === 'prime256v1' || details.namedCurve === 'secp384r1'
        ? undefined
        : `EC curve ${details.namedCurve ?? 'unknown'} is not accepted (P-256 or P-384)`;
    case 'ed25519':
      return undefined;
    default:
      return `${key.asymmetricKeyType ?? 'unknown'} keys are not accepted`;
  }
}
