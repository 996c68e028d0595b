import { z } from 'zod';
import { isValidLei, nameKey } from './identity';
import { ENVIRONMENTS } from './environments';
import { isKnownScope } from './scopes';
import { unacceptableCharacter } from './text';

/**
 * The signup form's contract. Everything a partner types is untrusted: it is
 * checked here, at the edge, before anything is written or started.
 */

/** Characters PostgreSQL cannot store or an approver would be misled by are refused, per field. */
const storable = (multiline: boolean) => (value: string, context: z.RefinementCtx) => {
  const problem = unacceptableCharacter(value, { multiline });
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
};

const trimmed = (min: number, max: number, options: { multiline?: boolean } = {}) =>
  z
    .string()
    .trim()
    .min(min)
    .max(max)
    .superRefine(storable(options.multiline ?? false));

/**
 * The registry's limits (prisma/schema.prisma): `expected_monthly_calls` is a
 * PostgreSQL `integer`; an application's id embeds its folded name, which
 * application ids allow up to 80 characters of (web/registry-view.ts).
 */
export const MAX_EXPECTED_MONTHLY_CALLS = 2_147_483_647;
export const MAX_NAME_KEY_LENGTH = 80;

const email = z
  .string()
  .superRefine(storable(false))
  .trim()
  .max(254)
  .toLowerCase()
  .pipe(z.email({ message: 'Enter a valid email address, like name@example.com.' }));

const contact = z.object({
  name: trimmed(1, 120),
  email,
});

const hostname = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(/^(?=.{1,253}$)(?!-)([a-z0-9-]{1,63}(?<!-)\.)+[a-z]{2,63}$/, {
    message: 'Enter the organisation’s primary domain name, like example.com (no scheme, path or IP address).',
  });

export const DATA_SENSITIVITIES = ['public', 'internal', 'confidential', 'restricted'] as const;

const scopeName = z
  .string()
  .trim()
  .refine(isKnownScope, { message: 'Not a scope in the catalogue; pick scopes such as accounts:read from GET /scopes.' });

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'Use a date in the form YYYY-MM-DD.' });

export const signupSchema = z.object({
  organisation: z.object({
    legalName: trimmed(2, 200),
    lei: z
      .string()
      .trim()
      .toUpperCase()
      .refine(isValidLei, { message: 'Enter the 20-character Legal Entity Identifier (ISO 17442); its check digits do not match.' }),
    jurisdiction: z
      .string()
      .trim()
      .toUpperCase()
      .regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/, { message: 'Use an ISO 3166 country code such as GB, or a subdivision such as US-DE.' }),
    primaryDomain: hostname,
  }),
  application: z.object({
    name: trimmed(2, 80)
      .refine((name) => nameKey(name).length >= 2, {
        message: 'The application name needs at least two letters or digits.',
      })
      .refine((name) => nameKey(name).length <= MAX_NAME_KEY_LENGTH, {
        message: `The application name is too long once folded for comparison (it must fold to at most ${MAX_NAME_KEY_LENGTH} letters, digits and dashes; some characters, like ㎉, fold to several).`,
      }),
    environment: z.enum(ENVIRONMENTS),
    purpose: trimmed(10, 2000, { multiline: true }),
    requestedScopes: z
      .array(scopeName)
      .min(1, { message: 'Request at least one scope.' })
      .max(30)
      .transform((scopes) => [...new Set(scopes)].sort()),
    dataSensitivity: z.enum(DATA_SENSITIVITIES),
    regulatedSector: z.boolean(),
    strategic: z.boolean(),
    expectedMonthlyCalls: z
      .number()
      .int()
      .min(0)
      .max(MAX_EXPECTED_MONTHLY_CALLS, { message: 'Expected monthly calls must be at most 2,147,483,647 (the registry’s integer limit).' }),
    contractEndDate: isoDate,
  }),
  contacts: z.object({
    business: contact,
    technical: contact,
    security: contact,
  }),
  requestedBy: email,
});

export type Signup = z.infer<typeof signupSchema>;

export interface FieldError {
  /** Dotted path of the offending field, e.g. `contacts.security.email`. */
  field: string;
  message: string;
}

export type SignupValidation = { ok: true; signup: Signup } | { ok: false; errors: FieldError[] };

/** Validates a signup as of `today` (contract end must lie in the future). */
export function validateSignup(input: unknown, today: Date): SignupValidation {
  const parsed = signupSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => ({
        field: issue.path.join('.') || '(body)',
        message: issue.message,
      })),
    };
  }
  const errors: FieldError[] = [];
  const end = new Date(`${parsed.data.application.contractEndDate}T00:00:00Z`);
  if (Number.isNaN(end.getTime()) || end.toISOString().slice(0, 10) !== parsed.data.application.contractEndDate) {
    errors.push({ field: 'application.contractEndDate', message: 'That date does not exist.' });
  } else if (end.getTime() <= today.getTime()) {
    errors.push({ field: 'application.contractEndDate', message: 'The contract end date must be in the future.' });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, signup: parsed.data };
}
