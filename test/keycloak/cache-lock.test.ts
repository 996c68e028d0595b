import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keycloakHome, withLock } from '../../stack/keycloak';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'admit-kc-lock-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('the Keycloak cache', () => {
  it('lives under ${XDG_CACHE_HOME}/admit/keycloak-<version>', () => {
    const before = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = '/var/cache/someone';
    try {
      expect(keycloakHome()).toBe('/var/cache/someone/admit/keycloak-26.4.5');
    } finally {
      if (before === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = before;
    }
  });

  it('lets one preparer in at a time', async () => {
    const lock = path.join(dir, 'serial.lock');
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3].map((n) =>
        withLock(
          lock,
          () => undefined,
          async () => {
            inside += 1;
            most = Math.max(most, inside);
            await new Promise((resolve) => setTimeout(resolve, 150));
            order.push(n);
            inside -= 1;
          },
        ),
      ),
    );
    expect(most).toBe(1);
    expect(order.sort()).toEqual([1, 2, 3]);
    // Released: the lock directory is gone.
    expect(await readdir(dir)).not.toContain('serial.lock');
  });

  it('takes over a lock whose owner died', async () => {
    const lock = path.join(dir, 'stale.lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
    await mkdir(lock);
    await writeFile(path.join(lock, 'pid'), String(dead));
    const messages: string[] = [];
    const result = await withLock(
      lock,
      (m) => messages.push(m),
      async () => 'acquired',
    );
    expect(result).toBe('acquired');
    expect(messages).toEqual([]);
  });

  it('waits while the owner lives, and says so', async () => {
    const lock = path.join(dir, 'held.lock');
    await mkdir(lock);
    await writeFile(path.join(lock, 'pid'), String(process.pid));
    const messages: string[] = [];
    let acquired = false;
    const waiting = withLock(
      lock,
      (m) => messages.push(m),
      async () => {
        acquired = true;
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(acquired).toBe(false);
    expect(messages[0]).toMatch(/Waiting for another process/);
    await rm(lock, { recursive: true });
    await waiting;
    expect(acquired).toBe(true);
  });
});
