import { ApplicationFailure } from '@temporalio/common';
import { Prisma } from '../registry/client';
import { ACTIVITY_FAILURES } from './errors';

/**
 * Prisma's codes for data PostgreSQL refuses whatever the attempt: a value too
 * long for its column (P2000), not valid for its type (P2007), out of its
 * range (P2020), inconsistent with its column (P2023).
 */
const DATA_ERROR_CODES = new Set(['P2000', 'P2007', 'P2020', 'P2023']);
/** Prisma's "database error" codes that carry PostgreSQL's own SQLSTATE (P2039; P2010 for raw queries). */
const DATABASE_ERROR_CODES = new Set(['P2039', 'P2010']);

/** The SQLSTATE PostgreSQL gave, when Prisma kept it (driver adapters do). */
function sqlState(error: Prisma.PrismaClientKnownRequestError): string | undefined {
  const adapterError = (error.meta as { driverAdapterError?: { cause?: { originalCode?: unknown } } } | undefined)?.driverAdapterError;
  const code = adapterError?.cause?.originalCode;
  return typeof code === 'string' ? code : undefined;
}

/**
 * True when PostgreSQL refused the data itself: SQLSTATE class 22 (data
 * exception: too long, out of range, invalid byte sequence such as NUL,
 * untranslatable character, invalid text representation), 23502 (not null)
 * and 23514 (check violation). Retrying the same write cannot help.
 * Uniqueness and foreign keys are not data errors here: the activities that
 * meet them decide what they mean.
 */
export function isRegistryDataError(error: unknown): error is Prisma.PrismaClientKnownRequestError {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return false;
  if (DATA_ERROR_CODES.has(error.code)) return true;
  if (!DATABASE_ERROR_CODES.has(error.code)) return false;
  const state = sqlState(error);
  return state !== undefined && (state.startsWith('22') || state === '23502' || state === '23514');
}

/** The non-retryable failure for a refused write, or the error unchanged. */
export function asRegistryDataFailure(error: unknown): unknown {
  if (!isRegistryDataError(error)) return error;
  const state = sqlState(error);
  return ApplicationFailure.create({
    type: ACTIVITY_FAILURES.REGISTRY_DATA_REJECTED,
    message: `The registry refused the data (${error.code}${state === undefined ? '' : `, SQLSTATE ${state}`}): ${error.message.split('\n').at(-1) ?? error.message}`,
    nonRetryable: true,
    details: [{ prismaCode: error.code, sqlState: state ?? null }],
    cause: error,
  });
}

type AnyActivity = (...args: never[]) => Promise<unknown>;

/**
 * Wraps every activity so that a write PostgreSQL refuses for its data becomes
 * a non-retryable `RegistryDataRejected` failure, instead of being retried
 * forever by Temporal's default policy.
 */
export function withNonRetryableDataErrors<T extends Record<string, AnyActivity>>(activities: T): T {
  const wrapped: Record<string, AnyActivity> = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await activity(...args);
      } catch (error) {
        throw asRegistryDataFailure(error);
      }
    };
    Object.defineProperty(wrapped[name], 'name', { value: name });
  }
  return wrapped as T;
}
