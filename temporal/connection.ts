import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { DataConverter } from '@temporalio/common';
import { required, type Config } from '../config/env';
import { keyRing } from '../config/key-ring';
import { EncryptionCodec } from './codec';

/**
 * The payload keys, newest first (config/key-ring.ts): ADMIT_PAYLOAD_KEYS, then
 * ADMIT_PAYLOAD_KEY; or outside production a key generated once under the data
 * directory, so a restarted development stack can still read its own histories.
 */
export async function payloadKeys(config: Config): Promise<Buffer[]> {
  return keyRing(config.ADMIT_PAYLOAD_KEYS, config.ADMIT_PAYLOAD_KEY, { config, file: 'payload.key', bytes: 32 });
}

/** The key new payloads are sealed with: the newest of the ring. */
export async function payloadKey(config: Config): Promise<Buffer> {
  return (await payloadKeys(config))[0] as Buffer;
}

/** Seals with the newest key of `keys`, opens with any of them. */
export function dataConverter(keys: Buffer | readonly Buffer[]): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keys)] };
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
    dataConverter: dataConverter(await payloadKeys(config)),
    // Carries the active trace (the web's request span) into the workflow's headers (observability/tracing.ts).
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
  });
}
