import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { WorkflowHandle } from '@temporalio/client';
import { REPO_ROOT } from '../../config/env';

export const HISTORIES_DIR = path.join(REPO_ROOT, 'test', 'replay', 'histories');

/**
 * With ADMIT_RECORD_HISTORIES=1 the lifecycle tests save the histories of the
 * main paths here; test/replay/replay.test.ts replays every saved history
 * against the current workflow code, so a change that breaks determinism for
 * running lifecycles fails the build (and needs `patched()`).
 */
export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.ADMIT_RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  await mkdir(HISTORIES_DIR, { recursive: true });
  await writeFile(path.join(HISTORIES_DIR, `${name}.json`), historyToJSON(history));
}
