// One certificate, parsed once into the facts path validation needs. Profile violations are collected
// (not thrown) so that a bad certificate that is not on the chosen path does not spoil the others.
import { createHash, X509Certificate as NodeCertificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1js from 'asn1js';
import {
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  CertificatePolicies,
  CRLDistributionPoints,
  ExtendedKeyUsage,
  KeyUsage,
  NameConstraints,
  PolicyConstraints,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import type { GeneralName, GeneralSubtree, Name } from '@peculiar/asn1-x509';
import type { AlgorithmId } from './crypto-policy';
import { reason } from './reasons';
import type { Reason } from './reasons';
import { isValidDnsConstraint, isValidDnsName, isValidEmail, isValidEmailConstraint, isValidUriConstraint } from './x509-names';

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  nameConstraints: '2.5.29.30',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  certificatePolicies: '2.5.29.32',
  policyConstraints: '2.5.29.36',
  policyMappings: '2.5.29.33',
  inhibitAnyPolicy: '2.5.29.54',
  crlDistributionPoints: '2.5.29.31',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  ocsp: '1.3.6.1.5.5.7.48.1',
  anyEku: '2.5.29.37.0',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
} as const;

/** Critical extensions Admit processes. Policy extensions are absent on purpose: policy processing is not implemented. */
const UNDERSTOOD_CRITICAL = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.nameConstraints,
  OID.certificatePolicies,
]);

export const KU = { digitalSignature: 1, keyEncipherment: 4, keyAgreement: 16, keyCertSign: 32, cRLSign: 64 } as const;

export interface Subtrees {
  permitted: GeneralSubtree[];
  excluded: GeneralSubtree[];
  /** Raw iPAddress constraint bytes (address + mask), which the typed parser renders lossily. */
  permittedIps: Uint8Array[];
  excludedIps: Uint8Array[];
}

export interface ParsedCert {
  der: Buffer;
  /** Lowercase hex SHA-256 of the DER. */
  sha256: string;
  node: NodeCertificate;
  publicKey: KeyObject;
  /** The subjectPublicKey BIT STRING contents, which OCSP hashes to name an issuer. */
  publicKeyBits: Buffer;
  subject: Name;
  subjectDer: Buffer;
  issuerDer: Buffer;
  subjectText: string;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  signatureAlgorithm: AlgorithmId;
  selfIssued: boolean;
  basicConstraints?: { ca: boolean; pathLen?: number; critical: boolean };
  keyUsage?: number;
  eku?: string[];
  san?: GeneralName[];
  ski?: Buffer;
  akiKeyId?: Buffer;
  nameConstraints?: Subtrees;
  crlUrls: string[];
  ocspUrls: string[];
  unknownCritical: string[];
  /** RFC 5280 profile violations; they refuse the certificate only if it ends up on the path. */
  problems: Reason[];
}

export class CertParseError extends Error {
  constructor(
    message: string,
    readonly code: 'CERT_MALFORMED' | 'CERT_EC_PARAMETERS_INVALID' = 'CERT_MALFORMED',
  ) {
    super(message);
  }
}

const EC_PUBLIC_KEY = '1.2.840.10045.2.1';

/**
 * RFC 5480 2.1.1: ECParameters is a CHOICE of namedCurve, implicitCurve and specifiedCurve, and in
 * certificates "specifiedCurve and implicitCurve MUST NOT be used": only a named curve OID is accepted.
 */
export function ecParametersProblem(algorithm: string, parameters: ArrayBuffer | null | undefined): string | undefined {
  if (algorithm !== EC_PUBLIC_KEY) return undefined;
  const bytes = parameters ? new Uint8Array(parameters) : undefined;
  if (!bytes || bytes.length === 0) return 'the EC key has no curve parameters';
  if (bytes[0] === 0x06) return undefined;
  return bytes[0] === 0x05 ? 'the EC key uses implicitCurve (NULL) parameters' : 'the EC key uses explicit (specifiedCurve) parameters';
}

/** Total length (header + content) of the DER element at the start of `der`, or -1 when it cannot be read. */
function derLength(der: Uint8Array): number {
  if (der.length < 2) return -1;
  const first = der[1]!;
  if (first < 0x80) return 2 + first;
  const octets = first & 0x7f;
  if (octets === 0 || octets > 4 || der.length < 2 + octets) return -1;
  let len = 0;
  for (let i = 0; i < octets; i++) len = len * 256 + der[2 + i]!;
  return 2 + octets + len;
}

