import { isEnvironment } from './environments';
import { isKnownScope, scopeDefinition } from './scopes';
import type { Instant } from './time';
import { epochMs, MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE } from './time';

/**
 * A recurring window in which requests are allowed. Evaluated in UTC only: workflow code has no
 * time-zone database it may rely on deterministically, and one reference clock keeps decisions
 * reproducible from the evidence log. `start` is inclusive and `end` exclusive; `end` may be
 * '24:00'. A window with `start` after `end` runs overnight, and `days` names the day it starts on.
 */
export interface TimeWindow {
  days: number[];
  start: string;
  end: string;
  timeZone: 'UTC';
}

export interface MoneyAmount {
  value: number;
  /** ISO 4217 code; compared case-insensitively, never converted. */
  currency: string;
}

/** Absent condition = no restriction of that kind; present (even empty) = requests must satisfy it. */
export interface GrantConditions {
  environments?: string[];
  timeWindows?: TimeWindow[];
  transactionTypes?: string[];
  maxAmount?: MoneyAmount;
}

export interface PolicyGrant {
  scopes: readonly string[];
  conditions: GrantConditions;
  /** Only 'active' allows anything; any other value, known or not, denies. */
  status: string;
}

export interface PolicyRequest {
  scope: string;
  environment: string;
  at: Instant;
  transactionType?: string;
  amount?: MoneyAmount;
}

export type PolicyDenyCode =
  | 'GRANT_NOT_ACTIVE'
  | 'SCOPE_UNKNOWN'
  | 'SCOPE_NOT_GRANTED'
  | 'CONDITION_UNKNOWN'
  | 'CONDITIONS_INVALID'
  | 'ENVIRONMENT_UNKNOWN'
  | 'ENVIRONMENT_NOT_ALLOWED'
  | 'REQUEST_TIME_INVALID'
  | 'OUTSIDE_TIME_WINDOW'
  | 'TRANSACTION_TYPE_MISSING'
  | 'TRANSACTION_TYPE_NOT_ALLOWED'
  | 'AMOUNT_MISSING'
  | 'AMOUNT_INVALID'
  | 'CURRENCY_MISMATCH'
  | 'AMOUNT_OVER_LIMIT';

export type PolicyReasonCode = PolicyDenyCode | 'ALLOWED';

export interface PolicyReason {
  code: PolicyReasonCode;
  message: string;
}

/** `allow` is true only when nothing denies; then `reasons` is a single ALLOWED entry. Otherwise every denial is listed. */
export interface PolicyDecision {
  allow: boolean;
  reasons: PolicyReason[];
}

const CONDITION_KEYS = ['environments', 'timeWindows', 'transactionTypes', 'maxAmount'] as const;

/**
 * The request-time decision point. Default-deny: an inactive or unknown status, an unknown scope,
 * environment or condition, a malformed condition or request attribute all deny.
 */
export function decide({ grant, request }: { grant: PolicyGrant; request: PolicyRequest }): PolicyDecision {
  const denials: PolicyReason[] = [];
  const deny = (code: PolicyDenyCode, message: string) => denials.push({ code, message });

  if (grant.status !== 'active') deny('GRANT_NOT_ACTIVE', `the grant is ${JSON.stringify(grant.status)}, not active`);

  if (!isKnownScope(request.scope)) {
    deny('SCOPE_UNKNOWN', `${JSON.stringify(request.scope)} is not in the scope catalogue`);
  } else if (!grant.scopes.includes(request.scope)) {
    deny('SCOPE_NOT_GRANTED', `${request.scope} is not granted to this application`);
  }

  const conditionProblems = grantConditionProblems(grant.conditions);
  for (const problem of conditionProblems) deny(problem.code, problem.message);
  const conditions = conditionProblems.length === 0 ? grant.conditions : undefined;

  if (!isEnvironment(request.environment)) {
    deny('ENVIRONMENT_UNKNOWN', `${JSON.stringify(request.environment)} is not a known environment`);
  } else if (conditions?.environments && !conditions.environments.includes(request.environment)) {
    deny('ENVIRONMENT_NOT_ALLOWED', `the grant does not allow the ${request.environment} environment`);
  }

  const at = epochMs(request.at);
  if (at === undefined) {
    deny('REQUEST_TIME_INVALID', 'the request time is not a valid instant');
  } else if (conditions?.timeWindows && !conditions.timeWindows.some((window) => isWithinWindow(window, at))) {
    deny('OUTSIDE_TIME_WINDOW', `${new Date(at).toISOString()} is outside every allowed time window (UTC)`);
  }

  const movesMoney = scopeDefinition(request.scope)?.movesMoney === true;
  if (conditions?.transactionTypes) {
    if (request.transactionType === undefined) {
      if (movesMoney) deny('TRANSACTION_TYPE_MISSING', `${request.scope} requests must state their transaction type`);
    } else if (!conditions.transactionTypes.includes(request.transactionType)) {
      deny('TRANSACTION_TYPE_NOT_ALLOWED', `transaction type ${JSON.stringify(request.transactionType)} is not allowed`);
    }
  }

  if (request.amount !== undefined) {
    if (!isValidAmount(request.amount)) {
      deny('AMOUNT_INVALID', 'the amount must be a non-negative finite number with a three-letter currency code');
    } else if (conditions?.maxAmount) {
      const limit = conditions.maxAmount;
      if (request.amount.currency.toUpperCase() !== limit.currency.toUpperCase()) {
        deny('CURRENCY_MISMATCH', `the limit is in ${limit.currency.toUpperCase()}, the request is in ${request.amount.currency.toUpperCase()}`);
      } else if (request.amount.value > limit.value) {
        deny('AMOUNT_OVER_LIMIT', `${request.amount.value} exceeds the limit of ${limit.value} ${limit.currency.toUpperCase()}`);
      }
    }
  } else if (conditions?.maxAmount && movesMoney) {
    deny('AMOUNT_MISSING', `${request.scope} requests must state their amount`);
  }

  if (denials.length > 0) return { allow: false, reasons: denials };
  return { allow: true, reasons: [{ code: 'ALLOWED', message: `${request.scope} is granted and every condition is met` }] };
}

