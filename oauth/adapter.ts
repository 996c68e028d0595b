import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Registry } from '../registry/client';
import type { Prisma } from '../generated/prisma/client';
import { clientMetadataFor, type ClientSources } from './clients';

/**
 * oidc-provider's storage over the registry (Prisma).
 *
 * - `Client`: never stored. Every lookup reads the registry: a client exists
 *   only while its credential is ACTIVE and its application ADMITTED
 *   (oauth/clients.ts), so a revocation is seen by the next request.
 * - Tokens (`ClientCredentials`, the opaque client-credentials access token):
 *   rows in `oauth_artifacts`; `find` answers only while the credential the
 *   token was issued to is still ACTIVE and its application ADMITTED — in the
 *   same query, so introspection, revocation and /decisions refuse a token the
 *   moment the closing activity's transaction commits.
 * - `ReplayDetection`: the `jti`s of client assertions and DPoP proofs seen,
 *   kept until they expire; the primary key makes a second insert fail.
 */
export class RegistryAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly registry: Registry,
    private readonly sources: ClientSources,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    if (this.model === 'Client') throw new Error('Clients are the registry’s; they are not written through the authorization server.');
    const expiresAt = Number.isFinite(expiresIn) && expiresIn > 0 ? new Date(Date.now() + expiresIn * 1000) : null;
    const data = { payload: payload as Prisma.InputJsonObject, clientId: payload.clientId ?? null, expiresAt };
    if (this.model === 'ReplayDetection') {
      // Insert only: of two concurrent first uses of one jti, exactly one row is written.
      const inserted = await this.registry.$executeRaw`
        insert into oauth_artifacts (model, id, payload, client_id, expires_at)
        values (${this.model}, ${id}, ${JSON.stringify(payload)}::jsonb, ${data.clientId}, ${expiresAt})
        on conflict (model, id) do update set payload = excluded.payload, expires_at = excluded.expires_at
          where oauth_artifacts.expires_at is not null and oauth_artifacts.expires_at < now()`;
      if (inserted === 0) throw new errors.InvalidRequest('this jti (of a client assertion or DPoP proof) was already used');
      return;
    }
    await this.registry.oAuthArtifact.upsert({
      where: { model_id: { model: this.model, id } },
      create: { model: this.model, id, ...data },
      update: data,
    });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (this.model === 'Client') return clientMetadataFor(this.registry, id, this.sources);
    const row = await this.registry.oAuthArtifact.findUnique({ where: { model_id: { model: this.model, id } } });
    if (row === null) return undefined;
    if (row.expiresAt !== null && row.expiresAt.getTime() <= Date.now()) return undefined;
    if (row.clientId !== null && this.model !== 'ReplayDetection') {
      const live = await this.registry.clientCredential.count({
        where: { clientId: row.clientId, status: 'ACTIVE', application: { status: 'ADMITTED' } },
      });
      if (live === 0) return undefined;
    }
    const payload = row.payload as AdapterPayload;
    return row.consumedAt === null ? payload : { ...payload, consumed: Math.floor(row.consumedAt.getTime() / 1000) };
  }

  async findByUserCode(): Promise<undefined> {
    return undefined;
  }

  async findByUid(): Promise<undefined> {
    return undefined;
  }

  async consume(id: string): Promise<void> {
    await this.registry.oAuthArtifact.updateMany({ where: { model: this.model, id }, data: { consumedAt: new Date() } });
  }

  async destroy(id: string): Promise<void> {
    await this.registry.oAuthArtifact.deleteMany({ where: { model: this.model, id } });
  }

  async revokeByGrantId(): Promise<void> {
    // Only client-credentials tokens are issued: they belong to no grant.
  }
}

/** Tokens issued to a client: deleted when the registry revokes it (used by tests and the bench to count). */
export async function outstandingTokens(registry: Registry, clientId: string): Promise<number> {
  return registry.oAuthArtifact.count({
    where: { model: 'ClientCredentials', clientId, OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }] },
  });
}
