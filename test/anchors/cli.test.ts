import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueChallenge } from '../../anchors/index';
import { main } from '../../cli/admit';
import { AT, hierarchy, jwtKey, makeCert, signJwt } from './fixtures/index';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'admit-cli-'));
const file = (name: string, content: string | Buffer) => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

let certs: { leaf: string; chain: string; root: string };
beforeAll(async () => {
  const h = await hierarchy();
  certs = { leaf: file('leaf.pem', h.leaf.pem), chain: file('chain.pem', h.leaf.pem + h.intermediate.pem), root: file('root.pem', h.root.pem) };
});

describe('admit anchor verify --kind x509', () => {
  it('exit 0 with the JSON contract for an accepted chain', async () => {
    const r = await run('anchor', 'verify', '--kind', 'x509', '--json', '--cert', certs.chain, '--trust-store', certs.root, '--at', AT.toISOString());
    expect(r.code).toBe(0);
    const body = JSON.parse(r.out) as Record<string, unknown>;
    expect(body).toMatchObject({ ok: true, kind: 'x509', reasons: [] });
    expect(body.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('exit 1 with reason codes for a refusal; intermediates may come from --intermediates', async () => {
    const inter = file('inter.pem', (await hierarchy()).intermediate.pem);
    const r = await run(
      'anchor',
      'verify',
      '--kind',
      'x509',
      '--json',
      '--cert',
      certs.leaf,
      '--intermediates',
      inter,
      '--trust-store',
      certs.root,
      '--dns-name',
      'other.example',
      '--at',
      AT.toISOString(),
    );
    expect(r.code).toBe(1);
    expect((JSON.parse(r.out) as { reasons: { code: string }[] }).reasons[0]?.code).toBe('CERT_NAME_MISMATCH');
  });

  it('validates as of --at: the same chain is expired ten years later', async () => {
    const r = await run(
      'anchor',
      'verify',
      '--kind',
      'x509',
      '--json',
      '--cert',
      certs.chain,
      '--trust-store',
      certs.root,
      '--at',
      '2036-01-01T00:00:00Z',
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain('CERT_EXPIRED');
  });

  it('human output without --json', async () => {
    const r = await run('anchor', 'verify', '--kind', 'x509', '--cert', certs.chain, '--trust-store', certs.root, '--at', AT.toISOString());
    expect(r.out).toMatch(/^ACCEPTED x509 sha256:/);
  });

  it.each([
    [['anchor', 'verify']],
    [['anchor', 'verify', '--kind', 'pgp']],
    [['anchor', 'verify', '--kind', 'x509', '--cert', '/nonexistent/file', '--trust-store', '/nonexistent/root']],
    [['anchor', 'verify', '--kind', 'x509', '--unknown-flag']],
    [['anchor', 'verify', '--kind', 'x509', '--cert', 'a']],
    [['anchor', 'verify', '--kind', 'x509', '--cert', 'x', '--trust-store', 'y', '--eku', 'codeSigning']],
    [['anchor', 'verify', '--kind', 'x509', '--cert', 'x', '--trust-store', 'y', '--max-depth', '-1']],
    [['anchor', 'verify', '--kind', 'x509', '--cert', 'x', '--trust-store', 'y', '--at', 'yesterday']],
    [['anchor', 'verify', '--kind', 'jwk', '--assertion', 'a', '--challenge', 'c', '--audience', 'x']],
    [['nonsense']],
  ])('exit 2 for bad usage: %j', async (argv) => {
    expect((await run(...argv)).code).toBe(2);
  });

  it('a garbage trust store is the operator problem: exit 2', async () => {
    const r = await run('anchor', 'verify', '--kind', 'x509', '--cert', certs.chain, '--trust-store', file('bad-root.pem', 'garbage'));
    expect(r.code).toBe(2);
  });

  it('garbage and oversized material never crash: exit 1 (refused) or 2 (unreadable)', async () => {
    for (const size of [0, 1, 7, 64, 1000, 65_536, 1024 * 1024 + 1]) {
      const g = file(`garbage-${size}`, randomBytes(size));
      for (const argv of [
        ['--kind', 'x509', '--cert', g, '--trust-store', certs.root],
        ['--kind', 'x509', '--cert', certs.chain, '--trust-store', certs.root, '--crl', g],
        ['--kind', 'x509', '--cert', certs.chain, '--trust-store', certs.root, '--ocsp', g],
        ['--kind', 'jwk', '--jwks', g, '--assertion', g, '--challenge', g, '--audience', 'a'],
        ['--kind', 'spiffe', '--bundle', g, '--spiffe-id', 'spiffe://td/x', '--cert', g],
        ['--kind', 'oidc', '--jwks', g, '--assertion', g, '--issuer', 'https://i', '--subject', 's', '--audience', 'a'],
      ]) {
        const r = await run('anchor', 'verify', '--json', ...argv);
        expect([1, 2]).toContain(r.code);
      }
    }
  }, 60_000);
});

describe('admit anchor verify --kind jwk|spiffe|oidc', () => {
  it('verifies a proof of possession over a challenge', async () => {
    const key = await jwtKey('EdDSA');
    const challenge = issueChallenge({ audience: 'https://admit.example', ttlSeconds: 600 });
    const now = Math.floor(Date.now() / 1000);
    const token = await signJwt(key, { iss: 'p1', sub: 'p1', aud: challenge.audience, iat: now, exp: now + 120, jti: 'j1', nonce: challenge.nonce });
    const args = [
      'anchor',
      'verify',
      '--kind',
      'jwk',
      '--json',
      '--jwks',
      file('jwks.json', JSON.stringify({ keys: [key.publicJwk] })),
      '--assertion',
      file('a.jwt', token),
      '--challenge',
      file('c.json', JSON.stringify(challenge)),
      '--audience',
      challenge.audience,
    ];
    const ok = await run(...args);
    expect(ok.code).toBe(0);
    expect((JSON.parse(ok.out) as { fingerprint: string }).fingerprint).toMatch(/^jwk-sha256:/);
    const wrongAud = await run(...args.slice(0, -1), 'https://elsewhere.example');
    expect(wrongAud.code).toBe(1);
    expect(wrongAud.out).toContain('JWT_AUDIENCE_MISMATCH');
  });

  it('verifies an X.509-SVID and an OIDC token with a local JWKS', async () => {
    const ca = await makeCert({ subject: 'CN=SPIFFE CLI CA', ca: true });
    const svid = await makeCert({ subject: 'O=SPIRE', issuer: ca, san: [{ type: 'url', value: 'spiffe://td.example/api' }] });
    const spiffe = await run(
      'anchor',
      'verify',
      '--kind',
      'spiffe',
      '--json',
      '--bundle',
      file('bundle.pem', ca.pem),
      '--spiffe-id',
      'spiffe://td.example/api',
      '--cert',
      file('svid.pem', svid.pem),
      '--at',
      AT.toISOString(),
    );
    expect(spiffe.code).toBe(0);

    const key = await jwtKey('ES256');
    const now = Math.floor(Date.now() / 1000);
    const token = await signJwt(key, { iss: 'https://idp.example', sub: 'wl-1', aud: 'admit', iat: now, exp: now + 300 });
    const oidc = [
      'anchor',
      'verify',
      '--kind',
      'oidc',
      '--json',
      '--issuer',
      'https://idp.example',
      '--subject',
      'wl-1',
      '--audience',
      'admit',
      '--assertion',
      file('o.jwt', token),
      '--jwks',
      file('idp.json', JSON.stringify({ keys: [key.publicJwk] })),
    ];
    expect((await run(...oidc)).code).toBe(0);
    const other = await run(...oidc.map((a) => (a === 'wl-1' ? 'wl-2' : a)));
    expect(other.code).toBe(1);
    expect(other.out).toContain('OIDC_SUBJECT_MISMATCH');
  });
});

describe('npx admit (the real launcher)', () => {
  it('answers a 10 MB garbage file with exit 2, quickly', () => {
    const garbage = file('garbage-10mb', randomBytes(10 * 1024 * 1024));
    const started = Date.now();
    const r = spawnSync(
      process.execPath,
      [path.join(repoRoot, 'bin', 'admit.js'), 'anchor', 'verify', '--kind', 'x509', '--cert', garbage, '--trust-store', garbage, '--json'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('larger than');
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);
});
