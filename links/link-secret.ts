import path from 'node:path';
import type { Config } from '../config/env';
import { generatedOnceKey } from '../config/key-file';

/**
 * The HMAC key of emailed links: ADMIT_LINK_SECRET, or outside production a
 * key generated once under the data directory, so links mailed before a
 * restart of the development stack still verify after it. The worker signs
 * with it and the web verifies with it, so both must read the same one.
 */
export async function linkSecret(config: Config): Promise<Uint8Array> {
  if (config.ADMIT_LINK_SECRET !== undefined) return Buffer.from(config.ADMIT_LINK_SECRET, 'base64');
  return generatedOnceKey(path.join(config.ADMIT_DATA_DIR, 'link.key'), 32);
}
