// Fingerprints identify an anchor in the registry, which refuses the same one for two participants.
// keyFingerprint is the same for a key whatever wraps it (certificate, JWK, SVID), so re-wrapping a key
// does not make it a new anchor.
import { createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import type { JWK } from 'jose';
import { jwkThumbprint } from './key-cache';

export function certificateFingerprint(der: Uint8Array): string {
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/** RFC 7638 thumbprint (SHA-256) of the public key. */
export async function keyFingerprint(key: KeyObject | JWK): Promise<string> {
  const jwk = 'asymmetricKeyType' in key ? (key as KeyObject).export({ format: 'jwk' }) : key;
  // The synchronous RFC 7638 computation for RSA, EC and OKP keys; jose's for anything else.
  return `jwk-sha256:${jwkThumbprint(jwk as JWK) ?? (await calculateJwkThumbprint(jwk as JWK, 'sha256'))}`;
}

/**
 * Canonical text for comparing fingerprints: certificate digests in any common spelling
 * ("SHA256:AB:CD…", "sha256:abcd…") become lowercase hex; thumbprints are case-sensitive base64url and
 * only lose surrounding space; the scheme is lowercased everywhere.
 */
export function normalizeFingerprint(fingerprint: string): string {
  const text = fingerprint.trim();
  const colon = text.indexOf(':');
  if (colon < 0) throw new Error('a fingerprint needs a scheme prefix');
  const scheme = text.slice(0, colon).toLowerCase();
  const value = text.slice(colon + 1);
  if (scheme === 'sha256') {
    const hex = value.replace(/:/g, '').toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error('a sha256 fingerprint is 64 hex digits');
    return `sha256:${hex}`;
  }
  return `${scheme}:${value}`;
}
