import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, startProcess, waitUntilReady, type ManagedProcess } from './processes';
import { isExecutable, onPath, userCacheDir } from './executables';

const run = promisify(execFile);

/** The Keycloak release Admit provisions into and tests against. */
export const KEYCLOAK_VERSION = '26.4.5';
const ARTIFACT = `org.keycloak:keycloak-quarkus-dist:${KEYCLOAK_VERSION}:zip`;
/** Pinned so every machine resolves with the same plugin, whatever its Maven's default. */
const MAVEN_DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
/**
 * Build-time options of the cached server. `start-dev` re-runs Quarkus'
 * augmentation (30–110 s on two busy cores) on every start; building once per
 * cache and starting `--optimized` skips it. `dev-mem` keeps each server's
 * database in memory: nothing of one test run survives into the next.
 * `--https-client-auth` is a build option: `request` asks HTTPS clients for a
 * certificate without requiring one (plain-HTTP listeners are unaffected).
 */
const BUILD_OPTIONS = ['--db=dev-mem', '--https-client-auth=request'] as const;
const INSTALL_HINT =
  'Keycloak is a Java program fetched with Maven: install a JDK 17+ and Maven ' +
  '(Debian/Ubuntu: `apt-get install default-jdk-headless maven unzip`; macOS: `brew install openjdk maven`).';

type Log = (message: string) => void;

/** `${XDG_CACHE_HOME:-~/.cache}/admit/keycloak-<version>`: the unpacked distribution (its `bin/kc.sh`). */
export function keycloakHome(): string {
  return userCacheDir(`keycloak-${KEYCLOAK_VERSION}`);
}

