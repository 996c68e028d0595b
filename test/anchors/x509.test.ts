import { describe, expect, it } from 'vitest';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AttributeTypeAndValue,
  AttributeValue,
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  Name,
  NameConstraints,
  RelativeDistinguishedName,
} from '@peculiar/asn1-x509';
import { normalizeFingerprint, verifyX509 } from '../../anchors/index';
import type { VerificationResult } from '../../anchors/index';
import type { X509Input } from '../../anchors/x509';
import { AT, CLIENT_AUTH, SERVER_AUTH, hierarchy, keys, makeCert, makeCrl, makeOcsp, x509 } from './fixtures/index';

const DAY = 86_400_000;

async function verify(input: Partial<X509Input> & { chain: X509Input['chain']; trustStore: X509Input['trustStore'] }): Promise<VerificationResult> {
  return verifyX509({ at: AT, ...input });
}

function nameConstraints(opts: { permittedDns?: string[]; excludedDns?: string[]; excludedOrg?: string; excludedUri?: string }): Uint8Array {
  const subtrees = (names: GeneralName[]) => new GeneralSubtrees(names.map((base) => new GeneralSubtree({ base })));
  const excluded = [
    ...(opts.excludedDns ?? []).map((n) => new GeneralName({ dNSName: n })),
    ...(opts.excludedUri ? [new GeneralName({ uniformResourceIdentifier: opts.excludedUri })] : []),
    // UTF8String, where the certificates carry PrintableString: the comparison must not depend on the encoding.
    ...(opts.excludedOrg
      ? [
          new GeneralName({
            directoryName: new Name([
              new RelativeDistinguishedName([
                new AttributeTypeAndValue({ type: '2.5.4.10', value: new AttributeValue({ utf8String: opts.excludedOrg }) }),
              ]),
            ]),
          }),
        ]
      : []),
  ];
  const nc = new NameConstraints({
    ...(opts.permittedDns ? { permittedSubtrees: subtrees(opts.permittedDns.map((n) => new GeneralName({ dNSName: n }))) } : {}),
    ...(excluded.length > 0 ? { excludedSubtrees: subtrees(excluded) } : {}),
  });
  return new Uint8Array(AsnConvert.serialize(nc));
}

describe('x509: accepted chains', () => {
  it('accepts leaf + intermediate to a trusted root, with both fingerprints', async () => {
    const h = await hierarchy();
    const r = await verify({ chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] });
    expect(r.reasons).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.keyFingerprint).toMatch(/^jwk-sha256:[A-Za-z0-9_-]{43}$/);
    expect(normalizeFingerprint(r.fingerprint!.toUpperCase().replace('SHA256:', 'SHA256:'))).toBe(r.fingerprint);
  });

  it('accepts intermediates given separately, RSA and Ed25519 keys, and a matching --dns-name', async () => {
    const root = await makeCert({ subject: 'CN=RSA Root', ca: true, keys: await keys('rsa2048', 'root') });
    const leaf = await makeCert({
      subject: 'CN=ed',
      issuer: root,
      keys: await keys('ed25519', 'leaf'),
      san: [{ type: 'dns', value: 'api.partner.example' }],
    });
    const r = await verify({ chain: leaf.pem, intermediates: [], trustStore: [root.pem], expectedName: { dns: 'API.partner.example' } });
    expect(r.reasons).toEqual([]);
  });

  it('accepts a chain with a good CRL and a good OCSP response', async () => {
    const h = await hierarchy();
    const crl = await makeCrl(h.intermediate, [{ serial: '7777' }]);
    const ocsp = await makeOcsp(h.leaf, h.intermediate);
    const r = await verify({ chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem], crls: [crl], ocspResponses: [ocsp] });
    expect(r.reasons).toEqual([]);
    expect(r.details?.revocation).toEqual([
      { subject: expect.any(String), status: 'good' },
      { subject: expect.any(String), status: 'not-checked' },
    ]);
  });

  it('the same key as a certificate and as a JWK has the same keyFingerprint', async () => {
    const { keyFingerprint } = await import('../../anchors/index');
    const h = await hierarchy();
    const r = await verify({ chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] });
    const { exportJWK } = await import('jose');
    expect(await keyFingerprint(await exportJWK(h.leaf.keys.pair.publicKey))).toBe(r.keyFingerprint);
  });

  it('the keyFingerprint of a P-384 or RSA leaf (read without or with an import) is its JWK thumbprint', async () => {
    const { keyFingerprint } = await import('../../anchors/index');
    const { exportJWK } = await import('jose');
    for (const alg of ['ec384', 'rsa2048'] as const) {
      const h = await hierarchy({ keys: await keys(alg, 'leaf') });
      const r = await verify({ chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] });
      expect(r.reasons).toEqual([]);
      expect(await keyFingerprint(await exportJWK(h.leaf.keys.pair.publicKey))).toBe(r.keyFingerprint);
    }
  });

  it('a trust-store array changed in place is parsed again, not served from the cache of that array', async () => {
    const a = await hierarchy();
    const other = await makeCert({ subject: 'CN=Another Root', ca: true, keys: await keys('ec256', 'another-root') });
    const trustStore = [a.root.pem];
    expect((await verify({ chain: a.leaf.pem + a.intermediate.pem, trustStore })).ok).toBe(true);
    trustStore[0] = other.pem;
    expect((await verify({ chain: a.leaf.pem + a.intermediate.pem, trustStore })).reasons[0]?.code).toBe('CERT_UNTRUSTED');
    trustStore.push(a.root.pem);
    expect((await verify({ chain: a.leaf.pem + a.intermediate.pem, trustStore })).ok).toBe(true);
  });
});

