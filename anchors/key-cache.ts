// Caches for registered keys, so a verifier reused by an activity does the expensive work once per key
// and not once per proof: key-set validation by the set's JSON text, imported keys and RFC 7638
// thumbprints by the thumbprint. Entries are immutable results of pure functions of their key; the
// caches are bounded, and dropping an entry only costs the work again.
import { hash } from 'node:crypto';
import { importJWK } from 'jose';
import type { CryptoKey, JWK, KeyObject } from 'jose';

const LIMIT = 1024;

export class BoundedCache<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly limit = LIMIT) {}
  get(key: K): V | undefined {
    return this.map.get(key);
  }
  delete(key: K): void {
    this.map.delete(key);
  }
  set(key: K, value: V): V {
    if (this.map.size >= this.limit) this.map.delete(this.map.keys().next().value as K);
    this.map.set(key, value);
    return value;
  }
}

/** RFC 7638 3.2: the required members of each key type, in lexicographic order. */
const REQUIRED: Record<string, readonly string[]> = { RSA: ['e', 'kty', 'n'], EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'] };

const thumbprints = new WeakMap<object, string | undefined>();

/**
 * RFC 7638 SHA-256 thumbprint (base64url), or undefined for a key type it does not define here. Frozen
 * JWKs (the registered keys parseKeySet hands out) keep theirs, as they cannot change.
 */
export function jwkThumbprint(jwk: JWK): string | undefined {
  if (!Object.isFrozen(jwk)) return computeThumbprint(jwk);
  if (thumbprints.has(jwk)) return thumbprints.get(jwk);
  const t = computeThumbprint(jwk);
  thumbprints.set(jwk, t);
  return t;
}

function computeThumbprint(jwk: JWK): string | undefined {
  const members = REQUIRED[String(jwk.kty)];
  if (!members) return undefined;
  const canonical: Record<string, unknown> = {};
  for (const m of members) {
    const v = (jwk as Record<string, unknown>)[m];
    if (typeof v !== 'string') return undefined;
    canonical[m] = v;
  }
  return hash('sha256', JSON.stringify(canonical), 'base64url');
}

const imported = new BoundedCache<string, Promise<CryptoKey | KeyObject | Uint8Array>>();

/** jose importJWK, once per (thumbprint, alg). Keys without a thumbprint are imported every time. */
export function importKey(jwk: JWK, alg: string): Promise<CryptoKey | KeyObject | Uint8Array> {
  const thumbprint = jwkThumbprint(jwk);
  if (!thumbprint) return importJWK(jwk, alg);
  const id = `${thumbprint}/${alg}`;
  const hit = imported.get(id);
  if (hit) return hit;
  const pending = importJWK(jwk, alg);
  // A failed import is not kept: the next call tries (and reports) again.
  pending.catch(() => imported.delete(id));
  return imported.set(id, pending);
}
