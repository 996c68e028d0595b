import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { WorkflowHandle } from '@temporalio/client';
import { REPO_ROOT } from '../../config/env';

export const HISTORIES_DIR = path.join(REPO_ROOT, 'test', 'replay', 'histories');

/**
 * The newest workflow patch id: histories recorded now are named after it
 * (`<path>.<era>.json`), beside those recorded under earlier code, which keep
 * their names. Move it on with each patch that changes commands.
 */
export const RECORDING_ERA = 'short-monitoring-runs';

/**
 * With ADMIT_RECORD_HISTORIES=1 the lifecycle tests save the histories of the
 * main paths here; test/replay/replay.test.ts replays every saved history
 * against the current workflow code, so a change that breaks determinism for
 * running lifecycles fails the build (and needs `patched()`). A recorded
 * history is the only evidence that lifecycles started under that code still
 * replay, so an existing one is never overwritten: recording again fails.
 */
export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.ADMIT_RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  await mkdir(HISTORIES_DIR, { recursive: true });
  const file = path.join(HISTORIES_DIR, `${name}.${RECORDING_ERA}.json`);
  try {
    await writeFile(file, historyToJSON(history), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    throw new Error(
      `${path.relative(REPO_ROOT, file)} is already recorded; recorded histories are never overwritten (move RECORDING_ERA on with the next patch).`,
    );
  }
}
