// X.509 client-certificate verification: Admit's verifyAnchor over root → issuing CA → leaf, against
// the two signature checks underneath it done directly with node:crypto.
import 'reflect-metadata';
import { X509Certificate as NodeCertificate, verify, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { verifyAnchor } from '../anchors/index';
import type { Benchmark } from './harness';

x509.cryptoProvider.set(webcrypto as never);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

interface Issued {
  cert: x509.X509Certificate;
  keys: webcrypto.CryptoKeyPair;
  pem: string;
  der: Buffer;
}

async function issue(subject: string, issuer: Issued | undefined, ca: boolean, now: Date): Promise<Issued> {
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
  if (issuer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (ca ? (issuer ? '02' : '01') : '03') + Date.now().toString(16),
    subject,
    issuer: issuer?.cert.subject ?? subject,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 365 * DAY),
    publicKey: keys.publicKey,
    signingKey: (issuer ?? { keys }).keys.privateKey,
    signingAlgorithm: ALG,
    extensions,
  });
  return { cert, keys, pem: cert.toString('pem') + '\n', der: Buffer.from(cert.rawData) };
}

/** The signed bytes and signature of `child`, and the key of `parent` that must verify them. */
function signatureCheck(child: Issued, parent: Issued): () => boolean {
  const asn = AsnConvert.parse(child.der, Certificate);
  const tbs = Buffer.from(AsnConvert.serialize(asn.tbsCertificate));
  const signature = Buffer.from(asn.signatureValue);
  const key = new NodeCertificate(parent.der).publicKey;
  return () => verify('sha256', tbs, key, signature);
}

export async function x509Benchmark(): Promise<Benchmark> {
  const at = new Date();
  const root = await issue('CN=Admit Bench Root', undefined, true, at);
  const issuing = await issue('CN=Admit Bench Issuing CA', root, true, at);
  const leaf = await issue('CN=partner-app,O=Partner Ltd', issuing, false, at);
  const chain = leaf.pem + issuing.pem;
  const trustStore = [root.pem];

  const checks = [signatureCheck(leaf, issuing), signatureCheck(issuing, root)];
  if (!checks.every((check) => check())) throw new Error('x509 baseline: a signature of the bench chain does not verify');
  const first = await verifyAnchor({ kind: 'x509', chain, trustStore, at });
  if (!first.ok) throw new Error(`x509 bench chain refused: ${JSON.stringify(first.reasons)}`);

  return {
    name: 'X.509 chain (P-256, 3 certs)',
    baseline: '2× crypto.verify (ECDSA P-256)',
    admit: async () => {
      const r = await verifyAnchor({ kind: 'x509', chain, trustStore, at });
      if (!r.ok) throw new Error('x509: refused during the bench');
    },
    base: () => {
      if (!checks[0]!() || !checks[1]!()) throw new Error('x509 baseline: signature failed during the bench');
      return Promise.resolve();
    },
    concurrency: 1,
    warmup: 300,
    iterations: 1_000,
    rounds: 5,
  };
}
