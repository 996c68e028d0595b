import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';

/** Asks the kernel for a free TCP port on the loopback interface. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not allocate a free port');
  return address.port;
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves once the process has exited; `stop()` always resolves this. */
  readonly exited: Promise<number | null>;
  stop(graceMs?: number): Promise<void>;
  /** The last lines the process wrote, for error messages when it fails to start. */
  recentOutput(): string;
}

/**
 * Spawns a long-running service whose output is kept (last lines) for
 * diagnostics and optionally echoed. Stopping sends SIGTERM, then SIGKILL
 * after the grace period, so Ctrl-C never leaves a server behind.
 */
export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions & { echo?: boolean } = {},
): ManagedProcess {
  const { echo = false, ...spawnOptions } = options;
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
  // The first lines say why a process died (a panic's message); the last say where.
  const head: string[] = [];
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      if (head.length < 20) head.push(line);
      else {
        lines.push(line);
        if (lines.length > 60) lines.shift();
      }
      if (echo) process.stderr.write(`[${name}] ${line}\n`);
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (error) => {
      lines.push(String(error));
      resolve(null);
    });
  });
  return {
    name,
    child,
    exited,
    recentOutput: () => [...head, ...(lines.length > 0 ? ['…', ...lines] : [])].join('\n'),
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `probe` until it succeeds, the process dies, or the deadline passes. */
export async function waitUntilReady(service: ManagedProcess, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void service.exited.then(() => (dead = true));
  while (Date.now() < deadline) {
    if (dead) {
      throw new Error(`${service.name} exited before it was ready:\n${service.recentOutput()}`);
    }
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await service.stop();
  throw new Error(`${service.name} was not ready after ${timeoutMs / 1000}s:\n${service.recentOutput()}`);
}
