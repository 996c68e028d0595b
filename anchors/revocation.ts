// Revocation status of one certificate from its issuer: CRLs (supplied or fetched from the
// distribution point) and OCSP responses (supplied or fetched from the AIA responder).
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList } from '@peculiar/asn1-x509';
import { verifySignature } from './crypto-policy';
import { decodePem } from './pem';
import type { AlgorithmId } from './crypto-policy';
import { reason } from './reasons';
import type { Reason } from './reasons';
import type { SafeFetcher } from './safe-fetch';
import { AnchorFetchError } from './safe-fetch';
import { CertParseError, KU, OID, parseCertificate } from './x509-cert';
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
}

const CRL_UNDERSTOOD = new Set(['2.5.29.20' /* cRLNumber */, '2.5.29.35' /* authorityKeyIdentifier */]);
const ENTRY_UNDERSTOOD = new Set(['2.5.29.21' /* reasonCode */, '2.5.29.24' /* invalidityDate */]);

function algorithmOf(alg: pkijs.AlgorithmIdentifier): AlgorithmId {
  const params = alg.algorithmParams as asn1js.BaseBlock | undefined;
  return { oid: alg.algorithmId, params: params ? params.toBER() : null };
}

export function parseCrl(der: Uint8Array): ParsedCrl {
  const crl = AsnConvert.parse(der, CertificateList);
  const tbs = crl.tbsCertList;
  if (!crl.tbsCertListRaw) throw new Error('the CRL has no TBS bytes');
  const revoked = new Map<string, Date>();
  let unsupported: string | undefined;
  for (const ext of tbs.crlExtensions ?? []) {
    if (ext.critical && !CRL_UNDERSTOOD.has(ext.extnID)) unsupported = `critical CRL extension ${ext.extnID}`;
    if (ext.extnID === '2.5.29.27' || ext.extnID === '2.5.29.28') unsupported = 'delta or partitioned CRLs are not supported';
  }
  for (const entry of tbs.revokedCertificates ?? []) {
    for (const ext of entry.crlEntryExtensions ?? []) {
      if (ext.critical && !ENTRY_UNDERSTOOD.has(ext.extnID)) unsupported = `critical CRL entry extension ${ext.extnID}`;
    }
    revoked.set(Buffer.from(entry.userCertificate).toString('hex'), entry.revocationDate.getTime());
  }
  return {
    issuerDer: Buffer.from(AsnConvert.serialize(tbs.issuer)),
    thisUpdate: tbs.thisUpdate.getTime(),
    ...(tbs.nextUpdate ? { nextUpdate: tbs.nextUpdate.getTime() } : {}),
    revoked,
    tbs: new Uint8Array(crl.tbsCertListRaw),
    signature: new Uint8Array(crl.signature),
    algorithm: { oid: crl.signatureAlgorithm.algorithm, params: crl.signatureAlgorithm.parameters ?? null },
    ...(unsupported ? { unsupported } : {}),
  };
}

export interface RevocationSources {
  crls: ParsedCrl[];
  ocspResponses: Uint8Array[];
  /** When set, distribution points and OCSP responders named in certificates are consulted. */
  fetcher?: SafeFetcher;
}

export type RevocationStatus = 'good' | 'not-checked';

/** Refusal reasons for `cert` (issued by `issuer`) at `at`, or the status when there are none. */
export async function checkRevocation(cert: ParsedCert, issuer: ParsedCert, at: Date, sources: RevocationSources): Promise<Reason[] | RevocationStatus> {
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

  const responses = [...sources.ocspResponses];
  if (responses.length === 0 && !checked && sources.fetcher && cert.ocspUrls.length > 0) {
    responses.push(await fetchOcsp(cert, issuer, sources.fetcher));
  }
  for (const der of responses) {
    const outcome = ocspOutcome(cert, issuer, der, at);
    if (outcome === 'unrelated') continue;
    if (outcome !== 'good') return [outcome];
    checked = true;
  }
  return checked ? 'good' : 'not-checked';
}

function crlProblem(cert: ParsedCert, issuer: ParsedCert, crl: ParsedCrl, at: Date): Reason | undefined {
  if (!crl.issuerDer.equals(cert.issuerDer)) return reason('CRL_INVALID', 'the CRL at the distribution point is from another issuer');
  if (crl.unsupported) return reason('CRL_INVALID', crl.unsupported);
  if (issuer.keyUsage !== undefined && !(issuer.keyUsage & KU.cRLSign)) return reason('CRL_INVALID', 'the issuer keyUsage lacks cRLSign');
  if (!verifySignature(crl.algorithm, crl.tbs, crl.signature, issuer.publicKey)) return reason('CRL_INVALID', 'the CRL signature does not verify with the issuer key');
  if (crl.thisUpdate.getTime() > at.getTime()) return reason('CRL_STALE', 'the CRL thisUpdate is in the future');
  if (crl.nextUpdate && crl.nextUpdate.getTime() < at.getTime()) return reason('CRL_STALE', `the CRL expired at ${crl.nextUpdate.toISOString()}`);
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

function ocspOutcome(cert: ParsedCert, issuer: ParsedCert, der: Uint8Array, at: Date): Reason | 'good' | 'unrelated' {
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
  if (typeof signer === 'string') return reason('OCSP_INVALID', signer);
  if (!verifySignature(algorithmOf(basic.signatureAlgorithm), basic.tbsResponseData.tbsView, basic.signature.valueBlock.valueHexView, signer.publicKey)) {
    return reason('OCSP_INVALID', 'the OCSP response signature does not verify');
  }
  if (single.thisUpdate.getTime() > at.getTime()) return reason('OCSP_STALE', 'thisUpdate is in the future');
  if (single.nextUpdate && single.nextUpdate.getTime() < at.getTime()) return reason('OCSP_STALE', `the response expired at ${single.nextUpdate.toISOString()}`);

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
    if (!delegate.issuerDer.equals(issuer.subjectDer) || !issuedBy(delegate, issuer)) return 'the OCSP responder certificate is not issued by the certificate issuer';
    if (!delegate.eku?.includes(OID.ocspSigning)) return 'the OCSP responder certificate lacks the OCSPSigning usage';
    if (delegate.notBefore > at || delegate.notAfter < at) return 'the OCSP responder certificate is not valid at the validation time';
    return delegate;
  }
  return 'the OCSP response is not signed by the issuer or an authorised responder';
}

function issuedBy(cert: ParsedCert, issuer: ParsedCert): boolean {
  try {
    return cert.node.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

async function fetchOcsp(cert: ParsedCert, issuer: ParsedCert, fetcher: SafeFetcher): Promise<Uint8Array> {
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
  const body = new Uint8Array(request.toSchema(true).toBER());
  const { body: answer } = await fetchFirst(cert.ocspUrls, (url) =>
    fetcher.fetch(url, { allowHttp: true, method: 'POST', body, contentType: 'application/ocsp-request', cache: false }),
  );
  return answer;
}
