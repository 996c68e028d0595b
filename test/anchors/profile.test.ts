// The RFC 5280 / RFC 5480 / RFC 6960 / RFC 9525 / CA/B profile rules, one certificate (or CRL, or OCSP
// response) per rule, each built to break only that rule; a control beside each shows the same material
// without the break is accepted, so a test cannot pass because something else refused the chain.
import { describe, expect, it } from 'vitest';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Extension } from '@peculiar/asn1-x509';
import { verifyX509 } from '../../anchors/index';
import type { X509Input } from '../../anchors/x509';
import { ocspOutcome } from '../../anchors/revocation';
import { parseCertificate } from '../../anchors/x509-cert';
import {
  AT,
  CLIENT_AUTH,
  LEAF_USAGE,
  OCSP_SIGNING,
  P256_EXPLICIT_PARAMETERS,
  hierarchy,
  keys,
  makeCert,
  makeCrl,
  makeOcsp,
  reissue,
  x509,
} from './fixtures/index';

const KU = x509.KeyUsageFlags;
type Input = Partial<X509Input> & Pick<X509Input, 'chain' | 'trustStore'>;

async function run(input: Input) {
  return verifyX509({ at: AT, ...input });
}

async function standard(leafSpec = {}, intermediateSpec = {}): Promise<Input & { h: Awaited<ReturnType<typeof hierarchy>> }> {
  const h = await hierarchy(leafSpec, intermediateSpec);
  return { h, chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
}

/** The uncompressed point 04 || x || y with y + 1: x is kept, and (x, y + 1) is not on the curve. */
function offCurve(point: ArrayBuffer): ArrayBuffer {
  const p = Buffer.from(point);
  expect(p[0]).toBe(0x04);
  p[p.length - 1] = p[p.length - 1]! ^ 0x01;
  return new Uint8Array(p).buffer;
}

/** The same point in compressed form (SEC 1 2.3.3): 02/03 by the parity of y, then x. */
function compressed(point: ArrayBuffer): ArrayBuffer {
  const p = Buffer.from(point);
  const size = (p.length - 1) / 2;
  return new Uint8Array(Buffer.concat([Buffer.from([0x02 | (p[p.length - 1]! & 1)]), p.subarray(1, 1 + size)])).buffer;
}

type Rule = [rule: string, code: string, broken: () => Promise<Input>, control: () => Promise<Input>];

const rules: Rule[] = [
  // RFC 5280 4.1.2.2
  [
    'serial of 21 octets (no sign octet)',
    'CERT_SERIAL_INVALID',
    () => standard({ serial: '7f' + 'ab'.repeat(20) }),
    () => standard({ serial: '7f' + 'ab'.repeat(19) }),
  ],
  ['serial zero', 'CERT_SERIAL_INVALID', () => withSerial([0x00]), () => withSerial([0x01])],
  ['negative serial', 'CERT_SERIAL_INVALID', () => withSerial([0xff, 0x01]), () => withSerial([0x00, 0xff, 0x01])],
  // A 20-octet serial whose first bit is set needs a 0x00 sign octet: 21 DER octets, still valid.
  [
    '(control) 20-octet serial with a sign octet',
    'accept',
    () => standard({ serial: 'ff' + 'ab'.repeat(19) }),
    () => standard({ serial: 'ff' + 'ab'.repeat(19) }),
  ],
  // RFC 5480 2.1.1
  [
    'EC key with explicit curve parameters',
    'CERT_EC_PARAMETERS_INVALID',
    async () => {
      const s = await standard();
      const leaf = reissue(s.h.leaf, s.h.intermediate.keys, (tbs) => {
        tbs.subjectPublicKeyInfo.algorithm.parameters = new Uint8Array(P256_EXPLICIT_PARAMETERS).buffer;
      });
      return { ...s, chain: leaf.pem + s.h.intermediate.pem };
    },
    async () => {
      const s = await standard();
      const leaf = reissue(s.h.leaf, s.h.intermediate.keys, () => undefined);
      return { ...s, chain: leaf.pem + s.h.intermediate.pem };
    },
  ],
  // SEC 1 3.2.2.1 (RFC 5480 2.2): the key is a point on its curve. P-256 and P-384 points are checked
  // without importing them; a compressed point (the control) takes the import path.
  [
    'P-256 leaf key off its curve',
    'CERT_MALFORMED',
    async () => {
      const s = await standard();
      const leaf = reissue(s.h.leaf, s.h.intermediate.keys, (tbs) => {
        tbs.subjectPublicKeyInfo.subjectPublicKey = offCurve(tbs.subjectPublicKeyInfo.subjectPublicKey);
      });
      return { ...s, chain: leaf.pem + s.h.intermediate.pem };
    },
    async () => {
      const s = await standard();
      const leaf = reissue(s.h.leaf, s.h.intermediate.keys, (tbs) => {
        tbs.subjectPublicKeyInfo.subjectPublicKey = compressed(tbs.subjectPublicKeyInfo.subjectPublicKey);
      });
      return { ...s, chain: leaf.pem + s.h.intermediate.pem };
    },
  ],
  [
    'P-384 leaf key off its curve',
    'CERT_MALFORMED',
    async () => {
      const h = await hierarchy({ keys: await keys('ec384', 'leaf') });
      const leaf = reissue(h.leaf, h.intermediate.keys, (tbs) => {
        tbs.subjectPublicKeyInfo.subjectPublicKey = offCurve(tbs.subjectPublicKeyInfo.subjectPublicKey);
      });
      return { chain: leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
    async () => {
      const h = await hierarchy({ keys: await keys('ec384', 'leaf') });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'P-256 intermediate key off its curve',
    'CERT_MALFORMED',
    async () => {
      const s = await standard();
      const intermediate = reissue(s.h.intermediate, s.h.root.keys, (tbs) => {
        tbs.subjectPublicKeyInfo.subjectPublicKey = offCurve(tbs.subjectPublicKeyInfo.subjectPublicKey);
      });
      return { ...s, chain: s.h.leaf.pem + intermediate.pem };
    },
    async () => {
      const s = await standard();
      const intermediate = reissue(s.h.intermediate, s.h.root.keys, () => undefined);
      return { ...s, chain: s.h.leaf.pem + intermediate.pem };
    },
  ],
  // RFC 5280 4.2.1.3
  [
    'keyCertSign on a certificate that is not a CA',
    'CERT_KEY_CERT_SIGN_WITHOUT_CA',
    () => standard({ keyUsage: KU.digitalSignature | KU.keyCertSign }),
    () => standard({ keyUsage: KU.digitalSignature }),
  ],
  // RFC 5280 4.2.1.2
  ['CA (intermediate) without subjectKeyIdentifier', 'CERT_SKI_MISSING', () => standard({}, { noSki: true }), () => standard({}, {})],
  [
    'CA (trust anchor) without subjectKeyIdentifier',
    'CERT_SKI_MISSING',
    async () => {
      const root = await makeCert({ subject: 'CN=No SKI Root', ca: true, noSki: true });
      const leaf = await makeCert({ subject: 'CN=leaf', issuer: root, san: [{ type: 'dns', value: 'api.partner.example' }] });
      return { chain: leaf.pem, trustStore: [root.pem] };
    },
    async () => {
      const root = await makeCert({ subject: 'CN=SKI Root', ca: true });
      const leaf = await makeCert({ subject: 'CN=leaf', issuer: root, san: [{ type: 'dns', value: 'api.partner.example' }] });
      return { chain: leaf.pem, trustStore: [root.pem] };
    },
  ],
  // RFC 5280 4.2.1.1
  ['leaf without authorityKeyIdentifier', 'CERT_AKI_MISSING', () => standard({ noAki: true }), () => standard({})],
  ['intermediate without authorityKeyIdentifier', 'CERT_AKI_MISSING', () => standard({}, { noAki: true }), () => standard({}, {})],
  // RFC 5280 4.2.1.6 and CA/B BR 7.1.2.7.12
  ['SAN critical with a non-empty subject', 'CERT_SAN_CRITICALITY', () => standard({ sanCritical: true }), () => standard({ sanCritical: false })],
  [
    'SAN not critical with an empty subject',
    'CERT_SAN_CRITICALITY',
    () => standard({ subject: '', sanCritical: false }),
    () => standard({ subject: '', sanCritical: true }),
  ],
  // RFC 5280 4.2
  [
    'the same extension twice',
    'CERT_DUPLICATE_EXTENSION',
    () => standard({ extra: [{ oid: '2.5.29.37', critical: false, der: ekuDer() }] }),
    () => standard({}),
  ],
  [
    'an unknown critical extension',
    'CERT_UNKNOWN_CRITICAL_EXTENSION',
    () => standard({ extra: [{ oid: '1.3.6.1.4.1.55738.7.1', critical: true, der: new Uint8Array([0x05, 0x00]) }] }),
    () => standard({ extra: [{ oid: '1.3.6.1.4.1.55738.7.1', critical: false, der: new Uint8Array([0x05, 0x00]) }] }),
  ],
  // Client certificates (CA/B BR 7.1.2.7.8 for the end entity)
  [
    'client leaf that is a CA',
    'CERT_LEAF_IS_CA',
    () => standard({ ca: true, keyUsage: KU.digitalSignature | KU.keyCertSign }),
    () => standard({ keyUsage: KU.digitalSignature }),
  ],
  ['client leaf with a critical extKeyUsage', 'CERT_EKU_CRITICAL', () => standard({ ekuCritical: true }), () => standard({ ekuCritical: false })],
  // RFC 5280 4.2.1.9
  [
    'pathLenConstraint without cA',
    'CERT_PATHLEN_WITHOUT_CA',
    () => standard({ ca: false, pathLen: 0, bcCritical: true }),
    () => standard({ ca: false, bcCritical: true }),
  ],
  [
    'pathLenConstraint on a CA without keyCertSign',
    'CERT_PATHLEN_WITHOUT_CA',
    () => standard({}, { keyUsage: KU.cRLSign | KU.digitalSignature, pathLen: 0 }),
    () => standard({}, { pathLen: 0 }),
  ],
  // RFC 5280 6.1.4 (l): self-issued intermediates do not count against pathLenConstraint.
  ['(control) a self-issued intermediate under a pathLen 0 CA', 'accept', selfIssuedUnderPathLenZero, selfIssuedUnderPathLenZero],
  [
    'a second, distinct intermediate under a pathLen 0 CA',
    'CERT_PATH_LENGTH_EXCEEDED',
    async () => {
      const h = await hierarchy();
      const sub = await makeCert({ subject: 'CN=Sub CA', ca: true, issuer: h.intermediate });
      const leaf = await makeCert({ subject: 'CN=deep', issuer: sub, san: [{ type: 'dns', value: 'api.partner.example' }] });
      return { chain: leaf.pem + sub.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
    selfIssuedUnderPathLenZero,
  ],
  // --max-depth as x509-limbo counts it: intermediates that are not self-issued.
  [
    '(control) --max-depth 1 with a self-issued second intermediate',
    'accept',
    async () => ({ ...(await selfIssuedUnderPathLenZero()), maxDepth: 1 }),
    async () => ({ ...(await selfIssuedUnderPathLenZero()), maxDepth: 1 }),
  ],
  [
    '--max-depth 1 with a second, distinct intermediate',
    'CERT_CHAIN_TOO_LONG',
    async () => {
      const h = await hierarchy({}, { pathLen: undefined });
      const sub = await makeCert({ subject: 'CN=Sub CA', ca: true, issuer: h.intermediate });
      const leaf = await makeCert({ subject: 'CN=deep', issuer: sub, san: [{ type: 'dns', value: 'api.partner.example' }] });
      return { chain: leaf.pem + sub.pem + h.intermediate.pem, trustStore: [h.root.pem], maxDepth: 1 };
    },
    async () => ({ ...(await selfIssuedUnderPathLenZero()), maxDepth: 1 }),
  ],
  // RFC 9525 6.3 and the Public Suffix List (CA/B BR 3.2.2.6)
  [
    'wildcard over a public suffix (ICANN section)',
    'CERT_WILDCARD_INVALID',
    async () => ({ ...(await standard({ san: [{ type: 'dns', value: '*.co.uk' }] })), expectedName: { dns: 'partner.co.uk' } }),
    async () => ({ ...(await standard({ san: [{ type: 'dns', value: '*.partner.co.uk' }] })), expectedName: { dns: 'api.partner.co.uk' } }),
  ],
  [
    'wildcard over a public suffix (private section)',
    'CERT_WILDCARD_INVALID',
    async () => ({ ...(await standard({ san: [{ type: 'dns', value: '*.github.io' }] })), expectedName: { dns: 'partner.github.io' } }),
    async () => ({ ...(await standard({ san: [{ type: 'dns', value: '*.partner.github.io' }] })), expectedName: { dns: 'api.partner.github.io' } }),
  ],
  [
    'wildcard standing for two labels',
    'CERT_NAME_MISMATCH',
    async () => ({ ...(await standard({ san: [{ type: 'dns', value: '*.partner.example' }] })), expectedName: { dns: 'a.api.partner.example' } }),
    async () => ({ ...(await standard({ san: [{ type: 'dns', value: '*.partner.example' }] })), expectedName: { dns: 'api.partner.example' } }),
  ],
  [
    'wildcard matching its own base',
    'CERT_NAME_MISMATCH',
    async () => ({ ...(await standard({ san: [{ type: 'dns', value: '*.partner.example' }] })), expectedName: { dns: 'partner.example' } }),
    async () => ({ ...(await standard({ san: [{ type: 'dns', value: '*.partner.example' }] })), expectedName: { dns: 'x.partner.example' } }),
  ],
  [
    'the name only in the subject CN',
    'CERT_NAME_MISMATCH',
    async () => ({
      ...(await standard({ subject: 'CN=api.partner.example', san: [{ type: 'dns', value: 'other.partner.example' }] })),
      expectedName: { dns: 'api.partner.example' },
    }),
    async () => ({
      ...(await standard({ subject: 'CN=api.partner.example', san: [{ type: 'dns', value: 'api.partner.example' }] })),
      expectedName: { dns: 'api.partner.example' },
    }),
  ],
  [
    'a U-label name against another A-label',
    'CERT_NAME_MISMATCH',
    async () => ({ ...(await standard({ san: [{ type: 'dns', value: 'xn--bcher-kva.example' }] })), expectedName: { dns: 'bucher.example' } }),
    async () => ({ ...(await standard({ san: [{ type: 'dns', value: 'xn--bcher-kva.example' }] })), expectedName: { dns: 'Bücher.example' } }),
  ],
];

async function withSerial(bytes: number[]): Promise<Input> {
  const s = await standard();
  const leaf = reissue(s.h.leaf, s.h.intermediate.keys, (tbs) => {
    tbs.serialNumber = new Uint8Array(bytes).buffer;
  });
  return { ...s, chain: leaf.pem + s.h.intermediate.pem };
}

function ekuDer(): Uint8Array {
  const ext = new x509.ExtendedKeyUsageExtension([CLIENT_AUTH], false);
  return new Uint8Array(AsnConvert.parse(ext.rawData, Extension).extnValue.buffer);
}

async function selfIssuedUnderPathLenZero(): Promise<Input> {
  const h = await hierarchy();
  // Same name as the pathLen 0 issuing CA, a new key (a key rollover certificate), issued by the old key.
  const rollover = await makeCert({ subject: h.intermediate.cert.subject, ca: true, issuer: h.intermediate, keys: await keys('ec256', 'rollover') });
  const leaf = await makeCert({ subject: 'CN=rolled', issuer: rollover, san: [{ type: 'dns', value: 'api.partner.example' }] });
  return { chain: leaf.pem + rollover.pem + h.intermediate.pem, trustStore: [h.root.pem] };
}

describe('x509 profile rules: each broken alone', () => {
  it.each(rules)('%s → %s', async (_rule, code, broken, control) => {
    const bad = await run(await broken());
    if (code === 'accept') expect(bad.reasons).toEqual([]);
    else {
      expect(bad.ok).toBe(false);
      expect(bad.reasons.map((r) => r.code)).toContain(code);
      expect(bad.reasons[0]!.code).toBe(code);
    }
    const good = await run(await control());
    expect(good.reasons).toEqual([]);
  });
});

describe('CRL rules (RFC 5280 5)', () => {
  type CrlRule = [rule: string, code: string, opts: Parameters<typeof makeCrl>[2] | 'aki-other' | 'aki-own'];
  const crlRules: CrlRule[] = [
    ['no cRLNumber', 'CRL_NUMBER_INVALID', { crlNumber: null }],
    ['critical cRLNumber', 'CRL_NUMBER_INVALID', { crlNumberCritical: true }],
    [
      'unknown critical CRL extension',
      'CRL_UNKNOWN_CRITICAL_EXTENSION',
      { extra: [{ oid: '1.3.6.1.4.1.55738.7.2', critical: true, der: new Uint8Array([0x05, 0x00]) }] },
    ],
    ['authorityKeyIdentifier of another key', 'CRL_ISSUER_MISMATCH', 'aki-other'],
    ['signature by another key', 'CRL_SIGNATURE_INVALID', {}],
    ['nextUpdate passed', 'CRL_STALE', { thisUpdate: new Date(AT.getTime() - 10 * 86_400_000), nextUpdate: new Date(AT.getTime() - 1000) }],
    ['no nextUpdate', 'CRL_STALE', { nextUpdate: null }],
  ];
  it.each(crlRules)('%s → %s', async (rule, code, opts) => {
    const s = await standard();
    const other = await keys('ec256', 'crl-other');
    const crlOpts = opts === 'aki-other' ? { akiKeys: other } : rule.startsWith('signature') ? { signer: other } : opts === 'aki-own' ? {} : opts;
    const bad = await run({ ...s, crls: [await makeCrl(s.h.intermediate, [], crlOpts)] });
    expect(bad.ok).toBe(false);
    expect(bad.reasons[0]?.code).toBe(code);
    // The same CRL without the break (and with the issuer's own AKI) is a usable, good answer.
    const good = await run({ ...s, crls: [await makeCrl(s.h.intermediate, [], { akiKeys: s.h.intermediate.keys })] });
    expect(good.reasons).toEqual([]);
    expect(good.details?.revocation).toEqual([
      { subject: expect.any(String), status: 'good' },
      { subject: expect.any(String), status: 'not-checked' },
    ]);
  });

  it('a CRL of another issuer is not about this chain and is ignored, not trusted', async () => {
    const s = await standard();
    const other = await makeCert({ subject: 'CN=Unrelated CA', ca: true });
    const r = await run({ ...s, crls: [await makeCrl(other, [])] });
    expect(r.reasons).toEqual([]);
    expect(r.details?.revocation).toEqual([
      { subject: expect.any(String), status: 'not-checked' },
      { subject: expect.any(String), status: 'not-checked' },
    ]);
  });
});

describe('OCSP rules (RFC 6960, RFC 8954)', () => {
  it('a delegated responder needs id-kp-OCSPSigning from the issuer', async () => {
    const s = await standard();
    const noEku = await makeCert({ subject: 'CN=Responder', issuer: s.h.intermediate, eku: [CLIENT_AUTH], keyUsage: LEAF_USAGE });
    const bad = await run({ ...s, ocspResponses: [await makeOcsp(s.h.leaf, s.h.intermediate, { signer: noEku, includeSigner: true })] });
    expect(bad.reasons[0]?.code).toBe('OCSP_RESPONDER_UNAUTHORISED');
    const authorised = await makeCert({ subject: 'CN=Responder', issuer: s.h.intermediate, eku: [OCSP_SIGNING], keyUsage: LEAF_USAGE });
    const good = await run({ ...s, ocspResponses: [await makeOcsp(s.h.leaf, s.h.intermediate, { signer: authorised, includeSigner: true })] });
    expect(good.reasons).toEqual([]);
    expect(good.details?.revocation).toEqual([
      { subject: expect.any(String), status: 'good' },
      { subject: expect.any(String), status: 'not-checked' },
    ]);
  });

  it('a responder certificate issued by another CA is not authorised', async () => {
    const s = await standard();
    const rogue = await makeCert({ subject: 'CN=Rogue Responder', issuer: s.h.root, eku: [OCSP_SIGNING], keyUsage: LEAF_USAGE });
    const r = await run({ ...s, ocspResponses: [await makeOcsp(s.h.leaf, s.h.intermediate, { signer: rogue, includeSigner: true })] });
    expect(r.reasons[0]?.code).toBe('OCSP_RESPONDER_UNAUTHORISED');
  });

  it('freshness: nextUpdate may be passed by less than the configured skew, not more', async () => {
    const s = await standard();
    const minutesAgo = (m: number) => new Date(AT.getTime() - m * 60_000);
    const within = await makeOcsp(s.h.leaf, s.h.intermediate, { thisUpdate: minutesAgo(60), nextUpdate: minutesAgo(2) });
    const beyond = await makeOcsp(s.h.leaf, s.h.intermediate, { thisUpdate: minutesAgo(60), nextUpdate: minutesAgo(10) });
    expect((await run({ ...s, ocspResponses: [within] })).reasons).toEqual([]);
    expect((await run({ ...s, ocspResponses: [beyond] })).reasons[0]?.code).toBe('OCSP_STALE');
    expect((await run({ ...s, ocspResponses: [within], ocspSkewSeconds: 60 })).reasons[0]?.code).toBe('OCSP_STALE');
    const future = await makeOcsp(s.h.leaf, s.h.intermediate, { thisUpdate: new Date(AT.getTime() + 3_600_000) });
    expect((await run({ ...s, ocspResponses: [future] })).reasons[0]?.code).toBe('OCSP_STALE');
    const open = await makeOcsp(s.h.leaf, s.h.intermediate, { nextUpdate: null });
    expect((await run({ ...s, ocspResponses: [open] })).reasons[0]?.code).toBe('OCSP_STALE');
  });

  it('a nonce that was sent must come back unchanged when the responder echoes one', async () => {
    const s = await standard();
    const leaf = parseCertificate(s.h.leaf.der);
    const issuer = parseCertificate(s.h.intermediate.der);
    const sent = Buffer.alloc(32, 7);
    const check = { skewSeconds: 300, nonce: sent };
    expect(ocspOutcome(leaf, issuer, await makeOcsp(s.h.leaf, s.h.intermediate, { nonce: sent }), AT, check)).toBe('good');
    expect(ocspOutcome(leaf, issuer, await makeOcsp(s.h.leaf, s.h.intermediate, { nonce: Buffer.alloc(32, 8) }), AT, check)).toMatchObject({
      code: 'OCSP_NONCE_MISMATCH',
    });
    // RFC 8954 2.1: a responder may ignore the nonce; freshness then rests on thisUpdate/nextUpdate.
    expect(ocspOutcome(leaf, issuer, await makeOcsp(s.h.leaf, s.h.intermediate), AT, check)).toBe('good');
  });
});
