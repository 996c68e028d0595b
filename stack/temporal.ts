import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { freePort, startProcess, waitUntilReady, type ManagedProcess } from './processes';
import { isExecutable, onPath, userCacheDir } from './executables';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

const run = promisify(execFile);

/** The CLI release this project is built and tested against (see README). */
export const TEMPORAL_CLI_VERSION = '1.5.1';

type Log = (message: string) => void;

function cacheDir(): string {
  return userCacheDir(`temporal-cli-${TEMPORAL_CLI_VERSION}`);
}

/**
 * Where the official release archive lives; tried first because it takes
 * seconds, while building from source takes minutes.
 */
function releaseUrl(): string | undefined {
  const os = process.platform === 'darwin' ? 'darwin' : process.platform === 'linux' ? 'linux' : undefined;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : undefined;
  if (os === undefined || arch === undefined) return undefined;
  return `https://temporal.download/cli/archive/v${TEMPORAL_CLI_VERSION}?platform=${os}&arch=${arch}`;
}

async function downloadRelease(target: string, log: Log): Promise<boolean> {
  const url = releaseUrl();
  if (url === undefined) return false;
  log(`Downloading the Temporal CLI ${TEMPORAL_CLI_VERSION} release…`);
  const work = await mkdtemp(path.join(tmpdir(), 'admit-temporal-'));
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(60_000), redirect: 'follow' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const archive = path.join(work, 'temporal.tar.gz');
    await writeFile(archive, Buffer.from(await response.arrayBuffer()));
    await run('tar', ['-xzf', archive, '-C', work]);
    await rename(path.join(work, 'temporal'), target);
    await chmod(target, 0o755);
    return true;
  } catch (error) {
    log(`  download not possible here (${(error as Error).message}); building from source instead.`);
    return false;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function buildFromSource(binDir: string, log: Log): Promise<void> {
  const go = await onPath('go');
  if (go === undefined) {
    throw new Error(
      'No Temporal CLI found and none can be obtained: install the `temporal` CLI ' +
        `(https://docs.temporal.io/cli), install Go to let Admit build it, or set TEMPORAL_ADDRESS to a running server.`,
    );
  }
  log(
    `Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with \`go install\` into ${binDir}.\n` +
      '  This happens once per machine and takes a few minutes.',
  );
  const started = Date.now();
  await run(go, ['install', `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`], {
    env: { ...process.env, GOBIN: binDir, CGO_ENABLED: '0' },
    maxBuffer: 64 * 1024 * 1024,
  });
  log(`  built in ${Math.round((Date.now() - started) / 1000)}s.`);
}

/**
 * Finds the Temporal CLI: TEMPORAL_CLI_PATH, then `temporal` on PATH, then the
 * per-user cache; otherwise obtains it into the cache (release download where
 * the network allows it, else `go install`).
 */
export async function ensureTemporalCli(options: { cliPath?: string | undefined; allowDownload?: boolean; log?: Log } = {}): Promise<string> {
  const log = options.log ?? ((m: string) => console.error(m));
  const configured = options.cliPath;
  if (configured !== undefined && configured !== '') {
    if (await isExecutable(configured)) return configured;
    throw new Error(`TEMPORAL_CLI_PATH=${configured} is not an executable file.`);
  }
  const fromPath = await onPath('temporal');
  if (fromPath !== undefined) return fromPath;

  const binDir = cacheDir();
  const cached = path.join(binDir, 'temporal');
  if (await isExecutable(cached)) return cached;

  await mkdir(binDir, { recursive: true });
  const downloaded = (options.allowDownload ?? true) && (await downloadRelease(cached, log));
  if (!downloaded) await buildFromSource(binDir, log);
  if (!(await isExecutable(cached))) throw new Error(`The Temporal CLI was not found at ${cached} after installing it.`);
  return cached;
}

export interface TemporalDevServer {
  readonly address: string;
  readonly cliPath: string;
  readonly namespace: string;
  readonly uiUrl: string | undefined;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

export interface TemporalDevServerOptions {
  /** SQLite file for persistence; omitted means in-memory (tests). */
  dbFile?: string;
  port?: number;
  uiPort?: number;
  headless?: boolean;
  namespace?: string;
  /** Extra dynamic config, e.g. a low history limit to exercise continue-as-new. */
  dynamicConfig?: Record<string, unknown>;
  echo?: boolean;
  log?: Log;
  /** An explicit CLI; otherwise {@link ensureTemporalCli} finds or obtains one. */
  cliPath?: string | undefined;
  allowDownload?: boolean;
}

/** Starts `temporal server start-dev` on free ports and waits for its namespace. */
export async function startTemporalDevServer(options: TemporalDevServerOptions = {}): Promise<TemporalDevServer> {
  const cli = await ensureTemporalCli({ cliPath: options.cliPath, allowDownload: options.allowDownload, log: options.log });
  const port = options.port ?? (await freePort());
  const namespace = options.namespace ?? 'default';
  const headless = options.headless ?? false;
  const uiPort = headless ? undefined : (options.uiPort ?? (await freePort()));
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  if (namespace !== 'default') args.push('--namespace', namespace);
  if (options.dbFile !== undefined) {
    await mkdir(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(uiPort));
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }

  const address = `127.0.0.1:${port}`;
  const server = startProcess('temporal', cli, args, { echo: options.echo ?? false });
  await waitUntilReady(
    server,
    async () => {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return true;
      } finally {
        await connection.close();
      }
    },
    // A cold start on two busy cores can take a while; SQLite migrations run first.
    120_000,
  );
  return {
    address,
    cliPath: cli,
    namespace,
    uiUrl: uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`,
    process: server,
    stop: () => server.stop(),
  };
}
