import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { decide, type GrantConditions } from '../domain/policy';
import { authenticateGateway, refuseGateway } from './auth/gateway';
import type { GatewayRouteDependencies } from './usage-route';
import { sendProblem } from './problem';

const decisionRequest = z
  .object({
    clientId: z.string().trim().min(1).max(200),
    /** What the client proved on this connection: its certificate's or key's thumbprint (RFC 8705 / RFC 9449). */
    confirmation: z.object({ method: z.enum(['x5t#S256', 'jkt', 'spiffe-id', 'oidc-sub']), value: z.string().min(1).max(2048) }),
    scope: z.string().min(1).max(100),
    environment: z.string().min(1).max(40),
    transactionType: z.string().min(1).max(100).optional(),
    amount: z.object({ value: z.number().finite().nonnegative(), currency: z.string().regex(/^[A-Z]{3}$/) }).optional(),
    /** Defaults to now; otherwise within ADMIT_CLOCK_SKEW of Admit's clock (a decision is about now, not another time). */
    at: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

/**
 * POST /decisions: the request-time decision point for API gateways — may
 * this client, holding this anchor, use this scope here and now? The client
 * must be an active credential of an admitted application, present the anchor
 * its credential is bound to, and the grant's conditions (environment, time,
 * transaction type, amount) must hold (domain/policy.ts). Default deny.
 */
export function registerDecisionRoute(app: FastifyInstance, deps: GatewayRouteDependencies): void {
  app.post('/decisions', async (request, reply) => {
    const gateway = authenticateGateway(request.headers.authorization, deps.gatewayTokens);
    if (gateway === undefined) return refuseGateway(reply, 'admit-decisions');
    const now = deps.now();
    const parsed = decisionRequest
      .superRefine((input, ctx) => {
        // A time window is judged at the time of the request: an `at` far from now would choose the window.
        if (input.at !== undefined && Math.abs(Date.parse(input.at) - now.getTime()) > deps.clockSkewMs) {
          ctx.addIssue({ code: 'custom', path: ['at'], message: `must be within ${Math.round(deps.clockSkewMs / 1000)} s of now (${now.toISOString()}); omit it to mean now` });
        }
      })
      .safeParse(request.body);
    if (!parsed.success) {
      return sendProblem(reply, {
        status: 400,
        title: 'The decision request has errors',
        detail: 'Correct the fields listed in `errors`.',
        errors: parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message })),
      });
    }
    const input = parsed.data;
    const deny = (code: string, message: string) => ({ allow: false, reasons: [{ code, message }] });
    const credential = await deps.registry.clientCredential.findUnique({
      where: { clientId: input.clientId },
      include: { application: { include: { grants: { where: { status: 'ACTIVE' }, orderBy: { grantedAt: 'desc' }, take: 1 } } } },
    });
    if (credential === null) return deny('CLIENT_UNKNOWN', 'no client is registered with this id');
    if (gateway.environments !== undefined && !gateway.environments.includes(credential.application.environment)) {
      return deny('GATEWAY_NOT_SERVING', `the client is a ${credential.application.environment} client, which gateway ${gateway.name} does not serve`);
    }
    if (credential.status !== 'ACTIVE') return deny('CLIENT_NOT_ACTIVE', `the client is ${credential.status.toLowerCase()}`);
    if (credential.application.status !== 'ADMITTED') {
      return deny('APPLICATION_NOT_ADMITTED', `the application is ${credential.application.status.toLowerCase()}`);
    }
    if (credential.confirmationMethod !== input.confirmation.method || credential.confirmationValue !== input.confirmation.value) {
      return deny('CONFIRMATION_MISMATCH', 'the client did not present the anchor its credential is bound to');
    }
    const grant = credential.application.grants[0];
    if (grant === undefined) return deny('GRANT_NOT_ACTIVE', 'the application holds no active grant');
    const decision = decide({
      grant: { scopes: grant.scopes, conditions: grant.conditions as GrantConditions, status: 'active' },
      request: {
        scope: input.scope,
        environment: input.environment,
        at: input.at ?? now,
        ...(input.transactionType === undefined ? {} : { transactionType: input.transactionType }),
        ...(input.amount === undefined ? {} : { amount: input.amount }),
      },
    });
    return { allow: decision.allow, reasons: decision.reasons, applicationId: credential.applicationId };
  });
}
