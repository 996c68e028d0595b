// One certificate, parsed once into the facts path validation needs. Profile violations are collected
// (not thrown) so that a bad certificate that is not on the chosen path does not spoil the others.
import { createPublicKey, hash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1js from 'asn1js';
import { AuthorityInfoAccessSyntax, CertificatePolicies, CRLDistributionPoints, NameConstraints, PolicyConstraints } from '@peculiar/asn1-x509';
import { Name } from '@peculiar/asn1-x509';
import type { GeneralName, GeneralSubtree } from '@peculiar/asn1-x509';
import type { JWK } from 'jose';
import type { AlgorithmId } from './crypto-policy';
import { jwkThumbprint } from './key-cache';
import { keyStrengthProblem, verifyAnySignature } from './crypto-policy';
import { DerError, bytes, children, expectTag, oid as readOid, readTlv, sameBytes, time, whole } from './der';
import type { Tlv } from './der';
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
  /** The DER of the TBSCertificate (the signed bytes) and the signature over it. */
  tbs: Buffer;
  signature: Buffer;
  /** Imported at parse time, or on first use for a leaf's P-256/P-384 key, which is only checked on its curve (see ecPointKey). */
  readonly publicKey: KeyObject;
  /** The public key as a JWK (for the RFC 7638 thumbprint). */
  readonly publicJwk: JWK;
  /** publicKey.asymmetricKeyType, read once. */
  readonly publicKeyType: string | undefined;
  /** The RFC 7638 SHA-256 thumbprint (base64url) of publicJwk, when it is computed synchronously (RSA, EC, OKP). */
  readonly keyThumbprint: string | undefined;
  /** Why Admit refuses the key (size, curve, type), or undefined; computed on first use. */
  readonly keyProblem: string | undefined;
  /** The subjectPublicKey BIT STRING contents, which OCSP hashes to name an issuer. */
  publicKeyBits: Buffer;
  readonly subject: Name;
  subjectDer: Buffer;
  issuerDer: Buffer;
  readonly subjectText: string;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  signatureAlgorithm: AlgorithmId;
  selfIssued: boolean;
  basicConstraints?: { ca: boolean; pathLen?: number; critical: boolean };
  keyUsage?: number;
  eku?: string[];
  ekuCritical?: boolean;
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
export function ecParametersProblem(algorithm: string, parameters: ArrayBuffer | Uint8Array | null | undefined): string | undefined {
  if (algorithm !== EC_PUBLIC_KEY) return undefined;
  const bytes = parameters ? (parameters instanceof Uint8Array ? parameters : new Uint8Array(parameters)) : undefined;
  if (!bytes || bytes.length === 0) return 'the EC key has no curve parameters';
  if (bytes[0] === 0x06) return undefined;
  return bytes[0] === 0x05 ? 'the EC key uses implicitCurve (NULL) parameters' : 'the EC key uses explicit (specifiedCurve) parameters';
}

interface RawExtension {
  extnID: string;
  critical: boolean;
  value: Buffer;
}

/** One pass over the DER (anchors/der.ts); names, the key and extension values are sliced, not re-encoded. */
function decode(der: Buffer) {
  const cert = readTlv(der, 0);
  if (cert.tag !== 0x30) throw new CertParseError('not a certificate');
  if (cert.end !== der.length) throw new CertParseError('trailing data after the certificate');
  const top = children(der, cert);
  if (top.length > 3) throw new CertParseError('extra fields in the certificate');
  const tbsT = top[0];
  const outerAlgT = top[1];
  const sigT = top[2];
  expectTag(tbsT, 0x30, 'tbsCertificate');
  expectTag(outerAlgT, 0x30, 'signatureAlgorithm');
  expectTag(sigT, 0x03, 'signatureValue');
  if (der[sigT!.start] !== 0) throw new CertParseError('the signature BIT STRING has unused bits');
  const f = children(der, tbsT!);
  let i = 0;
  let version = 0;
  if (f[i]?.tag === 0xa0) {
    const v = expectTag(children(der, f[i]!)[0], 0x02, 'version');
    version = v.end - v.start === 1 ? der[v.start]! : -1;
    i++;
  }
  const serialT = expectTag(f[i++], 0x02, 'serialNumber');
  const innerAlgT = expectTag(f[i++], 0x30, 'signature');
  const issuerT = expectTag(f[i++], 0x30, 'issuer');
  const validity = children(der, expectTag(f[i++], 0x30, 'validity'));
  if (validity.length !== 2) throw new CertParseError('validity has two times');
  const subjectT = expectTag(f[i++], 0x30, 'subject');
  const spkiT = expectTag(f[i++], 0x30, 'subjectPublicKeyInfo');
  if (f[i]?.tag === 0x81) i++;
  if (f[i]?.tag === 0x82) i++;
  const extensions: RawExtension[] = [];
  if (f[i]?.tag === 0xa3) {
    const wrapper = children(der, f[i]!);
    const list = expectTag(wrapper[0], 0x30, 'extensions');
    if (wrapper.length !== 1) throw new CertParseError('extensions: extra data');
    for (const e of children(der, list)) {
      // Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE, extnValue }: the first three parts are
      // kept and any further ones only read (as children() would), so the checks run in the same order.
      expectTag(e, 0x30, 'extension');
      let count = 0;
      let p0: Tlv | undefined;
      let p1: Tlv | undefined;
      let p2: Tlv | undefined;
      for (let at = e.start; at < e.end; count++) {
        const t = readTlv(der, at, e.end);
        if (count === 0) p0 = t;
        else if (count === 1) p1 = t;
        else if (count === 2) p2 = t;
        at = t.end;
      }
      const hasCritical = p1?.tag === 0x01;
      const critical = hasCritical ? der[p1!.start] !== 0 : false;
      if (hasCritical && (p1!.end - p1!.start !== 1 || (der[p1!.start] !== 0 && der[p1!.start] !== 0xff)))
        throw new CertParseError('extension critical is not a DER BOOLEAN');
      const valueT = expectTag(hasCritical ? p2 : p1, 0x04, 'extnValue');
      if (count !== (hasCritical ? 3 : 2)) throw new CertParseError('extension: extra data');
      extensions.push({ extnID: readOid(der, p0!), critical, value: bytes(der, valueT) });
    }
    i++;
  }
  if (i !== f.length) throw new CertParseError('unexpected fields in tbsCertificate');
  const spki = children(der, spkiT);
  const keyAlg = children(der, expectTag(spki[0], 0x30, 'algorithm'));
  const keyBits = expectTag(spki[1], 0x03, 'subjectPublicKey');
  const spkiWellFormed = spki.length === 2 && keyAlg.length === 2 && keyBits.end > keyBits.start && der[keyBits.start] === 0;
  const outerAlg = children(der, outerAlgT!);
  return {
    version,
    tbs: whole(der, tbsT!),
    serial: bytes(der, serialT),
    innerAlg: whole(der, innerAlgT),
    outerAlg: whole(der, outerAlgT!),
    signatureAlgorithm: { oid: readOid(der, outerAlg[0]!), params: outerAlg[1] ? new Uint8Array(whole(der, outerAlg[1])).buffer : null },
    signature: bytes(der, sigT!).subarray(1),
    issuerDer: whole(der, issuerT),
    issuerEmpty: issuerT.end === issuerT.start,
    subjectDer: whole(der, subjectT),
    subjectEmpty: subjectT.end === subjectT.start,
    notBefore: time(der, validity[0]!),
    notAfter: time(der, validity[1]!),
    spkiDer: whole(der, spkiT),
    keyAlgorithm: readOid(der, keyAlg[0]!),
    keyParams: keyAlg[1] ? whole(der, keyAlg[1]) : undefined,
    publicKeyBits: bytes(der, keyBits).subarray(1),
    spkiWellFormed,
    extensions,
  };
}

const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** "CN=x, O=y" from the DER, strings decoded by type (anything else as #hex); for messages and details only. */
function nameText(der: Buffer): string {
  const name = only(der, 0x30);
  let text = '';
  for (let at = name.start; at < name.end;) {
    const rdn = readTlv(der, at, name.end);
    if (at !== name.start) text += ', ';
    for (let a = rdn.start; a < rdn.end;) {
      const atv = readTlv(der, a, rdn.end);
      if (a !== rdn.start) text += '+';
      const type = readTlv(der, atv.start, atv.end);
      const value = readTlv(der, type.end, atv.end);
      const id = readOid(der, type);
      text += `${SHORT_NAMES[id] ?? id}=${attributeText(der, value)}`;
      a = atv.end;
    }
    at = rdn.end;
  }
  return text;
}

function attributeText(der: Buffer, value: Tlv): string {
  if (value.tag === 0x0c) return der.toString('utf8', value.start, value.end);
  if (value.tag === 0x13 || value.tag === 0x16 || value.tag === 0x14) return der.toString('latin1', value.start, value.end);
  if (value.tag === 0x1e) return Buffer.from(bytes(der, value)).swap16().toString('utf16le');
  return `#${der.toString('hex', value.head, value.end)}`;
}

/**
 * GeneralNames (RFC 5280 4.2.1.6) as the plain objects the name rules read: dNSName, rfc822Name and
 * URI as text (bytes outside ASCII stay visible and fail the syntax checks), iPAddress in text form
 * ('' when not 4 or 16 octets), directoryName decoded; other forms are kept only as present.
 */
function generalNames(value: Buffer): GeneralName[] {
  return children(value, only(value, 0x30)).map((t) => {
    const raw = bytes(value, t);
    switch (t.tag) {
      case 0x81:
        return { rfc822Name: raw.toString('latin1') } as GeneralName;
      case 0x82:
        return { dNSName: raw.toString('latin1') } as GeneralName;
      case 0x86:
        return { uniformResourceIdentifier: raw.toString('latin1') } as GeneralName;
      case 0x87:
        return { iPAddress: ipText(raw) } as GeneralName;
      case 0xa4: {
        const inner = children(value, t);
        if (inner.length !== 1) throw new DerError('directoryName holds one Name');
        const nameDer = whole(value, inner[0]!);
        checkName(nameDer);
        return { directoryName: AsnConvert.parse(nameDer, Name) } as GeneralName;
      }
      case 0xa0:
      case 0xa3:
      case 0xa5:
      case 0x88:
        return { registeredID: `form ${t.tag & 0x1f}` } as GeneralName;
      default:
        throw new DerError('not a GeneralName');
    }
  });
}

function ipText(raw: Buffer): string {
  if (raw.length === 4) return [...raw].join('.');
  if (raw.length === 16) return Array.from({ length: 8 }, (_, i) => raw.readUInt16BE(i * 2).toString(16)).join(':');
  return '';
}

/**
 * Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }: the structure, without decoding the
 * strings. Walked element by element (every failure is the same DerError for the caller, so the order
 * in which elements are read does not matter).
 */
function checkName(der: Buffer): void {
  const name = only(der, 0x30);
  for (let at = name.start; at < name.end;) {
    const rdn = expectTag(readTlv(der, at, name.end), 0x31, 'RelativeDistinguishedName');
    if (rdn.end === rdn.start) throw new DerError('an empty RDN');
    for (let a = rdn.start; a < rdn.end;) {
      const atv = expectTag(readTlv(der, a, rdn.end), 0x30, 'AttributeTypeAndValue');
      if (atv.end === atv.start) throw new DerError('AttributeTypeAndValue has two fields');
      const type = readTlv(der, atv.start, atv.end);
      if (type.end === atv.end) throw new DerError('AttributeTypeAndValue has two fields');
      const value = readTlv(der, type.end, atv.end);
      if (value.end !== atv.end) throw new DerError('AttributeTypeAndValue has two fields');
      readOid(der, type);
      a = atv.end;
    }
    at = rdn.end;
  }
}

/** The single element `tag` that is the whole of `value`. */
function only(value: Uint8Array, tag: number): Tlv {
  const t = readTlv(value, 0);
  if (t.tag !== tag || t.end !== value.length) throw new DerError('unexpected extension value');
  return t;
}

/** P-256 and P-384 (RFC 5480 2.1.1.1 namedCurve) as DER OBJECT IDENTIFIERs, with their curve equations y² = x³ − 3x + b (mod p). */
const EC_CURVES = [
  {
    params: Buffer.from('06082a8648ce3d030107', 'hex'),
    crv: 'P-256',
    size: 32,
    p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  {
    params: Buffer.from('06052b81040022', 'hex'),
    crv: 'P-384',
    size: 48,
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
] as const;

interface EcPointKey {
  crv: 'P-256' | 'P-384';
  size: number;
  point: Buffer;
}

/** The JWK of an EC point key (RFC 7518 6.2.1), made when asked for (only an accepted leaf's is). */
function ecJwk(k: EcPointKey): JWK {
  return { kty: 'EC', crv: k.crv, x: k.point.toString('base64url', 1, 1 + k.size), y: k.point.toString('base64url', 1 + k.size) };
}

/** A big-endian unsigned integer of `size` bytes (a multiple of 8) at `at`. */
function readBigUint(view: DataView, at: number, size: number): bigint {
  let n = 0n;
  for (let i = 0; i < size; i += 8) n = (n << 64n) | view.getBigUint64(at + i);
  return n;
}

/**
 * A P-256 or P-384 key given as an uncompressed point (SEC 1 2.3.3, RFC 5480 2.2), read from the SPKI:
 * its JWK and its curve, which Admit accepts, so neither needs the imported key. With `checkPoint`,
 * the point is also checked the way importing it would check it (SEC 1 3.2.2.1: coordinates below p,
 * the point on the curve; both curves have cofactor 1 and an uncompressed point cannot be the point at
 * infinity), for a key that is then never imported: a partner's leaf key is only read, never used to
 * verify. Undefined for any other key, which is imported.
 */
function ecPointKey(algorithm: string, params: Buffer, point: Buffer, checkPoint: boolean): EcPointKey | undefined {
  if (algorithm !== EC_PUBLIC_KEY) return undefined;
  const curve = sameBytes(EC_CURVES[0].params, params) ? EC_CURVES[0] : sameBytes(EC_CURVES[1].params, params) ? EC_CURVES[1] : undefined;
  if (!curve || point.length !== 1 + 2 * curve.size || point[0] !== 0x04) return undefined;
  if (checkPoint) {
    const view = new DataView(point.buffer, point.byteOffset, point.byteLength);
    const x = readBigUint(view, 1, curve.size);
    const y = readBigUint(view, 1 + curve.size, curve.size);
    const { p, b } = curve;
    if (x >= p || y >= p || (y * y - (x * x * x - 3n * x + b)) % p !== 0n) throw new CertParseError('the EC public key is not a point on its curve');
  }
  return { crv: curve.crv, size: curve.size, point };
}

/** node:crypto's import of the SPKI (which checks an EC point on its curve). */
function importSpki(spkiDer: Buffer): KeyObject {
  return createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
}

/**
 * Verifies the certificate signature with `key`, whatever the algorithm (Admit's policy on algorithms is
 * judged separately). `keyType`: the key's asymmetricKeyType, when known (ParsedCert.publicKeyType).
 */
export function signedWith(cert: ParsedCert, key: KeyObject, keyType?: string): boolean {
  return verifyAnySignature(cert.signatureAlgorithm, cert.tbs, cert.signature, key, keyType);
}

/** A parsed certificate: the facts are fields, and what few paths read (the decoded subject, its text, the imported key) is made on first use. */
class Cert implements ParsedCert {
  readonly sha256: string;
  readonly tbs: Buffer;
  readonly signature: Buffer;
  readonly publicKeyBits: Buffer;
  readonly subjectDer: Buffer;
  readonly issuerDer: Buffer;
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly signatureAlgorithm: AlgorithmId;
  readonly selfIssued: boolean;
  basicConstraints?: { ca: boolean; pathLen?: number; critical: boolean } = undefined;
  keyUsage?: number = undefined;
  eku?: string[] = undefined;
  ekuCritical?: boolean = undefined;
  san?: GeneralName[] = undefined;
  ski?: Buffer = undefined;
  akiKeyId?: Buffer = undefined;
  nameConstraints?: Subtrees = undefined;
  readonly crlUrls: string[] = [];
  readonly ocspUrls: string[] = [];
  readonly unknownCritical: string[] = [];
  readonly problems: Reason[] = [];
  #spkiDer: Buffer;
  #key: KeyObject | undefined;
  #ecKey: EcPointKey | undefined;
  #ecJwk: JWK | undefined = undefined;
  #keyType: { type: string | undefined } | undefined = undefined;
  #keyProblem: { problem: string | undefined } | undefined = undefined;
  #subject: Name | undefined = undefined;
  #subjectText: string | undefined = undefined;

  constructor(
    readonly der: Buffer,
    d: ReturnType<typeof decode>,
    key: KeyObject | undefined,
    ecKey: EcPointKey | undefined,
  ) {
    this.sha256 = hash('sha256', der, 'hex');
    this.tbs = d.tbs;
    this.signature = d.signature;
    this.publicKeyBits = d.publicKeyBits;
    this.subjectDer = d.subjectDer;
    this.issuerDer = d.issuerDer;
    this.serialHex = d.serial.toString('hex');
    this.notBefore = d.notBefore;
    this.notAfter = d.notAfter;
    this.signatureAlgorithm = d.signatureAlgorithm;
    this.selfIssued = sameBytes(d.subjectDer, d.issuerDer);
    this.#spkiDer = d.spkiDer;
    this.#key = key;
    this.#ecKey = ecKey;
  }

  get publicKey(): KeyObject {
    return (this.#key ??= importSpki(this.#spkiDer));
  }

  get publicJwk(): JWK {
    return this.#ecKey ? (this.#ecJwk ??= ecJwk(this.#ecKey)) : (this.publicKey.export({ format: 'jwk' }) as JWK);
  }

  get publicKeyType(): string | undefined {
    // An id-ecPublicKey SPKI on P-256/P-384 is imported as an 'ec' key.
    return this.#ecKey ? 'ec' : (this.#keyType ??= { type: this.publicKey.asymmetricKeyType }).type;
  }

  get keyThumbprint(): string | undefined {
    const k = this.#ecKey;
    if (!k) return jwkThumbprint(this.publicJwk);
    // RFC 7638 3.2-3.3: the required members in lexicographic order, no whitespace; the base64url values
    // and curve names need no JSON escaping, so this is JSON.stringify's output for the same members.
    const jwk = this.publicJwk;
    return hash('sha256', `{"crv":"${k.crv}","kty":"EC","x":"${jwk.x!}","y":"${jwk.y!}"}`, 'base64url');
  }

  get keyProblem(): string | undefined {
    // P-256 and P-384 are curves Admit accepts (keyStrengthProblem).
    return (this.#keyProblem ??= { problem: this.#ecKey ? undefined : keyStrengthProblem(this.publicKey) }).problem;
  }

  get subject(): Name {
    return (this.#subject ??= AsnConvert.parse(this.subjectDer, Name));
  }

  get subjectText(): string {
    return (this.#subjectText ??= nameText(this.subjectDer));
  }

  /** Records an RFC 5280 profile violation (CERT_MALFORMED). */
  malformed(detail: string): void {
    this.problems.push(reason('CERT_MALFORMED', detail));
  }
}

/**
 * Parses a certificate. `importKey`: import the public key now (a certificate that will verify others);
 * otherwise a P-256/P-384 key is only checked on its curve, and imported if something asks for it.
 */
export function parseCertificate(der: Buffer, importKey = true): ParsedCert {
  let d: ReturnType<typeof decode>;
  let publicKey: KeyObject | undefined;
  let ecKey: EcPointKey | undefined;
  try {
    d = decode(der);
    const ecProblem = ecParametersProblem(d.keyAlgorithm, d.keyParams);
    if (ecProblem) throw new CertParseError(ecProblem, 'CERT_EC_PARAMETERS_INVALID');
    ecKey = d.spkiWellFormed ? ecPointKey(d.keyAlgorithm, d.keyParams!, d.publicKeyBits, !importKey) : undefined;
    // Any other key is imported now, so a key node:crypto cannot read refuses the certificate here.
    if (importKey || !ecKey) publicKey = importSpki(d.spkiDer);
    // The subject is decoded when read (name constraints, messages); its structure is checked here so a
    // corrupt one fails now, not mid-validation.
    checkName(d.subjectDer);
    checkName(d.issuerDer);
  } catch (err) {
    if (err instanceof CertParseError) throw err;
    throw new CertParseError('the certificate cannot be decoded');
  }
  const cert = new Cert(der, d, publicKey, ecKey);
  const problems = cert.problems;
  const serial = d.serial;

  if (d.version !== 2) cert.malformed('the certificate is not X.509 version 3');
  // RFC 5280 4.1.2.2: a positive integer of at most 20 octets; the 0x00 sign octet of a DER INTEGER
  // whose first content bit is set is not part of the number.
  const serialNumber = serial.length > 1 && serial[0] === 0 ? serial.subarray(1) : serial;
  if (serial.length === 0 || (serial[0]! & 0x80) !== 0 || allZero(serialNumber)) {
    problems.push(reason('CERT_SERIAL_INVALID', 'the serial number is not a positive integer'));
  } else if (serialNumber.length > 20) {
    problems.push(reason('CERT_SERIAL_INVALID', `the serial number has ${serialNumber.length} octets (at most 20)`));
  }
  if (d.issuerEmpty) cert.malformed('the issuer name is empty');
  if (!sameBytes(d.innerAlg, d.outerAlg)) cert.malformed('the inner and outer signature algorithms differ');

  const extensions = d.extensions;
  for (let e = 0; e < extensions.length; e++) {
    const ext = extensions[e]!;
    for (let before = 0; before < e; before++) {
      if (extensions[before]!.extnID === ext.extnID) {
        problems.push(reason('CERT_DUPLICATE_EXTENSION', `extension ${ext.extnID} appears twice`));
        break;
      }
    }
    if (ext.critical && !UNDERSTOOD_CRITICAL.has(ext.extnID)) cert.unknownCritical.push(ext.extnID);
    try {
      readExtension(cert, ext.extnID, ext.critical, ext.value);
    } catch {
      cert.malformed(`extension ${ext.extnID} cannot be decoded`);
    }
  }

  if (d.subjectEmpty) {
    if (cert.basicConstraints?.ca) cert.malformed('a CA certificate has an empty subject');
    if (!cert.san) cert.malformed('the subject is empty and there is no subjectAltName');
  }
  // RFC 5280 4.2.1.9: pathLenConstraint only when cA is true and keyUsage (if present) asserts keyCertSign.
  if (
    cert.basicConstraints?.pathLen !== undefined &&
    (!cert.basicConstraints.ca || (cert.keyUsage !== undefined && !(cert.keyUsage & KU.keyCertSign)))
  ) {
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
  if (cert.basicConstraints?.ca && !cert.ski) problems.push(reason('CERT_SKI_MISSING', `the CA "${cert.subjectText}" has no subjectKeyIdentifier`));
  if (cert.nameConstraints && !cert.basicConstraints?.ca) cert.malformed('nameConstraints on a certificate that is not a CA');
  return cert;
}

function allZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

function readExtension(cert: Cert, oid: string, critical: boolean, value: Buffer): void {
  switch (oid) {
    case OID.basicConstraints: {
      // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }
      const seq = only(value, 0x30);
      const parts = children(value, seq);
      let k = 0;
      let ca = false;
      if (parts[k]?.tag === 0x01) {
        if (parts[k]!.end - parts[k]!.start !== 1) throw new DerError('cA is not a BOOLEAN');
        ca = value[parts[k]!.start] !== 0;
        k++;
      }
      let pathLen: number | undefined;
      if (parts[k]?.tag === 0x02) {
        const p = bytes(value, parts[k]!);
        if (p.length === 0 || p[0]! & 0x80) throw new DerError('pathLenConstraint is negative');
        pathLen = p.length > 4 ? Number.MAX_SAFE_INTEGER : p.reduce((n, b) => n * 256 + b, 0);
        k++;
      }
      if (k !== parts.length) throw new DerError('basicConstraints has extra fields');
      cert.basicConstraints = { ca, critical, ...(pathLen !== undefined ? { pathLen } : {}) };
      return;
    }
    case OID.keyUsage: {
      const bits = bytes(value, only(value, 0x03));
      if (bits.length === 0 || bits[0]! > 7) throw new DerError('keyUsage is not a BIT STRING');
      let usage = 0;
      for (let j = 1; j < bits.length; j++) {
        for (let k = 0; k < 8; k++) if (bits[j]! & (0x80 >> k)) usage |= 2 ** ((j - 1) * 8 + k);
      }
      cert.keyUsage = usage;
      if (cert.keyUsage === 0) cert.malformed('keyUsage has no bits set');
      return;
    }
    case OID.extKeyUsage:
      cert.eku = children(value, only(value, 0x30)).map((t) => readOid(value, t));
      cert.ekuCritical = critical;
      if (cert.eku.length === 0) cert.malformed('extKeyUsage lists no purpose');
      return;
    case OID.subjectKeyId:
      if (critical) cert.malformed('subjectKeyIdentifier must not be critical');
      cert.ski = bytes(value, only(value, 0x04));
      return;
    case OID.authorityKeyId: {
      if (critical) cert.malformed('authorityKeyIdentifier must not be critical');
      // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0], authorityCertIssuer [1], authorityCertSerialNumber [2] }
      const parts = children(value, only(value, 0x30));
      const keyId = parts.find((t) => t.tag === 0x80);
      if (parts.some((t) => t.tag !== 0x80 && t.tag !== 0xa1 && t.tag !== 0x82)) throw new DerError('authorityKeyIdentifier has unknown fields');
      if (!keyId) cert.malformed('authorityKeyIdentifier has no keyIdentifier');
      else cert.akiKeyId = bytes(value, keyId);
      if (parts.some((t) => t.tag !== 0x80)) {
        cert.malformed('authorityKeyIdentifier carries authorityCertIssuer/serial (keyIdentifier only is accepted)');
      }
      return;
    }
    case OID.subjectAltName: {
      const names = generalNames(value);
      if (names.length === 0) cert.malformed('subjectAltName is empty');
      // RFC 5280 4.2.1.6: critical when the subject is empty; CA/B BR 7.1.2.7.12 (followed by webpki): not critical otherwise.
      const subjectEmpty = cert.subjectDer.length === 2;
      if (subjectEmpty && !critical) cert.problems.push(reason('CERT_SAN_CRITICALITY', 'subjectAltName must be critical when the subject is empty'));
      if (!subjectEmpty && critical)
        cert.problems.push(reason('CERT_SAN_CRITICALITY', 'subjectAltName must not be critical when the subject is not empty'));
      for (const name of names) {
        const problem = generalNameProblem(name);
        if (problem) cert.malformed(problem);
      }
      cert.san = names;
      return;
    }
    case OID.nameConstraints:
      // RFC 5280 4.2.1.10: conforming CAs MUST mark it critical; Admit follows RFC 5280 over CA/B practice here.
      if (!critical) cert.malformed('nameConstraints must be critical');
      cert.nameConstraints = readNameConstraints(new Uint8Array(value).buffer, (detail) => cert.malformed(detail));
      return;
    case OID.policyConstraints:
      AsnConvert.parse(value, PolicyConstraints);
      if (!critical) cert.malformed('policyConstraints must be critical');
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
      if (aia.length === 0) cert.malformed('authorityInfoAccess is empty');
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
    if (base.rfc822Name !== undefined && !isValidEmailConstraint(base.rfc822Name))
      bad(`rfc822Name constraint "${printable(base.rfc822Name)}" is invalid`);
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
