import path from 'node:path';
import type { Config } from './env';
import { generatedOnceKey } from './key-file';

/**
 * A key ring, newest first: the newest key seals and signs, every key opens
 * and verifies. Rotation (docs/operations.md#keys-to-rotate): put the new key
 * first, keep the old ones after it until nothing they sealed is still needed,
 * then drop them.
 *
 * From the variables: the list (`ADMIT_PAYLOAD_KEYS`, comma-separated, newest
 * first), then the single variable (`ADMIT_PAYLOAD_KEY`) as the oldest when it
 * is not listed, so a deployment with one key rotates by adding the list and
 * leaving the old variable as it is. Neither set: outside production, the key
 * generated once under the data directory.
 */
export async function keyRing(
  list: string | undefined,
  single: string | undefined,
  generated: { config: Config; file: string; bytes: number },
): Promise<Buffer[]> {
  const encoded = [...(list ?? '').split(',').map((k) => k.trim()), (single ?? '').trim()].filter((k) => k !== '');
  const ring: Buffer[] = [];
  for (const key of encoded.map((k) => Buffer.from(k, 'base64'))) if (!ring.some((known) => known.equals(key))) ring.push(key);
  if (ring.length > 0) return ring;
  return [await generatedOnceKey(path.join(generated.config.ADMIT_DATA_DIR, generated.file), generated.bytes)];
}

/** Validates a comma-separated list of base64 keys: each at least (or exactly) `bytes` long. */
export function keyListProblem(value: string | undefined, bytes: number, exact: boolean): string | undefined {
  if (value === undefined) return undefined;
  const keys = value.split(',').map((k) => k.trim());
  if (keys.some((k) => k === '')) return 'a comma-separated list of base64 keys, newest first, without empty entries';
  for (const [index, key] of keys.entries()) {
    const length = Buffer.from(key, 'base64').length;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || (exact ? length !== bytes : length < bytes)) {
      return `key ${index + 1} must be ${exact ? '' : 'at least '}${bytes} random bytes, base64-encoded (openssl rand -base64 ${bytes})`;
    }
  }
  return undefined;
}
