// `npm run bench:replay`: what waking an evicted lifecycle costs the worker. A worker that evicted a
// lifecycle replays its current run when it next wakes; this replays recorded histories of several
// lengths in process (Worker.runReplayHistories, the production bundle and data converter) and reports
// worker CPU per replay and per history event (docs/benchmarks.md, "Scale").
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { dataConverter } from '../temporal/connection';
import { workflowBundleOptions } from '../worker/bundle';
import { HISTORIES_DIR } from '../test/support/histories';
import { TEST_PAYLOAD_KEY } from '../test/support/keys';

const { values } = parseArgs({
  options: {
    replays: { type: 'string', default: '30' },
    histories: {
      type: 'string',
      default: 'offboarded-while-awaiting-contacts,low-admitted,suspended-then-rotated',
    },
  },
});
const replays = Number(values.replays);
if (!Number.isInteger(replays) || replays < 1) throw new Error(`--replays takes a positive whole number, not ${JSON.stringify(values.replays)}`);

Runtime.install({ logger: new DefaultLogger('WARN') });
const workflowBundle = await bundleWorkflowCode({ ...workflowBundleOptions(), logger: new DefaultLogger('WARN') });
const converter = dataConverter(Buffer.from(TEST_PAYLOAD_KEY, 'base64'));

async function replayAll(history: ReturnType<typeof historyFromJSON>, count: number): Promise<number> {
  async function* histories() {
    for (let i = 0; i < count; i += 1) yield { workflowId: `replay-cost-${i}`, history };
  }
  const before = process.cpuUsage();
  for await (const result of Worker.runReplayHistories({ workflowBundle, dataConverter: converter }, histories())) {
    if (result.error !== undefined) throw result.error;
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / count;
}

console.log('| history | events | worker CPU per replay | per event |');
console.log('| --- | ---: | ---: | ---: |');
for (const name of values.histories.split(',')) {
  const file = path.join(HISTORIES_DIR, `${name.trim()}.serialised-handlers.json`);
  const history = historyFromJSON(JSON.parse(await readFile(file, 'utf8')));
  const events = history.events?.length ?? 0;
  // The first replays compile the SDK's and the workflow's code, as a long-running worker did long ago.
  await replayAll(history, Math.min(10, replays));
  const cpuMs = await replayAll(history, replays);
  console.log(`| ${name} | ${events} | ${cpuMs.toFixed(1)} ms | ${(cpuMs / events).toFixed(2)} ms |`);
}
