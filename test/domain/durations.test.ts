import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIFECYCLE_DURATIONS,
  DomainInputError,
  DurationParseError,
  LIFECYCLE_SETTINGS,
  lifecycleDurationProblems,
  parseDuration,
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
      domainCheckEveryMs: 10 * 60 * 1000,
      leiRecheckEveryMs: 30 * DAY,
      anchorResubmissionLimit: 3,
    });
  });

  it('is frozen and consistent', () => {
    expect(Object.isFrozen(DEFAULT_LIFECYCLE_DURATIONS)).toBe(true);
    expect(lifecycleDurationProblems(DEFAULT_LIFECYCLE_DURATIONS)).toEqual([]);
    expect(LIFECYCLE_SETTINGS).toHaveLength(17);
  });
});

describe('lifecycleDurationProblems', () => {
  const D = DEFAULT_LIFECYCLE_DURATIONS;

  it('refuses zero, negative and fractional milliseconds, naming each setting', () => {
    expect(lifecycleDurationProblems({ ...D, rotationOverlapMs: 0, inactivityMs: -1, probationMs: 1.5 })).toEqual([
      'probationMs must be a positive whole number of milliseconds',
      'inactivityMs must be a positive whole number of milliseconds',
      'rotationOverlapMs must be a positive whole number of milliseconds',
    ]);
  });

  it('accepts no resubmissions at all, but not a negative or fractional limit', () => {
    expect(lifecycleDurationProblems({ ...D, anchorResubmissionLimit: 0 })).toEqual([]);
    expect(lifecycleDurationProblems({ ...D, anchorResubmissionLimit: -1 })).toEqual(['anchorResubmissionLimit must be a non-negative integer']);
    expect(lifecycleDurationProblems({ ...D, anchorResubmissionLimit: 2.5 })).toEqual(['anchorResubmissionLimit must be a non-negative integer']);
  });

  it('refuses a reminder or escalation that is not before its expiry', () => {
    expect(lifecycleDurationProblems({ ...D, contactReminderMs: D.contactExpiryMs })).toEqual([
      'contactReminderMs must be shorter than contactExpiryMs',
    ]);
    expect(lifecycleDurationProblems({ ...D, approvalEscalationMs: D.approvalExpiryMs + 1 })).toEqual([
      'approvalEscalationMs must be shorter than approvalExpiryMs',
    ]);
  });
});
