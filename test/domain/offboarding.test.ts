import { describe, expect, it } from 'vitest';
import {
  anchorHealth,
  armTriggers,
  DEFAULT_LIFECYCLE_DURATIONS,
  DomainInputError,
  inactivityDueAt,
  isInactive,
  recertificationIntervalMs,
} from '../../domain';

const DAY = 86_400_000;
const ADMITTED = '2026-12-01T10:00:00.000Z';

describe('armTriggers', () => {
  it('arms every trigger for a LOW application, without recertification', () => {
    const triggers = armTriggers({ tier: 'LOW', contractEndDate: '2027-06-30', admittedAt: ADMITTED, durations: DEFAULT_LIFECYCLE_DURATIONS });
    expect(triggers.map((trigger) => trigger.kind)).toEqual(['contract-end', 'inactivity', 'anchor-reverification', 'key-compromise', 'manual']);
    expect(triggers[0]).toMatchObject({ kind: 'contract-end', dueAt: '2027-07-01T00:00:00.000Z', noticeAt: '2027-06-01T00:00:00.000Z' });
    expect(triggers[1]).toMatchObject({ kind: 'inactivity', dueAt: '2027-03-01T10:00:00.000Z', windowMs: 90 * DAY });
    expect(triggers[2]).toMatchObject({ kind: 'anchor-reverification', dueAt: '2026-12-02T10:00:00.000Z', everyMs: DAY });
    expect(triggers[3]).toEqual({ kind: 'key-compromise', description: 'offboard immediately when a key compromise is reported' });
    expect(triggers[4]?.dueAt).toBeUndefined();
    for (const trigger of triggers) expect(trigger.description.length).toBeGreaterThan(10);
  });

  it('recertifies STRATEGIC every 180 days and REGULATED every 90', () => {
    const strategic = armTriggers({ tier: 'STRATEGIC', contractEndDate: '2027-06-30', admittedAt: ADMITTED, durations: DEFAULT_LIFECYCLE_DURATIONS });
    expect(strategic.find((trigger) => trigger.kind === 'recertification')).toMatchObject({ everyMs: 180 * DAY, dueAt: '2027-05-30T10:00:00.000Z' });
    const regulated = armTriggers({ tier: 'REGULATED', contractEndDate: '2027-06-30', admittedAt: ADMITTED, durations: DEFAULT_LIFECYCLE_DURATIONS });
    expect(regulated.find((trigger) => trigger.kind === 'recertification')).toMatchObject({ everyMs: 90 * DAY, dueAt: '2027-03-01T10:00:00.000Z' });
  });

  it('uses a full contract end timestamp as given', () => {
    const [contractEnd] = armTriggers({
      tier: 'LOW',
      contractEndDate: '2027-06-30T17:00:00+02:00',
      admittedAt: ADMITTED,
      durations: DEFAULT_LIFECYCLE_DURATIONS,
    });
    expect(contractEnd?.dueAt).toBe('2027-06-30T15:00:00.000Z');
  });

  it('accepts Dates', () => {
    const [contractEnd] = armTriggers({
      tier: 'LOW',
      contractEndDate: new Date('2027-06-30T00:00:00.000Z'),
      admittedAt: new Date(ADMITTED),
      durations: DEFAULT_LIFECYCLE_DURATIONS,
    });
    expect(contractEnd?.dueAt).toBe('2027-06-30T00:00:00.000Z');
  });

  it('never sets the contract-end notice before admission', () => {
    const [contractEnd] = armTriggers({ tier: 'LOW', contractEndDate: '2026-12-10', admittedAt: ADMITTED, durations: DEFAULT_LIFECYCLE_DURATIONS });
    expect(contractEnd).toMatchObject({ dueAt: '2026-12-11T00:00:00.000Z', noticeAt: ADMITTED });
  });

  it('returns a past contract end as is, so its timer fires at once', () => {
    const [contractEnd] = armTriggers({ tier: 'LOW', contractEndDate: '2026-01-01', admittedAt: ADMITTED, durations: DEFAULT_LIFECYCLE_DURATIONS });
    expect(contractEnd).toMatchObject({ dueAt: '2026-01-02T00:00:00.000Z', noticeAt: ADMITTED });
  });

  it('arms no contract-end trigger for an open-ended contract', () => {
    for (const contractEndDate of [undefined, null]) {
      const kinds = armTriggers({ tier: 'HIGH', contractEndDate, admittedAt: ADMITTED, durations: DEFAULT_LIFECYCLE_DURATIONS }).map(
        (trigger) => trigger.kind,
      );
      expect(kinds).toEqual(['inactivity', 'anchor-reverification', 'key-compromise', 'manual']);
    }
  });

  it('follows shortened durations', () => {
    const durations = { ...DEFAULT_LIFECYCLE_DURATIONS, inactivityMs: 5000, anchorReverificationEveryMs: 1000 };
    const triggers = armTriggers({ tier: 'LOW', admittedAt: ADMITTED, durations });
    expect(triggers[0]).toMatchObject({ kind: 'inactivity', dueAt: '2026-12-01T10:00:05.000Z', windowMs: 5000 });
    expect(triggers[1]).toMatchObject({ kind: 'anchor-reverification', dueAt: '2026-12-01T10:00:01.000Z', everyMs: 1000 });
    expect(triggers[0]?.description).toContain('5000 ms');
  });

  it('refuses dates that are not dates', () => {
    const attempt =
      (contractEndDate: string, admittedAt = ADMITTED) =>
      () =>
        armTriggers({ tier: 'LOW', contractEndDate, admittedAt, durations: DEFAULT_LIFECYCLE_DURATIONS });
    expect(attempt('2027-02-30')).toThrow(DomainInputError);
    expect(attempt('30/06/2027')).toThrow(/contract end date/);
    expect(attempt('2027-06-30', 'now')).toThrow(/admittedAt/);
  });
});

