import { execFile } from 'node:child_process';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
// The SDK enables the test-only gRPC service through this internal option (it is what
// `TestWorkflowEnvironment.createTimeSkipping` does); there is no public switch.
import { InternalConnectionOptionsSymbol, type InternalConnectionOptions } from '@temporalio/client/lib/connection.js';
import { msToTs, tsToMs } from '@temporalio/common/lib/time.js';
import proto, { type temporal as TemporalApi } from '@temporalio/proto';
import { freePort, startProcess, waitUntilReady, type ManagedProcess } from './processes';
import { isExecutable, onPath, userCacheDir } from './executables';

// @temporalio/proto is CommonJS: its namespaces come off the default export.
const { temporal } = proto;

const run = promisify(execFile);

/** The `io.temporal:temporal-test-server` release the tests run against. */
export const TEMPORAL_TEST_SERVER_VERSION = '1.31.0';
/** Pinned so every machine resolves with the same plugin, whatever its Maven's default. */
const MAVEN_DEPENDENCY_PLUGIN_VERSION = '3.8.1';
const MAIN_CLASS = 'io.temporal.testserver.TestServer';
const INSTALL_HINT =
  "Temporal's time-skipping test server is a Java program fetched with Maven: install a JDK 17+ and Maven " +
  '(Debian/Ubuntu: `apt-get install default-jdk-headless maven`; macOS: `brew install openjdk maven`).';

type Log = (message: string) => void;
type TestService = TemporalApi.api.testservice.v1.TestService;

/** The per-user cache: `${XDG_CACHE_HOME:-~/.cache}/admit/temporal-test-server-<version>`. */
export function timeSkippingServerCacheDir(): string {
  return userCacheDir(`temporal-test-server-${TEMPORAL_TEST_SERVER_VERSION}`);
}

/** `$JAVA_HOME/bin/java` first, as Maven itself does, then `java` on PATH. */
async function findJava(): Promise<string | undefined> {
  const javaHome = process.env.JAVA_HOME;
  if (javaHome !== undefined && javaHome !== '') {
    const candidate = path.join(javaHome, 'bin', 'java');
    if (await isExecutable(candidate)) return candidate;
  }
  return onPath('java');
}

/** A complete resolve has the server's own jar; the directory only appears by an atomic rename. */
async function hasServerJar(libDir: string): Promise<boolean> {
  try {
    return (await readdir(libDir)).includes(`temporal-test-server-${TEMPORAL_TEST_SERVER_VERSION}.jar`);
  } catch {
    return false;
  }
}