async function findJava(): Promise<string | undefined> {
  const javaHome = process.env.JAVA_HOME;
  if (javaHome !== undefined && javaHome !== '' && (await isExecutable(path.join(javaHome, 'bin', 'java')))) {
    return path.join(javaHome, 'bin', 'java');
  }
  return onPath('java');
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

function buildStamp(home: string): string {
  return path.join(home, '.admit-build');
}

async function isBuilt(home: string): Promise<boolean> {
  const stamp = await readFile(buildStamp(home), 'utf8').catch(() => '');
  return stamp.trim() === BUILD_OPTIONS.join(' ') && (await exists(path.join(home, 'lib', 'quarkus', 'quarkus-application.dat')));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A cross-process lock: `mkdir` is atomic, and the owner's pid inside lets a
 * later process take over a lock whose owner died mid-fetch.
 */
export async function withLock<T>(lockDir: string, log: Log, body: () => Promise<T>): Promise<T> {
  await mkdir(path.dirname(lockDir), { recursive: true });
  let announced = false;
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(await readFile(path.join(lockDir, 'pid'), 'utf8').catch(() => 'NaN'));
      const age = Date.now() - ((await stat(lockDir).catch(() => undefined))?.mtimeMs ?? Date.now());
      // No pid after a while means the owner died between mkdir and writeFile.
      if ((Number.isInteger(owner) && !isAlive(owner)) || (!Number.isInteger(owner) && age > 30_000)) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (!announced) log(`Waiting for another process (pid ${owner}) preparing Keycloak in ${path.dirname(lockDir)}…`);
      announced = true;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    return await body();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

async function sha1(file: string): Promise<string> {
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function failure(what: string, error: Error & { stdout?: string; stderr?: string }): Error {
  const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
  return new Error(`${what}:\n${output || error.message}`);
}

/** Maven copies the zip (checksums strict) into `dir`; its local repository keeps the `.sha1` it verified. */
async function fetchZip(dir: string, log: Log): Promise<string> {
  const mvn = await onPath('mvn');
  if (mvn === undefined)
    throw new Error(`Keycloak ${KEYCLOAK_VERSION} is not in ${keycloakHome()} and there is no \`mvn\` to fetch it. ${INSTALL_HINT}`);
  log(
    `Fetching Keycloak ${KEYCLOAK_VERSION} (${ARTIFACT}) from Maven Central into ${keycloakHome()}\n  (once per machine; Maven keeps the zip in ~/.m2).`,
  );
  await run(
    mvn,
    [
      '-q',
      '-B',
      '--strict-checksums',
      `${MAVEN_DEPENDENCY_PLUGIN}:copy`,
      `-Dartifact=${ARTIFACT}`,
      `-DoutputDirectory=${dir}`,
      '-Dmdep.overWriteReleases=true',
    ],
    { maxBuffer: 16 * 1024 * 1024, timeout: 15 * 60_000 },
  ).catch((error: Error) => {
    throw failure('Maven could not fetch Keycloak', error);
  });
  const zip = path.join(dir, `keycloak-quarkus-dist-${KEYCLOAK_VERSION}.zip`);
  if (!(await exists(zip))) throw new Error(`Maven finished but ${zip} is missing.`);
  // Maven checked the download against Central's checksum (--strict-checksums) and keeps that
  // checksum beside the artifact; check the copy we are about to unpack against it as well.
  const kept = path.join(
    homedir(),
    '.m2',
    'repository',
    'org',
    'keycloak',
    'keycloak-quarkus-dist',
    KEYCLOAK_VERSION,
    `keycloak-quarkus-dist-${KEYCLOAK_VERSION}.zip.sha1`,
  );
  const expected = (await readFile(kept, 'utf8').catch(() => '')).trim().split(/\s+/)[0] ?? '';
  if (/^[0-9a-f]{40}$/i.test(expected) && (await sha1(zip)) !== expected.toLowerCase()) {
    throw new Error(`The Keycloak zip's SHA-1 does not match Maven Central's checksum ${expected} (${kept}); delete that folder and try again.`);
  }
  return zip;
}

/** `unzip` where there is one, else the JDK's `jar` (which drops the executable bits: restored after). */
async function unpack(zip: string, into: string, javaPath: string): Promise<string> {
  const unzip = await onPath('unzip');
  const jar = (await onPath('jar')) ?? path.join(path.dirname(javaPath), 'jar');
  const [command, args, cwd] = unzip !== undefined ? [unzip, ['-q', zip, '-d', into], undefined] : [jar, ['xf', zip], into];
  await run(command, args, { cwd, maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60_000 }).catch((error: Error) => {
    throw failure(`${path.basename(command)} could not unpack ${zip}`, error);
  });
  const top = path.join(into, `keycloak-${KEYCLOAK_VERSION}`);
  for (const script of ['kc.sh', 'kcadm.sh', 'kcreg.sh']) await chmod(path.join(top, 'bin', script), 0o755).catch(() => undefined);
  for (const file of ['bin/kc.sh', 'lib/quarkus-run.jar', 'version.txt']) {
    if (!(await exists(path.join(top, file)))) throw new Error(`The Keycloak zip lacks ${file}; is it a keycloak-quarkus-dist?`);
  }
  const version = await readFile(path.join(top, 'version.txt'), 'utf8');
  if (!version.includes(KEYCLOAK_VERSION)) throw new Error(`The Keycloak zip is ${version.trim()}, not ${KEYCLOAK_VERSION}.`);
  return top;
}

export interface KeycloakRuntime {
  /** The unpacked distribution: `<home>/bin/kc.sh`. */
  readonly home: string;
  readonly javaPath: string;
}

/**
 * Makes Keycloak runnable: finds `java`, and the first time (per user and
 * version) has Maven fetch the distribution zip from Maven Central, unpacks it
 * into the cache (renamed into place only once complete) and runs Quarkus'
 * build once. Concurrent first calls wait on a lock.
 */
export async function ensureKeycloak(options: { log?: Log } = {}): Promise<KeycloakRuntime> {
  const log = options.log ?? ((message: string) => console.error(message));
  const javaPath = await findJava();
  if (javaPath === undefined) throw new Error(`No \`java\` found (JAVA_HOME or PATH). ${INSTALL_HINT}`);
  const home = keycloakHome();
  if (await isBuilt(home)) return { home, javaPath };

  await withLock(`${home}.lock`, log, async () => {
    if (await isBuilt(home)) return;
    const started = Date.now();
    if (!(await exists(path.join(home, 'bin', 'kc.sh')))) {
      const partial = `${home}.partial-${process.pid}`;
      await rm(partial, { recursive: true, force: true });
      await mkdir(partial, { recursive: true });
      try {
        const zip = await fetchZip(partial, log);
        const top = await unpack(zip, partial, javaPath);
        await rm(home, { recursive: true, force: true });
        await rename(top, home);
      } finally {
        await rm(partial, { recursive: true, force: true });
      }
    }
    log(`  building Keycloak (${BUILD_OPTIONS.join(' ')}) once in ${home}…`);
    await run(path.join(home, 'bin', 'kc.sh'), ['build', ...BUILD_OPTIONS], {
      env: { ...process.env, JAVA_HOME: path.dirname(path.dirname(javaPath)) },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 15 * 60_000,
    }).catch((error: Error) => {
      throw failure('`kc.sh build` failed', error);
    });
    await writeFile(buildStamp(home), BUILD_OPTIONS.join(' '));
    log(`  Keycloak ready in ${((Date.now() - started) / 1000).toFixed(1)}s.`);
  });
  return { home, javaPath };
}

export interface KeycloakTls {
  /** PEM server certificate (chain) and its key. */
  certificateFile: string;
  keyFile: string;
  /** PEM of the CAs whose client certificates Keycloak accepts (`--https-client-auth=request`). */
  trustStoreFile: string;
}

export interface KeycloakOptions {
  runtime?: KeycloakRuntime;
  log?: Log;
  echo?: boolean;
  /** Also listen on HTTPS, asking for (not requiring) client certificates. */
  tls?: KeycloakTls;
  readyTimeoutMs?: number;
}

export interface KeycloakServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `https://localhost:<port>` when started with `tls`. */
  readonly httpsUrl: string | undefined;
  /** This server's own data (transaction log, temporary files); removed by stop(). */
  readonly dataDir: string;
  /** The bootstrap administrator of the master realm (a temporary one, as Keycloak calls it). */
  readonly admin: { readonly username: string; readonly password: string };
  readonly process: ManagedProcess;
  /** Stops the whole process tree (kc.sh and its JVM) and removes the data directory. */
  stop(): Promise<void>;
}

/**
 * Starts Keycloak on free loopback ports with its data (in-memory database,
 * transaction log, temporary files) in a temporary directory, and waits until
 * the master realm answers. kc.sh runs java as a child (and re-execs it), so
 * the server gets its own process group and stop() signals the group.
 */
export async function startKeycloak(options: KeycloakOptions = {}): Promise<KeycloakServer> {
  const log = options.log ?? ((m: string) => console.error(m));
  const runtime = options.runtime ?? (await ensureKeycloak({ log }));
  const dataDir = await mkdtemp(path.join(tmpdir(), 'admit-keycloak-'));
  const [httpPort, managementPort, httpsPort] = [await freePort(), await freePort(), await freePort()];
  const admin = { username: 'admin', password: randomBytes(18).toString('base64url') };
  const args = [
    'start',
    '--optimized',
    '--http-enabled=true',
    '--http-host=127.0.0.1',
    `--http-port=${httpPort}`,
    `--http-management-port=${managementPort}`,
    '--hostname-strict=false',
    '--cache=local',
  ];
  if (options.tls !== undefined) {
    args.push(
      `--https-port=${httpsPort}`,
      `--https-certificate-file=${options.tls.certificateFile}`,
      `--https-certificate-key-file=${options.tls.keyFile}`,
      `--https-trust-store-file=${options.tls.trustStoreFile}`,
    );
  }
  const server = startProcess('keycloak', path.join(runtime.home, 'bin', 'kc.sh'), args, {
    echo: options.echo ?? false,
    detached: true,
    cwd: dataDir,
    env: {
      ...process.env,
      JAVA_HOME: path.dirname(path.dirname(runtime.javaPath)),
      KC_BOOTSTRAP_ADMIN_USERNAME: admin.username,
      KC_BOOTSTRAP_ADMIN_PASSWORD: admin.password,
      // The client compiler alone starts a short-lived server faster; the
      // transaction log and temporary files go to this server's own directory.
      JAVA_OPTS_APPEND: [
        '-XX:TieredStopAtLevel=1',
        `-Dquarkus.transaction-manager.object-store.directory=${path.join(dataDir, 'transaction-logs')}`,
        `-Djava.io.tmpdir=${dataDir}`,
      ].join(' '),
    },
  });
  const group = server.child.pid;
  const killGroup = (signal: NodeJS.Signals): void => {
    if (group === undefined) return;
    try {
      process.kill(-group, signal);
    } catch {
      // Already gone.
    }
  };
  const killOnExit = (): void => killGroup('SIGKILL');
  process.once('exit', killOnExit);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      killGroup('SIGTERM');
      const timer = setTimeout(() => killGroup('SIGKILL'), 15_000);
      await server.exited;
      // kc.sh may exit before its JVM: wait for the whole group to be gone.
      for (let i = 0; i < 150 && group !== undefined && groupAlive(group); i += 1) await new Promise((r) => setTimeout(r, 100));
      clearTimeout(timer);
      killGroup('SIGKILL');
      process.removeListener('exit', killOnExit);
      await rm(dataDir, { recursive: true, force: true });
    })());

  const url = `http://127.0.0.1:${httpPort}`;
  try {
    await waitUntilReady(
      server,
      async () => (await fetch(`${url}/realms/master/.well-known/openid-configuration`, { signal: AbortSignal.timeout(2_000) })).ok,
      options.readyTimeoutMs ?? 240_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    httpsUrl: options.tls === undefined ? undefined : `https://localhost:${httpsPort}`,
    dataDir,
    admin,
    process: server,
    stop,
  };
}

/** Whether any process of the process group `group` is still running. */
export function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}
