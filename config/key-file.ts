import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A development secret generated once into `file` and read back ever after,
 * so a restarted development stack keeps reading what it wrote (Temporal
 * histories, emailed links). Concurrent first starts (worker and web) agree:
 * the file is created exclusively and whoever loses the race reads the
 * winner's key. Production never gets here: its secrets come from the
 * environment (config/env.ts refuses to start without them).
 */
export async function generatedOnceKey(file: string, bytes: number): Promise<Buffer> {
  const existing = await readKey(file);
  if (existing !== undefined) return existing;
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, randomBytes(bytes).toString('base64'), { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  await chmod(file, 0o600);
  const key = await readKey(file);
  if (key === undefined || key.length < bytes) {
    throw new Error(`${file} does not hold a ${bytes}-byte base64 key; delete it to have a new one generated.`);
  }
  return key;
}

async function readKey(file: string): Promise<Buffer | undefined> {
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
