import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ContactRoleKey } from '../../domain/contacts';
import type { Actor } from '../../workflows/messages';
import type { Registry } from '../../registry/client';

/**
 * Sessions live in one encrypted cookie (JWE, dir + A256GCM, key derived from
 * ADMIT_SESSION_SECRET); a tampered or foreign cookie simply fails to decrypt
 * and starts a fresh anonymous session. A session that carries privileges (a
 * signed-in approver, a confirmed contact) also names a row in the registry
 * (`browser_sessions`) by a random id: sign-out revokes the row and expiry ends
 * it, so a copied cookie stops working with the original.
 */
export interface SessionData {
  /** Random id of the session's registry row (browser_sessions); null while it carries no privileges. */
  sid: string | null;
  /** Synchronizer token every state-changing form must echo back. */
  csrf: string;
  /** The signed-in approver, established by OpenID Connect. */
  actor: Actor | null;
  /** Contacts who confirmed in this browser: it may act for their applications (trust anchor, expansions). */
  partnerOf: PartnerContact[];
  /** An authorization request in flight (state, nonce, PKCE verifier). */
  oidc: { state: string; nonce: string; verifier: string; returnTo: string } | null;
}

export interface PartnerContact {
  applicationId: string;
  role: ContactRoleKey;
}

export interface Session {
  data: SessionData;
  /** Written back to the cookie when the response is sent. */
  changed: boolean;
  /** Created for this request (no valid cookie came with it). */
  fresh: boolean;
  /** A registry row to create when the response is sent (a new privileged session). */
  persist?: { sid: string; signedInAs: string | null };
  /** A session id whose row to revoke when the response is sent (signed in or out). */
  revoke?: string;
  /** The cookie's registry row could not be read: the response leaves the cookie as it came. */
  unchecked?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    session: Session;
  }
  interface FastifyContextConfig {
    /** `false` only for endpoints no browser form reaches (the IdP's token endpoint). */
    csrf?: boolean;
  }
}

export const ANONYMOUS_SESSION_SECONDS = 12 * 60 * 60;
export const SIGNED_IN_SESSION_SECONDS = 8 * 60 * 60;
const MAX_PARTNER_APPLICATIONS = 12;

