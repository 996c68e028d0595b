import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { UNAUTHENTICATED_PAYLOAD } from '../domain/unauthenticated';

// @temporalio/proto is CommonJS: its namespaces come off the default export.
const { temporal } = proto;

const ENCODING = 'binary/encrypted';
const JSON_ENCODING = 'json/plain';
const KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | null | undefined): string => new TextDecoder().decode(bytes ?? new Uint8Array());

/** A short, non-secret name for a key, recorded with each payload. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * Encrypts every payload (workflow inputs, results, messages) with AES-256-GCM
 * before it reaches Temporal, so contact details and partner material never
 * sit in workflow histories in clear. Runs in the client and the worker, never
 * inside the workflow sandbox.
 */
export class EncryptionCodec implements PayloadCodec {
  /** Newest first: the first seals, all open (a key ring, config/key-ring.ts). */
  private readonly keys: readonly { key: Buffer; id: string }[];

  constructor(keys: Buffer | readonly Buffer[]) {
    const ring = Buffer.isBuffer(keys) ? [keys] : [...keys];
    if (ring.length === 0) throw new Error('The payload codec needs at least one key.');
    if (ring.some((key) => key.length !== 32)) throw new Error('The payload encryption key must be 32 bytes.');
    this.keys = ring.map((key) => ({ key, id: keyIdOf(key) }));
  }

  private get key(): Buffer {
    return (this.keys[0] as { key: Buffer }).key;
  }

  private get keyId(): string {
    return (this.keys[0] as { id: string }).id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.key, iv);
      const clear = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(clear), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { [METADATA_ENCODING_KEY]: utf8(ENCODING), [KEY_ID]: utf8(this.keyId) },
        data: sealed,
      };
    });
  }

  /**
   * Opens what `encode` sealed. Anything else (a payload in clear, sealed with
   * another key, tampered with or truncated) decodes to the unauthenticated
   * marker instead of throwing: a decode error would fail the workflow task, and
   * a signal stays in history, so the lifecycle would fail on every replay. The
   * workflow's validators refuse the marker (domain/unauthenticated.ts).
   *
   * What the worker decodes: workflow inputs, signal, update and query
   * arguments, activity inputs and results, failure details, memo. Never
   * headers or search attributes (the SDK skips them), nor the `patched()`
   * markers (Temporal's core reads those itself), so the payloads Temporal
   * writes in clear for itself still work.
   */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.open(payload) ?? unauthenticatedPayload());
  }

  /**
   * The payload `encode` sealed, or undefined when no key of the ring sealed it. The key named by
   * the payload's key id is tried first (after a rotation, older payloads name an older key); the
   * id is not authenticated, so the others are tried too and the tag decides.
   */
  private open(payload: Payload): Payload | undefined {
    if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCODING) return undefined;
    const sealed = Buffer.from(payload.data ?? new Uint8Array());
    if (sealed.length < IV_BYTES + TAG_BYTES) return undefined;
    const named = text(payload.metadata?.[KEY_ID]);
    const ordered = [...this.keys].sort((a, b) => Number(b.id === named) - Number(a.id === named));
    for (const { key } of ordered) {
      const clear = openWith(key, sealed);
      if (clear !== undefined) return clear;
    }
    return undefined;
  }
}

function openWith(key: Buffer, sealed: Buffer): Payload | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const clear = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
    return temporal.api.common.v1.Payload.decode(clear);
  } catch {
    return undefined;
  }
}

/** A JSON payload of the marker, which the default payload converter turns into the marker object. */
function unauthenticatedPayload(): Payload {
  return {
    metadata: { [METADATA_ENCODING_KEY]: utf8(JSON_ENCODING) },
    data: utf8(JSON.stringify(UNAUTHENTICATED_PAYLOAD)),
  };
}
