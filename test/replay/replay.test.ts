import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { dataConverter } from '../../temporal/connection';
import { HISTORIES_DIR } from '../support/histories';
import { TEST_PAYLOAD_KEY } from '../support/keys';

const files = (await readdir(HISTORIES_DIR)).filter((f) => f.endsWith('.json')).sort();

describe('recorded lifecycle histories replay against the current workflow code', () => {
  it('has recorded histories of the main paths', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
  });

  it.each(files)('%s', async (file) => {
    const history = historyFromJSON(JSON.parse(await readFile(path.join(HISTORIES_DIR, file), 'utf8')));
    await Worker.runReplayHistory(
      {
        workflowBundle: { codePath: inject('workflowBundlePath') },
        dataConverter: dataConverter(Buffer.from(TEST_PAYLOAD_KEY, 'base64')),
      },
      history,
      file.replace(/\.json$/, ''),
    );
  });
});
