/**
 * Keycloak as the partners' authorization server: one Keycloak client per
 * admitted application, kept in step with Admit's registry through Keycloak's
 * Admin REST API (plain fetch, no admin library).
 *
 * Every operation converges Keycloak to a desired state computed from its
 * input, looking the client up by its `clientId` first, so running it again
 * (a retried activity) leaves the same state and returns the same result.
 */

/** How Admit reaches Keycloak: a confidential client of the realm with a service account. */
export interface KeycloakAdminConfig {
  /** Base URL, e.g. `https://keycloak.example` (no `/realms/...`). */
  url: string;
  /** The realm partner clients live in; the admin client belongs to it too. */
  realm: string;
  clientId: string;
  clientSecret: string;
  /** Per request; Keycloak answering slower than this counts as unavailable (retryable). */
  timeoutMs?: number;
}

/** Why a Keycloak call failed, for the activity layer to map onto retryable or not. */
export class KeycloakError extends Error {
  override name = 'KeycloakError';
  constructor(
    message: string,
    /** `false`: the same request will fail again (a 4xx Keycloak gave for a reason retrying does not change). */
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The client authentication Keycloak enforces, from the kind of verified anchor. */
export type KeycloakClientAuth =
  | {
      kind: 'client-jwt';
      /** The anchor's public keys (only the bound ones): `jwks.string`. */
      jwks?: { keys: Record<string, unknown>[] };
      /** Or where Keycloak fetches them: `jwks.url`. */
      jwksUrl?: string;
      /** `token.endpoint.auth.signing.alg` when the anchor names one. */
      signingAlg?: string;
    }
  | {
      kind: 'client-x509';
      /** RFC 2253 subject DN of the partner's certificate, compared exactly (no regex). */
      subjectDn: string;
    };

/** Everything Admit decides about one Keycloak client. */
export interface KeycloakClientSpec {
  clientId: string;
  /** Shown in Keycloak's console: the application's id. */
  name: string;
  description?: string;
  auth: KeycloakClientAuth;
  /** `dpop`: DPoP-bound tokens (RFC 9449); `mtls`: certificate-bound tokens (RFC 8705). */
  binding: 'dpop' | 'mtls';
  /** The grant's scopes, as default client scopes (created in the realm when missing). */
  scopes: string[];
  /** Access token lifetime, seconds (`access.token.lifespan`). */
  accessTokenLifespanSeconds: number;
  enabled: boolean;
}

export interface KeycloakClientState {
  /** Keycloak's internal id of the client. */
  id: string;
  clientId: string;
  enabled: boolean;
  scopes: string[];
  /** Whether this call created it (false when it already existed: a retry, or a later update). */
  created: boolean;
}

/** Client scopes Keycloak itself needs on a service-account client; never removed. */
const KEPT_SCOPES = new Set(['basic', 'service_account']);
/** Marks the client scopes and clients Admit created, so an operator can tell them apart. */
const MANAGED_ATTRIBUTE = 'admit.managed';

interface ClientRepresentation {
  id?: string;
  clientId: string;
  enabled?: boolean;
  attributes?: Record<string, string>;
  notBefore?: number;
  [key: string]: unknown;
}

interface ClientScopeRepresentation {
  id: string;
  name: string;
}

export class KeycloakAdmin {
  private accessToken: { value: string; expiresAt: number } | undefined;

  constructor(private readonly config: KeycloakAdminConfig) {}

  get issuer(): string {
    return `${this.base()}/realms/${encodeURIComponent(this.config.realm)}`;
  }

  private base(): string {
    return this.config.url.replace(/\/+$/, '');
  }

  private adminPath(suffix: string): string {
    return `${this.base()}/admin/realms/${encodeURIComponent(this.config.realm)}${suffix}`;
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(this.config.timeoutMs ?? 15_000) });
    } catch (error) {
      // Refused connection, DNS, TLS, timeout: Keycloak may be back on the next attempt.
      throw new KeycloakError(`Keycloak at ${this.base()} is unreachable: ${error instanceof Error ? error.message : String(error)}`, true);
    }
  }

  /** The service account's access token (client credentials), cached until shortly before it expires. */
  private async token(): Promise<string> {
    if (this.accessToken !== undefined && this.accessToken.expiresAt > Date.now() + 5_000) return this.accessToken.value;
    const response = await this.send(`${this.issuer}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(this.config.clientId)}:${encodeURIComponent(this.config.clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
    });
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { error?: string };
      // A wrong secret or a disabled admin client stays wrong until an operator fixes the configuration.
      const retryable = response.status >= 500 || response.status === 429;
      throw new KeycloakError(
        `Keycloak refused Admit's admin client ${this.config.clientId} in realm ${this.config.realm} (${response.status}${body.error === undefined ? '' : ` ${body.error}`}); check ADMIT_KEYCLOAK_CLIENT_ID and ADMIT_KEYCLOAK_CLIENT_SECRET.`,
        retryable,
        response.status,
      );
    }
    const body = (await response.json()) as { access_token?: unknown; expires_in?: unknown };
    if (typeof body.access_token !== 'string') throw new KeycloakError('Keycloak answered the token request without an access token.', true);
    const lifetime = typeof body.expires_in === 'number' ? body.expires_in : 60;
    this.accessToken = { value: body.access_token, expiresAt: Date.now() + lifetime * 1000 };
    return body.access_token;
  }

  /**
   * One Admin REST call. 404 resolves to `undefined` (the caller decides what
   * absence means); 5xx, 429 and network failures are retryable; any other
   * 4xx is not, since the same request gets the same answer.
   */
  private async request<T>(
    method: string,
    suffix: string,
    body?: unknown,
  ): Promise<{ status: number; body: T | undefined; location?: string } | undefined> {
    for (let attempt = 0; ; attempt += 1) {
      const headers: Record<string, string> = { authorization: `Bearer ${await this.token()}`, accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await this.send(this.adminPath(suffix), { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      if (response.status === 401 && attempt === 0) {
        // The cached token expired early (or Keycloak restarted): fetch a fresh one once.
        this.accessToken = undefined;
        continue;
      }
      if (response.status === 404) return undefined;
      const text = await response.text();
      if (!response.ok) {
        let detail = '';
        try {
          const parsed = JSON.parse(text) as { errorMessage?: string; error?: string; error_description?: string };
          detail = parsed.errorMessage ?? parsed.error_description ?? parsed.error ?? '';
        } catch {
          detail = '';
        }
        throw new KeycloakError(
          `Keycloak answered ${method} ${suffix} with ${response.status}${detail === '' ? '' : `: ${detail}`}`,
          response.status >= 500 || response.status === 429 || response.status === 409,
          response.status,
        );
      }
      const location = response.headers.get('location') ?? undefined;
      return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as T), ...(location === undefined ? {} : { location }) };
    }
  }

  async findClient(clientId: string): Promise<ClientRepresentation | undefined> {
    const found = await this.request<ClientRepresentation[]>('GET', `/clients?clientId=${encodeURIComponent(clientId)}&search=false`);
    // `clientId=` is an exact match without `search=true`; check anyway.
    return found?.body?.find((client) => client.clientId === clientId);
  }

  private async clientScopes(): Promise<ClientScopeRepresentation[]> {
    return (await this.request<ClientScopeRepresentation[]>('GET', '/client-scopes'))?.body ?? [];
  }

  /** The realm's client scope of each name, creating the missing ones (OIDC, in the token's `scope`, no consent). */
  private async ensureClientScopes(names: string[]): Promise<Map<string, string>> {
    let existing = await this.clientScopes();
    const missing = names.filter((name) => !existing.some((scope) => scope.name === name));
    for (const name of missing) {
      try {
        await this.request('POST', '/client-scopes', {
          name,
          description: `API scope ${name}, granted by Admit`,
          protocol: 'openid-connect',
          attributes: { 'include.in.token.scope': 'true', 'display.on.consent.screen': 'false', [MANAGED_ATTRIBUTE]: 'true' },
        });
      } catch (error) {
        // Created meanwhile by a concurrent attempt: the lookup below finds it.
        if (!(error instanceof KeycloakError && error.status === 409)) throw error;
      }
    }
    if (missing.length > 0) existing = await this.clientScopes();
    const ids = new Map<string, string>();
    for (const name of names) {
      const scope = existing.find((s) => s.name === name);
      if (scope === undefined) throw new KeycloakError(`Keycloak did not keep the client scope ${name}.`, true);
      ids.set(name, scope.id);
    }
    return ids;
  }

  private representation(spec: KeycloakClientSpec, current?: ClientRepresentation): ClientRepresentation {
    const attributes: Record<string, string> = {
      ...(current?.attributes ?? {}),
      [MANAGED_ATTRIBUTE]: 'true',
      'access.token.lifespan': String(spec.accessTokenLifespanSeconds),
      'dpop.bound.access.tokens': String(spec.binding === 'dpop'),
      'tls.client.certificate.bound.access.tokens': String(spec.binding === 'mtls'),
      // Service accounts do not need refresh tokens: each token is short-lived and requested anew.
      'client_credentials.use_refresh_token': 'false',
    };
    for (const key of [
      'use.jwks.string',
      'jwks.string',
      'use.jwks.url',
      'jwks.url',
      'token.endpoint.auth.signing.alg',
      'x509.subjectdn',
      'x509.allow.regex.pattern.comparison',
    ]) {
      delete attributes[key];
    }
    let clientAuthenticatorType: string;
    if (spec.auth.kind === 'client-jwt') {
      clientAuthenticatorType = 'client-jwt';
      if (spec.auth.jwks !== undefined) {
        attributes['use.jwks.string'] = 'true';
        attributes['jwks.string'] = JSON.stringify(spec.auth.jwks);
        attributes['use.jwks.url'] = 'false';
      } else if (spec.auth.jwksUrl !== undefined) {
        attributes['use.jwks.url'] = 'true';
        attributes['jwks.url'] = spec.auth.jwksUrl;
        attributes['use.jwks.string'] = 'false';
      } else {
        throw new KeycloakError('A client-jwt client needs the partner keys (a JWKS or its URL).', false);
      }
      if (spec.auth.signingAlg !== undefined) attributes['token.endpoint.auth.signing.alg'] = spec.auth.signingAlg;
    } else {
      clientAuthenticatorType = 'client-x509';
      attributes['x509.subjectdn'] = spec.auth.subjectDn;
      attributes['x509.allow.regex.pattern.comparison'] = 'false';
    }
    return {
      ...(current ?? {}),
      clientId: spec.clientId,
      name: spec.name,
      description: spec.description ?? '',
      enabled: spec.enabled,
      protocol: 'openid-connect',
      publicClient: false,
      bearerOnly: false,
      clientAuthenticatorType,
      serviceAccountsEnabled: true,
      standardFlowEnabled: false,
      implicitFlowEnabled: false,
      directAccessGrantsEnabled: false,
      // Only the scopes granted: no realm-default profile/email/roles in a machine's token.
      fullScopeAllowed: false,
      redirectUris: [],
      webOrigins: [],
      attributes,
    };
  }

  /**
   * Creates the client or brings it to `spec`: authenticator and keys or
   * subject, token binding, lifetime, enabled, and exactly the granted scopes
   * as default client scopes.
   */
  async upsertClient(spec: KeycloakClientSpec): Promise<KeycloakClientState> {
    const scopeIds = await this.ensureClientScopes(spec.scopes);
    let current = await this.findClient(spec.clientId);
    let created = false;
    if (current === undefined) {
      try {
        await this.request('POST', '/clients', {
          ...this.representation(spec),
          defaultClientScopes: ['basic', ...spec.scopes],
          optionalClientScopes: [],
        });
        created = true;
      } catch (error) {
        // Another attempt created it between our lookup and this POST: update that one.
        if (!(error instanceof KeycloakError && error.status === 409)) throw error;
      }
      current = await this.findClient(spec.clientId);
      if (current?.id === undefined) throw new KeycloakError(`Keycloak did not keep the client ${spec.clientId}.`, true);
    }
    const id = current.id;
    if (id === undefined) throw new KeycloakError(`Keycloak's client ${spec.clientId} has no id.`, true);
    if (!created) await this.request('PUT', `/clients/${id}`, this.representation(spec, current));

    // Scopes: exactly the grant's (plus what Keycloak needs), as defaults; none optional.
    const defaults = (await this.request<ClientScopeRepresentation[]>('GET', `/clients/${id}/default-client-scopes`))?.body ?? [];
    const optional = (await this.request<ClientScopeRepresentation[]>('GET', `/clients/${id}/optional-client-scopes`))?.body ?? [];
    for (const scope of optional) await this.request('DELETE', `/clients/${id}/optional-client-scopes/${scope.id}`);
    for (const scope of defaults) {
      if (!KEPT_SCOPES.has(scope.name) && !spec.scopes.includes(scope.name))
        await this.request('DELETE', `/clients/${id}/default-client-scopes/${scope.id}`);
    }
    for (const [name, scopeId] of scopeIds) {
      if (!defaults.some((scope) => scope.name === name)) await this.request('PUT', `/clients/${id}/default-client-scopes/${scopeId}`);
    }
    const assigned = (await this.request<ClientScopeRepresentation[]>('GET', `/clients/${id}/default-client-scopes`))?.body ?? [];
    return {
      id,
      clientId: spec.clientId,
      enabled: spec.enabled,
      scopes: assigned
        .map((scope) => scope.name)
        .filter((name) => !KEPT_SCOPES.has(name))
        .sort(),
      created,
    };
  }

  /**
   * Makes every token issued to the client so far invalid at Keycloak: sets
   * the client's not-before to now (introspection then answers inactive for
   * older tokens), pushes it to the client's admin URL if it has one, and
   * ends the sessions of its service account. Returns false when the client
   * does not exist (nothing to revoke).
   */
  async revokeClientTokens(clientId: string, now: Date = new Date()): Promise<boolean> {
    const current = await this.findClient(clientId);
    if (current?.id === undefined) return false;
    const notBefore = Math.floor(now.getTime() / 1000);
    // Never move not-before backwards: a retry with an older `now` keeps the later cut.
    if ((current.notBefore ?? 0) < notBefore) await this.request('PUT', `/clients/${current.id}`, { ...current, notBefore });
    if (typeof current.adminUrl === 'string' && current.adminUrl !== '') {
      await this.request('POST', `/clients/${current.id}/push-revocation`);
    }
    const serviceAccount = await this.request<{ id: string }>('GET', `/clients/${current.id}/service-account-user`);
    if (serviceAccount?.body?.id !== undefined) await this.request('POST', `/users/${serviceAccount.body.id}/logout`);
    const sessions = (await this.request<{ id: string }[]>('GET', `/clients/${current.id}/user-sessions`))?.body ?? [];
    for (const session of sessions) await this.request('DELETE', `/sessions/${session.id}`);
    return true;
  }

  /** Turns the client off (no new tokens), leaving it in place for reinstatement. */
  async setEnabled(clientId: string, enabled: boolean): Promise<boolean> {
    const current = await this.findClient(clientId);
    if (current?.id === undefined) return false;
    if (current.enabled !== enabled) await this.request('PUT', `/clients/${current.id}`, { ...current, enabled });
    return true;
  }

  /** Deletes the client; false when it was already gone. */
  async deleteClient(clientId: string): Promise<boolean> {
    const current = await this.findClient(clientId);
    if (current?.id === undefined) return false;
    await this.request('DELETE', `/clients/${current.id}`);
    return true;
  }
}
