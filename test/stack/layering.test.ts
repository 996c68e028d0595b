import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../../config/env';

/**
 * Production never loads development code: stack/ (embedded services, the
 * development identity provider and approvers, the SMTP sink), test/ and
 * bench/. Lint refuses such imports folder by folder (eslint.config.js); this
 * checks the outcome on the real import graph, as esbuild (which tsx runs the
 * sources through) resolves it, so a chain through any folder is caught too.
 */
const DEVELOPMENT_CODE = /^(stack|test|bench)\//;
/** The processes a deployment runs. */
const PRODUCTION_ENTRY_POINTS = ['web/main.ts', 'worker/main.ts', 'cli/admit.ts', 'registry/migrate-main.ts'];
/** Loaded as soon as the importing module is, whatever NODE_ENV says; import() is not. */
const STATIC_KINDS = new Set<string>(['import-statement', 'require-call']);

const { metafile } = await build({
  entryPoints: [...PRODUCTION_ENTRY_POINTS, 'stack/start.ts'],
  absWorkingDir: REPO_ROOT,
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  outdir: 'layering-graph',
  write: false,
  metafile: true,
  logLevel: 'silent',
});

/** Every project file `entry` loads through static imports, each with the import chain that reaches it. */
function staticallyLoaded(graph: Metafile, entry: string): Map<string, string[]> {
  const chains = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const edge of graph.inputs[file]?.imports ?? []) {
      if (edge.external === true || !STATIC_KINDS.has(edge.kind) || chains.has(edge.path)) continue;
      chains.set(edge.path, [...(chains.get(file) ?? []), edge.path]);
      queue.push(edge.path);
    }
  }
  return chains;
}

const developmentCodeLoadedBy = (entry: string): string[] =>
  [...staticallyLoaded(metafile, entry)].filter(([file]) => DEVELOPMENT_CODE.test(file)).map(([, chain]) => chain.join(' → '));

describe('production loads no development code', () => {
  it.each(PRODUCTION_ENTRY_POINTS)('%s imports nothing under stack/, test/ or bench/, directly or through another module', (entry) => {
    expect(metafile.inputs[entry]).toBeDefined();
    expect(developmentCodeLoadedBy(entry)).toEqual([]);
  });

  it('sees development code that is imported statically (npm start imports the sink and the seed)', () => {
    // Without this, an analysis that found nothing at all would pass the test above.
    expect(developmentCodeLoadedBy('stack/start.ts')).toEqual(
      expect.arrayContaining(['stack/start.ts → stack/smtp-sink.ts', 'stack/start.ts → stack/dev-approvers.ts']),
    );
  });

  it('reaches the development identity provider from the web only by a dynamic import in web/app.ts', () => {
    const intoStack = Object.entries(metafile.inputs).flatMap(([file, input]) =>
      DEVELOPMENT_CODE.test(file)
        ? []
        : input.imports.filter((edge) => DEVELOPMENT_CODE.test(edge.path)).map((edge) => `${file} ${edge.kind} ${edge.path}`),
    );
    expect(intoStack.sort()).toEqual(['web/app.ts dynamic-import stack/dev-approvers.ts', 'web/app.ts dynamic-import stack/dev-idp.ts']);
  });

  it('in production the web service loads nothing under stack/; in development only the identity provider and its accounts', async () => {
    // A process of its own, as web/main.ts runs: what it really loads, dynamic imports included.
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test/fixtures/web-load-trace.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_ENV: 'production', DATABASE_URL: inject('postgresAdminUrl') },
      timeout: 60_000,
    });
    const loaded = JSON.parse(stdout) as { production: string[]; development: string[] };
    expect(loaded.production).toContain('web/app.ts');
    expect(loaded.production.filter((file) => DEVELOPMENT_CODE.test(file))).toEqual([]);
    expect(loaded.development.filter((file) => DEVELOPMENT_CODE.test(file))).toEqual(['stack/dev-approvers.ts', 'stack/dev-idp.ts']);
  });
});
