import { describe, expect, it } from 'vitest';
import type { GrantConditions, PolicyGrant, PolicyRequest, TimeWindow } from '../../domain';
import { decide, grantConditionProblems, timeWindowProblems } from '../../domain';

// 2026-12-01 is a Tuesday (day 2).
const TUESDAY_NOON = '2026-12-01T12:00:00.000Z';

function grant(conditions: GrantConditions = {}, overrides: Partial<PolicyGrant> = {}): PolicyGrant {
  return { scopes: ['accounts:read', 'payments:initiate'], conditions, status: 'active', ...overrides };
}

function request(overrides: Partial<PolicyRequest> = {}): PolicyRequest {
  return { scope: 'accounts:read', environment: 'production', at: TUESDAY_NOON, ...overrides };
}

const codes = (decision: ReturnType<typeof decide>) => decision.reasons.map((reason) => reason.code);

function window(overrides: Partial<TimeWindow> = {}): TimeWindow {
  return { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00', timeZone: 'UTC', ...overrides };
}

describe('decide: grant and scope', () => {
  it('allows a granted scope on an active grant with no conditions, and says why', () => {
    expect(decide({ grant: grant(), request: request() })).toEqual({
      allow: true,
      reasons: [{ code: 'ALLOWED', message: 'accounts:read is granted and every condition is met' }],
    });
  });

  it.each(['suspended', 'revoked', 'pending', '', 'ACTIVE'])('denies on a grant whose status is %j', (status) => {
    const decision = decide({ grant: grant({}, { status }), request: request() });
    expect(decision.allow).toBe(false);
    expect(codes(decision)).toEqual(['GRANT_NOT_ACTIVE']);
  });

  it('denies a known scope that is not granted', () => {
    expect(codes(decide({ grant: grant(), request: request({ scope: 'transactions:read' }) }))).toEqual(['SCOPE_NOT_GRANTED']);
  });

  it('denies an unknown scope even if the grant lists it', () => {
    const decision = decide({ grant: grant({}, { scopes: ['accounts:*'] }), request: request({ scope: 'accounts:*' }) });
    expect(codes(decision)).toEqual(['SCOPE_UNKNOWN']);
  });

  it('denies on an empty grant', () => {
    expect(codes(decide({ grant: grant({}, { scopes: [] }), request: request() }))).toEqual(['SCOPE_NOT_GRANTED']);
  });

  it('lists every reason to deny, not just the first', () => {
    const decision = decide({
      grant: grant({ environments: ['sandbox'] }, { status: 'suspended' }),
      request: request({ scope: 'transactions:read' }),
    });
    expect(codes(decision)).toEqual(['GRANT_NOT_ACTIVE', 'SCOPE_NOT_GRANTED', 'ENVIRONMENT_NOT_ALLOWED']);
  });
});

describe('decide: environment', () => {
  it('allows a listed environment and denies another', () => {
    expect(decide({ grant: grant({ environments: ['production'] }), request: request() }).allow).toBe(true);
    const decision = decide({ grant: grant({ environments: ['sandbox'] }), request: request() });
    expect(decision.reasons).toEqual([{ code: 'ENVIRONMENT_NOT_ALLOWED', message: 'the grant does not allow the production environment' }]);
  });

  it('denies every environment when the list is empty', () => {
    expect(codes(decide({ grant: grant({ environments: [] }), request: request() }))).toEqual(['ENVIRONMENT_NOT_ALLOWED']);
  });

  it('denies an unknown environment even without an environment condition', () => {
    expect(codes(decide({ grant: grant(), request: request({ environment: 'staging' }) }))).toEqual(['ENVIRONMENT_UNKNOWN']);
    expect(codes(decide({ grant: grant(), request: request({ environment: 'Production' }) }))).toEqual(['ENVIRONMENT_UNKNOWN']);
  });
});

describe('decide: time windows (UTC)', () => {
  const business = grant({ timeWindows: [window()] });

  it('allows inside the window, at its start inclusive', () => {
    expect(decide({ grant: business, request: request() }).allow).toBe(true);
    expect(decide({ grant: business, request: request({ at: '2026-12-01T09:00:00.000Z' }) }).allow).toBe(true);
    expect(decide({ grant: business, request: request({ at: '2026-12-01T16:59:59.999Z' }) }).allow).toBe(true);
  });

  it('denies at the end exclusive and before the start', () => {
    const atEnd = decide({ grant: business, request: request({ at: '2026-12-01T17:00:00.000Z' }) });
    expect(atEnd.reasons).toEqual([{ code: 'OUTSIDE_TIME_WINDOW', message: '2026-12-01T17:00:00.000Z is outside every allowed time window (UTC)' }]);
    expect(codes(decide({ grant: business, request: request({ at: '2026-12-01T08:59:59.999Z' }) }))).toEqual(['OUTSIDE_TIME_WINDOW']);
  });

  it('denies on a day not listed', () => {
    // 2026-12-06 is a Sunday.
    expect(codes(decide({ grant: business, request: request({ at: '2026-12-06T12:00:00.000Z' }) }))).toEqual(['OUTSIDE_TIME_WINDOW']);
  });

  it('evaluates in UTC, whatever offset the request time is written in', () => {
    // 18:30 at +08:00 is 10:30 UTC: inside. 10:30 at -08:00 is 18:30 UTC: outside.
    expect(decide({ grant: business, request: request({ at: '2026-12-01T18:30:00+08:00' }) }).allow).toBe(true);
    expect(decide({ grant: business, request: request({ at: '2026-12-01T10:30:00-08:00' }) }).allow).toBe(false);
  });

  it('accepts a Date as the request time', () => {
    expect(decide({ grant: business, request: request({ at: new Date(TUESDAY_NOON) }) }).allow).toBe(true);
  });

  it('allows when any of several windows matches', () => {
    const split = grant({ timeWindows: [window({ start: '06:00', end: '08:00' }), window({ start: '11:00', end: '13:00' })] });
    expect(decide({ grant: split, request: request() }).allow).toBe(true);
  });

  it('supports a window to midnight written 24:00', () => {
    const evening = grant({ timeWindows: [window({ days: [2], start: '20:00', end: '24:00' })] });
    expect(decide({ grant: evening, request: request({ at: '2026-12-01T23:59:59.999Z' }) }).allow).toBe(true);
    expect(decide({ grant: evening, request: request({ at: '2026-12-02T00:00:00.000Z' }) }).allow).toBe(false);
  });

  it('runs an overnight window into the next day, keyed by the day it starts', () => {
    const night = grant({ timeWindows: [window({ days: [2], start: '22:00', end: '06:00' })] });
    expect(decide({ grant: night, request: request({ at: '2026-12-01T22:00:00.000Z' }) }).allow).toBe(true);
    expect(decide({ grant: night, request: request({ at: '2026-12-02T05:59:59.999Z' }) }).allow).toBe(true);
    expect(decide({ grant: night, request: request({ at: '2026-12-02T06:00:00.000Z' }) }).allow).toBe(false);
    // Early Tuesday belongs to Monday's night, which is not listed.
    expect(decide({ grant: night, request: request({ at: '2026-12-01T01:00:00.000Z' }) }).allow).toBe(false);
    // Saturday night rolls into Sunday (day 6 -> 0).
    const saturdayNight = grant({ timeWindows: [window({ days: [6], start: '22:00', end: '02:00' })] });
    expect(decide({ grant: saturdayNight, request: request({ at: '2026-12-06T01:00:00.000Z' }) }).allow).toBe(true);
  });

  it('denies every time when the window list is empty', () => {
    expect(codes(decide({ grant: grant({ timeWindows: [] }), request: request() }))).toEqual(['OUTSIDE_TIME_WINDOW']);
  });

  it.each(['noon', '2026-12-01 12:00', '2026-12-01T12:00:00', '2026-02-30T12:00:00Z', ''])(
    'denies a request time that is not an unambiguous instant: %j',
    (at) => {
      expect(codes(decide({ grant: grant(), request: request({ at }) }))).toEqual(['REQUEST_TIME_INVALID']);
    },
  );

  it('denies an invalid Date', () => {
    expect(codes(decide({ grant: grant(), request: request({ at: new Date(Number.NaN) }) }))).toEqual(['REQUEST_TIME_INVALID']);
  });
});

describe('decide: transaction type and amount', () => {
  const payments = grant({ transactionTypes: ['domestic-transfer'], maxAmount: { value: 10_000, currency: 'EUR' } });
  const pay = (overrides: Partial<PolicyRequest> = {}) =>
    request({ scope: 'payments:initiate', transactionType: 'domestic-transfer', amount: { value: 250, currency: 'EUR' }, ...overrides });

  it('allows a payment of an allowed type within the limit', () => {
    expect(decide({ grant: payments, request: pay() }).allow).toBe(true);
  });

  it('allows exactly the limit and denies one cent over', () => {
    expect(decide({ grant: payments, request: pay({ amount: { value: 10_000, currency: 'EUR' } }) }).allow).toBe(true);
    const over = decide({ grant: payments, request: pay({ amount: { value: 10_000.01, currency: 'EUR' } }) });
    expect(over.reasons).toEqual([{ code: 'AMOUNT_OVER_LIMIT', message: '10000.01 exceeds the limit of 10000 EUR' }]);
  });

  it('denies another currency rather than convert, comparing codes case-insensitively', () => {
    expect(codes(decide({ grant: payments, request: pay({ amount: { value: 1, currency: 'USD' } }) }))).toEqual(['CURRENCY_MISMATCH']);
    expect(decide({ grant: payments, request: pay({ amount: { value: 1, currency: 'eur' } }) }).allow).toBe(true);
  });

  it('denies a type not allowed', () => {
    const decision = decide({ grant: payments, request: pay({ transactionType: 'international-transfer' }) });
    expect(decision.reasons).toEqual([{ code: 'TRANSACTION_TYPE_NOT_ALLOWED', message: 'transaction type "international-transfer" is not allowed' }]);
  });

  it('requires a money-moving request to state its type and amount when the grant constrains them', () => {
    const bare = request({ scope: 'payments:initiate' });
    expect(codes(decide({ grant: payments, request: bare }))).toEqual(['TRANSACTION_TYPE_MISSING', 'AMOUNT_MISSING']);
  });

  it('does not require type or amount of a read', () => {
    expect(decide({ grant: payments, request: request() }).allow).toBe(true);
  });

  it('still checks a type or amount that a read carries', () => {
    const decision = decide({ grant: payments, request: request({ transactionType: 'card', amount: { value: 1, currency: 'GBP' } }) });
    expect(codes(decision)).toEqual(['TRANSACTION_TYPE_NOT_ALLOWED', 'CURRENCY_MISMATCH']);
  });

  it('does not require type or amount when the grant does not constrain them', () => {
    expect(decide({ grant: grant(), request: request({ scope: 'payments:initiate' }) }).allow).toBe(true);
  });

  it.each([
    { value: -1, currency: 'EUR' },
    { value: Number.NaN, currency: 'EUR' },
    { value: Number.POSITIVE_INFINITY, currency: 'EUR' },
    { value: 1, currency: 'EURO' },
    { value: 1, currency: '' },
  ])('denies a malformed amount %j, with or without a limit', (amount) => {
    expect(codes(decide({ grant: payments, request: pay({ amount }) }))).toEqual(['AMOUNT_INVALID']);
    expect(codes(decide({ grant: grant(), request: pay({ amount }) }))).toEqual(['AMOUNT_INVALID']);
  });

  it('denies every type when the allowed list is empty', () => {
    expect(codes(decide({ grant: grant({ transactionTypes: [] }), request: pay() }))).toEqual(['TRANSACTION_TYPE_NOT_ALLOWED']);
  });
});

describe('decide: default-deny on conditions it does not understand', () => {
  it('denies on an unknown condition', () => {
    const conditions = { ipRanges: ['10.0.0.0/8'] } as unknown as GrantConditions;
    const decision = decide({ grant: grant(conditions), request: request() });
    expect(decision.reasons).toEqual([{ code: 'CONDITION_UNKNOWN', message: 'condition "ipRanges" is not understood' }]);
  });

  it('denies on a malformed condition', () => {
    const conditions = { timeWindows: [window({ timeZone: 'Europe/Paris' as 'UTC' })] };
    const decision = decide({ grant: grant(conditions), request: request() });
    expect(decision.allow).toBe(false);
    expect(decision.reasons).toEqual([{ code: 'CONDITIONS_INVALID', message: 'timeWindows[0]: timeZone must be "UTC"' }]);
  });

  it('denies when the conditions are not an object', () => {
    expect(codes(decide({ grant: grant(null as unknown as GrantConditions), request: request() }))).toEqual(['CONDITIONS_INVALID']);
  });

  it('treats a condition explicitly set to undefined as absent', () => {
    expect(decide({ grant: grant({ environments: undefined }), request: request() }).allow).toBe(true);
  });
});

describe('grantConditionProblems', () => {
  it('accepts the tier default shapes', () => {
    expect(
      grantConditionProblems({
        environments: ['production'],
        timeWindows: [window()],
        transactionTypes: ['domestic-transfer'],
        maxAmount: { value: 0, currency: 'EUR' },
      }),
    ).toEqual([]);
  });

  it('names every problem', () => {
    expect(
      grantConditionProblems({
        environments: ['staging'],
        timeWindows: 'always',
        transactionTypes: [''],
        maxAmount: { value: 10 },
        colour: 'red',
      }).map((problem) => problem.message),
    ).toEqual([
      'condition "colour" is not understood',
      'environments must be a list of known environments',
      'timeWindows must be a list',
      'transactionTypes must be a list of non-empty strings',
      'maxAmount must be a non-negative finite value with a three-letter currency code',
    ]);
  });
});

describe('timeWindowProblems', () => {
  it('accepts a well-formed window', () => {
    expect(timeWindowProblems(window())).toEqual([]);
    expect(timeWindowProblems(window({ start: '00:00', end: '24:00' }))).toEqual([]);
  });

  it.each([
    [window({ days: [] }), 'days must be a non-empty list of 0 (Sunday) to 6 (Saturday)'],
    [window({ days: [7] }), 'days must be a non-empty list of 0 (Sunday) to 6 (Saturday)'],
    [window({ days: [1.5] }), 'days must be a non-empty list of 0 (Sunday) to 6 (Saturday)'],
    [window({ start: '9:00' }), 'start must be HH:MM between 00:00 and 23:59'],
    [window({ start: '24:00' }), 'start must be HH:MM between 00:00 and 23:59'],
    [window({ end: '17:60' }), 'end must be HH:MM between 00:01 and 24:00'],
    [window({ end: '00:00' }), 'end must be HH:MM between 00:01 and 24:00'],
    [window({ start: '10:00', end: '10:00' }), 'start and end must differ'],
  ])('refuses %j', (candidate, problem) => {
    expect(timeWindowProblems(candidate)).toEqual([problem]);
  });

  it('refuses a non-object', () => {
    expect(timeWindowProblems('weekdays')).toEqual(['must be an object']);
  });
});
