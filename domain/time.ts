/**
 * Instants cross workflow and activity boundaries as ISO-8601 strings (Temporal payloads are JSON),
 * so every domain function accepts either a Date or a string and answers in ISO strings.
 * Nothing here reads the clock: the caller passes `now` (workflow time inside a workflow).
 */
export type Instant = Date | string;

/** Epoch milliseconds of an instant, or undefined when it does not denote a real time. */
export function epochMs(instant: Instant | null | undefined): number | undefined {
  if (instant instanceof Date) {
    const ms = instant.getTime();
    return Number.isFinite(ms) ? ms : undefined;
  }
  if (typeof instant !== 'string') return undefined;
  const match = ISO_INSTANT.exec(instant.trim());
  if (!match) return undefined;
  const ms = Date.parse(instant.trim());
  if (!Number.isFinite(ms)) return undefined;
  // Date.parse rolls "2027-02-30" over to March; a date that does not exist is not an instant.
  const [, year, month, day] = match;
  const offsetMs = offsetMillis(match[4]);
  const calendar = new Date(ms + offsetMs);
  const sameDate =
    calendar.getUTCFullYear() === Number(year) && calendar.getUTCMonth() + 1 === Number(month) && calendar.getUTCDate() === Number(day);
  return sameDate ? ms : undefined;
}

/**
 * ISO-8601 only, with an explicit offset when there is a time: other formats Date.parse accepts
 * are implementation-defined and may be read in the host's local zone, which would make a
 * workflow's decisions depend on the worker's machine.
 */
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

function offsetMillis(offset: string | undefined): number {
  if (offset === undefined || offset === 'Z') return 0;
  const sign = offset.startsWith('-') ? -1 : 1;
  const [hours, minutes] = offset.slice(1).split(':').map(Number);
  return sign * ((hours ?? 0) * 60 + (minutes ?? 0)) * 60_000;
}

export function isoFromEpochMs(ms: number): string {
  return new Date(ms).toISOString();
}

/** A date without a time ("2027-06-30"): the contract end date is written that way in the signup form. */
export function isDateOnly(value: Instant): value is string {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value.trim());
}

export const MS_PER_MINUTE = 60_000;
export const MS_PER_HOUR = 60 * MS_PER_MINUTE;
export const MS_PER_DAY = 24 * MS_PER_HOUR;
