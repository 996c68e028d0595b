// The bare worker process of the admission benchmark: the bare workflow (bench/bare/workflows.ts,
// bundled on its own) on its own task queue, Temporal's default data converter, no interceptors, its
// activities each one INSERT into a scratch table of the registry's PostgreSQL. A process of its own,
// so its CPU is measured apart from Admit's worker.
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import pg from 'pg';
import { bareActivities, createBareTable } from './activities';

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<void> {
  const taskQueue = env('BARE_TASK_QUEUE');
  const address = env('TEMPORAL_ADDRESS');
  // As many connections as Admit's registry client opens by default (registry/client.ts).
  const pool = new pg.Pool({ connectionString: env('DATABASE_URL'), max: 10 });
  await createBareTable(pool);
  const connection = await NativeConnection.connect({ address });
  try {
    const worker = await Worker.create({
      connection,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
      activities: bareActivities(pool),
      // The same cache and sticky timeout as Admit's worker (ADMIT_WORKFLOW_CACHE_SIZE, ADMIT_STICKY_QUEUE_TIMEOUT defaults).
      maxCachedWorkflows: Number(process.env.BARE_CACHE_SIZE ?? 500),
      stickyQueueScheduleToStartTimeout: '10s',
    });
    console.error(`bare worker: polling task queue ${taskQueue} on ${address}`);
    await worker.run();
  } finally {
    await connection.close();
    await pool.end();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
