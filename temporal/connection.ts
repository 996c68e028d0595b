import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { required, type Config } from '../config/env';
import { generatedOnceKey } from '../config/key-file';
import { EncryptionCodec } from './codec';

/**
 * The payload key: ADMIT_PAYLOAD_KEY, or outside production a key generated
 * once under the data directory, so a restarted development stack can still
 * read its own histories.
 */
export async function payloadKey(config: Config): Promise<Buffer> {
  if (config.ADMIT_PAYLOAD_KEY !== undefined) return Buffer.from(config.ADMIT_PAYLOAD_KEY, 'base64');
  return generatedOnceKey(path.join(config.ADMIT_DATA_DIR, 'payload.key'), 32);
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
