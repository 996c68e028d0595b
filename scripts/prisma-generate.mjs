// Generates the Prisma client offline. Prisma 7's client needs no engine
// binary, but the CLI insists that a schema engine path exists before it
// generates; any existing file satisfies it where the engine cannot be
// downloaded (the real one is used when present).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = fileURLToPath(import.meta.url);
}
const result = spawnSync('npx', ['--no-install', 'prisma', 'generate'], { stdio: ['ignore', 'pipe', 'pipe'], env });
if (result.status !== 0) {
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exit(result.status ?? 1);
}
