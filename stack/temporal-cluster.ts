import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import { cp, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { isExecutable, onPath, userCacheDir } from './executables';
import type { LocalPostgres } from './postgres';
import { freePort, startProcess, waitUntilReady, type ManagedProcess } from './processes';
import { startTcpBalancer, type TcpBalancer } from './tcp-balancer';
import { ensureTemporalCli } from './temporal';

const run = promisify(execFile);

/** The Temporal server release the cluster runs (PostgreSQL persistence, as production). */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
const MODULE = 'go.temporal.io/server';

type Log = (message: string) => void;

export interface TemporalServerBinaries {
  server: string;
  sqlTool: string;
  /** `schema/postgresql/v12` of the same release. */
  schemaDir: string;
}

/**
 * The Temporal server and its SQL schema tool, built once with `go install`
 * from the Go module proxy into the per-user cache (as the CLI is when its
 * release cannot be downloaded), with the release's PostgreSQL schemas beside
 * them. Development and test code: production runs its own cluster.
 */
export async function ensureTemporalServer(log: Log = (m) => console.error(m)): Promise<TemporalServerBinaries> {
  const dir = userCacheDir(`temporal-server-${TEMPORAL_SERVER_VERSION}`);
  const binaries = { server: path.join(dir, 'server'), sqlTool: path.join(dir, 'sql'), schemaDir: path.join(dir, 'schema', 'postgresql', 'v12') };
  const schemaCopied = await stat(path.join(binaries.schemaDir, 'temporal', 'versioned')).then(
    () => true,
    () => false,
  );
  if ((await isExecutable(binaries.server)) && (await isExecutable(binaries.sqlTool)) && schemaCopied) return binaries;
  const go = await onPath('go');
  if (go === undefined) throw new Error(`Building the Temporal server ${TEMPORAL_SERVER_VERSION} needs Go (golang-go); none is on PATH.`);
  await mkdir(dir, { recursive: true });
  log(
    `Building the Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool with \`go install\` into ${dir} (once per machine; several minutes).`,
  );
  const started = Date.now();
  const env = { ...process.env, GOBIN: dir, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' };
  await run(go, ['install', `${MODULE}/cmd/server@v${TEMPORAL_SERVER_VERSION}`, `${MODULE}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`], {
    env,
    maxBuffer: 64 * 1024 * 1024,
  });
  const { stdout } = await run(go, ['env', 'GOMODCACHE'], { env });
  const moduleDir = path.join(stdout.trim(), `${MODULE}@v${TEMPORAL_SERVER_VERSION}`);
  await cp(path.join(moduleDir, 'schema', 'postgresql', 'v12'), binaries.schemaDir, { recursive: true });
  log(`  built in ${Math.round((Date.now() - started) / 1000)}s.`);
  return binaries;
}

export interface TemporalClusterNode {
  readonly name: string;
  readonly frontend: string;
  process(): ManagedProcess;
  /** SIGKILL, as a machine dies. */
  kill(): Promise<void>;
  /** Starts it again with the same configuration. */
  restart(): Promise<void>;
}

export interface TemporalCluster {
  /** The load balancer's address, which clients and workers use. */
  readonly address: string;
  readonly nodes: TemporalClusterNode[];
  readonly balancer: TcpBalancer;
  stop(): Promise<void>;
}

function nodeConfig(options: {
  postgres: LocalPostgres;
  ports: {
    frontend: number;
    frontendHttp: number;
    frontendMembership: number;
    history: number;
    historyMembership: number;
    matching: number;
    matchingMembership: number;
    worker: number;
    workerMembership: number;
  };
  rpcAddress: string;
}): string {
  const { postgres, ports } = options;
  const datastore = (database: string, maxConns: number) => `      sql:
        pluginName: "postgres12"
        databaseName: "${database}"
        connectAddr: "127.0.0.1:${postgres.port}"
        connectProtocol: "tcp"
        user: "admit"
        password: ""
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
  const service = (grpc: number, membership: number, http?: number) => `    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${http === undefined ? '' : `\n      httpPort: ${http}`}`;
  return `log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 8
  datastores:
    postgres-default:
${datastore('temporal', 10)}
    postgres-visibility:
${datastore('temporal_visibility', 4)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"

services:
  frontend:
${service(ports.frontend, ports.frontendMembership, ports.frontendHttp)}
  matching:
${service(ports.matching, ports.matchingMembership)}
  history:
${service(ports.history, ports.historyMembership)}
  worker:
${service(ports.worker, ports.workerMembership)}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "${options.rpcAddress}"

dcRedirectionPolicy:
  policy: "noop"
`;
}

async function sqlTool(binaries: TemporalServerBinaries, postgres: LocalPostgres, database: string, args: string[]): Promise<void> {
  await run(
    binaries.sqlTool,
    ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(postgres.port), '-u', 'admit', '--db', database, ...args],
    {
      maxBuffer: 16 * 1024 * 1024,
    },
  );
}

/**
 * A Temporal cluster of `nodes` server processes (each with frontend,
 * history, matching and worker) sharing one PostgreSQL, the schemas set up by
 * Temporal's SQL tool, behind a TCP load balancer; the `default` namespace and
 * Admit's search attributes registered through it.
 */
export async function startTemporalCluster(options: { postgres: LocalPostgres; dir: string; nodes?: number; log?: Log }): Promise<TemporalCluster> {
  const log = options.log ?? ((m: string) => console.error(m));
  const binaries = await ensureTemporalServer(log);
  const { postgres } = options;
  for (const [database, schema] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    await postgres.ensureDatabase(database);
    await sqlTool(binaries, postgres, database, ['setup-schema', '-v', '0.0']);
    await sqlTool(binaries, postgres, database, ['update-schema', '-d', path.join(binaries.schemaDir, schema, 'versioned')]);
  }

  const count = options.nodes ?? 2;
  const portSets = [];
  for (let i = 0; i < count; i += 1) {
    portSets.push({
      frontend: await freePort(),
      frontendHttp: await freePort(),
      frontendMembership: await freeLowPort(),
      history: await freePort(),
      historyMembership: await freeLowPort(),
      matching: await freePort(),
      matchingMembership: await freeLowPort(),
      worker: await freePort(),
      workerMembership: await freeLowPort(),
    });
  }
  const balancer = await startTcpBalancer({ backends: portSets.map((p) => `127.0.0.1:${p.frontend}`), port: await freePort() });
  const nodes: TemporalClusterNode[] = [];
  for (const [i, ports] of portSets.entries()) {
    const name = `temporal-${i + 1}`;
    // This release reads <root>/<config>/<env>.yaml (a --config-file flag came later).
    const root = path.join(options.dir, name);
    await mkdir(path.join(root, 'config'), { recursive: true });
    await writeFile(path.join(root, 'config', 'development.yaml'), nodeConfig({ postgres, ports, rpcAddress: balancer.address }));
    const frontend = `127.0.0.1:${ports.frontend}`;
    const launch = () =>
      startProcess(name, binaries.server, ['--root', root, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'], {});
    // One after the other: the first node writes the cluster's metadata, which the next one reads.
    let current = launch();
    await waitForFrontend(current, frontend, 'temporal-system');
    nodes.push({
      name,
      frontend,
      process: () => current,
      async kill() {
        current.child.kill('SIGKILL');
        await current.exited;
      },
      async restart() {
        current = launch();
        await waitForFrontend(current, frontend, 'temporal-system');
      },
    });
  }

  const cli = await ensureTemporalCli({ log });
  await run(cli, ['operator', 'namespace', 'create', '--address', balancer.address, '--namespace', 'default', '--retention', '72h']).catch(
    (error: Error & { stderr?: string }) => {
      if (!/already/i.test(error.stderr ?? '')) throw error;
    },
  );
  for (const [attribute, type] of Object.entries(SEARCH_ATTRIBUTES)) {
    await run(cli, [
      'operator',
      'search-attribute',
      'create',
      '--address',
      balancer.address,
      '--namespace',
      'default',
      '--name',
      attribute,
      '--type',
      type,
    ]).catch((error: Error & { stderr?: string }) => {
      if (!/already/i.test(error.stderr ?? '')) throw error;
    });
  }
  await waitUntilReady(nodes[0]!.process(), async () => describeNamespace(balancer.address, 'default'), 60_000);
  return {
    address: balancer.address,
    nodes,
    balancer,
    async stop() {
      await Promise.allSettled(nodes.map((n) => n.process().stop()));
      await balancer.close();
    },
  };
}

/**
 * A free port below 32768: Temporal's cluster_membership table keeps the
 * membership port in a PostgreSQL smallint, and the kernel's ephemeral
 * ports (where port 0 lands) are above it.
 */
async function freeLowPort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = 20_000 + randomInt(12_000);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 20000 and 32000 for Temporal membership');
}

async function describeNamespace(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await connection.close();
  }
}

async function waitForFrontend(node: ManagedProcess, frontend: string, namespace: string): Promise<void> {
  await waitUntilReady(node, async () => describeNamespace(frontend, namespace), 120_000);
}
