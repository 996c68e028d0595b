import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIFECYCLE_DURATIONS,
  DomainInputError,
  DurationParseError,
  LIFECYCLE_SETTINGS,
  lifecycleDurationProblems,
  parseDuration,
  withLifecycleOverrides,
} from '../../domain';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('parseDuration', () => {
  it.each([
    ['15m', 15 * MINUTE],
    ['36h', 36 * HOUR],
    ['30d', 30 * DAY],
    ['2w', 14 * DAY],
    ['500ms', 500],
    ['45s', 45_000],
    ['1h30m', 90 * MINUTE],
    ['1d 12h', 36 * HOUR],
    ['1.5h', 90 * MINUTE],
    ['0m', 0],
    ['  15m  ', 15 * MINUTE],
  ])('reads the shorthand %j', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it.each([
    ['PT15M', 15 * MINUTE],
    ['P30D', 30 * DAY],
    ['P1DT12H', 36 * HOUR],
    ['PT1H30M15S', HOUR + 30 * MINUTE + 15_000],
    ['PT0.5S', 500],
    ['PT1,5S', 1500],
    ['P2W', 14 * DAY],
    ['pt15m', 15 * MINUTE],
  ])('reads the ISO-8601 duration %j', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['900', /bare number has no unit/],
    ['-15m', /negative/],
    ['15M', /not a recognised form/],
    ['15 minutes', /not a recognised form/],
    ['15x', /not a recognised form/],
    ['m15', /not a recognised form/],
    ['P1Y', /years and months/],
    ['P1M', /years and months/],
    ['P1Y2DT3H', /years and months/],
    ['P', /not a valid ISO-8601/],
    ['PT', /not a valid ISO-8601/],
    ['P1DT', /not a valid ISO-8601/],
    ['P1W2D', /not a valid ISO-8601/],
    ['PT1HT2M', /not a valid ISO-8601/],
    ['99999999999999999999d', /too large/],
  ])('refuses %j with a clear error', (input, message) => {
    expect(() => parseDuration(input)).toThrow(DurationParseError);
    expect(() => parseDuration(input)).toThrow(message);
  });

  it('names the input and the accepted forms in the error, with a stable code', () => {
    try {
      parseDuration('soon');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DomainInputError);
      expect((error as DurationParseError).code).toBe('DURATION_INVALID');
      expect((error as DurationParseError).input).toBe('soon');
      expect((error as Error).message).toContain('"soon"');
      expect((error as Error).message).toContain("'PT15M'");
    }
  });

  it('refuses a non-string at run time', () => {
    expect(() => parseDuration(15 as unknown as string)).toThrow(/not a string/);
  });
});

describe('DEFAULT_LIFECYCLE_DURATIONS', () => {
  it('holds the production defaults', () => {
    expect(DEFAULT_LIFECYCLE_DURATIONS).toEqual({
      contactReminderMs: 2 * DAY,
      contactExpiryMs: 7 * DAY,
      anchorSubmissionMs: 14 * DAY,
      approvalEscalationMs: 2 * DAY,
      approvalExpiryMs: 14 * DAY,
      probationMs: 30 * DAY,
      inactivityMs: 90 * DAY,
      anchorReverificationEveryMs: 1 * DAY,
      anchorExpiryNoticeMs: 30 * DAY,
      suspensionGraceMs: 14 * DAY,
      recertificationStrategicMs: 180 * DAY,
      recertificationRegulatedMs: 90 * DAY,
      contractEndNoticeMs: 30 * DAY,
      rotationOverlapMs: 7 * DAY,
      anchorResubmissionLimit: 3,
    });
  });

  it('is frozen and consistent', () => {
    expect(Object.isFrozen(DEFAULT_LIFECYCLE_DURATIONS)).toBe(true);
    expect(lifecycleDurationProblems(DEFAULT_LIFECYCLE_DURATIONS)).toEqual([]);
    expect(LIFECYCLE_SETTINGS).toHaveLength(15);
  });
});

describe('withLifecycleOverrides', () => {
  it('applies string and number overrides without touching the base', () => {
    const result = withLifecycleOverrides(DEFAULT_LIFECYCLE_DURATIONS, {
      contactReminderMs: '2s',
      contactExpiryMs: 'PT10S',
      probationMs: 5000,
      anchorResubmissionLimit: '0',
      inactivityMs: undefined,
    });
    expect(result.contactReminderMs).toBe(2000);
    expect(result.contactExpiryMs).toBe(10_000);
    expect(result.probationMs).toBe(5000);
    expect(result.anchorResubmissionLimit).toBe(0);
    expect(result.inactivityMs).toBe(90 * DAY);
    expect(DEFAULT_LIFECYCLE_DURATIONS.contactReminderMs).toBe(2 * DAY);
  });

  it('reports every problem at once, naming each setting', () => {
    const attempt = () =>
      withLifecycleOverrides(DEFAULT_LIFECYCLE_DURATIONS, {
        probationMs: 'soon',
        inactivityMs: 0,
        anchorResubmissionLimit: '2.5',
        ...({ bogusMs: '1s' } as object),
      });
    expect(attempt).toThrow(DomainInputError);
    expect(attempt).toThrow(/probationMs: Invalid duration "soon"/);
    expect(attempt).toThrow(/inactivityMs: 0 is not a positive whole number/);
    expect(attempt).toThrow(/anchorResubmissionLimit: "2.5" is not a non-negative integer/);
    expect(attempt).toThrow(/bogusMs: not a lifecycle setting/);
  });

  it('refuses a zero duration given as a string', () => {
    expect(() => withLifecycleOverrides(DEFAULT_LIFECYCLE_DURATIONS, { rotationOverlapMs: '0s' })).toThrow(
      /rotationOverlapMs must be a positive whole number/,
    );
  });

  it('refuses a reminder that is not before its expiry', () => {
    expect(() => withLifecycleOverrides(DEFAULT_LIFECYCLE_DURATIONS, { contactReminderMs: '7d' })).toThrow(
      /contactReminderMs must be shorter than contactExpiryMs/,
    );
    expect(() => withLifecycleOverrides(DEFAULT_LIFECYCLE_DURATIONS, { approvalEscalationMs: '15d' })).toThrow(
      /approvalEscalationMs must be shorter than approvalExpiryMs/,
    );
  });

  it('refuses fractional or negative milliseconds given as numbers', () => {
    expect(() => withLifecycleOverrides(DEFAULT_LIFECYCLE_DURATIONS, { probationMs: 1.5 })).toThrow(/probationMs/);
    expect(() => withLifecycleOverrides(DEFAULT_LIFECYCLE_DURATIONS, { anchorResubmissionLimit: -1 })).toThrow(/anchorResubmissionLimit/);
  });
});
