import type { ManagedProcess } from './processes';

export interface SupervisorOptions {
  log: (message: string) => void;
  /** The wait before the first restart; it doubles on each crash in a row. */
  initialBackoffMs?: number;
  /** The longest wait between restarts. */
  maxBackoffMs?: number;
  /** A process that ran this long before it died was healthy: its restart waits initialBackoffMs again. */
  healthyAfterMs?: number;
}

export interface SupervisedProcess {
  readonly name: string;
  /** The process running now (or the one that last died, while a restart waits). */
  current(): ManagedProcess;
  /** How many times it was restarted. */
  restarts(): number;
  /** Stops supervising, cancels a pending restart and stops the process. */
  stop(): Promise<void>;
}

function describeExit(child: ManagedProcess, code: number | null): string {
  const signal = child.child.signalCode;
  return signal !== null ? `signal ${signal}` : `code ${code ?? 'unknown'}`;
}

/**
 * Keeps a long-running child alive: whenever it exits without being asked
 * to, it is started again after a backoff (1 s doubling to 30 s by default,
 * back to 1 s once a process had run for a minute), and both the exit and the
 * restart are logged. Only `stop()` ends it.
 */
export function supervise(name: string, start: () => ManagedProcess, options: SupervisorOptions): SupervisedProcess {
  const { log, initialBackoffMs = 1_000, maxBackoffMs = 30_000, healthyAfterMs = 60_000 } = options;
  let stopping = false;
  let backoff = initialBackoffMs;
  let restarts = 0;
  let pending: NodeJS.Timeout | undefined;
  let current: ManagedProcess;

  const launch = (): void => {
    const startedAt = Date.now();
    const child = start();
    current = child;
    void child.exited.then((code) => {
      if (stopping) return;
      const ranMs = Date.now() - startedAt;
      if (ranMs >= healthyAfterMs) backoff = initialBackoffMs;
      const delay = backoff;
      backoff = Math.min(backoff * 2, maxBackoffMs);
      log(`${name} exited unexpectedly (${describeExit(child, code)}) after ${(ranMs / 1000).toFixed(1)}s; restarting it in ${delay / 1000}s.`);
      pending = setTimeout(() => {
        pending = undefined;
        if (stopping) return;
        restarts += 1;
        launch();
        log(`${name} restarted (pid ${current.child.pid ?? '?'}, restart ${restarts}).`);
      }, delay);
    });
  };
  launch();
  log(`${name} started (pid ${current!.child.pid ?? '?'}).`);

  return {
    name,
    current: () => current,
    restarts: () => restarts,
    async stop() {
      stopping = true;
      if (pending !== undefined) clearTimeout(pending);
      await current.stop();
    },
  };
}
