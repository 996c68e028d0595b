import { z } from 'zod';
import type { Registry } from '../registry/client';

/**
 * Usage telemetry from API gateways: one report per client and interval.
 * A batch is all-or-nothing: every row is validated, every client looked up,
 * and only a batch without a single problem is written, in one statement, so
 * a gateway that resends after a timeout never leaves half a batch behind.
 * Rows are upserted on (client, source, interval start): a resend, or a
 * corrected count for the same interval, replaces the earlier row.
 *
 * Not audited one event per batch: telemetry is the evidence the workflow
 * later reads (readUsage), not a decision; the decisions it informs are audited.
 */
export const MAX_USAGE_BATCH = 1000;

/** Counts fit PostgreSQL's INTEGER columns. */
const count = z.number().int().min(0).max(2_147_483_647);
/**
 * Instants from 1970 on: PostgreSQL has no year 0, and telemetry from before
 * the epoch is a mistake, not evidence.
 */
const isoInstant = z.iso.datetime({ offset: true }).refine((value) => Date.parse(value) >= 0, { message: 'must be an instant from 1970 on' });

/** How far ahead of Admit's clock a gateway's clock may run, by default. */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60_000;

export interface IngestOptions {
  /** Admit's clock; defaults to the system's. */
  now?: Date;
  /** Reports may end at most this far after `now` (ADMIT_CLOCK_SKEW). */
  clockSkewMs?: number;
  /**
   * The environments the reporting gateway serves (ADMIT_GATEWAY_ENVIRONMENTS):
   * it may report only for clients of applications in them. Undefined: all.
   */
  environments?: readonly string[];
}

const reportSchema = z
  .object({
    clientId: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
    intervalStart: isoInstant,
    intervalEnd: isoInstant,
    calls: count,
    denials: count,
    errors: count,
    anomalies: count,
    /** When the client was last seen in the interval; defaults to the interval's end if it made calls. */
    lastSeenAt: isoInstant.nullable().optional(),
  })
  .strict()
  .superRefine((report, ctx) => {
    const start = Date.parse(report.intervalStart);
    const end = Date.parse(report.intervalEnd);
    if (end <= start) ctx.addIssue({ code: 'custom', path: ['intervalEnd'], message: 'must be after intervalStart' });
    // Rates are fractions of calls (domain/expansion.ts): a denial or error is a call.
    if (report.denials > report.calls) ctx.addIssue({ code: 'custom', path: ['denials'], message: 'cannot exceed calls' });
    if (report.errors > report.calls) ctx.addIssue({ code: 'custom', path: ['errors'], message: 'cannot exceed calls' });
    if (report.lastSeenAt != null) {
      const seen = Date.parse(report.lastSeenAt);
      if (seen < start || seen > end) ctx.addIssue({ code: 'custom', path: ['lastSeenAt'], message: 'must lie within the interval' });
    }
  });

export interface UsageRowError {
  /** Dotted path, e.g. `reports.3.clientId`. */
  field: string;
  message: string;
}

export class UsageBatchRejected extends Error {
  override name = 'UsageBatchRejected';
  constructor(readonly errors: UsageRowError[]) {
    super(`The usage batch was refused, nothing was recorded: ${errors.length} problem${errors.length === 1 ? '' : 's'}.`);
  }
}

const batchSchema = z
  .array(z.unknown())
  .min(1, 'a batch needs at least one report')
  .max(MAX_USAGE_BATCH, `at most ${MAX_USAGE_BATCH} reports per batch`);

