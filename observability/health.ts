import nodemailer from 'nodemailer';

/** One dependency a process needs to do its work; rejects when it is unavailable. */
export type ReadinessCheck = () => Promise<unknown>;

export interface Readiness {
  ready: boolean;
  /** `ok`, or why the dependency is not (`timeout`, or the error's class: messages may name hosts and are logged instead). */
  checks: Record<string, string>;
}

/** Bounds every check: a probe must answer before the orchestrator's own timeout. */
export const READINESS_TIMEOUT_MS = 3_000;

/** Runs the checks in parallel, each bounded by `timeoutMs`; failures are logged through `log`. */
export async function readiness(
  checks: Record<string, ReadinessCheck>,
  log: (message: string) => void = (message) => console.error(message),
  timeoutMs = READINESS_TIMEOUT_MS,
): Promise<Readiness> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, string]> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ReadinessTimeout()), timeoutMs);
      });
      try {
        await Promise.race([check(), timeout]);
        return [name, 'ok'];
      } catch (error) {
        if (error instanceof ReadinessTimeout) return [name, 'timeout'];
        log(`readiness: ${name} unavailable: ${error instanceof Error ? error.message : String(error)}`);
        return [name, error instanceof Error ? error.name : 'error'];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const checksByName = Object.fromEntries(results);
  return { ready: results.every(([, result]) => result === 'ok'), checks: checksByName };
}

class ReadinessTimeout extends Error {
  override name = 'ReadinessTimeout';
}

/** Temporal's frontend answers (GetSystemInfo): works for the client's Connection and the worker's NativeConnection. */
export function temporalCheck(connection: { workflowService: { getSystemInfo(request: object): Promise<unknown> } }): ReadinessCheck {
  return () => connection.workflowService.getSystemInfo({});
}

/** The registry's PostgreSQL answers a query. */
export function registryCheck(registry: { $queryRaw: (query: TemplateStringsArray) => Promise<unknown> }): ReadinessCheck {
  return () => registry.$queryRaw`select 1`;
}

/**
 * The SMTP relay accepts a connection (and the credentials in SMTP_URL). Only the worker checks it:
 * mail is the worker's, and a mail outage must not take the web (and `/decisions`) out of service.
 */
export function smtpCheck(smtpUrl: string): ReadinessCheck & { close(): void } {
  const transport = nodemailer.createTransport(smtpUrl);
  const check = (() => transport.verify()) as ReadinessCheck & { close(): void };
  check.close = () => transport.close();
  return check;
}
