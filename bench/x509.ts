// X.509 client-certificate verification: Admit's verifyAnchor over root → issuing CA → leaf, against
// the two signature checks underneath it done directly with node:crypto.
//
// Every iteration gets a fresh partner chain (a new issuing CA key, a new leaf key, new serials, new
// signatures), so no cache of partner certificates can make the ratio; only the trust store (the
// operator's configuration) is the same. The chains are made before anything is timed, by signing a
// new TBSCertificate from a template with node:crypto, and the baseline checks the same chains.
import 'reflect-metadata';
import { KeyObject, createHash, createPublicKey, generateKeyPairSync, sign, verify, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { verifyAnchor } from '../anchors/index';
import { indexesNeeded, type Benchmark } from './harness';

x509.cryptoProvider.set(webcrypto as never);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const PLAN = { warmup: 300, iterations: 1_000, rounds: 5 };

interface Template {
  tbs: Buffer;
  serial: Buffer;
  spki: Buffer;
  ski: Buffer;
  aki?: Buffer;
  outer: Buffer;
}

async function template(
  subject: string,
  issuer: x509.X509Certificate | undefined,
  issuerKeys: webcrypto.CryptoKeyPair | undefined,
  ca: boolean,
  now: Date,
) {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const KU = x509.KeyUsageFlags;
  const extensions: x509.Extension[] = [
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    new x509.KeyUsagesExtension(ca ? KU.keyCertSign | KU.cRLSign : KU.digitalSignature, true),
  ];
  if (ca) extensions.push(new x509.BasicConstraintsExtension(true, issuer ? 0 : undefined, true));
  else {
    extensions.push(new x509.ExtendedKeyUsageExtension([CLIENT_AUTH], false));
    extensions.push(new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'api.partner.example' }], false));
  }
  if (issuerKeys) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuerKeys.publicKey));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '7a' + '00'.repeat(15),
    subject,
    issuer: issuer?.subject ?? subject,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 365 * DAY),
    publicKey: keys.publicKey,
    signingKey: (issuerKeys ?? keys).privateKey,
    signingAlgorithm: ALG,
    extensions,
  });
  const der = Buffer.from(cert.rawData);
  const asn = AsnConvert.parse(der, Certificate);
  const t: Template = {
    tbs: Buffer.from(asn.tbsCertificateRaw!),
    serial: Buffer.from(asn.tbsCertificate.serialNumber),
    spki: Buffer.from(AsnConvert.serialize(asn.tbsCertificate.subjectPublicKeyInfo)),
    ski: Buffer.from(cert.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId, 'hex'),
    ...(issuerKeys ? { aki: Buffer.from(cert.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId!, 'hex') } : {}),
    outer: Buffer.from(AsnConvert.serialize(asn.signatureAlgorithm)),
  };
  return { cert, keys, der, template: t };
}

function replace(buf: Buffer, from: Buffer, to: Buffer): void {
  const at = buf.indexOf(from);
  if (at < 0 || from.length !== to.length) throw new Error('bench template: field not found');
  to.copy(buf, at);
}

function derSequence(parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const len = body.length;
  const header =
    len < 0x80 ? Buffer.from([0x30, len]) : len < 0x100 ? Buffer.from([0x30, 0x81, len]) : Buffer.from([0x30, 0x82, len >> 8, len & 0xff]);
  return Buffer.concat([header, body]);
}

function bitString(bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x03, bytes.length + 1, 0x00]), bytes]);
}

interface FreshCert {
  der: Buffer;
  tbs: Buffer;
  signature: Buffer;
}

/** A new certificate from a template: new serial, new key (and SKI), issuer key id, signed by `signer`. */
function fresh(t: Template, serial: Buffer, spki: Buffer, ski: Buffer, aki: Buffer | undefined, signer: KeyObject): FreshCert {
  const tbs = Buffer.from(t.tbs);
  replace(tbs, t.serial, serial);
  replace(tbs, t.spki, spki);
  replace(tbs, t.ski, ski);
  if (t.aki && aki) replace(tbs, t.aki, aki);
  const signature = sign('sha256', tbs, { key: signer, dsaEncoding: 'der' });
  return { der: derSequence([tbs, t.outer, bitString(signature)]), tbs, signature };
}

function newKey(): { privateKey: KeyObject; publicKey: KeyObject; spki: Buffer; ski: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  // RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits (the last 65 bytes of a P-256 SPKI).
  const ski = createHash('sha1')
    .update(spki.subarray(spki.length - 65))
    .digest();
  return { privateKey, publicKey, spki, ski };
}

function pem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

export async function x509Benchmark(): Promise<Benchmark> {
  const at = new Date();
  const root = await template('CN=Admit Bench Root', undefined, undefined, true, at);
  const issuing = await template('CN=Partner Issuing CA', root.cert, root.keys, true, at);
  const leaf = await template('CN=partner-app,O=Partner Ltd', issuing.cert, issuing.keys, false, at);
  const rootKey = createPublicKey({ key: root.template.spki, format: 'der', type: 'spki' });
  const rootPrivate = KeyObject.from(root.keys.privateKey as never);
  const trustStore = [root.cert.toString('pem') + '\n'];

  const perSide = indexesNeeded(PLAN);
  const total = 2 * perSide;
  const chains: string[] = new Array<string>(total);
  const checks: { leafTbs: Buffer; leafSig: Buffer; caKey: KeyObject; caTbs: Buffer; caSig: Buffer }[] = new Array(total);
  for (let i = 0; i < total; i++) {
    const ca = newKey();
    const ee = newKey();
    const serial = (n: number, tag: number) => {
      const b = Buffer.alloc(16);
      b[0] = tag;
      b.writeUInt32BE(n, 12);
      return b;
    };
    const caCert = fresh(issuing.template, serial(i, 0x7a), ca.spki, ca.ski, root.template.ski, rootPrivate);
    const eeCert = fresh(leaf.template, serial(i, 0x7a), ee.spki, ee.ski, ca.ski, ca.privateKey);
    chains[i] = pem(eeCert.der) + pem(caCert.der);
    checks[i] = { leafTbs: eeCert.tbs, leafSig: eeCert.signature, caKey: ca.publicKey, caTbs: caCert.tbs, caSig: caCert.signature };
  }

  const baseCheck = (i: number): boolean => {
    const c = checks[i]!;
    return verify('sha256', c.leafTbs, c.caKey, c.leafSig) && verify('sha256', c.caTbs, rootKey, c.caSig);
  };
  if (!baseCheck(0)) throw new Error('x509 baseline: a signature of the bench chain does not verify');
  const first = await verifyAnchor({ kind: 'x509', chain: chains[0]!, trustStore, at });
  if (!first.ok) throw new Error(`x509 bench chain refused: ${JSON.stringify(first.reasons)}`);

  return {
    name: 'X.509 chain (P-256, 3 certs, a fresh partner chain each time)',
    baseline: '2× crypto.verify (ECDSA P-256) over the same chain',
    admit: async (i) => {
      const r = await verifyAnchor({ kind: 'x509', chain: chains[i]!, trustStore, at });
      if (!r.ok) throw new Error(`x509: refused during the bench: ${JSON.stringify(r.reasons)}`);
    },
    base: (i) => {
      if (!baseCheck(i)) throw new Error('x509 baseline: signature failed during the bench');
      return Promise.resolve();
    },
    concurrency: 1,
    ...PLAN,
  };
}
