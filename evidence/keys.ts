import { createHmac, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { Config } from '../config/env';
import { generatedOnceKey } from '../config/key-file';

/**
 * Admit's evidence keyring: Ed25519 keys, newest first. The newest signs
 * checkpoints and dossiers; every key in the ring is published
 * (`/.well-known/admit-evidence-keys`) so what older keys signed still
 * verifies until the key is retired, by removing it from ADMIT_EVIDENCE_KEYS.
 */
export interface EvidenceKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}

export interface EvidenceKeyring {
  /** The key that signs now. */
  signing: EvidenceKey;
  keys: EvidenceKey[];
  /** What the well-known URL publishes: public keys only. */
  jwks: { keys: JWK[] };
  /** The secret the partner copy's omission salts derive from (HMAC key); derived from the signing seed. */
  omissionSecret: Buffer;
}

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

async function keyFromSeed(seed: Buffer): Promise<EvidenceKey> {
  if (seed.length !== 32) throw new Error('an evidence key seed must be 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, publicJwk: { ...jwk, alg: 'EdDSA', use: 'sig', kid } };
}

export async function evidenceKeyringFromSeeds(seeds: Buffer[]): Promise<EvidenceKeyring> {
  if (seeds.length === 0) throw new Error('the evidence keyring needs at least one key');
  const keys = await Promise.all(seeds.map(keyFromSeed));
  return {
    signing: keys[0] as EvidenceKey,
    keys,
    jwks: { keys: keys.map((k) => k.publicJwk) },
    omissionSecret: createHmac('sha256', seeds[0] as Buffer)
      .update('admit evidence omission salts')
      .digest(),
  };
}

/** ADMIT_EVIDENCE_KEYS, or outside production one key generated once under the data directory. */
export async function evidenceKeyring(config: Pick<Config, 'ADMIT_EVIDENCE_KEYS' | 'ADMIT_DATA_DIR' | 'NODE_ENV'>): Promise<EvidenceKeyring> {
  if (config.ADMIT_EVIDENCE_KEYS !== undefined) {
    return evidenceKeyringFromSeeds(config.ADMIT_EVIDENCE_KEYS.split(',').map((k) => Buffer.from(k.trim(), 'base64')));
  }
  if (config.NODE_ENV === 'production') throw new Error('ADMIT_EVIDENCE_KEYS is required in production');
  return evidenceKeyringFromSeeds([await generatedOnceKey(path.join(config.ADMIT_DATA_DIR, 'evidence.key'), 32)]);
}