export function parseCertificate(der: Buffer): ParsedCert {
  const problems: Reason[] = [];
  const bad = (detail: string) => problems.push(reason('CERT_MALFORMED', detail));

  let asn: Certificate;
  let node: NodeCertificate;
  let publicKey: KeyObject;
  let subjectText: string;
  try {
    if (derLength(der) !== der.length) throw new CertParseError('trailing data after the certificate');
    asn = AsnConvert.parse(der, Certificate);
    const ecProblem = ecParametersProblem(asn.tbsCertificate.subjectPublicKeyInfo.algorithm.algorithm, asn.tbsCertificate.subjectPublicKeyInfo.algorithm.parameters);
    if (ecProblem) throw new CertParseError(ecProblem, 'CERT_EC_PARAMETERS_INVALID');
    node = new NodeCertificate(der);
    // Node decodes the key and names lazily; a corrupt key or name must fail here, not mid-validation.
    publicKey = node.publicKey;
    subjectText = (node.subject ?? '').replace(/\n/g, ', ');
  } catch (err) {
    if (err instanceof CertParseError) throw err;
    throw new CertParseError('the certificate cannot be decoded');
  }
  const tbs = asn.tbsCertificate;
  const subjectDer = Buffer.from(AsnConvert.serialize(tbs.subject));
  const issuerDer = Buffer.from(AsnConvert.serialize(tbs.issuer));
  const serial = Buffer.from(tbs.serialNumber);

  if (tbs.version !== 2) bad('the certificate is not X.509 version 3');
  // RFC 5280 4.1.2.2: a positive integer of at most 20 octets; the 0x00 sign octet of a DER INTEGER
  // whose first content bit is set is not part of the number.
  const serialNumber = serial.length > 1 && serial[0] === 0 ? serial.subarray(1) : serial;
  if (serial.length === 0 || (serial[0]! & 0x80) !== 0 || serialNumber.every((b) => b === 0)) {
    problems.push(reason('CERT_SERIAL_INVALID', 'the serial number is not a positive integer'));
  } else if (serialNumber.length > 20) {
    problems.push(reason('CERT_SERIAL_INVALID', `the serial number has ${serialNumber.length} octets (at most 20)`));
  }
  if (tbs.issuer.length === 0) bad('the issuer name is empty');
  if (!Buffer.from(AsnConvert.serialize(tbs.signature)).equals(Buffer.from(AsnConvert.serialize(asn.signatureAlgorithm)))) {
    bad('the inner and outer signature algorithms differ');
  }

  const cert: ParsedCert = {
    der,
    sha256: createHash('sha256').update(der).digest('hex'),
    node,
    publicKey,
    publicKeyBits: Buffer.from(tbs.subjectPublicKeyInfo.subjectPublicKey),
    subject: tbs.subject,
    subjectDer,
    issuerDer,
    subjectText,
    serialHex: serial.toString('hex'),
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    signatureAlgorithm: { oid: asn.signatureAlgorithm.algorithm, params: asn.signatureAlgorithm.parameters ?? null },
    selfIssued: subjectDer.equals(issuerDer),
    crlUrls: [],
    ocspUrls: [],
    unknownCritical: [],
    problems,
  };

  const seen = new Set<string>();
  for (const ext of tbs.extensions ?? []) {
    if (seen.has(ext.extnID)) problems.push(reason('CERT_DUPLICATE_EXTENSION', `extension ${ext.extnID} appears twice`));
    seen.add(ext.extnID);
    if (ext.critical && !UNDERSTOOD_CRITICAL.has(ext.extnID)) cert.unknownCritical.push(ext.extnID);
    try {
      readExtension(cert, ext.extnID, ext.critical, ext.extnValue.buffer, bad);
    } catch {
      bad(`extension ${ext.extnID} cannot be decoded`);
    }
  }

  if (tbs.subject.length === 0) {
    if (cert.basicConstraints?.ca) bad('a CA certificate has an empty subject');
    if (!cert.san) bad('the subject is empty and there is no subjectAltName');
  }
  // RFC 5280 4.2.1.9: pathLenConstraint only when cA is true and keyUsage (if present) asserts keyCertSign.
  if (cert.basicConstraints?.pathLen !== undefined && (!cert.basicConstraints.ca || (cert.keyUsage !== undefined && !(cert.keyUsage & KU.keyCertSign)))) {
    problems.push(reason('CERT_PATHLEN_WITHOUT_CA', 'pathLenConstraint is set on a certificate that is not a CA with keyCertSign'));
  }
  if (cert.basicConstraints?.ca && cert.keyUsage !== undefined && !(cert.keyUsage & KU.keyCertSign)) {
    problems.push(reason('CERT_KEY_USAGE_INVALID', 'basicConstraints says CA but keyUsage lacks keyCertSign'));
  }
  // RFC 5280 4.2.1.3: "If the keyCertSign bit is asserted, then the cA bit in the basic constraints extension MUST also be asserted."
  if (cert.keyUsage !== undefined && cert.keyUsage & KU.keyCertSign && !cert.basicConstraints?.ca) {
    problems.push(reason('CERT_KEY_CERT_SIGN_WITHOUT_CA', 'keyUsage asserts keyCertSign but basicConstraints cA is not true'));
  }
  // RFC 5280 4.2.1.2: every CA certificate (cA true) carries a subjectKeyIdentifier.
  if (cert.basicConstraints?.ca && !cert.ski) problems.push(reason('CERT_SKI_MISSING', `the CA "${subjectText}" has no subjectKeyIdentifier`));
  if (cert.nameConstraints && !cert.basicConstraints?.ca) bad('nameConstraints on a certificate that is not a CA');
  return cert;
}

