import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, type Registry } from '../../registry/client';
import { RegistryAdapter } from '../../oauth/adapter';
import { createTestDatabase } from '../support/stack';

let registry: Registry;
beforeAll(async () => {
  registry = createRegistry(await createTestDatabase());
});
afterAll(async () => registry.$disconnect());

describe('the authorization server’s storage in the registry', () => {
  it('round-trips every field of oauth_artifacts through the generated client (the migration matches the schema)', async () => {
    const row = await registry.oAuthArtifact.create({
      data: {
        model: 'ClientCredentials',
        id: 'tok-1',
        payload: { jti: 'tok-1', clientId: 'c' },
        clientId: 'c',
        expiresAt: new Date('2030-01-01T00:00:00.123Z'),
        consumedAt: new Date('2029-01-01T00:00:00Z'),
      },
    });
    expect(await registry.oAuthArtifact.findUniqueOrThrow({ where: { model_id: { model: 'ClientCredentials', id: 'tok-1' } } })).toEqual(row);
  });

  it('records a jti once: a second insert while the first is unexpired fails', async () => {
    const replay = new RegistryAdapter('ReplayDetection', registry, { gatewayTokens: [] });
    await replay.upsert('jti-1', { jti: 'jti-1', iss: 'x' }, 60);
    expect(await replay.find('jti-1')).toMatchObject({ jti: 'jti-1' });
    await expect(replay.upsert('jti-1', { jti: 'jti-1', iss: 'x' }, 60)).rejects.toMatchObject({
      error: 'invalid_request',
      error_description: expect.stringMatching(/already used/),
    });
    // An expired entry may be recorded again.
    await replay.upsert('jti-2', { jti: 'jti-2', iss: 'x' }, 0.001);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await replay.find('jti-2')).toBeUndefined();
    await replay.upsert('jti-2', { jti: 'jti-2', iss: 'x' }, 60);
  });

  it('answers a token only while its client’s credential is active and the application admitted', async () => {
    const tokens = new RegistryAdapter('ClientCredentials', registry, { gatewayTokens: [] });
    await tokens.upsert('orphan', { jti: 'orphan', clientId: 'admit-nobody' }, 60);
    expect(await tokens.find('orphan')).toBeUndefined();
    const clients = new RegistryAdapter('Client', registry, { gatewayTokens: [] });
    expect(await clients.find('admit-nobody')).toBeUndefined();
    await expect(clients.upsert('admit-x', { client_id: 'admit-x' }, 0)).rejects.toThrow(/registry/);
  });
});