export interface SessionOptions {
  /** The session secret, or the ring of them newest first: the newest seals, any opens (a rotation signs nobody out). */
  secret: Uint8Array | readonly Uint8Array[];
  /** Where privileged sessions are recorded, so they can be revoked. */
  registry: Registry;
  /** Secure cookies everywhere except plain-HTTP localhost development. */
  secure: boolean;
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sessionCookieName(secure: boolean): string {
  // The __Host- prefix pins the cookie to this exact origin, but browsers accept it only when Secure.
  return secure ? '__Host-admit-session' : 'admit-session';
}

function freshSession(): SessionData {
  return { sid: null, csrf: randomToken(), actor: null, partnerOf: [], oidc: null };
}

const rowId = (sid: string): string => createHash('sha256').update(sid).digest('hex');

/** The registry did not answer whether a session holds (restarting, unreachable): a 503, not the visitor's fault. */
export class SessionUncheckedError extends Error {
  override name = 'SessionUncheckedError';
  readonly statusCode = 503;
  constructor(cause: unknown) {
    super('Your session could not be checked just now; try again shortly. Nothing was changed.', { cause });
  }
}

export function registerSessions(app: FastifyInstance, options: SessionOptions): void {
  const keys = (options.secret instanceof Uint8Array ? [options.secret] : options.secret).map(
    (secret) => new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), 'admit session cookie v1', 32)),
  );
  const key = keys[0] as Uint8Array;
  const open = async (cookie: string) => {
    for (const candidate of keys.slice(0, -1)) {
      try {
        return await jwtDecrypt(cookie, candidate, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
      } catch {
        // Sealed with another secret of the ring, perhaps.
      }
    }
    return jwtDecrypt(cookie, keys[keys.length - 1] as Uint8Array, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
  };
  const cookieName = sessionCookieName(options.secure);

  app.decorateRequest('session', null as unknown as Session);
  app.addHook('onRequest', async (request) => {
    const cookie = request.cookies[cookieName];
    // A fresh session is written only once something needs it (a form's CSRF token, a sign-in).
    request.session = { data: freshSession(), changed: false, fresh: true };
    if (cookie === undefined || cookie.length > 8192) return;
    let data: SessionData | undefined;
    try {
      data = (await open(cookie)).payload.session as SessionData | undefined;
    } catch {
      // Expired, tampered with or sealed with another secret: start over.
      return;
    }
    // Only sessions of the current shape are kept; one sealed by an older version starts over.
    if (
      !data ||
      typeof data.csrf !== 'string' ||
      !Array.isArray(data.partnerOf) ||
      !data.partnerOf.every((c) => typeof c?.applicationId === 'string')
    )
      return;
    const privileged = data.actor != null || data.partnerOf.length > 0;
    if (typeof data.sid === 'string') {
      // Privileges hold only while the registry row does: not revoked (sign-out), not expired. A
      // registry that cannot answer fails the request, and its error page leaves the cookie as it came:
      // a fresh session written over it would sign a partner out for good.
      request.session.unchecked = true;
      const row = await options.registry.browserSession.findUnique({ where: { id: rowId(data.sid) } }).catch((cause: unknown) => {
        throw new SessionUncheckedError(cause);
      });
      request.session.unchecked = false;
      if (row !== null && row.revokedAt === null && row.expiresAt.getTime() > Date.now()) request.session = { data, changed: false, fresh: false };
    } else if (!privileged) {
      request.session = { data: { ...data, sid: null }, changed: false, fresh: false };
    }
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const session = request.session;
    if (session?.revoke !== undefined) {
      await options.registry.browserSession.updateMany({ where: { id: rowId(session.revoke), revokedAt: null }, data: { revokedAt: new Date() } });
    }
    if (session?.persist !== undefined) {
      const lifetime = session.persist.signedInAs === null ? ANONYMOUS_SESSION_SECONDS : SIGNED_IN_SESSION_SECONDS;
      await options.registry.browserSession.create({
        data: { id: rowId(session.persist.sid), signedInAs: session.persist.signedInAs, expiresAt: new Date(Date.now() + lifetime * 1000) },
      });
    }
    if (session?.changed && session.unchecked !== true) await writeSessionCookie(reply, session.data, key, cookieName, options.secure);
    return payload;
  });
}

async function writeSessionCookie(reply: FastifyReply, data: SessionData, key: Uint8Array, cookieName: string, secure: boolean): Promise<void> {
  const lifetime = data.actor === null ? ANONYMOUS_SESSION_SECONDS : SIGNED_IN_SESSION_SECONDS;
  const token = await new EncryptJWT({ session: data })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setIssuedAt()
    .setExpirationTime(`${lifetime}s`)
    .encrypt(key);
  reply.setCookie(cookieName, token, {
    path: '/',
    httpOnly: true,
    secure,
    // Lax, not Strict: the OpenID Connect callback arrives as a top-level redirect from the issuer.
    sameSite: 'lax',
    maxAge: lifetime,
  });
}

/** The CSRF token for a form on this page; persists a fresh session so the token survives. */
export function csrfTokenFor(request: FastifyRequest): string {
  request.session.changed ||= request.session.fresh;
  return request.session.data.csrf;
}

export function updateSession(request: FastifyRequest, change: (data: SessionData) => SessionData): void {
  request.session = { ...request.session, data: change(request.session.data), changed: true };
}

/** Remembers that a contact confirmed here, so this browser may act for the application (trust anchor, scopes). */
export function rememberPartnerContact(request: FastifyRequest, contact: PartnerContact): void {
  if (request.session.data.sid === null) {
    // From now on the browser acts for an application: its session becomes revocable.
    const sid = randomToken();
    request.session = { ...request.session, data: { ...request.session.data, sid }, persist: { sid, signedInAs: null } };
  }
  updateSession(request, (data) => ({
    ...data,
    partnerOf: [contact, ...data.partnerOf.filter((c) => c.applicationId !== contact.applicationId || c.role !== contact.role)].slice(
      0,
      MAX_PARTNER_APPLICATIONS,
    ),
  }));
}

/** The contact who confirmed for this application in this browser (the most recent), if any. */
export function partnerContactFor(request: FastifyRequest, applicationId: string): PartnerContact | undefined {
  return request.session.data.partnerOf.find((c) => c.applicationId === applicationId);
}

/** Signing in or out starts a new session (new CSRF token), so a planted session cannot be promoted. */
export function startNewSession(request: FastifyRequest, actor: Actor | null): void {
  const { partnerOf, sid: previous } = request.session.data;
  // The old session ends for good (every copy of its cookie); a new one starts with a new id.
  const sid = actor !== null || partnerOf.length > 0 ? randomToken() : null;
  request.session = {
    data: { ...freshSession(), sid, actor, partnerOf },
    changed: true,
    fresh: false,
    ...(previous === null ? {} : { revoke: previous }),
    ...(sid === null ? {} : { persist: { sid, signedInAs: actor === null ? null : actor.subject } }),
  };
}
