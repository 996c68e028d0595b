import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig, REPO_ROOT } from '../../config/env';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

interface Service {
  image?: string;
  build?: string;
  command?: string[] | string;
  environment?: Record<string, string | number>;
}

const compose = parse(await readFile(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const admitServices = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);

/** What compose would substitute for the operator's secrets (`${VAR:?message}`) when they are set. */
function resolved(environment: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([k, v]) => [
      k,
      String(v)
        .replace(/\$\{ADMIT_(PAYLOAD_KEY|LINK_SECRET|SESSION_SECRET|OAUTH_SIGNING_KEY|EVIDENCE_KEYS)[^}]*\}/, Buffer.alloc(32, 7).toString('base64'))
        .replace(/\$\{ADMIT_OIDC_ISSUER[^}]*\}/, 'https://idp.example.com/realms/admit'),
    ]),
  );
}

describe('docker-compose.yml', () => {
  it('has the multi-service shape: Temporal on PostgreSQL, its UI, the registry, SMTP, worker, web, migrations', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'admit-migrate',
        'admit-web',
        'admit-worker',
        'mailpit',
        'registry-postgresql',
        'temporal',
        'temporal-postgresql',
        'temporal-search-attributes',
        'temporal-ui',
      ].sort(),
    );
    expect(compose.services.temporal?.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'temporal-postgresql' });
  });

  it('configures Admit’s services only with variables Admit reads, and they validate', () => {
    expect(admitServices.map(([name]) => name).sort()).toEqual(['admit-migrate', 'admit-web', 'admit-worker']);
    for (const [name, service] of admitServices) {
      const env = resolved(service.environment ?? {});
      const unknown = Object.keys(env).filter((k) => !CONFIG_VARIABLES.includes(k));
      expect(unknown, `${name} sets variables Admit does not read`).toEqual([]);
      const config = loadConfig(env);
      expect(config.NODE_ENV).toBe('production');
      for (const [variable, url] of [
        ['DATABASE_URL', config.DATABASE_URL],
        ['SMTP_URL', config.SMTP_URL],
        ['TEMPORAL_ADDRESS', config.TEMPORAL_ADDRESS && `tcp://${config.TEMPORAL_ADDRESS}`],
      ] as const) {
        expect(url, `${name}: ${variable}`).toBeDefined();
        const host = new URL(url as string).hostname;
        expect(Object.keys(compose.services), `${name}: ${variable} names service ${host}`).toContain(host);
      }
    }
  });

  it('runs compiled entry points (`node dist/…`) whose sources the build compiles', async () => {
    const build = JSON.parse((await readFile(path.join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')).replace(/^\s*\/\/.*$/gm, '')) as {
      files: string[];
    };
    for (const [name, service] of admitServices) {
      const command = Array.isArray(service.command) ? service.command : [];
      expect(command[0], name).toBe('node');
      const entry = command[1] ?? '';
      expect(entry, name).toMatch(/^dist\/.+\.js$/);
      const source = entry.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      expect(build.files, `${name}: tsconfig.build.json compiles ${source}`).toContain(source);
      await expect(readFile(path.join(REPO_ROOT, source))).resolves.toBeInstanceOf(Buffer);
    }
  });

  it('registers the search attributes the workflow sets', () => {
    const command = String(compose.services['temporal-search-attributes']?.command);
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) expect(command).toContain(`--name ${name} --type ${type}`);
  });

  it('pins the Temporal server the dev server embeds (CLI 1.5.1 = server 1.29.1)', () => {
    expect(compose.services.temporal?.image).toBe('temporalio/auto-setup:1.29.1');
  });
});
