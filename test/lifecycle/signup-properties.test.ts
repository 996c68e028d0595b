import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../web/app';
import { readState } from '../../web/lifecycle-client';
import { createTestStack, type TestStack } from '../support/stack';
import { testAppDependencies } from '../support/web';
import { randomLei, signupBody } from '../support/signups';
import { eventually } from '../support/wait';

/**
 * Issue 9, item 5: input that passes validation can never jam a lifecycle.
 * Generated signups go through HTTP into the real stack (Temporal, worker,
 * PostgreSQL); each either gets a 400 or leaves REGISTERING within seconds.
 */
let stack: TestStack;
let app: FastifyInstance;

beforeAll(async () => {
  stack = await createTestStack();
  await stack.startWorker();
  app = buildApp(testAppDependencies(stack, { rateLimits: { signup: { max: 10_000, timeWindow: 60_000 } } }));
});
afterAll(async () => {
  await app.close();
  await stack.close();
});

type Body = ReturnType<typeof signupBody>;

/** Strings as an attacker types them: any code point (lone surrogates too), controls, folding bombs, edge lengths. */
const nastyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', minLength: 2, maxLength: 90 }),
  fc.constantFrom(
    'Acme\u0000Ltd',
    'Bea\u001B[31m',
    'Evil\u202Egnp.exe',
    '\uD800 broken',
    '㎉'.repeat(80),
    '㎉'.repeat(21),
    'ﷺ'.repeat(30),
    'x'.repeat(81),
    'Zoë Łukasz 李',
    '  spaced  ',
  ),
);
const nastyNumber = fc.oneof(fc.integer(), fc.constantFrom(3_000_000_000, 2_147_483_647, 2_147_483_648, -1, 0, 1.5, Number.MAX_SAFE_INTEGER, 1e21));

/** Each field a partner types, and how a generated value lands in it (pairs print as counterexamples). */
const SETTERS: Record<string, (b: Body, v: never) => void> = {
  'organisation.legalName': (b, v: string) => void (b.organisation.legalName = v),
  'application.name': (b, v: string) => void (b.application.name = v),
  'application.purpose': (b, v: string) => void (b.application.purpose = `Reconcile ${v} balances.`),
  'contacts.business.name': (b, v: string) => void (b.contacts.business.name = v),
  'contacts.security.name': (b, v: string) => void (b.contacts.security.name = v),
  'contacts.technical.email': (b, v: string) => void (b.contacts.technical.email = `${v}@example.com`),
  requestedBy: (b, v: string) => void (b.requestedBy = v),
  'application.expectedMonthlyCalls': (b, v: number) => void (b.application.expectedMonthlyCalls = v),
  'application.contractEndDate': (b, v: string) => void (b.application.contractEndDate = v),
};
const TEXT_FIELDS = Object.keys(SETTERS).filter((f) => f !== 'application.expectedMonthlyCalls' && f !== 'application.contractEndDate');

const mutation = fc.oneof(
  fc.tuple(fc.constantFrom(...TEXT_FIELDS), nastyString),
  fc.tuple(fc.constant('application.expectedMonthlyCalls'), nastyNumber),
  fc.tuple(fc.constant('application.contractEndDate'), fc.constantFrom('2028-06-30', '9999-12-31', '0000-01-01', '2028-02-30', '20280-01-01')),
);
const mutations = fc.array(mutation, { minLength: 1, maxLength: 3 });

describe('generated signups through HTTP', () => {
  it('each gets a 400, or its lifecycle leaves REGISTERING within seconds', async () => {
    const outcomes = { refused: 0, accepted: 0 };
    await fc.assert(
      fc.asyncProperty(mutations, async (mutate) => {
        const body = signupBody({ lei: randomLei() });
        for (const [field, value] of mutate) SETTERS[field]!(body, value as never);
        const response = await app.inject({ method: 'POST', url: '/signup', payload: body });
        if (response.statusCode === 400) {
          outcomes.refused += 1;
          return;
        }
        expect(response.statusCode, response.body).toBe(202);
        outcomes.accepted += 1;
        const { applicationId } = response.json<{ applicationId: string }>();
        const left = await eventually(
          async () => {
            const state = await readState(stack.temporal, applicationId).catch(() => null);
            if (state === null) return undefined;
            return state.status !== 'RUNNING' || state.stage !== 'REGISTERING' ? state : undefined;
          },
          10_000,
          `${applicationId} to leave REGISTERING`,
        );
        // Left REGISTERING for a later stage, or ended with a stated reason, not by failing.
        expect(left.status === 'RUNNING' || left.status === 'COMPLETED', JSON.stringify(left)).toBe(true);
        // The application id is one every route accepts.
        expect((await app.inject({ method: 'GET', url: `/applications/${applicationId}` })).statusCode).toBe(200);
      }),
      { numRuns: 40 },
    );
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.accepted).toBeGreaterThan(0);
  }, 120_000);
});
