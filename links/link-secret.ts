import type { Config } from '../config/env';
import { keyRing } from '../config/key-ring';

/**
 * The HMAC keys of emailed links, newest first (config/key-ring.ts):
 * ADMIT_LINK_SECRETS, then ADMIT_LINK_SECRET; or outside production a key
 * generated once under the data directory, so links mailed before a restart
 * of the development stack still verify after it. The worker signs with the
 * newest and the web verifies with any, so both must read the same ring.
 */
export async function linkSecrets(config: Config): Promise<Uint8Array[]> {
  return keyRing(config.ADMIT_LINK_SECRETS, config.ADMIT_LINK_SECRET, { config, file: 'link.key', bytes: 32 });
}

/** The key new links are signed with: the newest of the ring. */
export async function linkSecret(config: Config): Promise<Uint8Array> {
  return (await linkSecrets(config))[0] as Uint8Array;
}