function pom(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by Admit (stack/temporal-test-server.ts) to fetch Temporal's Java test server and its
     runtime dependencies into ./lib. Safe to delete: it is recreated when needed. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>admit</groupId>
  <artifactId>temporal-test-server-runtime</artifactId>
  <version>${TEMPORAL_TEST_SERVER_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>${TEMPORAL_TEST_SERVER_VERSION}</version>
    </dependency>
    <!-- The server logs through SLF4J; without a binding it prints a warning on every start. -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-nop</artifactId>
      <version>2.0.16</version>
    </dependency>
  </dependencies>
  <build>
    <pluginManagement>
      <plugins>
        <plugin>
          <groupId>org.apache.maven.plugins</groupId>
          <artifactId>maven-dependency-plugin</artifactId>
          <version>${MAVEN_DEPENDENCY_PLUGIN_VERSION}</version>
        </plugin>
      </plugins>
    </pluginManagement>
  </build>
</project>
`;
}

export interface TimeSkippingServerRuntime {
  /** The `java` executable that runs the server. */
  readonly javaPath: string;
  /** Directory holding the server's jars (its classpath is `<libDir>/*`). */
  readonly libDir: string;
}

/**
 * Makes Temporal's Java time-skipping test server runnable: finds `java`, and
 * the first time (per user and version) has Maven fetch the server's jars from
 * Maven Central into the cache. Concurrent first calls are safe: each resolves
 * into its own directory and the first rename wins.
 */
export async function ensureTimeSkippingServer(options: { log?: Log } = {}): Promise<TimeSkippingServerRuntime> {
  const log = options.log ?? ((message: string) => console.error(message));
  const javaPath = await findJava();
  if (javaPath === undefined) throw new Error(`No \`java\` found (JAVA_HOME or PATH). ${INSTALL_HINT}`);

  const cacheDir = timeSkippingServerCacheDir();
  const libDir = path.join(cacheDir, 'lib');
  if (await hasServerJar(libDir)) return { javaPath, libDir };

  const mvn = await onPath('mvn');
  if (mvn === undefined) {
    throw new Error(`The time-skipping test server's jars are not in ${libDir} and there is no \`mvn\` to fetch them. ${INSTALL_HINT}`);
  }
  log(
    `Fetching Temporal's Java test server ${TEMPORAL_TEST_SERVER_VERSION} from Maven Central into ${libDir}\n` +
      '  (once per machine; Maven keeps its downloads in ~/.m2 as usual).',
  );
  const started = Date.now();
  await mkdir(cacheDir, { recursive: true });
  const pomPath = path.join(cacheDir, 'pom.xml');
  await writeFile(pomPath, pom());
  const partial = path.join(cacheDir, `lib.partial-${process.pid}-${Date.now()}`);
  try {
    await run(mvn, ['-q', '-B', '-f', pomPath, 'dependency:copy-dependencies', `-DoutputDirectory=${partial}`], {
      maxBuffer: 16 * 1024 * 1024,
      timeout: 10 * 60_000,
    }).catch((error: Error & { stdout?: string; stderr?: string }) => {
      const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
      throw new Error(`Maven could not fetch the time-skipping test server (${pomPath}):\n${output || error.message}`);
    });
    if (!(await hasServerJar(partial))) throw new Error(`Maven finished but ${partial} lacks the test server's jar.`);
    await rename(partial, libDir).catch(async (error: NodeJS.ErrnoException) => {
      // Another process finished first; its copy is as good as ours.
      if ((error.code === 'ENOTEMPTY' || error.code === 'EEXIST') && (await hasServerJar(libDir))) return;
      throw error;
    });
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  log(`  fetched in ${((Date.now() - started) / 1000).toFixed(1)}s.`);
  return { javaPath, libDir };
}

export interface TimeSkippingServer {
  /** `host:port` for `Connection`, `NativeConnection` and Workers. */
  readonly address: string;
  /**
   * An ordinary client connection (for `Client`); closed by `stop()`. Drive the
   * clock through the methods below, not a `testService` of your own: see
   * `connectTestControl` for why its calls must not be retried.
   */
  readonly connection: Connection;
  readonly process: ManagedProcess;
  /** The server's clock, which is what workflows see as `Date.now()`. */
  currentTime(): Promise<Date>;
  /**
   * Advances the server's clock by `ms` right away, firing every timer that
   * falls due on the way, and resolves once it has (usually well under a
   * second of wall time).
   */
  skip(ms: number): Promise<void>;
  /**
   * Runs `body` with automatic time skipping on: the server jumps straight to
   * its next timer whenever it is not in the middle of handling a request. Use
   * it around awaiting a workflow's (or an accepted Update's) result. Start
   * workflows and send signals or Updates *outside* it, with time locked:
   * while skipping, the server can reach a timeout before the message lands.
   * The server does not hold its clock for a workflow task a worker is working
   * on, so unlock only once the worker has completed the workflow's first task
   * (see test/support/time-skipping.ts); with skipping on, a slow task can see
   * its 10 s task timeout fire and be retried. Nested and concurrent calls share
   * one unlock, so the server's lock counter stays balanced.
   */
  withTimeSkipping<T>(body: () => Promise<T>): Promise<T>;
  /** Closes the connection and stops the JVM (SIGTERM, then SIGKILL); resolves once it has exited. */
  stop(): Promise<void>;
}

export interface TimeSkippingServerOptions {
  port?: number;
  /** Where `java` and the jars are; otherwise {@link ensureTimeSkippingServer} finds or fetches them. */
  runtime?: TimeSkippingServerRuntime;
  log?: Log;
  echo?: boolean;
  /** How long to wait for the first successful gRPC call; a cold JVM on two busy cores is slow. */
  readyTimeoutMs?: number;
  /**
   * Custom search attributes to register before returning (the dev server's
   * `--search-attribute`). The test server has no such flag, and fails every
   * workflow task that upserts an unregistered attribute, so a workflow doing
   * so never progresses; pass e.g. `SEARCH_ATTRIBUTES` for Admit's workflows.
   */
  searchAttributes?: Readonly<Record<string, SearchAttributeType>>;
}

export type SearchAttributeType = 'Text' | 'Keyword' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

const INDEXED_VALUE_TYPES: Record<SearchAttributeType, TemporalApi.api.enums.v1.IndexedValueType> = {
  Text: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Datetime: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KeywordList: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/**
 * The connection the test service is driven through. Its calls change the
 * server's clock, so they must not be retried blindly: the server sometimes
 * answers `UnlockTimeSkippingWithSleep` with UNKNOWN after it has already
 * advanced, and the SDK's default retry then skips the duration a second time.
 * Hence no interceptors (no retries) here, and `skip` checks the clock instead.
 */
function connectTestControl(address: string): Promise<Connection> {
  const options: InternalConnectionOptions = {
    address,
    connectTimeout: 10_000,
    interceptors: [],
    [InternalConnectionOptionsSymbol]: { supportsTestService: true },
  };
  return Connection.connect(options);
}

/**
 * Starts Temporal's Java test server with time skipping on a free port and
 * waits until it answers gRPC. Time skipping starts locked: time runs at
 * wall-clock pace until `skip` or `withTimeSkipping` unlocks it.
 */
export async function startTimeSkippingServer(options: TimeSkippingServerOptions = {}): Promise<TimeSkippingServer> {
  const runtime = options.runtime ?? (await ensureTimeSkippingServer({ log: options.log ?? ((m) => console.error(m)) }));
  const port = options.port ?? (await freePort());
  const address = `127.0.0.1:${port}`;
  const server = startProcess(
    'temporal-test-server',
    runtime.javaPath,
    [
      // A short-lived test service: the client compiler alone starts faster, a
      // serial collector and a small heap suit a process that holds a few histories.
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-Xmx512m',
      '-cp',
      path.join(runtime.libDir, '*'),
      MAIN_CLASS,
      String(port),
      '--enable-time-skipping',
    ],
    { echo: options.echo ?? false },
  );
  // If this process exits without calling stop() (a test runner tearing down a
  // fork), take the JVM along rather than leave it listening.
  const killOnExit = (): void => {
    server.child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let connection: Connection;
  let control: Connection;
  try {
    await waitUntilReady(
      server,
      async () => {
        const probe = await Connection.connect({ address, connectTimeout: 1_000 });
        try {
          await probe.workflowService.getSystemInfo({});
          return true;
        } finally {
          await probe.close();
        }
      },
      options.readyTimeoutMs ?? 60_000,
    );
    connection = await Connection.connect({ address, connectTimeout: 10_000 });
    control = await connectTestControl(address);
    // The server holds its clock only while it has no timers at all: the first
    // timer (any workflow's execution timeout) releases that hold and time then
    // runs free, so the very first workflow task can already be timed out. One
    // lock of our own makes "locked until unlocked" true from the start.
    await (control.testService as TestService).lockTimeSkipping({});
    const searchAttributes = Object.entries(options.searchAttributes ?? {});
    if (searchAttributes.length > 0) {
      await connection.operatorService.addSearchAttributes({
        namespace: 'default',
        searchAttributes: Object.fromEntries(searchAttributes.map(([name, type]) => [name, INDEXED_VALUE_TYPES[type]])),
      });
    }
  } catch (error) {
    await server.stop();
    process.removeListener('exit', killOnExit);
    throw error;
  }
  const testService = control.testService as TestService;

  let unlockedBy = 0;
  let transition: Promise<unknown> = Promise.resolve();
  // Lock and unlock calls are serialised so the server never sees an unlock
  // racing ahead of the lock it balances.
  const serialised = <T>(step: () => Promise<T>): Promise<T> => {
    const next = transition.then(step, step);
    transition = next.catch(() => undefined);
    return next;
  };

  return {
    address,
    connection,
    process: server,
    async currentTime() {
      const { time } = await testService.getCurrentTime({});
      return new Date(tsToMs(time));
    },
    async skip(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`skip(ms) needs a non-negative duration, got ${ms}`);
      const target = tsToMs((await testService.getCurrentTime({})).time) + ms;
      try {
        // Inside withTimeSkipping the counter is already 0, where the server refuses
        // another unlock; there, waiting for its clock to pass the mark is the skip.
        if (unlockedBy > 0) await testService.sleep({ duration: msToTs(ms) });
        else await testService.unlockTimeSkippingWithSleep({ duration: msToTs(ms) });
      } catch (error) {
        // See connectTestControl: an error may arrive after the skip happened.
        if (tsToMs((await testService.getCurrentTime({})).time) < target) throw error;
      }
    },
    async withTimeSkipping(body) {
      await serialised(async () => {
        if (unlockedBy === 0) await testService.unlockTimeSkipping({});
        unlockedBy += 1;
      });
      try {
        return await body();
      } finally {
        await serialised(async () => {
          unlockedBy -= 1;
          if (unlockedBy === 0) await testService.lockTimeSkipping({});
        });
      }
    },
    async stop() {
      await Promise.all([connection.close(), control.close()]).catch(() => undefined);
      await server.stop();
      process.removeListener('exit', killOnExit);
    },
  };
}
