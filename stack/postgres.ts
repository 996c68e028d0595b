import { execFile } from 'node:child_process';
import { chown, mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, startProcess, waitUntilReady, type ManagedProcess } from './processes';
import { isExecutable } from './executables';

const run = promisify(execFile);

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/**
 * Finds PostgreSQL server binaries: POSTGRES_BIN_DIR, then PATH, then the
 * Debian/Ubuntu layout (/usr/lib/postgresql/<major>/bin, newest first), then
 * Homebrew's.
 */
export async function findPostgresBinaries(binDir?: string): Promise<PostgresBinaries> {
  const dirs: string[] = [];
  if (binDir !== undefined && binDir !== '') dirs.push(binDir);
  dirs.push(...(process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== ''));
  try {
    const majors = (await readdir('/usr/lib/postgresql')).sort((a, b) => Number(b) - Number(a));
    dirs.push(...majors.map((major) => path.join('/usr/lib/postgresql', major, 'bin')));
  } catch {
    // Not a Debian-style installation.
  }
  dirs.push('/opt/homebrew/bin', '/usr/local/opt/postgresql/bin');
  for (const dir of dirs) {
    const initdb = path.join(dir, 'initdb');
    const postgres = path.join(dir, 'postgres');
    if ((await isExecutable(initdb)) && (await isExecutable(postgres))) return { initdb, postgres };
  }
  throw new Error(
    'No PostgreSQL server binaries (initdb, postgres) were found. Install PostgreSQL ' +
      '(Debian: `apt-get install postgresql`), set POSTGRES_BIN_DIR, or set DATABASE_URL to a running server.',
  );
}

/**
 * PostgreSQL refuses to run as root. When we are root (CI, containers) the
 * server runs as the `postgres` system user if there is one, else `nobody`.
 */
async function serviceAccount(): Promise<{ uid: number; gid: number } | undefined> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  for (const user of ['postgres', 'nobody']) {
    try {
      const uid = Number((await run('id', ['-u', user])).stdout.trim());
      const gid = Number((await run('id', ['-g', user])).stdout.trim());
      if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid };
    } catch {
      // try the next account
    }
  }
  throw new Error('Running as root, and neither a `postgres` nor a `nobody` user exists to run PostgreSQL.');
}

export interface LocalPostgres {
  readonly port: number;
  readonly process: ManagedProcess;
  /** A connection URL for `database` on this server. */
  url(database: string): string;
  /** Creates `database` if it does not exist (optionally copied from a template). */
  ensureDatabase(database: string, template?: string): Promise<void>;
  stop(): Promise<void>;
}

const SUPERUSER = 'admit';

/**
 * Starts a private PostgreSQL server on a free loopback port, initialising
 * `dataDir` on first use and reusing it afterwards. Authentication is `trust`
 * on loopback only, which is why it never listens on another interface.
 */
export async function startLocalPostgres(options: {
  dataDir: string;
  port?: number;
  binDir?: string | undefined;
  echo?: boolean;
}): Promise<LocalPostgres> {
  const binaries = await findPostgresBinaries(options.binDir);
  const account = await serviceAccount();
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const socketDir = path.join(dataDir, 'socket');
  if (account !== undefined) await chownTree(path.dirname(dataDir), dataDir, account);

  const spawnAs = account === undefined ? {} : { uid: account.uid, gid: account.gid };
  if (!(await exists(path.join(dataDir, 'PG_VERSION')))) {
    await run(binaries.initdb, ['-D', dataDir, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--no-locale'], {
      ...spawnAs,
      env: { ...process.env, LC_ALL: 'C' },
    }).catch((error: Error & { stderr?: string }) => {
      throw new Error(`initdb failed for ${dataDir}: ${error.stderr ?? error.message}`);
    });
  }
  await mkdir(socketDir, { recursive: true });
  if (account !== undefined) await chown(socketDir, account.uid, account.gid);
  // A stale pid file from a killed run would make postgres refuse to start.
  await removeStalePidFile(dataDir);

  const port = options.port ?? (await freePort());
  const server = startProcess(
    'postgres',
    binaries.postgres,
    ['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', socketDir, '-c', 'fsync=on', '-c', 'max_connections=200'],
    { ...spawnAs, echo: options.echo ?? false },
  );
  const url = (database: string): string => `postgresql://${SUPERUSER}@127.0.0.1:${port}/${database}`;
  await waitUntilReady(
    server,
    async () => {
      const client = new pg.Client({ connectionString: url('postgres'), connectionTimeoutMillis: 1_000 });
      try {
        await client.connect();
        await client.query('select 1');
        return true;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    60_000,
  );
  return {
    port,
    process: server,
    url,
    async ensureDatabase(database, template) {
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        const found = await client.query('select 1 from pg_database where datname = $1', [database]);
        if (found.rowCount === 0) {
          const from = template === undefined ? '' : ` template ${pg.escapeIdentifier(template)}`;
          await client.query(`create database ${pg.escapeIdentifier(database)}${from}`);
        }
      } finally {
        await client.end();
      }
    },
    stop: () => server.stop(),
  };
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

async function removeStalePidFile(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!(await exists(pidFile))) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  try {
    if (Number.isInteger(pid) && pid > 0) {
      process.kill(pid, 0);
      throw new Error(`PostgreSQL is already running on ${dataDir} (pid ${pid}); stop it first.`);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
  await rm(pidFile);
}

/** Gives the service account the data directory (and lets it traverse its parent). */
async function chownTree(parent: string, dataDir: string, account: { uid: number; gid: number }): Promise<void> {
  await run('chown', ['-R', `${account.uid}:${account.gid}`, dataDir]);
  // The parent must be traversable by the account, e.g. a mkdtemp directory (0700).
  await run('chmod', ['o+x', parent]);
}