describe('recertificationIntervalMs', () => {
  it('is defined only for tiers that recertify', () => {
    expect(recertificationIntervalMs('HIGH', DEFAULT_LIFECYCLE_DURATIONS)).toBeUndefined();
    expect(recertificationIntervalMs('STRATEGIC', DEFAULT_LIFECYCLE_DURATIONS)).toBe(180 * DAY);
    expect(recertificationIntervalMs('REGULATED', DEFAULT_LIFECYCLE_DURATIONS)).toBe(90 * DAY);
  });
});

describe('isInactive', () => {
  const lastSeen = '2026-12-01T00:00:00.000Z';
  it('is inactive from exactly the end of the window', () => {
    expect(isInactive(lastSeen, '2026-12-01T00:00:09.999Z', 10_000)).toBe(false);
    expect(isInactive(lastSeen, '2026-12-01T00:00:10.000Z', 10_000)).toBe(true);
    expect(isInactive(new Date(lastSeen), new Date('2027-01-01T00:00:00Z'), 10_000)).toBe(true);
  });
  it('is active when the last call is in the future (clock skew)', () => {
    expect(isInactive('2026-12-02T00:00:00Z', lastSeen, 10_000)).toBe(false);
  });
  it('counts an unreadable last-seen time as inactive, and refuses an unreadable now', () => {
    expect(isInactive('never', lastSeen, 10_000)).toBe(true);
    expect(() => isInactive(lastSeen, 'now', 10_000)).toThrow(DomainInputError);
  });
});

describe('inactivityDueAt', () => {
  it('moves the deadline on from the last call', () => {
    expect(inactivityDueAt('2026-12-01T00:00:00Z', DAY)).toBe('2026-12-02T00:00:00.000Z');
    expect(() => inactivityDueAt('never', DAY)).toThrow(DomainInputError);
  });
});

describe('anchorHealth', () => {
  const notAfter = '2027-01-31T00:00:00.000Z';
  const noticeMs = 30 * DAY;
  it('is healthy before the notice period', () => {
    expect(anchorHealth({ notAfter, now: '2026-12-31T23:59:59.999Z', noticeMs })).toBe('healthy');
  });
  it('is expiring from exactly the start of the notice period through notAfter itself', () => {
    expect(anchorHealth({ notAfter, now: '2027-01-01T00:00:00.000Z', noticeMs })).toBe('expiring');
    expect(anchorHealth({ notAfter, now: notAfter, noticeMs })).toBe('expiring');
  });
  it('is expired only after notAfter', () => {
    expect(anchorHealth({ notAfter, now: '2027-01-31T00:00:00.001Z', noticeMs })).toBe('expired');
    expect(anchorHealth({ notAfter: new Date(notAfter), now: new Date('2028-01-01T00:00:00Z'), noticeMs })).toBe('expired');
  });
  it('treats an unreadable notAfter as expired and refuses an unreadable now', () => {
    expect(anchorHealth({ notAfter: 'someday', now: notAfter, noticeMs })).toBe('expired');
    expect(() => anchorHealth({ notAfter, now: '', noticeMs })).toThrow(DomainInputError);
  });
  it('with no notice period is healthy up to notAfter', () => {
    expect(anchorHealth({ notAfter, now: '2027-01-30T23:59:59.999Z', noticeMs: 0 })).toBe('healthy');
    expect(anchorHealth({ notAfter, now: notAfter, noticeMs: 0 })).toBe('expiring');
  });
});
