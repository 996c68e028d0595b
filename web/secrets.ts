import path from 'node:path';
import { ConfigError, type Config } from '../config/env';
import { generatedOnceKey } from '../config/key-file';

/**
 * The session-cookie secret: ADMIT_SESSION_SECRET, or outside production one
 * generated once under the data directory (so a restarted development web
 * keeps its approvers signed in). Production must configure it: several web
 * processes with generated secrets could not read each other's cookies.
 */
export async function sessionSecret(config: Config): Promise<Uint8Array> {
  if (config.ADMIT_SESSION_SECRET !== undefined) return Buffer.from(config.ADMIT_SESSION_SECRET, 'base64');
  if (config.NODE_ENV === 'production') {
    throw new ConfigError('Invalid configuration:\n  ADMIT_SESSION_SECRET: required in production (openssl rand -base64 32)');
  }
  return generatedOnceKey(path.join(config.ADMIT_DATA_DIR, 'session.key'), 32);
}
