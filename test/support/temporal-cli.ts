import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { inject } from 'vitest';

const run = promisify(execFile);

/**
 * Messages as an attacker with access to Temporal's frontend but without
 * Admit's payload key sends them: the plain `temporal` CLI, whose `--input` is
 * JSON in clear (`json/plain`), never sealed by Admit's codec. The codec
 * decodes such a payload to the unauthenticated marker
 * (domain/unauthenticated.ts), which the workflow must refuse.
 */
export interface UnsealedMessage {
  workflowId: string;
  /** Update or signal name, e.g. `vote`, `confirmContact`, `offboard`. */
  name: string;
  /** Each becomes one `--input` argument (JSON in clear). */
  args: unknown[];
  /** Defaults to the suite's dev server. */
  address?: string;
  namespace?: string;
}

export interface CliResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

async function cli(args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(inject('temporalCliPath'), args, { timeout: 30_000 });
    return { ok: true, stdout, stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, stdout: failed.stdout ?? '', stderr: failed.stderr ?? failed.message };
  }
}

function common(message: UnsealedMessage): string[] {
  return [
    '--address',
    message.address ?? inject('temporalAddress'),
    '--namespace',
    message.namespace ?? 'default',
    '--workflow-id',
    message.workflowId,
    '--name',
    message.name,
    ...message.args.flatMap((arg) => ['--input', JSON.stringify(arg)]),
  ];
}

/** `temporal workflow update execute`: waits for the update's outcome; `ok: false` when it was refused. */
export function sendUnsealedUpdate(message: UnsealedMessage): Promise<CliResult> {
  return cli(['workflow', 'update', 'execute', ...common(message), '--output', 'json']);
}

/** `temporal workflow signal`: a signal is written to history whatever the workflow then does with it. */
export function sendUnsealedSignal(message: UnsealedMessage): Promise<CliResult> {
  return cli(['workflow', 'signal', ...common(message)]);
}

/** `temporal workflow start`: a partner lifecycle started with an input Admit never sealed. */
export function startUnsealedWorkflow(start: { workflowId: string; taskQueue: string; input: unknown; address?: string }): Promise<CliResult> {
  return cli([
    'workflow',
    'start',
    '--address',
    start.address ?? inject('temporalAddress'),
    '--namespace',
    'default',
    '--type',
    'partnerLifecycle',
    '--task-queue',
    start.taskQueue,
    '--workflow-id',
    start.workflowId,
    '--input',
    JSON.stringify(start.input),
  ]);
}
