// Revocation status of one certificate from its issuer: CRLs (supplied or fetched from the
// distribution point) and OCSP responses (supplied or fetched from the AIA responder).
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AuthorityKeyIdentifier, CertificateList, Extensions } from '@peculiar/asn1-x509';
import { verifySignature } from './crypto-policy';
import { decodePem } from './pem';
import type { AlgorithmId } from './crypto-policy';
import { reason } from './reasons';
import type { Reason } from './reasons';
import type { SafeFetcher } from './safe-fetch';
import { AnchorFetchError } from './safe-fetch';
import { CertParseError, KU, OID, parseCertificate, signedWith } from './x509-cert';
import type { ParsedCert } from './x509-cert';

export interface ParsedCrl {
  issuerDer: Buffer;
  thisUpdate: Date;
  nextUpdate?: Date;
  revoked: Map<string, Date>;
  tbs: Uint8Array;
  signature: Uint8Array;
  algorithm: AlgorithmId;
  unsupported?: string;
  /** RFC 5280 5.2.3: absent, critical, or present and non-critical. */
  crlNumber: 'missing' | 'critical' | 'ok';
  /** 5.2.1: the authorityKeyIdentifier keyIdentifier, when present. */
  akiKeyId?: Buffer;
  unknownCritical?: string;
}

const CRL_UNDERSTOOD = new Set(['2.5.29.20' /* cRLNumber */, '2.5.29.35' /* authorityKeyIdentifier */]);
const ENTRY_UNDERSTOOD = new Set(['2.5.29.21' /* reasonCode */, '2.5.29.24' /* invalidityDate */]);

function algorithmOf(alg: pkijs.AlgorithmIdentifier): AlgorithmId {
  const params = alg.algorithmParams as asn1js.BaseBlock | undefined;
  return { oid: alg.algorithmId, params: params ? params.toBER() : null };
}

/**
 * One CRL. The @peculiar schema misreads the optional fields after thisUpdate when nextUpdate is absent,
 * and pkijs throws on an empty entry-extensions sequence, so nextUpdate and crlExtensions are read from
 * the TBS structure directly. Problems are recorded, not thrown, so only a CRL about the chain refuses it.
 */
export function parseCrl(der: Uint8Array): ParsedCrl {
  const crl = AsnConvert.parse(der, CertificateList);
  const tbs = crl.tbsCertList;
  if (!crl.tbsCertListRaw) throw new Error('the CRL has no TBS bytes');
  const fields = (asn1js.fromBER(crl.tbsCertListRaw).result as asn1js.Sequence).valueBlock.value;
  const times = fields.filter((f) => f instanceof asn1js.UTCTime || f instanceof asn1js.GeneralizedTime) as (
    asn1js.UTCTime | asn1js.GeneralizedTime
  )[];
  const explicit0 = fields.find((f) => f.idBlock.tagClass === 3 && f.idBlock.tagNumber === 0) as asn1js.Constructed | undefined;
  const crlExtensions = explicit0 ? [...AsnConvert.parse(explicit0.valueBlock.value[0]!.toBER(), Extensions)] : [];
  const nextUpdate = times[1]?.toDate();

  const revoked = new Map<string, Date>();
  let unsupported: string | undefined;
  let unknownCritical: string | undefined;
  let crlNumber: ParsedCrl['crlNumber'] = 'missing';
  let akiKeyId: Buffer | undefined;
  const seen = new Set<string>();
  for (const ext of crlExtensions) {
    if (seen.has(ext.extnID)) unsupported = `CRL extension ${ext.extnID} appears twice`;
    seen.add(ext.extnID);
    if (ext.critical && !CRL_UNDERSTOOD.has(ext.extnID)) unknownCritical = `critical CRL extension ${ext.extnID}`;
    if (ext.extnID === '2.5.29.27' || ext.extnID === '2.5.29.28') unsupported = 'delta or partitioned CRLs are not supported';
    if (ext.extnID === '2.5.29.20') crlNumber = ext.critical ? 'critical' : 'ok';
    if (ext.extnID === '2.5.29.35') {
      const aki = AsnConvert.parse(ext.extnValue.buffer, AuthorityKeyIdentifier);
      if (aki.keyIdentifier) akiKeyId = Buffer.from(aki.keyIdentifier.buffer);
    }
  }
  // RFC 5280 5.1.2.1: a CRL with extensions is version 2 (encoded 1).
  if (crlExtensions.length > 0 && tbs.version !== 1) unsupported = 'a CRL with extensions must be version 2';
  for (const entry of tbs.revokedCertificates ?? []) {
    for (const ext of entry.crlEntryExtensions ?? []) {
      if (ext.critical && !ENTRY_UNDERSTOOD.has(ext.extnID)) unsupported = `critical CRL entry extension ${ext.extnID}`;
    }
    revoked.set(Buffer.from(entry.userCertificate).toString('hex'), entry.revocationDate.getTime());
  }
  return {
    issuerDer: Buffer.from(AsnConvert.serialize(tbs.issuer)),
    thisUpdate: tbs.thisUpdate.getTime(),
    ...(nextUpdate ? { nextUpdate } : {}),
    revoked,
    tbs: new Uint8Array(crl.tbsCertListRaw),
    signature: new Uint8Array(crl.signature),
    algorithm: { oid: crl.signatureAlgorithm.algorithm, params: crl.signatureAlgorithm.parameters ?? null },
    ...(unsupported ? { unsupported } : {}),
    ...(unknownCritical ? { unknownCritical } : {}),
    ...(akiKeyId ? { akiKeyId } : {}),
    crlNumber,
  };
}