function readExtension(cert: ParsedCert, oid: string, critical: boolean, value: ArrayBuffer, bad: (d: string) => void): void {
  switch (oid) {
    case OID.basicConstraints: {
      const bc = AsnConvert.parse(value, BasicConstraints);
      cert.basicConstraints = { ca: bc.cA, critical, ...(bc.pathLenConstraint !== undefined ? { pathLen: bc.pathLenConstraint } : {}) };
      return;
    }
    case OID.keyUsage:
      cert.keyUsage = AsnConvert.parse(value, KeyUsage).toNumber();
      if (cert.keyUsage === 0) bad('keyUsage has no bits set');
      return;
    case OID.extKeyUsage:
      cert.eku = [...AsnConvert.parse(value, ExtendedKeyUsage)];
      if (cert.eku.length === 0) bad('extKeyUsage lists no purpose');
      return;
    case OID.subjectAltName: {
      const names = [...AsnConvert.parse(value, SubjectAlternativeName)];
      if (names.length === 0) bad('subjectAltName is empty');
      // RFC 5280 4.2.1.6: critical when the subject is empty; CA/B BR 7.1.2.7.12 (followed by webpki): not critical otherwise.
      if (cert.subject.length === 0 && !critical) cert.problems.push(reason('CERT_SAN_CRITICALITY', 'subjectAltName must be critical when the subject is empty'));
      if (cert.subject.length > 0 && critical) cert.problems.push(reason('CERT_SAN_CRITICALITY', 'subjectAltName must not be critical when the subject is not empty'));
      for (const name of names) {
        const problem = generalNameProblem(name);
        if (problem) bad(problem);
      }
      cert.san = names;
      return;
    }
    case OID.subjectKeyId:
      if (critical) bad('subjectKeyIdentifier must not be critical');
      cert.ski = Buffer.from(AsnConvert.parse(value, SubjectKeyIdentifier).buffer);
      return;
    case OID.authorityKeyId: {
      if (critical) bad('authorityKeyIdentifier must not be critical');
      const aki = AsnConvert.parse(value, AuthorityKeyIdentifier);
      if (!aki.keyIdentifier) bad('authorityKeyIdentifier has no keyIdentifier');
      else cert.akiKeyId = Buffer.from(aki.keyIdentifier.buffer);
      if (aki.authorityCertIssuer || aki.authorityCertSerialNumber) {
        bad('authorityKeyIdentifier carries authorityCertIssuer/serial (keyIdentifier only is accepted)');
      }
      return;
    }
    case OID.nameConstraints:
      // RFC 5280 4.2.1.10: conforming CAs MUST mark it critical; Admit follows RFC 5280 over CA/B practice here.
      if (!critical) bad('nameConstraints must be critical');
      cert.nameConstraints = readNameConstraints(value, bad);
      return;
    case OID.policyConstraints:
      AsnConvert.parse(value, PolicyConstraints);
      if (!critical) bad('policyConstraints must be critical');
      return;
    case OID.certificatePolicies:
      AsnConvert.parse(value, CertificatePolicies);
      return;
    case OID.crlDistributionPoints:
      for (const dp of AsnConvert.parse(value, CRLDistributionPoints)) {
        for (const name of dp.distributionPoint?.fullName ?? []) {
          if (name.uniformResourceIdentifier) cert.crlUrls.push(name.uniformResourceIdentifier);
        }
      }
      return;
    case OID.authorityInfoAccess: {
      const aia = [...AsnConvert.parse(value, AuthorityInfoAccessSyntax)];
      if (aia.length === 0) bad('authorityInfoAccess is empty');
      for (const ad of aia) {
        if (ad.accessMethod === OID.ocsp && ad.accessLocation.uniformResourceIdentifier) {
          cert.ocspUrls.push(ad.accessLocation.uniformResourceIdentifier);
        }
      }
      return;
    }
    default:
      return;
  }
}

