import { verifyAuditChain } from '../../registry/audit';
import { Mailbox } from './mailbox';
import { admitPartner, type PartnerRun } from './partner';
import { startChaosStack, type ChaosStack, type ChaosTemporal } from './stack';

export const FAULTS = ['worker', 'temporal', 'temporal-node', 'postgres', 'smtp', 'web'] as const;
export type Fault = (typeof FAULTS)[number];

export interface ChaosOptions {
  admissions: number;
  /** Partners in flight at once. */
  concurrency: number;
  /** Each fault in this list is injected once, in order, spread over the run; repeats are allowed. */
  faults: Fault[];
  smtpOutageMs: number;
  /** Which Temporal runs under the stack (default: the dev server). */
  temporal?: ChaosTemporal;
  /** Keep the stack's folder (logs, mail, databases) for a post-mortem. */
  keep?: boolean;
  progress?: (message: string) => void;
  /** Told the stack once it runs, so a Ctrl-C can stop it. */
  onStack?: (stack: ChaosStack) => void;
}

export interface ChaosReport {
  admissions: number;
  admitted: number;
  failures: { applicationId: string; error: string }[];
  violations: string[];
  faults: string[];
  seconds: number;
  admissionSeconds: { p50: number; max: number };
  auditEvents: number;
}

async function inject(stack: ChaosStack, fault: Fault, smtpOutageMs: number): Promise<void> {
  switch (fault) {
    case 'worker':
      return stack.killWorker();
    case 'web':
      return stack.killWeb();
    case 'temporal':
      return stack.restartTemporal();
    case 'temporal-node':
      return stack.killTemporalNode(30_000);
    case 'postgres':
      return stack.restartPostgres();
    case 'smtp':
      return stack.smtpOutage(smtpOutageMs);
  }
}

/** What must hold for every application, whatever happened to the stack while it was admitted. */
async function check(stack: ChaosStack, mailbox: Mailbox, runs: PartnerRun[]): Promise<{ violations: string[]; auditEvents: number }> {
  const violations: string[] = [];
  for (const run of runs) {
    if (run.applicationId === '' || run.error !== undefined) continue;
    const id = run.applicationId;
    const admissions = await stack.registry.auditEvent.count({
      where: { applicationId: id, type: 'lifecycle.transition', data: { path: ['to'], equals: 'ADMITTED' } },
    });
    if (admissions !== 1) violations.push(`${id}: ADMITTED ${admissions} times`);
    const grants = await stack.registry.grant.count({ where: { applicationId: id } });
    if (grants !== 1) violations.push(`${id}: ${grants} grants`);
    const credentials = await stack.registry.clientCredential.count({ where: { applicationId: id } });
    if (credentials !== 1) violations.push(`${id}: ${credentials} credentials`);
  }

  // One Message-ID per recipient and message: a mail sent again is the same mail.
  const mails = await mailbox.all();
  const ids = new Map<string, Set<string>>();
  for (const mail of mails) {
    for (const to of mail.to) {
      const key = `${to} · ${mail.subject}`;
      ids.set(key, (ids.get(key) ?? new Set()).add(mail.messageId));
    }
  }
  for (const [key, set] of ids) if (set.size > 1) violations.push(`${key}: ${set.size} distinct Message-IDs`);

  // Every link that was mailed still works: used, it says so; it is never refused as unknown or expired.
  const links = [...new Set(mails.flatMap((m) => m.links))];
  let probe = 0;
  for (const link of links) {
    probe += 1;
    const response = await fetch(new URL(link, stack.webUrl), { headers: { 'x-forwarded-for': `172.16.${(probe >> 8) & 255}.${probe & 255}` } });
    await response.arrayBuffer();
    if (response.status !== 200 && response.status !== 409) violations.push(`${link.slice(0, 40)}…: a mailed link answers ${response.status}`);
  }

  const chain = await verifyAuditChain(stack.registry);
  if (!chain.ok) violations.push(`the audit chain is broken at ${String(chain.brokenAt?.seq)} (${chain.brokenAt?.reason ?? '?'})`);
  return { violations, auditEvents: chain.events };
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/**
 * N admissions driven over HTTP while the faults strike the stack one after
 * another, each once the run has got that far; then every application is
 * checked. The stack is the system's own processes (test/chaos/stack.ts).
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const progress = options.progress ?? (() => undefined);
  const began = Date.now();
  const stack = await startChaosStack({ keep: options.keep ?? false, temporal: options.temporal ?? 'dev' });
  options.onStack?.(stack);
  progress(`stack up in ${((Date.now() - began) / 1000).toFixed(1)}s (web ${stack.webUrl})`);
  try {
    const mailbox = new Mailbox(stack.mailDir);
    const runs: PartnerRun[] = [];
    let started = 0;
    let finished = 0;

    // Fault k strikes once k/(F+1) of the admissions have finished, while the next ones are mid-flight.
    const monkey = (async () => {
      for (const [k, fault] of options.faults.entries()) {
        const due = Math.floor(((k + 1) * options.admissions) / (options.faults.length + 1));
        while (finished < due) await new Promise((resolve) => setTimeout(resolve, 200));
        progress(`fault ${k + 1}/${options.faults.length}: ${fault} (${started} started, ${finished} finished)`);
        await inject(stack, fault, options.smtpOutageMs);
      }
    })();

    const partners = Array.from({ length: Math.min(options.concurrency, options.admissions) }, async () => {
      while (started < options.admissions) {
        started += 1;
        const run = await admitPartner({ webUrl: stack.webUrl, registry: stack.registry, mailbox, index: started });
        runs.push(run);
        finished += 1;
        if (run.error !== undefined) progress(`${run.applicationId || '(no id)'}: ${run.error}`);
        if (finished % 10 === 0) progress(`${finished}/${options.admissions} finished`);
      }
    });
    await Promise.all(partners);
    await monkey;

    const { violations, auditEvents } = await check(stack, mailbox, runs);
    const admittedTimes = runs.flatMap((r) => (r.admittedAfterMs === undefined ? [] : [r.admittedAfterMs / 1000]));
    return {
      admissions: options.admissions,
      admitted: admittedTimes.length,
      failures: runs.filter((r) => r.error !== undefined).map((r) => ({ applicationId: r.applicationId, error: r.error as string })),
      violations,
      faults: stack.log,
      seconds: (Date.now() - began) / 1000,
      admissionSeconds: { p50: quantile(admittedTimes, 0.5), max: quantile(admittedTimes, 1) },
      auditEvents,
    };
  } finally {
    await stack.close();
  }
}
