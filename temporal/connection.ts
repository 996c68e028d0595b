import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { required, type Config } from '../config/env';
import { EncryptionCodec } from './codec';

/**
 * The payload key: ADMIT_PAYLOAD_KEY, or outside production a key generated
 * once under the data directory, so a restarted development stack can still
 * read its own histories.
 */
export async function payloadKey(config: Config): Promise<Buffer> {
  if (config.ADMIT_PAYLOAD_KEY !== undefined) return Buffer.from(config.ADMIT_PAYLOAD_KEY, 'base64');
  const file = path.join(config.ADMIT_DATA_DIR, 'payload.key');
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(config.ADMIT_DATA_DIR, { recursive: true });
  const key = randomBytes(32);
  await writeFile(file, key.toString('base64'), { mode: 0o600, flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  await chmod(file, 0o600);
  return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
}

export function dataConverter(key: Buffer): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(key)] };
}

export async function connectTemporal(config: Config): Promise<Connection> {
  const address = required(config.TEMPORAL_ADDRESS, 'TEMPORAL_ADDRESS', 'Point it at a Temporal frontend, or run `npm start`.');
  const useTls = config.TEMPORAL_TLS ?? config.TEMPORAL_API_KEY !== undefined;
  return Connection.connect({
    address,
    tls: useTls ? {} : undefined,
    apiKey: config.TEMPORAL_API_KEY,
  });
}

export async function createTemporalClient(config: Config, connection: Connection): Promise<Client> {
  return new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: dataConverter(await payloadKey(config)),
  });
}
