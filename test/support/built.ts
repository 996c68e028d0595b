import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { inject } from 'vitest';
import { REPO_ROOT } from '../../config/env';
import { freePort, startProcess, type ManagedProcess } from '../../stack/processes';
import { eventually } from './wait';

/**
 * `npm run build` once, into its own directory under .data/ (inside the repository so that
 * node_modules resolves, ignored by git, lint and Prettier), removed by `remove()`.
 */
export async function buildOnce(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = path.join(REPO_ROOT, '.data', `build-${randomUUID()}`);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'scripts/build.ts'), dir], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`npm run build failed (${code}):\n${output}`);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The secrets a production deployment must set (config/env.ts), shared by its worker and web. */
export function productionSecrets(): Record<string, string> {
  return {
    ADMIT_PAYLOAD_KEY: inject('payloadKey'),
    ADMIT_LINK_SECRET: randomBytes(32).toString('base64'),
    ADMIT_SESSION_SECRET: randomBytes(32).toString('base64'),
    ADMIT_OAUTH_SIGNING_KEY: randomBytes(32).toString('base64'),
    ADMIT_EVIDENCE_KEYS: randomBytes(32).toString('base64'),
  };
}

export interface ServiceProcess extends ManagedProcess {
  /** The web's port, or the worker's HTTP port. */
  port: number;
  url: string;
}

/** Runs an entry point (compiled `…/main.js`, or a source `…/main.ts` through tsx) as a deployment would. */
export async function startService(
  kind: 'worker' | 'web',
  entry: string,
  options: { databaseUrl: string; taskQueue: string; env?: Record<string, string> },
): Promise<ServiceProcess> {
  const port = await freePort();
  const args = entry.endsWith('.ts') ? ['--import', 'tsx', entry] : [entry];
  const service = startProcess(kind, process.execPath, args, {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: options.taskQueue,
      DATABASE_URL: options.databaseUrl,
      SMTP_URL: inject('smtpUrl'),
      ADMIT_PAYLOAD_KEY: inject('payloadKey'),
      ADMIT_DATA_DIR: inject('scratchDir'),
      ADMIT_HTTP_HOST: '127.0.0.1',
      ...(kind === 'web'
        ? { PORT: String(port), ADMIT_PUBLIC_URL: `http://127.0.0.1:${port}`, ADMIT_OAUTH_MTLS_PORT: String(await freePort()) }
        : {}),
      ...(kind === 'worker' ? { ADMIT_WORKER_HTTP_PORT: String(port) } : {}),
      ...options.env,
    },
  });
  const ready = kind === 'worker' ? 'polling task queue' : 'web: listening on';
  await eventually(
    async () => {
      if (service.child.exitCode !== null) throw new Error(`${kind} exited (${service.child.exitCode}):\n${service.recentOutput()}`);
      return service.recentOutput().includes(ready) ? true : undefined;
    },
    60_000,
    `the ${kind} to start`,
  );
  return Object.assign(service, { port, url: `http://127.0.0.1:${port}` });
}
