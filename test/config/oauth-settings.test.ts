import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig, SECRET_VARIABLES } from '../../config/env';
import { accessTokenSigningSeed } from '../../oauth';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

describe('authorization server settings', () => {
  it('default to one opaque API under the public URL, the mTLS port 3443 and 60-second assertions', () => {
    const config = loadConfig({ ADMIT_PUBLIC_URL: 'https://admit.example.com' });
    expect(config.resourceServers).toEqual([{ uri: 'https://admit.example.com/api', format: 'opaque' }]);
    expect(config.mtlsUrl).toBe('https://localhost:3443');
    expect(config.ADMIT_OAUTH_ASSERTION_MAX_AGE).toBe(60);
  });

  it('parse the resource catalogue as uri=format pairs', () => {
    expect(loadConfig({ ADMIT_OAUTH_RESOURCES: 'https://a.example/api=jwt, urn:example:ledger=opaque' }).resourceServers).toEqual([
      { uri: 'https://a.example/api', format: 'jwt' },
      { uri: 'urn:example:ledger', format: 'opaque' },
    ]);
  });

  it.each([
    ['https://a.example/api', /entry 1 must be/],
    ['https://a.example/api#x=jwt', /entry 1 must be/],
    ['not a uri=jwt', /entry 1 must be/],
    ['https://a.example/api=paseto', /format of https:\/\/a.example\/api must be jwt or opaque/],
    ['https://a.example/api=jwt,https://a.example/api=opaque', /listed twice/],
  ])('refuse %s', (value, message) => {
    expect(() => loadConfig({ ADMIT_OAUTH_RESOURCES: value })).toThrow(message);
  });

  it('refuse a certificate without its key, a short signing key, and a missing signing key in production', () => {
    expect(() => loadConfig({ ADMIT_OAUTH_TLS_CERT: '/tmp/cert.pem' })).toThrow(/give both/);
    expect(() => loadConfig({ ADMIT_OAUTH_SIGNING_KEY: Buffer.alloc(16).toString('base64') })).toThrow(/32 random bytes/);
    expect(() => loadConfig({ ADMIT_OAUTH_ASSERTION_MAX_AGE: '3600' })).toThrow(/ADMIT_OAUTH_ASSERTION_MAX_AGE/);
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        ADMIT_PAYLOAD_KEY: Buffer.alloc(32).toString('base64'),
        ADMIT_LINK_SECRET: Buffer.alloc(32).toString('base64'),
      }),
    ).toThrow(/ADMIT_OAUTH_SIGNING_KEY: required in production/);
  });

  it('keep the signing key secret, and generate it once outside production', async () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(SECRET_VARIABLES).toContain('ADMIT_OAUTH_SIGNING_KEY');
    expect(describeConfig(loadConfig({ ADMIT_OAUTH_SIGNING_KEY: key })).ADMIT_OAUTH_SIGNING_KEY).toBe('***');
    const dir = await mkdtemp(path.join(tmpdir(), 'admit-oauth-key-'));
    const config = loadConfig({ ADMIT_DATA_DIR: dir });
    const first = await accessTokenSigningSeed(config);
    expect(first).toHaveLength(32);
    expect(await accessTokenSigningSeed(config)).toEqual(first);
  });
});
