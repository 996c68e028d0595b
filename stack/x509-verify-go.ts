import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isExecutable, onPath, userCacheDir } from './executables';

/**
 * The Go second verifier of the corpus comparison (stack/x509-verify-go, standard library only): built
 * once with the machine's `go` into the per-user cache, like the Temporal CLI, under a name that
 * changes with its source, so an edited program is rebuilt. Development only.
 */
const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL('./x509-verify-go/', import.meta.url));

export async function ensureGoX509Verifier(log: (message: string) => void = (m) => console.error(m)): Promise<string> {
  const digest = createHash('sha256');
  for (const file of ['go.mod', 'main.go']) digest.update(await readFile(path.join(SOURCE, file)));
  const binDir = userCacheDir(`x509-verify-go-${digest.digest('hex').slice(0, 12)}`);
  const binary = path.join(binDir, 'x509-verify');
  if (await isExecutable(binary)) return binary;

  const go = await onPath('go');
  if (go === undefined) throw new Error('Go is needed to build the second X.509 verifier (apt-get install golang-go; .ci/run installs it).');
  log(`Building the Go X.509 verifier (crypto/x509, no modules) into ${binDir}…`);
  await mkdir(binDir, { recursive: true });
  const partial = `${binary}.${process.pid}`;
  // No module download and no toolchain switch: the program uses the standard library only.
  await run(go, ['build', '-trimpath', '-o', partial, '.'], {
    cwd: SOURCE,
    env: { ...process.env, GOTOOLCHAIN: 'local', GOPROXY: 'off', GOFLAGS: '-mod=mod', CGO_ENABLED: '0' },
    maxBuffer: 16 * 1024 * 1024,
  });
  await rename(partial, binary);
  return binary;
}

/** Go's crypto/x509 version string (`go version` of the toolchain that builds the verifier). */
export async function goVersion(): Promise<string> {
  const go = await onPath('go');
  if (go === undefined) return 'go (absent)';
  const { stdout } = await run(go, ['env', 'GOVERSION']);
  return stdout.trim();
}
