import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { REPO_ROOT } from '../../config/env';
import { freePort, startProcess, type ManagedProcess } from '../../stack/processes';
import { signupBody } from '../support/signups';
import { eventually } from '../support/wait';

const running: ManagedProcess[] = [];
let dataDir: string;
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function portIsClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** Everything each stack wrote (recentOutput keeps only the first and last lines). */
const transcripts = new Map<ManagedProcess, string[]>();

async function startStack(env: NodeJS.ProcessEnv): Promise<ManagedProcess> {
  const stack = startProcess('npm start', process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'stack/start.ts')], {
    cwd: REPO_ROOT,
    env,
  });
  running.push(stack);
  const transcript: string[] = [];
  transcripts.set(stack, transcript);
  stack.child.stderr?.on('data', (chunk: Buffer) => transcript.push(chunk.toString('utf8')));
  await eventually(async () => (stack.recentOutput().includes('Press Ctrl-C') ? true : undefined), 90_000, 'the stack');
  return stack;
}

/** The pid of the stack's child process running `entry`. */
function childPid(stack: ManagedProcess, entry: string): number {
  const lines = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(stack.child.pid)], { encoding: 'utf8' }).split('\n');
  const pid = Number(
    lines
      .find((line) => line.includes(entry))
      ?.trim()
      .split(/\s+/)[0],
  );
  if (!(pid > 0)) throw new Error(`no child runs ${entry}:\n${lines.join('\n')}`);
  return pid;
}

describe('npm start', () => {
  it('runs the whole system on embedded defaults, stops every child on Ctrl-C, reuses its data, restarts a killed worker, and stops on SIGTERM', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'admit-start-'));
    const ports = {
      PORT: await freePort(),
      ADMIT_TEMPORAL_PORT: await freePort(),
      ADMIT_TEMPORAL_UI_PORT: await freePort(),
      ADMIT_POSTGRES_PORT: await freePort(),
      ADMIT_SMTP_PORT: await freePort(),
      ADMIT_WORKER_HTTP_PORT: await freePort(),
    };
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ADMIT_DATA_DIR: dataDir,
      TEMPORAL_CLI_PATH: inject('temporalCliPath'),
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    };
    const web = `http://127.0.0.1:${ports.PORT}`;

    const first = await startStack(env);
    expect(first.recentOutput()).toContain(`Temporal Web UI   http://127.0.0.1:${ports.ADMIT_TEMPORAL_UI_PORT}`);
    expect((await fetch(`http://127.0.0.1:${ports.ADMIT_TEMPORAL_UI_PORT}/`)).status).toBe(200);
    // The approvers are seeded as subjects of the development identity provider the web really runs.
    const { issuer } = (await (await fetch(`${web}/dev-idp/.well-known/openid-configuration`)).json()) as { issuer: string };
    expect(issuer).toBe(`http://localhost:${ports.PORT}/dev-idp`);
    expect(first.recentOutput()).toContain(`Development approvers enrolled: Ada Approver, Rui Reviewer, Sam Second (issuer ${issuer}).`);
    const body = signupBody();
    const signup = await fetch(`${web}/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(signup.status).toBe(202);
    const { applicationId } = (await signup.json()) as { applicationId: string };
    await eventually(
      async () => {
        const view = (await (await fetch(`${web}/applications/${applicationId}`)).json()) as { registry: unknown };
        return view.registry !== null ? true : undefined;
      },
      30_000,
      'the registry entry',
    );

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    for (const port of Object.values(ports)) expect(await portIsClosed(port)).toBe(true);

    const second = await startStack(env);
    expect(second.recentOutput()).toContain('Registry schema is up to date.');
    // The restarted worker answers queries once it has bundled its workflows.
    const view = await eventually(
      async () => {
        const answer = (await (await fetch(`${web}/applications/${applicationId}`)).json()) as {
          applicationId: string;
          workflow: { stage?: string };
        };
        // REGISTERING until the registration's completion is in the history: the first stack may
        // have stopped between the activity's commit and its report, which a retry then makes.
        return answer.workflow?.stage === undefined || answer.workflow.stage === 'REGISTERING' ? undefined : answer;
      },
      45_000,
      'the restarted stack to answer',
    );
    expect(view.applicationId).toBe(applicationId);
    // The organisation is being verified at GLEIF: unreachable from a closed network, where the
    // workflow keeps asking; reachable, GLEIF knows no such LEI and the claim is refused.
    expect(['VERIFYING_ENTITY', 'REJECTED']).toContain(view.workflow.stage);

    // A worker that dies is restarted, and the stack keeps admitting.
    const said = () => transcripts.get(second)?.join('') ?? '';
    const workerPid = childPid(second, 'worker/main.ts');
    process.kill(workerPid, 'SIGKILL');
    const restarted = await eventually(
      async () => /worker restarted \(pid (\d+), restart 1\)/.exec(said()) ?? undefined,
      30_000,
      'the worker restart',
    );
    expect(said()).toMatch(/worker exited unexpectedly \(signal SIGKILL\) after [\d.]+s; restarting it in 1s\./);
    expect(said()).toContain(`worker started (pid ${workerPid})`);
    const newWorkerPid = Number(restarted[1]);
    expect(newWorkerPid).not.toBe(workerPid);
    const again = await fetch(`${web}/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(signupBody()),
    });
    expect(again.status).toBe(202);
    const { applicationId: laterId } = (await again.json()) as { applicationId: string };
    // Its registry entry is written by the restarted worker's activity, and its workflow answers.
    await eventually(
      async () => {
        const answer = (await (await fetch(`${web}/applications/${laterId}`)).json()) as { registry: unknown; workflow: { stage?: string } };
        return answer.registry !== null && answer.workflow?.stage !== undefined ? true : undefined;
      },
      60_000,
      'the later signup to reach the restarted worker',
    );

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    for (const port of Object.values(ports)) expect(await portIsClosed(port)).toBe(true);
    expect(() => process.kill(newWorkerPid, 0)).toThrow();
  }, 240_000);
});
