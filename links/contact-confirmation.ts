import { createHash, createHmac } from 'node:crypto';
import { SignJWT, jwtVerify, errors } from 'jose';
import { CONTACT_ROLES, type ContactRoleKey } from '../domain/contacts';

/**
 * The emailed contact-confirmation link: a JWT (HS256, Admit's link secret)
 * naming the application, the role and the round. Only its SHA-256 is stored;
 * single use is enforced by the workflow, which accepts each hash once.
 */
const AUDIENCE = 'admit:contact-confirmation';
const ISSUER = 'admit';

export interface ContactLinkClaims {
  applicationId: string;
  role: ContactRoleKey;
  round: number;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function signContactLink(secret: Uint8Array, claims: ContactLinkClaims, expiresAt: Date, jti: string): Promise<string> {
  return new SignJWT({ role: claims.role, round: claims.round })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(claims.applicationId)
    .setJti(jti)
    .setIssuedAt()
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(secret);
}

/**
 * The link of one (claim, application, role, round, expiry): the same token on
 * every call. Its jti is an HMAC, under the link secret, of that identity, and
 * it carries no iat, so a retried mail activity mails (and stores the hash of)
 * exactly the link its first attempt did. `claim` is the workflow's claim key:
 * an application id claimed again restarts its rounds at 0, and the two
 * claims' links must differ. Knowing the identity does not give the link: the
 * jti and the signature both need the secret.
 */
export async function contactLinkFor(secret: Uint8Array, claim: string, claims: ContactLinkClaims, expiresAt: Date): Promise<string> {
  const jti = createHmac('sha256', secret)
    .update(['contact-link', claim, claims.applicationId, claims.role, String(claims.round), expiresAt.toISOString()].join('\u0000'))
    .digest('base64url');
  return new SignJWT({ role: claims.role, round: claims.round })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(claims.applicationId)
    .setJti(jti)
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(secret);
}

export type ContactLinkCheck = { ok: true; claims: ContactLinkClaims; tokenHash: string } | { ok: false; reason: 'expired' | 'invalid' };

/**
 * Checks signature, audience and expiry; whether it was used is the workflow's to say. `secrets` is
 * the link secret, or the ring of them newest first (a link mailed before a rotation still verifies
 * until its secret is retired).
 */
export async function verifyContactLink(secrets: Uint8Array | readonly Uint8Array[], token: string, now = new Date()): Promise<ContactLinkCheck> {
  if (token.length > 4096) return { ok: false, reason: 'invalid' };
  const ring = secrets instanceof Uint8Array ? [secrets] : secrets;
  for (const secret of ring) {
    const { malformed, ...check } = await verifyWith(secret, token, now);
    // Another secret cannot make an expired or malformed link valid: only a bad signature tries the next.
    if (check.ok || check.reason !== 'invalid' || malformed === true) return check as ContactLinkCheck;
  }
  return { ok: false, reason: 'invalid' };
}

async function verifyWith(secret: Uint8Array, token: string, now: Date): Promise<ContactLinkCheck & { malformed?: boolean }> {
  try {
    const { payload } = await jwtVerify(token, secret, {
      algorithms: ['HS256'],
      audience: AUDIENCE,
      issuer: ISSUER,
      currentDate: now,
    });
    const role = payload.role;
    if (
      typeof payload.sub !== 'string' ||
      typeof role !== 'string' ||
      !(CONTACT_ROLES as readonly string[]).includes(role) ||
      typeof payload.round !== 'number'
    ) {
      return { ok: false, reason: 'invalid', malformed: true };
    }
    return {
      ok: true,
      claims: { applicationId: payload.sub, role: role as ContactRoleKey, round: payload.round },
      tokenHash: tokenHash(token),
    };
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, reason: 'expired' };
    return { ok: false, reason: 'invalid' };
  }
}