/**
 * What is wrong with a set of conditions, if anything. Shared by `decide` (which denies on any
 * problem) and by whoever writes grants, so a bad condition is refused when set, not when used.
 */
export function grantConditionProblems(conditions: unknown): { code: 'CONDITION_UNKNOWN' | 'CONDITIONS_INVALID'; message: string }[] {
  if (!isPlainObject(conditions)) return [{ code: 'CONDITIONS_INVALID', message: 'conditions must be an object' }];
  const problems: { code: 'CONDITION_UNKNOWN' | 'CONDITIONS_INVALID'; message: string }[] = [];
  const invalid = (message: string) => problems.push({ code: 'CONDITIONS_INVALID', message });

  for (const key of Object.keys(conditions)) {
    if (!(CONDITION_KEYS as readonly string[]).includes(key)) {
      problems.push({ code: 'CONDITION_UNKNOWN', message: `condition ${JSON.stringify(key)} is not understood` });
    }
  }
  const { environments, timeWindows, transactionTypes, maxAmount } = conditions;
  if (environments !== undefined && !(Array.isArray(environments) && environments.every(isEnvironment))) {
    invalid('environments must be a list of known environments');
  }
  if (timeWindows !== undefined) {
    if (!Array.isArray(timeWindows)) invalid('timeWindows must be a list');
    else timeWindows.forEach((window, index) => timeWindowProblems(window).forEach((p) => invalid(`timeWindows[${index}]: ${p}`)));
  }
  if (transactionTypes !== undefined && !(Array.isArray(transactionTypes) && transactionTypes.every(isNonEmptyString))) {
    invalid('transactionTypes must be a list of non-empty strings');
  }
  if (maxAmount !== undefined && !isValidAmount(maxAmount)) {
    invalid('maxAmount must be a non-negative finite value with a three-letter currency code');
  }
  return problems;
}

/** Problems with one time window; empty when it is well-formed. */
export function timeWindowProblems(window: unknown): string[] {
  if (!isPlainObject(window)) return ['must be an object'];
  const problems: string[] = [];
  const { days, start, end, timeZone } = window;
  if (timeZone !== 'UTC') problems.push('timeZone must be "UTC"');
  if (!Array.isArray(days) || days.length === 0 || !days.every((day) => Number.isInteger(day) && day >= 0 && day <= 6)) {
    problems.push('days must be a non-empty list of 0 (Sunday) to 6 (Saturday)');
  }
  const startMs = clockMs(start, false);
  const endMs = clockMs(end, true);
  if (startMs === undefined) problems.push('start must be HH:MM between 00:00 and 23:59');
  if (endMs === undefined) problems.push('end must be HH:MM between 00:01 and 24:00');
  if (startMs !== undefined && endMs !== undefined && startMs === endMs) problems.push('start and end must differ');
  return problems;
}

function isWithinWindow(window: TimeWindow, at: number): boolean {
  const start = clockMs(window.start, false);
  const end = clockMs(window.end, true);
  if (start === undefined || end === undefined) return false;
  const moment = new Date(at);
  const day = moment.getUTCDay();
  const msOfDay = at - Math.floor(at / MS_PER_DAY) * MS_PER_DAY;
  const previousDay = (day + 6) % 7;
  if (start < end) return window.days.includes(day) && msOfDay >= start && msOfDay < end;
  return (window.days.includes(day) && msOfDay >= start) || (window.days.includes(previousDay) && msOfDay < end);
}

function clockMs(value: unknown, isEnd: boolean): number | undefined {
  if (typeof value !== 'string') return undefined;
  if (isEnd && value === '24:00') return MS_PER_DAY;
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  if (!match) return undefined;
  const ms = Number(match[1]) * MS_PER_HOUR + Number(match[2]) * MS_PER_MINUTE;
  return isEnd && ms === 0 ? undefined : ms;
}

function isValidAmount(amount: unknown): amount is MoneyAmount {
  return (
    isPlainObject(amount) &&
    typeof amount.value === 'number' &&
    Number.isFinite(amount.value) &&
    amount.value >= 0 &&
    typeof amount.currency === 'string' &&
    /^[A-Za-z]{3}$/.test(amount.currency)
  );
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
