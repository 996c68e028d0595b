import { ConfigError, type Config } from '../config/env';
import { keyRing } from '../config/key-ring';

/**
 * The session-cookie secrets, newest first (config/key-ring.ts):
 * ADMIT_SESSION_SECRETS, then ADMIT_SESSION_SECRET; or outside production one
 * generated once under the data directory (so a restarted development web
 * keeps its approvers signed in). Cookies are sealed with the newest and
 * opened with any. Production must configure them: several web processes with
 * generated secrets could not read each other's cookies.
 */
export async function sessionSecrets(config: Config): Promise<Uint8Array[]> {
  if (config.NODE_ENV === 'production' && config.ADMIT_SESSION_SECRET === undefined && config.ADMIT_SESSION_SECRETS === undefined) {
    throw new ConfigError(
      'Invalid configuration:\n  ADMIT_SESSION_SECRET: required in production (openssl rand -base64 32), or ADMIT_SESSION_SECRETS',
    );
  }
  return keyRing(config.ADMIT_SESSION_SECRETS, config.ADMIT_SESSION_SECRET, { config, file: 'session.key', bytes: 32 });
}

/** The secret new cookies are sealed with: the newest of the ring. */
export async function sessionSecret(config: Config): Promise<Uint8Array> {
  return (await sessionSecrets(config))[0] as Uint8Array;
}
