import { describe, expect, it } from 'vitest';
import { startProcess, type ManagedProcess } from '../../stack/processes';
import { supervise } from '../../stack/supervise';

/** A real child process running `script`. */
const node = (script: string) => (): ManagedProcess => startProcess('child', process.execPath, ['-e', script]);

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('supervise', () => {
  it('restarts a child that dies, doubling the wait up to the cap, and logs each exit and restart', async () => {
    const lines: string[] = [];
    const starts: number[] = [];
    const start = node('process.exit(3)');
    const child = supervise(
      'crasher',
      () => {
        starts.push(Date.now());
        return start();
      },
      { log: (line) => lines.push(line), initialBackoffMs: 100, maxBackoffMs: 400, healthyAfterMs: 60_000 },
    );
    try {
      await until(() => child.restarts() >= 4, 20_000, 'four restarts');
    } finally {
      await child.stop();
    }
    expect(lines[0]).toMatch(/^crasher started \(pid \d+\)\.$/);
    const waits = lines.filter((l) => l.includes('exited unexpectedly')).map((l) => /restarting it in ([\d.]+)s/.exec(l)?.[1]);
    expect(waits.slice(0, 4)).toEqual(['0.1', '0.2', '0.4', '0.4']);
    expect(lines.filter((l) => l.includes('exited unexpectedly'))[0]).toMatch(
      /^crasher exited unexpectedly \(code 3\) after [\d.]+s; restarting it in 0\.1s\.$/,
    );
    expect(lines).toContainEqual(expect.stringMatching(/^crasher restarted \(pid \d+, restart 1\)\.$/));
    // The waits really happened between the starts.
    const gaps = starts.slice(1, 4).map((at, i) => at - (starts[i] as number));
    expect(gaps[1]).toBeGreaterThanOrEqual(200);
    expect(gaps[2]).toBeGreaterThanOrEqual(400);
  });

  it('waits the initial backoff again after a child that had run long enough to count as healthy', async () => {
    const lines: string[] = [];
    const child = supervise('flaky', node('setTimeout(() => process.exit(1), 300)'), {
      log: (line) => lines.push(line),
      initialBackoffMs: 50,
      maxBackoffMs: 1_000,
      healthyAfterMs: 200,
    });
    try {
      await until(() => child.restarts() >= 3, 20_000, 'three restarts');
    } finally {
      await child.stop();
    }
    const waits = lines.filter((l) => l.includes('exited unexpectedly')).map((l) => /restarting it in ([\d.]+)s/.exec(l)?.[1]);
    expect(waits.slice(0, 3)).toEqual(['0.05', '0.05', '0.05']);
  });

  it('stops the child on stop() and starts no other, even with a restart pending', async () => {
    const lines: string[] = [];
    const running = supervise('server', node('setInterval(() => {}, 1000)'), { log: (line) => lines.push(line) });
    const pid = running.current().child.pid;
    await running.stop();
    expect(running.current().child.pid).toBe(pid);
    expect(running.current().child.signalCode).toBe('SIGTERM');

    const crashing = supervise('crasher', node('process.exit(1)'), { log: (line) => lines.push(line), initialBackoffMs: 300 });
    await until(() => lines.some((l) => l.startsWith('crasher exited unexpectedly')), 10_000, 'the crash');
    await crashing.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(crashing.restarts()).toBe(0);
    expect(lines.filter((l) => l.startsWith('crasher'))).toHaveLength(2);
    expect(lines.some((l) => l.startsWith('server exited'))).toBe(false);
  });
});
