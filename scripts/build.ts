// `npm run build`: the production build in dist/ (or the directory given as the first argument,
// inside the repository so that node_modules resolves): the entry points of tsconfig.build.json
// compiled by tsc, relative imports given their `.js` (tsc-alias), the files read at run time
// (stylesheet, migrations) copied beside them, and the workflow bundle prebuilt. The image runs
// `node dist/worker/main.js`, `node dist/web/main.js` and `node dist/registry/migrate-main.js`.
import { spawnSync } from 'node:child_process';
import { cp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { replaceTscAliasPaths } from 'tsc-alias';
import { REPO_ROOT } from '../config/env';
import { BUNDLE_FILE, workflowBundleOptions } from '../worker/bundle';

const outDir = path.resolve(REPO_ROOT, process.argv[2] ?? 'dist');
if (!outDir.startsWith(REPO_ROOT)) throw new Error(`The build must stay inside the repository (${REPO_ROOT}), where node_modules resolves.`);
const started = Date.now();
const configFile = path.join(REPO_ROOT, 'tsconfig.build.json');

await rm(outDir, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', configFile, '--outDir', outDir], { cwd: REPO_ROOT, stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);
await replaceTscAliasPaths({ configFile, outDir, resolveFullPaths: true });
await cp(path.join(REPO_ROOT, 'web/assets'), path.join(outDir, 'web/assets'), { recursive: true });
await cp(path.join(REPO_ROOT, 'prisma/migrations'), path.join(outDir, 'prisma/migrations'), { recursive: true });
const quiet = () => undefined;
const { code } = await bundleWorkflowCode({
  ...workflowBundleOptions(),
  logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: (m) => console.error(m), error: (m) => console.error(m) },
});
await writeFile(path.join(outDir, BUNDLE_FILE), code);
console.error(`build: ${path.relative(REPO_ROOT, outDir)}/ in ${((Date.now() - started) / 1000).toFixed(1)}s`);
