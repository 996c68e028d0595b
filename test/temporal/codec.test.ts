import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { defaultPayloadConverter, METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { EncryptionCodec, keyIdOf } from '../../temporal/codec';
import { isUnauthenticatedPayload, UNAUTHENTICATED_PAYLOAD } from '../../domain/unauthenticated';
import { TEST_PAYLOAD_KEY } from '../support/keys';

const key = Buffer.from(TEST_PAYLOAD_KEY, 'base64');
const codec = new EncryptionCodec(key);
const vote = { approver: { subject: 'https://idp.example ada', email: 'ada@platform.example' }, decision: 'approve', comment: '' };

/** What the SDK does around the codec: the payload converter, then the codec. */
async function seal(value: unknown, by: EncryptionCodec = codec): Promise<Payload> {
  const [payload] = await by.encode([defaultPayloadConverter.toPayload(value)]);
  return payload!;
}
async function open(payload: Payload): Promise<unknown> {
  const [decoded] = await codec.decode([payload]);
  return defaultPayloadConverter.fromPayload(decoded!);
}
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('payload codec: only what Admit sealed is believed', () => {
  it('opens what it sealed, values of every JSON shape and undefined', async () => {
    expect(await open(await seal(vote))).toEqual(vote);
    expect(await open(await seal(undefined))).toBeUndefined();
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        expect(await open(await seal(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 200 },
    );
  });

  it('decodes a payload in clear, as the temporal CLI sends it, to the marker', async () => {
    const plain = { metadata: { [METADATA_ENCODING_KEY]: utf8('json/plain') }, data: utf8(JSON.stringify(vote)) };
    const value = await open(plain);
    expect(value).toEqual(UNAUTHENTICATED_PAYLOAD);
    expect(isUnauthenticatedPayload(value)).toBe(true);
    // A payload in clear that claims to be the marker, or null, or binary: the same marker.
    expect(await open(defaultPayloadConverter.toPayload(null))).toEqual(UNAUTHENTICATED_PAYLOAD);
    expect(await open(defaultPayloadConverter.toPayload(new Uint8Array([1, 2, 3])))).toEqual(UNAUTHENTICATED_PAYLOAD);
    expect(await open({})).toEqual(UNAUTHENTICATED_PAYLOAD);
  });

  it('decodes a tampered ciphertext to the marker (every flipped bit)', async () => {
    const sealed = await seal(vote);
    const data = sealed.data!;
    for (let i = 0; i < data.length; i += 1) {
      const tampered = Uint8Array.from(data);
      tampered[i] = tampered[i]! ^ 0x01;
      expect(await open({ ...sealed, data: tampered })).toEqual(UNAUTHENTICATED_PAYLOAD);
    }
  });

  it('decodes a payload sealed with another key to the marker, whatever key id it claims', async () => {
    const other = new EncryptionCodec(randomBytes(32));
    const foreign = await seal(vote, other);
    expect(await open(foreign)).toEqual(UNAUTHENTICATED_PAYLOAD);
    // Forged metadata naming Admit's own key id changes nothing: the tag decides.
    const ours = await seal(vote);
    expect(await open({ ...foreign, metadata: ours.metadata })).toEqual(UNAUTHENTICATED_PAYLOAD);
  });

  it('decodes truncated and empty ciphertexts to the marker', async () => {
    const sealed = await seal(vote);
    for (const length of [0, 1, 12, 27, 28, sealed.data!.length - 1]) {
      expect(await open({ ...sealed, data: sealed.data!.subarray(0, length) })).toEqual(UNAUTHENTICATED_PAYLOAD);
    }
    expect(await open({ metadata: sealed.metadata })).toEqual(UNAUTHENTICATED_PAYLOAD);
  });

  it('never throws on decode, whatever bytes and metadata arrive', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom('binary/encrypted', 'json/plain', 'binary/plain', 'binary/null', ''),
        async (data, encoding) => {
          const value = await open({ metadata: { [METADATA_ENCODING_KEY]: utf8(encoding) }, data });
          expect(value).toEqual(UNAUTHENTICATED_PAYLOAD);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodes each payload of a batch on its own', async () => {
    const plain = defaultPayloadConverter.toPayload(vote);
    const decoded = await codec.decode([await seal(1), plain, await seal('two')]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([1, UNAUTHENTICATED_PAYLOAD, 'two']);
  });
});

describe('the marker guard', () => {
  it('knows the marker and nothing else', () => {
    expect(isUnauthenticatedPayload(UNAUTHENTICATED_PAYLOAD)).toBe(true);
    expect(isUnauthenticatedPayload(JSON.parse(JSON.stringify(UNAUTHENTICATED_PAYLOAD)))).toBe(true);
    for (const other of [null, undefined, 0, 'x', [], [UNAUTHENTICATED_PAYLOAD], vote, { __admitUnauthenticatedPayload: 'true' }]) {
      expect(isUnauthenticatedPayload(other)).toBe(false);
    }
  });
});

describe('payload codec with a key ring (rotation)', () => {
  const older = randomBytes(32);
  const newer = randomBytes(32);
  const decodeWith = async (by: EncryptionCodec, payload: Payload) => defaultPayloadConverter.fromPayload((await by.decode([payload]))[0]!);
  const keyIdOfPayload = (payload: Payload) => new TextDecoder().decode(payload.metadata?.['encryption-key-id']);

  it('seals with the newest key, opens with any key of the ring', async () => {
    const ring = new EncryptionCodec([newer, older]);
    const sealedBefore = await seal(vote, new EncryptionCodec(older));
    const sealedAfter = await seal(vote, ring);
    expect(keyIdOfPayload(sealedAfter)).toBe(keyIdOf(newer));
    expect(await decodeWith(ring, sealedBefore)).toEqual(vote);
    expect(await decodeWith(ring, sealedAfter)).toEqual(vote);
    // A worker without the new key cannot read what the ring sealed; once the old key is dropped, neither what it sealed.
    expect(await decodeWith(new EncryptionCodec(older), sealedAfter)).toEqual(UNAUTHENTICATED_PAYLOAD);
    expect(await decodeWith(new EncryptionCodec([newer]), sealedBefore)).toEqual(UNAUTHENTICATED_PAYLOAD);
  });

  it('decides by the tag, not by the key id the payload names', async () => {
    const ring = new EncryptionCodec([newer, older]);
    const sealed = await seal(vote, new EncryptionCodec(older));
    const misnamed = { ...sealed, metadata: { ...sealed.metadata, 'encryption-key-id': utf8(keyIdOf(newer)) } };
    expect(await decodeWith(ring, misnamed)).toEqual(vote);
    const stranger = await seal(vote, new EncryptionCodec(randomBytes(32)));
    const claimingOurs = { ...stranger, metadata: { ...stranger.metadata, 'encryption-key-id': utf8(keyIdOf(older)) } };
    expect(await decodeWith(ring, claimingOurs)).toEqual(UNAUTHENTICATED_PAYLOAD);
  });
});
