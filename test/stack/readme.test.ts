import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, REPO_ROOT } from '../../config/env';

const readme = await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');
const configuration = await readFile(path.join(REPO_ROOT, 'docs/configuration.md'), 'utf8');

describe('README and docs/', () => {
  it('documents exactly the environment variables config/env.ts reads (docs/configuration.md)', () => {
    const parts = configuration.split('<!-- config-table:start -->');
    expect(parts).toHaveLength(2);
    const table = parts[1]?.split('<!-- config-table:end -->')[0] ?? '';
    const documented = [...table.matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('gives the two-command quick start that .ci/run runs', async () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
    expect(await readFile(path.join(REPO_ROOT, '.ci/run'), 'utf8')).toMatch(/^npm ci && npm test$/m);
  });

  it('states the Node.js version package.json requires', async () => {
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    const major = /^>=(\d+)$/.exec(pkg.engines.node)?.[1];
    expect(major).toBeDefined();
    expect(readme).toContain(`Node.js ${major}+`);
    expect(await readFile(path.join(REPO_ROOT, 'Dockerfile'), 'utf8')).toMatch(new RegExp(`^FROM node:${major}-`, 'm'));
    expect(await readFile(path.join(REPO_ROOT, '.ci/run'), 'utf8')).toMatch(new RegExp(`^NODE_VERSION=${major}\\.\\d+\\.\\d+$`, 'm'));
  });

  it('links every page of docs/ from the README, and every link there resolves', async () => {
    const pages = (await readdir(path.join(REPO_ROOT, 'docs'))).filter((f) => f.endsWith('.md'));
    expect(pages.length).toBeGreaterThan(0);
    for (const page of pages) expect(readme, `README links docs/${page}`).toContain(`](docs/${page})`);
    for (const file of ['README.md', ...pages.map((p) => `docs/${p}`)]) {
      const text = await readFile(path.join(REPO_ROOT, file), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (target === undefined || /^[a-z]+:/.test(target)) continue;
        const resolved = path.join(REPO_ROOT, path.dirname(file), target);
        await expect(readFile(resolved), `${file} links ${target}`).resolves.toBeDefined();
      }
    }
  });
});
