// Every refusal Admit can give about a trust anchor, in one place, so codes stay stable and the
// sentences stay consistent. Codes are part of the contract; messages may be refined.

export interface Reason {
  code: ReasonCode;
  message: string;
}

export const REASONS = {
  // Input handling
  INPUT_TOO_LARGE: 'The material is larger than Admit accepts; send only the certificate chain, key or token itself.',
  PEM_MALFORMED: 'The file is not valid PEM or DER; send the certificate chain as PEM blocks (-----BEGIN CERTIFICATE-----).',

  // X.509
  CERT_MALFORMED: 'A certificate in the chain does not conform to the RFC 5280 profile; have your CA reissue it.',
  CERT_UNTRUSTED:
    'The certificate does not chain to a trust anchor Admit is configured to accept; include the issuing intermediates or use a certificate from an accepted CA.',
  CERT_CHAIN_TOO_LONG: 'The certificate chain has more intermediates than allowed; use a shorter chain.',
  CERT_SIGNATURE_INVALID:
    'A certificate signature does not verify with its issuer key; the chain is corrupted or a certificate was not issued by the CA it names.',
  CERT_EXPIRED: 'A certificate in the chain has expired; renew it and present the new chain.',
  CERT_NOT_YET_VALID: 'A certificate in the chain is not valid yet; check its notBefore date or the clock of the issuing CA.',
  CERT_WEAK_SIGNATURE_ALGORITHM:
    'A certificate is signed with an algorithm Admit refuses (MD5, SHA-1 or unknown); reissue it with SHA-256 or stronger.',
  CERT_WEAK_KEY: 'A certificate carries a key Admit refuses; use RSA of at least 2048 bits, ECDSA P-256 or P-384, or Ed25519.',
  CERT_NOT_CA: 'A certificate that issues another certificate is not a CA (basicConstraints cA must be set and critical).',
  CERT_PATH_LENGTH_EXCEEDED: 'The chain violates a CA path length constraint; use a chain that respects the CA hierarchy limits.',
  CERT_KEY_USAGE_INVALID:
    'A certificate keyUsage does not allow its role in the chain (CAs need keyCertSign; client certificates need digitalSignature).',
  CERT_EKU_MISSING:
    'The certificate does not allow the required extended key usage (clientAuth for partner certificates); reissue it with that usage.',
  CERT_NAME_CONSTRAINTS_VIOLATED: 'A name in the certificate is outside what an issuing CA is permitted to certify.',
  CERT_UNKNOWN_CRITICAL_EXTENSION:
    'A certificate has a critical extension Admit does not process; reissue it without that extension or mark it non-critical.',
  CERT_NAME_MISMATCH: 'The certificate does not name the required identity (the organisation verified domain) in its subjectAltName.',
  CERT_SERIAL_INVALID: 'A certificate serial number is not a positive integer of at most 20 octets (RFC 5280 4.1.2.2); have your CA reissue it.',
  CERT_EC_PARAMETERS_INVALID: 'A certificate EC key uses explicit or implicit curve parameters; only named curves are accepted (RFC 5480 2.1.1).',
  CERT_KEY_CERT_SIGN_WITHOUT_CA: 'A certificate asserts keyCertSign but is not a CA (RFC 5280 4.2.1.3: basicConstraints cA must then be true).',
  CERT_SKI_MISSING: 'A CA certificate has no subjectKeyIdentifier (RFC 5280 4.2.1.2); have your CA reissue it.',
  CERT_AKI_MISSING: 'A certificate below the trust anchor has no authorityKeyIdentifier keyIdentifier (RFC 5280 4.2.1.1); have your CA reissue it.',
  CERT_SAN_CRITICALITY:
    'The subjectAltName criticality is wrong: critical when the subject is empty (RFC 5280 4.2.1.6), not critical otherwise (CA/Browser Forum BR 7.1.2.7.12).',
  CERT_DUPLICATE_EXTENSION: 'A certificate carries the same extension twice (RFC 5280 4.2); have your CA reissue it.',
  CERT_WILDCARD_INVALID: 'A wildcard subjectAltName would cover a whole public suffix (Public Suffix List); it cannot identify a partner.',
  CERT_LEAF_IS_CA: 'The presented client certificate is itself a CA certificate; present an end-entity certificate (basicConstraints cA false).',
  CERT_PATHLEN_WITHOUT_CA: 'A certificate sets pathLenConstraint without being a CA with keyCertSign (RFC 5280 4.2.1.9).',
  CERT_EKU_CRITICAL:
    'The client or server certificate marks extKeyUsage critical; the CA/Browser Forum profile (BR 7.1.2.7.10) requires it non-critical.',
  CERT_REVOKED: 'A certificate in the chain has been revoked by its issuer; obtain a new certificate.',
  CRL_INVALID: 'A revocation list could not be trusted (bad signature, issuer not allowed to sign CRLs, or unsupported form).',
  CRL_NUMBER_INVALID: 'A revocation list has no CRL number, or marks it critical (RFC 5280 5.2.3); the CA must publish a conforming CRL.',
  CRL_UNKNOWN_CRITICAL_EXTENSION: 'A revocation list has a critical extension Admit does not process (RFC 5280 5.2).',
  CRL_ISSUER_MISMATCH: 'A revocation list names the issuer but its authorityKeyIdentifier names another key (RFC 5280 5.2.1).',
  CRL_SIGNATURE_INVALID: 'A revocation list signature does not verify with the issuer key.',
  CRL_STALE: 'A revocation list is out of date or not yet valid; the CA must publish a current CRL.',
  OCSP_INVALID: 'An OCSP response could not be trusted (malformed, bad signature or an unauthorised responder).',
  OCSP_RESPONDER_UNAUTHORISED:
    'The OCSP response is signed neither by the issuer nor by a responder the issuer authorised with id-kp-OCSPSigning (RFC 6960 4.2.2.2).',
  OCSP_NONCE_MISMATCH: 'The OCSP response echoes a nonce other than the one Admit sent (RFC 8954); the response may be replayed.',
  OCSP_STALE: 'An OCSP response is out of date or not yet valid; fetch a fresh response.',
  OCSP_UNKNOWN: 'The OCSP responder does not know this certificate; it cannot be accepted without a revocation status.',

  // JWK / JWKS / signed assertions
  JWK_INVALID:
    'The JWK is not a valid public signing key (RSA of at least 2048 bits, EC P-256/P-384 or Ed25519, with no private or symmetric material).',
  JWKS_INVALID: 'The JWKS is not a valid key set; it must be a JSON object with a "keys" array of public signing keys with distinct kid values.',
  JWT_MALFORMED: 'The assertion is not a compact JWS token; send the three dot-separated base64url parts.',
  JWT_ALG_NOT_ALLOWED: 'The assertion algorithm is not allowed; sign with RS256, PS256, ES256, ES384 or EdDSA (never none or HMAC).',
  JWT_EMBEDDED_KEY_REFUSED:
    'The assertion header names its own key (jwk, jku, x5u, x5c); Admit only uses the keys you registered, so remove those header parameters.',
  JWT_CRIT_UNSUPPORTED: 'The assertion header marks extensions as critical that Admit does not process; remove the crit header.',
  JWT_KID_UNKNOWN: 'The assertion kid does not name a registered key (or several keys could match); sign with a registered key and set its kid.',
  JWT_SIGNATURE_INVALID:
    'The assertion signature does not verify with the registered key; sign it with the private key matching the key you registered.',
  JWT_CLAIM_MISSING: 'The assertion lacks a required claim (iss, sub, aud, exp, iat, jti, nonce).',
  JWT_AUDIENCE_MISMATCH: 'The assertion aud claim is not Admit audience from the challenge.',
  JWT_ISSUER_MISMATCH: 'The assertion iss claim is not your registered client id.',
  JWT_SUBJECT_MISMATCH: 'The assertion sub claim does not match the expected subject.',
  JWT_EXPIRED: 'The assertion has expired; sign a new one.',
  JWT_NOT_YET_VALID: 'The assertion is not valid yet (iat or nbf in the future); check your clock.',
  JWT_LIFETIME_TOO_LONG: 'The assertion expires too far in the future; assertions must be short-lived (at most 10 minutes).',
  JWT_NONCE_MISMATCH: 'The assertion nonce does not match the challenge Admit issued; sign over the current challenge.',
  JWT_CHALLENGE_EXPIRED: 'The challenge has expired; request a new challenge and sign over it.',
  JWT_REPLAYED: 'This assertion (its jti) was already used; each proof must be freshly signed with a new jti.',

  // Workload identity
  SPIFFE_ID_INVALID:
    'The SPIFFE ID is not valid per the SPIFFE ID specification (spiffe://trust-domain/path, lowercase trust domain, no query or fragment).',
  SPIFFE_ID_MISMATCH: 'The SVID does not carry the expected SPIFFE ID.',
  SPIFFE_TRUST_DOMAIN_MISMATCH: 'The SVID belongs to a different trust domain than the bundle.',
  SVID_MALFORMED: 'The SVID does not follow the X.509-SVID or JWT-SVID profile (exactly one spiffe URI SAN, leaf not a CA, digitalSignature).',
  SPIFFE_BUNDLE_INVALID: 'The trust bundle is not valid (a JWKS with x509-svid and jwt-svid keys, or PEM certificates).',
  OIDC_DISCOVERY_INVALID: 'The OIDC discovery document is invalid or does not name the configured issuer exactly.',
  OIDC_SUBJECT_MISMATCH: 'The workload token subject is not the registered workload identity.',

  // Fetching partner-supplied URLs
  URL_FORBIDDEN: 'The URL is not allowed: Admit fetches only https URLs on public addresses, without redirects.',
  URL_RESPONSE_TOO_LARGE: 'The document at the URL is larger than Admit accepts.',
  URL_FETCH_FAILED: 'The document at the URL could not be retrieved (the server answered with an error); check the URL.',

  // Deployment trust configuration
  TRUST_STORE_NOT_CONFIGURED:
    'This Admit deployment has no trust store for client certificates yet; use another anchor kind or ask the platform team to configure one.',
  SPIFFE_TRUST_DOMAIN_NOT_TRUSTED: 'Admit does not federate with this SPIFFE trust domain; ask the platform team to add its trust bundle.',
  OIDC_ISSUER_NOT_TRUSTED: 'Admit does not accept workload tokens from this issuer; ask the platform team to allow it.',
  ANCHOR_KEY_WITHDRAWN: 'The registered key is no longer published at its JWKS URL; if you rotated it, rotate the anchor in Admit too.',

  // Registry
  ANCHOR_IN_USE:
    'This trust anchor is already registered to another participant; each key or certificate may belong to only one participant, so generate a new one.',
} as const;

export type ReasonCode = keyof typeof REASONS;

export function reason(code: ReasonCode, detail?: string): Reason {
  return { code, message: detail ? `${REASONS[code]} (${detail})` : REASONS[code] };
}