type Case = [name: string, code: string, build: () => Promise<Partial<X509Input> & Pick<X509Input, 'chain' | 'trustStore'>>];

const hostile: Case[] = [
  ['garbage instead of PEM', 'PEM_MALFORMED', async () => ({ chain: 'hello world', trustStore: [(await hierarchy()).root.pem] })],
  [
    'PEM with broken base64',
    'PEM_MALFORMED',
    async () => ({ chain: '-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n', trustStore: [(await hierarchy()).root.pem] }),
  ],
  [
    'a private key block in the chain',
    'PEM_MALFORMED',
    async () => ({ chain: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', trustStore: [(await hierarchy()).root.pem] }),
  ],
  [
    'DER that is not a certificate',
    'CERT_MALFORMED',
    async () => ({ chain: Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]), trustStore: [(await hierarchy()).root.pem] }),
  ],
  [
    'truncated DER',
    'CERT_MALFORMED',
    async () => ({ chain: (await hierarchy()).leaf.der.subarray(0, 200), trustStore: [(await hierarchy()).root.pem] }),
  ],
  [
    'DER with trailing bytes',
    'CERT_MALFORMED',
    async () => {
      const h = await hierarchy();
      return { chain: Buffer.concat([h.leaf.der, Buffer.from([0, 0])]), trustStore: [h.root.pem] };
    },
  ],
  ['a 2 MB chain', 'INPUT_TOO_LARGE', async () => ({ chain: Buffer.alloc(2 * 1024 * 1024, 0x41), trustStore: [(await hierarchy()).root.pem] })],
  [
    '300 copies of the intermediate',
    'INPUT_TOO_LARGE',
    async () => {
      const h = await hierarchy();
      return { chain: h.leaf.pem + h.intermediate.pem.repeat(300), trustStore: [h.root.pem] };
    },
  ],
  [
    'truncated chain (intermediate missing)',
    'CERT_UNTRUSTED',
    async () => {
      const h = await hierarchy();
      return { chain: h.leaf.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'self-signed leaf not in the trust store',
    'CERT_UNTRUSTED',
    async () => {
      const self = await makeCert({ subject: 'CN=self', eku: [CLIENT_AUTH] });
      return { chain: self.pem, trustStore: [(await hierarchy()).root.pem] };
    },
  ],
  [
    'leaf signed by another key than its named issuer',
    'CERT_SIGNATURE_INVALID',
    async () => {
      const h = await hierarchy();
      const impostor = await makeCert({ subject: h.intermediate.cert.subject, ca: true, keys: await keys('ec256', 'impostor') });
      const forged = await makeCert({ subject: 'CN=forged', issuer: impostor, noAki: true });
      return { chain: forged.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'expired leaf',
    'CERT_EXPIRED',
    async () => {
      const h = await hierarchy({ notAfter: new Date(AT.getTime() - DAY) });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'leaf not yet valid',
    'CERT_NOT_YET_VALID',
    async () => {
      const h = await hierarchy({ notBefore: new Date(AT.getTime() + DAY) });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'expired intermediate',
    'CERT_EXPIRED',
    async () => {
      const h = await hierarchy({}, { notAfter: new Date(AT.getTime() - DAY) });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'leaf without EKU',
    'CERT_EKU_MISSING',
    async () => {
      const h = await hierarchy({ eku: null });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'leaf with serverAuth only',
    'CERT_EKU_MISSING',
    async () => {
      const h = await hierarchy({ eku: [SERVER_AUTH] });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'leaf with anyExtendedKeyUsage',
    'CERT_EKU_MISSING',
    async () => {
      const h = await hierarchy({ eku: [CLIENT_AUTH, '2.5.29.37.0'] });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'intermediate restricted to serverAuth',
    'CERT_EKU_MISSING',
    async () => {
      const h = await hierarchy({}, { eku: [SERVER_AUTH] });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'leaf keyUsage without digitalSignature',
    'CERT_KEY_USAGE_INVALID',
    async () => {
      const h = await hierarchy({ keyUsage: x509.KeyUsageFlags.keyEncipherment });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'intermediate that is not a CA',
    'CERT_NOT_CA',
    async () => {
      // keyUsage left out: keyCertSign without cA is its own rule (CERT_KEY_CERT_SIGN_WITHOUT_CA, profile.test.ts).
      const h = await hierarchy({}, { ca: false, pathLen: undefined, keyUsage: null, eku: null, bcCritical: true });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'intermediate with non-critical basicConstraints',
    'CERT_NOT_CA',
    async () => {
      const h = await hierarchy({}, { bcCritical: false });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'intermediate without keyCertSign',
    'CERT_KEY_USAGE_INVALID',
    async () => {
      const h = await hierarchy({}, { keyUsage: x509.KeyUsageFlags.cRLSign, pathLen: undefined });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'path length exceeded below a pathLen 0 CA',
    'CERT_PATH_LENGTH_EXCEEDED',
    async () => {
      const h = await hierarchy();
      const sub = await makeCert({ subject: 'CN=Sub CA', ca: true, issuer: h.intermediate });
      const leaf = await makeCert({ subject: 'CN=deep', issuer: sub });
      return { chain: leaf.pem + sub.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'more intermediates than --max-depth',
    'CERT_CHAIN_TOO_LONG',
    async () => {
      const h = await hierarchy();
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem], maxDepth: 0 };
    },
  ],
  [
    'RSA 1024 leaf key',
    'CERT_WEAK_KEY',
    async () => {
      const h = await hierarchy({ keys: await keys('rsa1024', 'leaf') });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'P-521 leaf key',
    'CERT_WEAK_KEY',
    async () => {
      const h = await hierarchy({ keys: await keys('ec521', 'leaf') });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'ECDSA with SHA-1 signature',
    'CERT_WEAK_SIGNATURE_ALGORITHM',
    async () => {
      const h = await hierarchy({ signing: { name: 'ECDSA', hash: 'SHA-1' } as never });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'RSA with SHA-1 signature',
    'CERT_WEAK_SIGNATURE_ALGORITHM',
    async () => {
      const root = await makeCert({ subject: 'CN=SHA1 Root', ca: true, keys: await keys('rsa2048-sha1', 'root') });
      const leaf = await makeCert({ subject: 'CN=sha1 leaf', issuer: root });
      return { chain: leaf.pem, trustStore: [root.pem] };
    },
  ],
  [
    'unknown critical extension',
    'CERT_UNKNOWN_CRITICAL_EXTENSION',
    async () => {
      const h = await hierarchy({ extra: [{ oid: '1.3.6.1.4.1.55738.666.1', critical: true, der: new Uint8Array([0x05, 0x00]) }] });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'SAN outside the permitted name constraint',
    'CERT_NAME_CONSTRAINTS_VIOLATED',
    async () => {
      const h = await hierarchy(
        { san: [{ type: 'dns', value: 'evil.example' }] },
        { extra: [{ oid: '2.5.29.30', critical: true, der: nameConstraints({ permittedDns: ['partner.example'] }) }] },
      );
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'wildcard SAN covering an excluded name',
    'CERT_NAME_CONSTRAINTS_VIOLATED',
    async () => {
      const h = await hierarchy(
        { san: [{ type: 'dns', value: '*.partner.example' }] },
        { extra: [{ oid: '2.5.29.30', critical: true, der: nameConstraints({ excludedDns: ['admin.partner.example'] }) }] },
      );
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'subject in an excluded directory name written in another case and encoding',
    'CERT_NAME_CONSTRAINTS_VIOLATED',
    async () => {
      const h = await hierarchy(
        { subject: 'O=Evil Corp' },
        { extra: [{ oid: '2.5.29.30', critical: true, der: nameConstraints({ excludedOrg: 'EVIL  corp' }) }] },
      );
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'URI SAN with an IP host under an excluded URI subtree',
    'CERT_NAME_CONSTRAINTS_VIOLATED',
    async () => {
      const h = await hierarchy(
        { san: [{ type: 'url', value: 'https://10.0.0.1/partner' }] },
        { extra: [{ oid: '2.5.29.30', critical: true, der: nameConstraints({ excludedUri: '.internal.example' }) }] },
      );
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    '--dns-name not in the SAN',
    'CERT_NAME_MISMATCH',
    async () => {
      const h = await hierarchy();
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem], expectedName: { dns: 'partner.example' } };
    },
  ],
  [
    'SAN dNSName with an underscore',
    'CERT_MALFORMED',
    async () => {
      const h = await hierarchy({ san: [{ type: 'dns', value: 'bad_name.partner.example' }] });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem] };
    },
  ],
  [
    'revoked by a supplied CRL',
    'CERT_REVOKED',
    async () => {
      const h = await hierarchy({ serial: '4242' });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem], crls: [await makeCrl(h.intermediate, [{ serial: '4242' }])] };
    },
  ],
  [
    'CRL signed by another key',
    'CRL_SIGNATURE_INVALID',
    async () => {
      const h = await hierarchy();
      return {
        chain: h.leaf.pem + h.intermediate.pem,
        trustStore: [h.root.pem],
        crls: [await makeCrl(h.intermediate, [], { signer: await keys('ec256', 'other') })],
      };
    },
  ],
  [
    'expired CRL',
    'CRL_STALE',
    async () => {
      const h = await hierarchy();
      const crl = await makeCrl(h.intermediate, [], { thisUpdate: new Date(AT.getTime() - 10 * DAY), nextUpdate: new Date(AT.getTime() - DAY) });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem], crls: [crl] };
    },
  ],
  [
    'CRL that is garbage',
    'CRL_INVALID',
    async () => {
      const h = await hierarchy();
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem], crls: ['-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n'] };
    },
  ],
  [
    'revoked by OCSP',
    'CERT_REVOKED',
    async () => {
      const h = await hierarchy();
      return {
        chain: h.leaf.pem + h.intermediate.pem,
        trustStore: [h.root.pem],
        ocspResponses: [await makeOcsp(h.leaf, h.intermediate, { status: 'revoked' })],
      };
    },
  ],
  [
    'OCSP status unknown',
    'OCSP_UNKNOWN',
    async () => {
      const h = await hierarchy();
      return {
        chain: h.leaf.pem + h.intermediate.pem,
        trustStore: [h.root.pem],
        ocspResponses: [await makeOcsp(h.leaf, h.intermediate, { status: 'unknown' })],
      };
    },
  ],
  [
    'OCSP signed by an unauthorised responder',
    'OCSP_RESPONDER_UNAUTHORISED',
    async () => {
      const h = await hierarchy();
      const rogue = await makeCert({ subject: 'CN=Rogue Responder', issuer: h.root, eku: ['1.3.6.1.5.5.7.3.9'] });
      return {
        chain: h.leaf.pem + h.intermediate.pem,
        trustStore: [h.root.pem],
        ocspResponses: [await makeOcsp(h.leaf, h.intermediate, { signer: rogue, includeSigner: true })],
      };
    },
  ],
  [
    'OCSP response out of date',
    'OCSP_STALE',
    async () => {
      const h = await hierarchy();
      const ocsp = await makeOcsp(h.leaf, h.intermediate, { thisUpdate: new Date(AT.getTime() - 3 * DAY), nextUpdate: new Date(AT.getTime() - DAY) });
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem], ocspResponses: [ocsp] };
    },
  ],
  [
    'OCSP response that is garbage',
    'OCSP_INVALID',
    async () => {
      const h = await hierarchy();
      return { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem], ocspResponses: [Buffer.from('not ocsp at all')] };
    },
  ],
];

describe('x509: hostile input', () => {
  it.each(hostile)('%s → %s', async (_name, code, build) => {
    const r = await verify(await build());
    expect(r.ok).toBe(false);
    expect(r.reasons[0]?.code).toBe(code);
    expect(r.reasons[0]?.message.length).toBeGreaterThan(20);
  });
});

describe('x509: mutated input never crashes and never passes', () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const corrupt = (bytes: Uint8Array) => {
    const copy = Buffer.from(bytes);
    const at = Math.floor(random() * copy.length);
    copy[at] = copy[at]! ^ (1 + Math.floor(random() * 255));
    return copy;
  };

  it('1000 single-byte corruptions of the leaf or the intermediate are each refused with a reason', async () => {
    const h = await hierarchy();
    for (let i = 0; i < 1000; i++) {
      const leafHit = i % 2 === 0;
      const r = await verify({
        chain: leafHit ? corrupt(h.leaf.der) : h.leaf.der,
        intermediates: [leafHit ? h.intermediate.der : corrupt(h.intermediate.der)],
        trustStore: [h.root.pem],
      });
      expect(r.ok, `corruption ${i}`).toBe(false);
      expect(r.reasons.length).toBeGreaterThan(0);
    }
  }, 60_000);

  it('corrupted CRLs and OCSP responses are refused, never accepted as proof of good status', async () => {
    const h = await hierarchy({ serial: '6161' });
    const crl = Buffer.from((await makeCrl(h.intermediate, [{ serial: '6161' }])).replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const ocsp = await makeOcsp(h.leaf, h.intermediate, { status: 'revoked' });
    for (let i = 0; i < 300; i++) {
      const r = await verify({
        chain: h.leaf.pem + h.intermediate.pem,
        trustStore: [h.root.pem],
        ...(i % 2 ? { crls: [corrupt(crl)] } : { ocspResponses: [corrupt(ocsp)] }),
      });
      // A corrupted revocation answer either still says revoked, is refused as invalid, or (for an OCSP
      // response whose certificate ID no longer matches) is ignored; it never turns into a silent good.
      if (r.ok)
        expect(r.details?.revocation).toEqual([
          { subject: expect.any(String), status: 'not-checked' },
          { subject: expect.any(String), status: 'not-checked' },
        ]);
      else
        expect(r.reasons[0]?.code).toMatch(
          /^(CERT_REVOKED|CRL_INVALID|CRL_STALE|CRL_NUMBER_INVALID|CRL_UNKNOWN_CRITICAL_EXTENSION|CRL_ISSUER_MISMATCH|CRL_SIGNATURE_INVALID|OCSP_INVALID|OCSP_STALE|OCSP_UNKNOWN|OCSP_RESPONDER_UNAUTHORISED)$/,
        );
    }
  }, 60_000);
});