export interface RevocationSources {
  crls: ParsedCrl[];
  ocspResponses: Uint8Array[];
  /** Allowed clock difference for OCSP thisUpdate/nextUpdate (default OCSP_SKEW_SECONDS). */
  ocspSkewSeconds?: number;
  /** When set, distribution points and OCSP responders named in certificates are consulted. */
  fetcher?: SafeFetcher;
}

export type RevocationStatus = 'good' | 'not-checked';

/** Refusal reasons for `cert` (issued by `issuer`) at `at`, or the status when there are none. */
export async function checkRevocation(
  cert: ParsedCert,
  issuer: ParsedCert,
  at: Date,
  sources: RevocationSources,
): Promise<Reason[] | RevocationStatus> {
  let checked = false;
  const crls = sources.crls.filter((c) => c.issuerDer.equals(cert.issuerDer));
  if (crls.length === 0 && sources.fetcher && cert.crlUrls.length > 0) {
    crls.push(await fetchCrl(cert, sources.fetcher));
  }
  for (const crl of crls) {
    const problem = crlProblem(cert, issuer, crl, at);
    if (problem) return [problem];
    checked = true;
  }

  const responses: { der: Uint8Array; nonce?: Buffer }[] = sources.ocspResponses.map((der) => ({ der }));
  if (responses.length === 0 && !checked && sources.fetcher && cert.ocspUrls.length > 0) {
    responses.push(await fetchOcsp(cert, issuer, sources.fetcher));
  }
  for (const { der, nonce } of responses) {
    const outcome = ocspOutcome(cert, issuer, der, at, { skewSeconds: sources.ocspSkewSeconds ?? OCSP_SKEW_SECONDS, ...(nonce ? { nonce } : {}) });
    if (outcome === 'unrelated') continue;
    if (outcome !== 'good') return [outcome];
    checked = true;
  }
  return checked ? 'good' : 'not-checked';
}

function crlProblem(cert: ParsedCert, issuer: ParsedCert, crl: ParsedCrl, at: Date): Reason | undefined {
  // Every rule fails closed: a CRL for this issuer that Admit cannot use refuses the chain, it is never skipped.
  if (!crl.issuerDer.equals(cert.issuerDer)) return reason('CRL_ISSUER_MISMATCH', 'the CRL at the distribution point is from another issuer');
  if (crl.akiKeyId && issuer.ski && !crl.akiKeyId.equals(issuer.ski))
    return reason('CRL_ISSUER_MISMATCH', 'the CRL authorityKeyIdentifier names another key than the issuer');
  if (crl.unknownCritical) return reason('CRL_UNKNOWN_CRITICAL_EXTENSION', crl.unknownCritical);
  if (crl.unsupported) return reason('CRL_INVALID', crl.unsupported);
  if (crl.crlNumber === 'missing') return reason('CRL_NUMBER_INVALID', 'the CRL has no cRLNumber extension');
  if (crl.crlNumber === 'critical') return reason('CRL_NUMBER_INVALID', 'the CRL marks cRLNumber critical');
  if (issuer.keyUsage !== undefined && !(issuer.keyUsage & KU.cRLSign)) return reason('CRL_INVALID', 'the issuer keyUsage lacks cRLSign');
  if (!verifySignature(crl.algorithm, crl.tbs, crl.signature, issuer.publicKey))
    return reason('CRL_SIGNATURE_INVALID', 'the CRL signature does not verify with the issuer key');
  if (crl.thisUpdate.getTime() > at.getTime()) return reason('CRL_STALE', 'the CRL thisUpdate is in the future');
  // RFC 5280 5.1.2.5: conforming CRL issuers MUST include nextUpdate; without it freshness is unknowable.
  if (!crl.nextUpdate) return reason('CRL_STALE', 'the CRL has no nextUpdate');
  if (crl.nextUpdate.getTime() < at.getTime()) return reason('CRL_STALE', `the CRL expired at ${crl.nextUpdate.toISOString()}`);
  const revokedAt = crl.revoked.get(cert.serialHex);
  if (revokedAt && revokedAt.getTime() <= at.getTime()) {
    return reason('CERT_REVOKED', `serial ${cert.serialHex} revoked at ${revokedAt.toISOString()} (CRL)`);
  }
  return undefined;
}

