import { randomBytes, randomUUID } from 'node:crypto';
import type { KeycloakServer } from '../../stack/keycloak';

/**
 * Setting up a realm in a real Keycloak for a test, as an operator would with
 * the admin console: through the Admin REST API as the master realm's
 * bootstrap administrator.
 */
export class KeycloakOperator {
  private token: { value: string; expiresAt: number } | undefined;

  constructor(readonly server: KeycloakServer) {}

  private async accessToken(): Promise<string> {
    if (this.token !== undefined && this.token.expiresAt > Date.now() + 5_000) return this.token.value;
    const response = await fetch(`${this.server.url}/realms/master/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'admin-cli',
        username: this.server.admin.username,
        password: this.server.admin.password,
      }),
    });
    if (!response.ok) throw new Error(`master admin sign-in: ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { access_token: string; expires_in: number };
    this.token = { value: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
    return body.access_token;
  }

  async admin<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; location: string | null }> {
    const response = await fetch(`${this.server.url}/admin/realms${path}`, {
      method,
      headers: { authorization: `Bearer ${await this.accessToken()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok && response.status !== 404) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T, location: response.headers.get('location') };
  }

  /** A fresh realm (random name), returned with its issuer. */
  async createRealm(settings: Record<string, unknown> = {}): Promise<{ realm: string; issuer: string }> {
    const realm = `admit-${randomUUID().slice(0, 8)}`;
    await this.admin('POST', '', { realm, enabled: true, ...settings });
    return { realm, issuer: `${this.server.url}/realms/${realm}` };
  }

  async clientByClientId(realm: string, clientId: string): Promise<Record<string, unknown> & { id: string }> {
    const { body } = await this.admin<(Record<string, unknown> & { id: string })[]>(
      'GET',
      `/${realm}/clients?clientId=${encodeURIComponent(clientId)}`,
    );
    const client = body.find((c) => c.clientId === clientId);
    if (client === undefined) throw new Error(`no client ${clientId} in ${realm}`);
    return client;
  }

  /**
   * Admit's admin client in `realm`: confidential, service account only, with
   * the realm-management roles docs/keycloak.md asks for, and nothing more.
   */
  async createProvisionerClient(realm: string): Promise<{ clientId: string; clientSecret: string }> {
    const clientId = 'admit-provisioner';
    const clientSecret = randomBytes(24).toString('base64url');
    await this.admin('POST', `/${realm}/clients`, {
      clientId,
      secret: clientSecret,
      publicClient: false,
      clientAuthenticatorType: 'client-secret',
      serviceAccountsEnabled: true,
      standardFlowEnabled: false,
      directAccessGrantsEnabled: false,
    });
    const client = await this.clientByClientId(realm, clientId);
    const { body: user } = await this.admin<{ id: string }>('GET', `/${realm}/clients/${client.id}/service-account-user`);
    const management = await this.clientByClientId(realm, 'realm-management');
    const { body: roles } = await this.admin<{ id: string; name: string }[]>('GET', `/${realm}/clients/${management.id}/roles`);
    const wanted = roles.filter((role) => ['manage-clients', 'view-clients', 'manage-users', 'view-users'].includes(role.name));
    await this.admin('POST', `/${realm}/users/${user.id}/role-mappings/clients/${management.id}`, wanted);
    return { clientId, clientSecret };
  }
}
