import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { decide, type GrantConditions } from '../domain/policy';
import { authenticateGateway, refuseGateway } from './auth/gateway';
import type { GatewayRouteDependencies } from './usage-route';
import { sendProblem } from './problem';
import { confirmationFor } from '../activities/grants';
import type { TokenVerifier } from '../oauth/token-check';
import { recordDecision, recordRevokedDenial } from '../observability/decision-metrics';

const decisionRequest = z
  .object({
    clientId: z.string().trim().min(1).max(200).optional(),
    /** What the client proved on this connection: its certificate's or key's thumbprint (RFC 8705 / RFC 9449). */
    confirmation: z.object({ method: z.enum(['x5t#S256', 'jkt', 'spiffe-id', 'oidc-sub']), value: z.string().min(1).max(2048) }).optional(),
    /** Or: the access token Admit issued the client, with what the client presented alongside it. */
    accessToken: z.string().min(1).max(4096).optional(),
    /** base64url SHA-256 of the client certificate on the connection (RFC 8705 §3). */
    certificateThumbprint: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43}$/)
      .optional(),
    /** The request's DPoP proof, and the method and URL the client called (RFC 9449 §7). */
    dpop: z
      .object({ proof: z.string().min(1).max(8192), htm: z.string().min(1).max(16), htu: z.url().max(2048) })
      .strict()
      .optional(),
    scope: z.string().min(1).max(100),
    environment: z.string().min(1).max(40),
    transactionType: z.string().min(1).max(100).optional(),
    amount: z.object({ value: z.number().finite().nonnegative(), currency: z.string().regex(/^[A-Z]{3}$/) }).optional(),
    /** Defaults to now; otherwise within ADMIT_CLOCK_SKEW of Admit's clock (a decision is about now, not another time). */
    at: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    const byToken = value.accessToken !== undefined;
    const byClient = value.clientId !== undefined || value.confirmation !== undefined;
    if (byToken === byClient) {
      ctx.addIssue({
        code: 'custom',
        path: ['accessToken'],
        message: 'Give either accessToken (with certificateThumbprint or dpop) or clientId with confirmation.',
      });
    } else if (byClient && (value.clientId === undefined || value.confirmation === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['confirmation'], message: 'clientId and confirmation go together.' });
    } else if (byToken && value.certificateThumbprint === undefined && value.dpop === undefined) {
      ctx.addIssue({ code: 'custom', path: ['accessToken'], message: 'Send what the client presented: certificateThumbprint or dpop.' });
    }
  });

/**
 * POST /decisions: the request-time decision point for API gateways — may
 * this client, holding this anchor, use this scope here and now? The client
 * must be an active credential of an admitted application, present the anchor
 * its credential is bound to, and the grant's conditions (environment, time,
 * transaction type, amount) must hold (domain/policy.ts). Default deny.
 */
export function registerDecisionRoute(app: FastifyInstance, deps: GatewayRouteDependencies & { tokens?: TokenVerifier | undefined }): void {
  // Every answer (allow or deny, not a refused request) is counted for /metrics.
  const preSerialization = async (_request: unknown, _reply: unknown, payload: unknown) => {
    recordDecision(payload);
    return payload;
  };
  app.post('/decisions', { preSerialization }, async (request, reply) => {
    const gateway = authenticateGateway(request.headers.authorization, deps.gatewayTokens);
    if (gateway === undefined) return refuseGateway(reply, 'admit-decisions');
    const now = deps.now();
    const parsed = decisionRequest
      .superRefine((input, ctx) => {
        // A time window is judged at the time of the request: an `at` far from now would choose the window.
        if (input.at !== undefined && Math.abs(Date.parse(input.at) - now.getTime()) > deps.clockSkewMs) {
          ctx.addIssue({
            code: 'custom',
            path: ['at'],
            message: `must be within ${Math.round(deps.clockSkewMs / 1000)} s of now (${now.toISOString()}); omit it to mean now`,
          });
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
    let clientId = input.clientId;
    let confirmation = input.confirmation;
    let tokenScopes: string[] | undefined;
    if (input.accessToken !== undefined) {
      if (deps.tokens === undefined) return deny('TOKENS_NOT_ISSUED', 'this deployment runs no authorization server; send clientId and confirmation');
      const checked = await deps.tokens.check({
        accessToken: input.accessToken,
        ...(input.certificateThumbprint === undefined ? {} : { certificateThumbprint: input.certificateThumbprint }),
        ...(input.dpop === undefined ? {} : { dpop: input.dpop }),
      });
      if (!checked.ok) return deny(checked.code, checked.message);
      ({ clientId, confirmation } = checked);
      tokenScopes = checked.scopes;
    }
    if (clientId === undefined || confirmation === undefined) return deny('CLIENT_UNKNOWN', 'no client named');
    const credential = await deps.registry.clientCredential.findUnique({
      where: { clientId },
      include: {
        application: {
          include: {
            grants: { where: { status: 'ACTIVE' }, orderBy: { grantedAt: 'desc' }, take: 1 },
            trustAnchors: { where: { status: { in: ['ACTIVE', 'ROTATING_OUT'] } } },
          },
        },
      },
    });
    if (credential === null) return deny('CLIENT_UNKNOWN', 'no client is registered with this id');
    if (gateway.environments !== undefined && !gateway.environments.includes(credential.application.environment)) {
      return deny(
        'GATEWAY_NOT_SERVING',
        `the client is a ${credential.application.environment} client, which gateway ${gateway.name} does not serve`,
      );
    }
    if (credential.status !== 'ACTIVE') {
      if (credential.status === 'REVOKED') recordRevokedDenial(credential.clientId, credential.revokedAt, new Date());
      return deny('CLIENT_NOT_ACTIVE', `the client is ${credential.status.toLowerCase()}`);
    }
    if (credential.application.status !== 'ADMITTED') {
      return deny('APPLICATION_NOT_ADMITTED', `the application is ${credential.application.status.toLowerCase()}`);
    }
    // During a rotation overlap, a token bound to the anchor rotating out still counts.
    const bound = [
      { method: credential.confirmationMethod, value: credential.confirmationValue },
      ...(tokenScopes === undefined ? [] : credential.application.trustAnchors.map(confirmationFor).filter((b) => b !== undefined)),
    ];
    // A workload's token is bound (jkt) to a key it generated, proved just now; its identity was the SVID or OIDC token at issuance.
    const workloadToken =
      tokenScopes !== undefined && (credential.confirmationMethod === 'spiffe-id' || credential.confirmationMethod === 'oidc-sub');
    if (!workloadToken && !bound.some((b) => b.method === confirmation.method && b.value === confirmation.value)) {
      return deny('CONFIRMATION_MISMATCH', 'the client did not present the anchor its credential is bound to');
    }
    if (tokenScopes !== undefined && !tokenScopes.includes(input.scope)) {
      return deny('SCOPE_NOT_IN_TOKEN', `the access token does not carry ${input.scope}`);
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