async function fetchCrl(cert: ParsedCert, fetcher: SafeFetcher): Promise<ParsedCrl> {
  const { body } = await fetchFirst(cert.crlUrls, (url) => fetcher.fetch(url, { allowHttp: true }));
  try {
    return parseCrl(decodePem(body, ['X509 CRL', 'CRL'])[0]!);
  } catch {
    throw new AnchorFetchError('CRL_INVALID', 'the CRL at the distribution point cannot be decoded', false);
  }
}

/** Tries each URL in turn; an infrastructure failure on one is retried on the next before giving up. */
async function fetchFirst<T>(urls: string[], get: (url: string) => Promise<T>): Promise<T> {
  let last: unknown;
  for (const url of urls.filter((u) => /^https?:/i.test(u))) {
    try {
      return await get(url);
    } catch (err) {
      last = err;
    }
  }
  throw last instanceof AnchorFetchError ? last : new AnchorFetchError('URL_FORBIDDEN', 'no usable http(s) URL', false);
}

const SHA1 = '1.3.14.3.2.26';
const SHA256 = '2.16.840.1.101.3.4.2.1';
const HASH_NAME: Record<string, string> = { [SHA1]: 'sha1', [SHA256]: 'sha256' };

export const OCSP_SKEW_SECONDS = 300;
const OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';

export interface OcspCheck {
  skewSeconds: number;
  /** The nonce Admit sent with the request (RFC 8954); a response that echoes another is refused. */
  nonce?: Buffer;
}

/** The nonce value of a response extension: OCTET STRING (RFC 8954), tolerating the bare value of RFC 2560 responders. */
function responseNonce(basic: pkijs.BasicOCSPResponse): Buffer | undefined {
  const ext = basic.tbsResponseData.responseExtensions?.find((e) => e.extnID === OCSP_NONCE);
  if (!ext) return undefined;
  const raw = Buffer.from(ext.extnValue.valueBlock.valueHexView);
  const inner = asn1js.fromBER(raw);
  return inner.offset === raw.length && inner.result instanceof asn1js.OctetString ? Buffer.from(inner.result.valueBlock.valueHexView) : raw;
}

export function ocspOutcome(
  cert: ParsedCert,
  issuer: ParsedCert,
  der: Uint8Array,
  at: Date,
  check: OcspCheck = { skewSeconds: OCSP_SKEW_SECONDS },
): Reason | 'good' | 'unrelated' {
  let basic: pkijs.BasicOCSPResponse;
  try {
    const response = pkijs.OCSPResponse.fromBER(new Uint8Array(der));
    const status = response.responseStatus.valueBlock.valueDec;
    if (status !== 0) return reason('OCSP_INVALID', `the responder answered with status ${status}`);
    if (response.responseBytes?.responseType !== '1.3.6.1.5.5.7.48.1.1') return reason('OCSP_INVALID', 'not a basic OCSP response');
    basic = pkijs.BasicOCSPResponse.fromBER(new Uint8Array(response.responseBytes.response.valueBlock.valueHexView));
  } catch {
    return reason('OCSP_INVALID', 'the OCSP response cannot be decoded');
  }

  const single = basic.tbsResponseData.responses.find((r) => certIdMatches(r.certID, cert, issuer));
  if (!single) return 'unrelated';

  const signer = ocspSigner(basic, issuer, at);
  if (typeof signer === 'string') return reason('OCSP_RESPONDER_UNAUTHORISED', signer);
  if (
    !verifySignature(algorithmOf(basic.signatureAlgorithm), basic.tbsResponseData.tbsView, basic.signature.valueBlock.valueHexView, signer.publicKey)
  ) {
    return reason('OCSP_INVALID', 'the OCSP response signature does not verify');
  }
  // RFC 6960 4.2.2.1 / 3.2 (6): thisUpdate is "sufficiently recent" and nextUpdate not passed, within the skew.
  const skew = check.skewSeconds * 1000;
  if (single.thisUpdate.getTime() > at.getTime() + skew) return reason('OCSP_STALE', 'thisUpdate is in the future');
  if (!single.nextUpdate) return reason('OCSP_STALE', 'the response has no nextUpdate, so its freshness cannot be established');
  if (single.nextUpdate.getTime() < at.getTime() - skew) return reason('OCSP_STALE', `the response expired at ${single.nextUpdate.toISOString()}`);
  if (check.nonce) {
    const echoed = responseNonce(basic);
    // A responder may ignore the nonce (RFC 8954 2.1); one it echoes must be ours.
    if (echoed && !echoed.equals(check.nonce)) return reason('OCSP_NONCE_MISMATCH', 'the response nonce is not the one sent');
  }

  const status = single.certStatus as asn1js.BaseBlock;
  switch (status.idBlock.tagNumber) {
    case 0:
      return 'good';
    case 1:
      return reason('CERT_REVOKED', `serial ${cert.serialHex} is revoked (OCSP)`);
    default:
      return reason('OCSP_UNKNOWN');
  }
}

