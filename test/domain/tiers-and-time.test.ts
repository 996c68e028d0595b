import { describe, expect, it } from 'vitest';
import { epochMs, higherTier, isDateOnly, isEnvironment, isoFromEpochMs, isRiskTier, RISK_TIERS, SCORED_TIERS, tierRank } from '../../domain';

describe('tiers', () => {
  it('are ordered by increasing scrutiny, defined once', () => {
    expect(RISK_TIERS).toEqual(['LOW', 'MEDIUM', 'HIGH', 'STRATEGIC', 'REGULATED']);
    expect(SCORED_TIERS).toEqual(['LOW', 'MEDIUM', 'HIGH']);
    expect(RISK_TIERS.map(tierRank)).toEqual([0, 1, 2, 3, 4]);
  });
  it('recognise only exact tier names', () => {
    expect(isRiskTier('HIGH')).toBe(true);
    expect(isRiskTier('high')).toBe(false);
    expect(isRiskTier(undefined)).toBe(false);
  });
  it('pick the higher tier', () => {
    expect(higherTier('LOW', 'HIGH')).toBe('HIGH');
    expect(higherTier('REGULATED', 'STRATEGIC')).toBe('REGULATED');
    expect(higherTier('MEDIUM', 'MEDIUM')).toBe('MEDIUM');
  });
});

describe('environments', () => {
  it('are sandbox and production only', () => {
    expect(isEnvironment('sandbox')).toBe(true);
    expect(isEnvironment('production')).toBe(true);
    expect(isEnvironment('staging')).toBe(false);
  });
});

describe('epochMs', () => {
  it.each([
    ['2026-12-01T10:00:00.000Z', Date.UTC(2026, 11, 1, 10)],
    ['2026-12-01T10:00Z', Date.UTC(2026, 11, 1, 10)],
    ['2026-12-01T12:00:00+02:00', Date.UTC(2026, 11, 1, 10)],
    ['2026-12-01T00:30:00+01:00', Date.UTC(2026, 10, 30, 23, 30)],
    ['2026-12-01', Date.UTC(2026, 11, 1)],
    ['2028-02-29', Date.UTC(2028, 1, 29)],
    [' 2026-12-01 ', Date.UTC(2026, 11, 1)],
  ])('reads %j', (input, expected) => {
    expect(epochMs(input)).toBe(expected);
  });

  it.each([
    '2026-12-01T10:00:00',
    '2026-12-01 10:00:00Z',
    'Tue, 01 Dec 2026 10:00:00 GMT',
    '2027-02-29',
    '2026-13-01',
    '2026-12-01T24:00Z',
    '',
    'now',
  ])('refuses %j', (input) => {
    expect(epochMs(input)).toBeUndefined();
  });

  it('reads valid Dates and refuses invalid ones and other values', () => {
    expect(epochMs(new Date(5))).toBe(5);
    expect(epochMs(new Date(Number.NaN))).toBeUndefined();
    expect(epochMs(undefined)).toBeUndefined();
    expect(epochMs(null)).toBeUndefined();
  });

  it('round-trips through isoFromEpochMs', () => {
    expect(isoFromEpochMs(epochMs('2026-12-01T12:00:00+02:00')!)).toBe('2026-12-01T10:00:00.000Z');
  });

  it('tells a date-only value from an instant', () => {
    expect(isDateOnly('2027-06-30')).toBe(true);
    expect(isDateOnly('2027-06-30T00:00:00Z')).toBe(false);
    expect(isDateOnly(new Date())).toBe(false);
  });
});
