import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, REPO_ROOT } from '../../config/env';

const readme = await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('documents exactly the environment variables config/env.ts reads', () => {
    const table = readme.split('<!-- config-table:start -->')[1]?.split('<!-- config-table:end -->')[0] ?? '';
    const documented = [...table.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('gives the two-command quick start that .ci/run runs', async () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
    expect(await readFile(path.join(REPO_ROOT, '.ci/run'), 'utf8')).toMatch(/^npm ci && npm test$/m);
  });
});