function certIdMatches(id: pkijs.CertID, cert: ParsedCert, issuer: ParsedCert): boolean {
  const hash = HASH_NAME[id.hashAlgorithm.algorithmId];
  if (!hash) return false;
  const digest = (data: Buffer) => createHash(hash).update(data).digest();
  return (
    Buffer.from(id.serialNumber.valueBlock.valueHexView).toString('hex') === cert.serialHex &&
    Buffer.from(id.issuerNameHash.valueBlock.valueHexView).equals(digest(cert.issuerDer)) &&
    Buffer.from(id.issuerKeyHash.valueBlock.valueHexView).equals(digest(issuer.publicKeyBits))
  );
}

/** RFC 6960 4.2.2.2: the issuer itself, or a certificate it issued for OCSP signing. */
function ocspSigner(basic: pkijs.BasicOCSPResponse, issuer: ParsedCert, at: Date): ParsedCert | string {
  const id = basic.tbsResponseData.responderID as pkijs.RelativeDistinguishedNames | asn1js.OctetString;
  const names = (c: ParsedCert) =>
    id instanceof asn1js.OctetString
      ? Buffer.from(id.valueBlock.valueHexView).equals(createHash('sha1').update(c.publicKeyBits).digest())
      : Buffer.from(id.valueBeforeDecode).equals(c.subjectDer);
  if (names(issuer)) return issuer;
  for (const embedded of basic.certs ?? []) {
    let delegate: ParsedCert;
    try {
      delegate = parseCertificate(Buffer.from(embedded.toSchema().toBER()));
    } catch (err) {
      if (err instanceof CertParseError) continue;
      throw err;
    }
    if (!names(delegate)) continue;
    if (!delegate.issuerDer.equals(issuer.subjectDer) || !issuedBy(delegate, issuer))
      return 'the OCSP responder certificate is not issued by the certificate issuer';
    if (!delegate.eku?.includes(OID.ocspSigning)) return 'the OCSP responder certificate lacks the OCSPSigning usage';
    if (delegate.keyUsage !== undefined && !(delegate.keyUsage & KU.digitalSignature))
      return 'the OCSP responder certificate keyUsage lacks digitalSignature';
    if (delegate.notBefore > at || delegate.notAfter < at) return 'the OCSP responder certificate is not valid at the validation time';
    return delegate;
  }
  return 'the OCSP response is not signed by the issuer or an authorised responder';
}

function issuedBy(cert: ParsedCert, issuer: ParsedCert): boolean {
  return signedWith(cert, issuer.publicKey);
}

async function fetchOcsp(cert: ParsedCert, issuer: ParsedCert, fetcher: SafeFetcher): Promise<{ der: Uint8Array; nonce: Buffer }> {
  const sha1 = (data: Buffer) => createHash('sha1').update(data).digest();
  const request = new pkijs.OCSPRequest();
  request.tbsRequest.requestList = [
    new pkijs.Request({
      reqCert: new pkijs.CertID({
        hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA1, algorithmParams: new asn1js.Null() }),
        issuerNameHash: new asn1js.OctetString({ valueHex: sha1(cert.issuerDer) }),
        issuerKeyHash: new asn1js.OctetString({ valueHex: sha1(issuer.publicKeyBits) }),
        serialNumber: new asn1js.Integer({ valueHex: Buffer.from(cert.serialHex, 'hex') }),
      }),
    }),
  ];
  const nonce = randomBytes(32);
  request.tbsRequest.requestExtensions = [
    new pkijs.Extension({ extnID: OCSP_NONCE, critical: false, extnValue: new asn1js.OctetString({ valueHex: nonce }).toBER() }),
  ];
  const body = new Uint8Array(request.toSchema(true).toBER());
  const { body: answer } = await fetchFirst(cert.ocspUrls, (url) =>
    fetcher.fetch(url, { allowHttp: true, method: 'POST', body, contentType: 'application/ocsp-request', cache: false }),
  );
  return { der: answer, nonce };
}
