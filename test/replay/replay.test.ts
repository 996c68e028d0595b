import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { dataConverter } from '../../temporal/connection';
import { HISTORIES_DIR } from '../support/histories';
import { TEST_PAYLOAD_KEY } from '../support/keys';

/** The main paths, recorded by the lifecycle tests (test/support/histories.ts). */
const PATHS = [
  'anchor-refused-then-resubmitted',
  'approval-escalated-then-expired',
  'contacts-expired',
  'continued-as-new',
  'contract-end',
  'expansion-refused-then-auto-granted',
  'expansion-rejected-by-approver',
  'inactivity',
  'key-compromise',
  'low-admitted',
  'manual-offboard',
  'medium-approved-after-refused-votes',
  'offboarded-while-awaiting-contacts',
  'organisation-cascade',
  'recertified-then-lapsed',
  'regulated-two-approvers',
  'rejected',
  'suspended-then-rotated',
  'suspension-grace-expired',
];

/**
 * Every history the build must replay, by the code that recorded it. A file
 * that goes missing fails here, as does one nobody listed: the coverage of
 * lifecycles started under older code can only grow.
 */
const EXPECTED = [
  // Before the serialised-handlers patch (one of them, offboarded-while-awaiting-contacts, after approver-directory-at-registration).
  ...PATHS.map((name) => `${name}.json`),
  // Under serialised-handlers.
  ...PATHS.map((name) => `${name}.serialised-handlers.json`),
  // Under short-monitoring-runs (and the patches between: registration-refusal, entity-verification,
  // authorization-server-clients).
  ...PATHS.map((name) => `${name}.short-monitoring-runs.json`),
].sort();

const files = (await readdir(HISTORIES_DIR)).filter((f) => f.endsWith('.json')).sort();

describe('recorded lifecycle histories replay against the current workflow code', () => {
  it('holds exactly the expected histories', () => {
    expect(files).toEqual(EXPECTED);
  });

  it.each(EXPECTED)('%s', async (file) => {
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