function generalNameProblem(name: GeneralName): string | undefined {
  if (name.dNSName !== undefined && !isValidDnsName(name.dNSName, true)) return `subjectAltName dNSName "${printable(name.dNSName)}" is invalid`;
  if (name.rfc822Name !== undefined && !isValidEmail(name.rfc822Name)) return `subjectAltName rfc822Name "${printable(name.rfc822Name)}" is invalid`;
  if (name.iPAddress !== undefined && isIP(name.iPAddress) === 0) return 'subjectAltName iPAddress is not 4 or 16 bytes';
  if (name.uniformResourceIdentifier !== undefined && !URL.canParse(name.uniformResourceIdentifier)) {
    return `subjectAltName URI "${printable(name.uniformResourceIdentifier)}" is invalid`;
  }
  return undefined;
}

function readNameConstraints(value: ArrayBuffer, bad: (d: string) => void): Subtrees {
  const nc = AsnConvert.parse(value, NameConstraints);
  const permitted = [...(nc.permittedSubtrees ?? [])];
  const excluded = [...(nc.excludedSubtrees ?? [])];
  if (permitted.length === 0 && excluded.length === 0) bad('nameConstraints has no subtrees');
  for (const subtree of [...permitted, ...excluded]) {
    if (subtree.minimum !== 0 || subtree.maximum !== undefined) bad('nameConstraints uses minimum/maximum');
    const base = subtree.base;
    if (base.dNSName !== undefined && !isValidDnsConstraint(base.dNSName)) bad(`dNSName constraint "${printable(base.dNSName)}" is invalid`);
    if (base.rfc822Name !== undefined && !isValidEmailConstraint(base.rfc822Name)) bad(`rfc822Name constraint "${printable(base.rfc822Name)}" is invalid`);
    if (base.uniformResourceIdentifier !== undefined && !isValidUriConstraint(base.uniformResourceIdentifier)) {
      bad(`URI constraint "${printable(base.uniformResourceIdentifier)}" is invalid`);
    }
  }
  const { permittedIps, excludedIps } = rawIpConstraints(value);
  for (const ip of [...permittedIps, ...excludedIps]) {
    if (!isValidIpConstraint(ip)) bad('iPAddress constraint is not an address with a contiguous mask');
  }
  return { permitted, excluded, permittedIps, excludedIps };
}

/** NameConstraints ::= SEQUENCE { permittedSubtrees [0], excludedSubtrees [1] }; GeneralSubtree.base iPAddress is [7]. */
function rawIpConstraints(value: ArrayBuffer): { permittedIps: Uint8Array[]; excludedIps: Uint8Array[] } {
  const out = { permittedIps: [] as Uint8Array[], excludedIps: [] as Uint8Array[] };
  const root = asn1js.fromBER(value).result;
  if (!(root instanceof asn1js.Sequence)) return out;
  for (const part of root.valueBlock.value) {
    const target = part.idBlock.tagNumber === 0 ? out.permittedIps : out.excludedIps;
    const subtrees = (part as asn1js.Constructed).valueBlock.value ?? [];
    for (const subtree of subtrees) {
      const base = (subtree as asn1js.Constructed).valueBlock.value?.[0];
      if (base && base.idBlock.tagClass === 3 && base.idBlock.tagNumber === 7) {
        target.push(new Uint8Array((base as asn1js.Primitive).valueBlock.valueHexView));
      }
    }
  }
  return out;
}

function isValidIpConstraint(bytes: Uint8Array): boolean {
  if (bytes.length !== 8 && bytes.length !== 32) return false;
  const mask = bytes.subarray(bytes.length / 2);
  let bits = '';
  for (const b of mask) bits += b.toString(2).padStart(8, '0');
  return /^1*0*$/.test(bits);
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
}