export async function ingestUsageBatch(
  registry: Registry,
  source: string,
  reports: unknown,
  options: IngestOptions = {},
): Promise<{ accepted: number }> {
  const now = (options.now ?? new Date()).getTime();
  const latestEnd = now + (options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS);
  const batch = batchSchema.safeParse(reports);
  if (!batch.success) throw new UsageBatchRejected(batch.error.issues.map((issue) => ({ field: 'reports', message: issue.message })));

  const errors: UsageRowError[] = [];
  const rows: z.output<typeof reportSchema>[] = [];
  /** Row index of each (client, interval start) seen, to report repeats against the first. */
  const firstIndex = new Map<string, number>();
  batch.data.forEach((raw, index) => {
    const parsed = reportSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) errors.push({ field: ['reports', index, ...issue.path].join('.'), message: issue.message });
      return;
    }
    // An interval that has not ended yet is a claim about the future: it would keep an idle client "active".
    if (Date.parse(parsed.data.intervalEnd) > latestEnd) {
      errors.push({ field: `reports.${index}.intervalEnd`, message: 'lies in the future; report intervals once they have ended' });
      return;
    }
    const key = `${parsed.data.clientId}\u0000${new Date(parsed.data.intervalStart).toISOString()}`;
    const first = firstIndex.get(key);
    if (first !== undefined) {
      errors.push({ field: `reports.${index}`, message: `repeats reports.${first} (same clientId and intervalStart)` });
      return;
    }
    firstIndex.set(key, index);
    rows.push(parsed.data);
  });

  return registry.$transaction(async (tx) => {
    const clientIds = [...new Set(rows.map((r) => r.clientId))];
    const credentials = await tx.clientCredential.findMany({
      where: { clientId: { in: clientIds } },
      select: { clientId: true, applicationId: true, status: true, application: { select: { environment: true } } },
    });
    const byClient = new Map(credentials.map((c) => [c.clientId, c]));
    for (const [key, index] of firstIndex) {
      const clientId = key.slice(0, key.indexOf('\u0000'));
      const credential = byClient.get(clientId);
      // Revoked clients are refused like unknown ones: the gateway should not be letting them through.
      if (credential === undefined || credential.status === 'REVOKED') {
        errors.push({ field: `reports.${index}.clientId`, message: credential === undefined ? 'is not a known client' : 'is revoked' });
      } else if (options.environments !== undefined && !options.environments.includes(credential.application.environment)) {
        // A gateway speaks only for the environments it fronts (ADMIT_GATEWAY_ENVIRONMENTS).
        errors.push({
          field: `reports.${index}.clientId`,
          message: `is a ${credential.application.environment} client, which gateway ${source} does not serve`,
        });
      }
    }
    if (errors.length > 0) throw new UsageBatchRejected(errors.sort((a, b) => compareFields(a.field, b.field)));

    const column = <T>(pick: (r: (typeof rows)[number]) => T): T[] => rows.map(pick);
    await tx.$executeRaw`
      INSERT INTO usage_reports (id, client_id, application_id, source, interval_start, interval_end, calls, denials, errors, anomalies, last_seen_at)
      SELECT gen_random_uuid(), r.client_id, r.application_id, ${source}, r.interval_start, r.interval_end, r.calls, r.denials, r.errors, r.anomalies, r.last_seen_at
      FROM unnest(
        ${column((r) => r.clientId)}::text[],
        ${column((r) => byClient.get(r.clientId)?.applicationId ?? '')}::text[],
        ${column((r) => r.intervalStart)}::timestamptz[],
        ${column((r) => r.intervalEnd)}::timestamptz[],
        ${column((r) => r.calls)}::int[],
        ${column((r) => r.denials)}::int[],
        ${column((r) => r.errors)}::int[],
        ${column((r) => r.anomalies)}::int[],
        ${column((r) => r.lastSeenAt ?? (r.calls > 0 ? r.intervalEnd : null))}::timestamptz[]
      ) AS r(client_id, application_id, interval_start, interval_end, calls, denials, errors, anomalies, last_seen_at)
      ON CONFLICT (client_id, source, interval_start) DO UPDATE SET
        interval_end = EXCLUDED.interval_end,
        calls = EXCLUDED.calls,
        denials = EXCLUDED.denials,
        errors = EXCLUDED.errors,
        anomalies = EXCLUDED.anomalies,
        last_seen_at = EXCLUDED.last_seen_at,
        received_at = CURRENT_TIMESTAMP`;
    return { accepted: rows.length };
  });
}

/** `reports.2.x` before `reports.10.x`. */
function compareFields(a: string, b: string): number {
  const index = (field: string) => Number(field.split('.')[1] ?? -1);
  return index(a) - index(b) || a.localeCompare(b);
}
