import type { FastifyInstance, FastifySchemaValidationError } from 'fastify';
import { decide, type GrantConditions } from '../domain/policy';
import { authenticateGateway, refuseGateway } from './auth/gateway';
import type { GatewayRouteDependencies } from './usage-route';
import { sendProblem } from './problem';
import { confirmationFor } from '../activities/grants';
import type { TokenVerifier } from '../oauth/token-check';
import type { DecisionFactSource, DecisionFacts } from '../registry/decision-facts';
import { loadDecisionFacts } from '../registry/decision-facts';
import { recordDecision, recordRevokedDenial } from '../observability/decision-metrics';

const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength }) as const;

/**
 * The body of POST /decisions as JSON Schema: Fastify compiles it once (Ajv, with coercion and
 * property removal off in web/app.ts), and web/openapi.ts publishes it. The rules between fields
 * (which form, `at` near now) are checked in the handler.
 */
export const DECISION_REQUEST_SCHEMA = {
  type: 'object',
  description:
    'Either `clientId` with `confirmation`, or an Admit `accessToken` with what the client presented alongside it (`certificateThumbprint` or `dpop`).',
  required: ['scope', 'environment'],
  additionalProperties: false,
  properties: {
    clientId: { ...text(200), pattern: '\\S' },
    confirmation: {
      type: 'object',
      description: 'What the client proved on this connection: its certificate’s or key’s thumbprint (RFC 8705 / RFC 9449).',
      required: ['method', 'value'],
      properties: { method: { type: 'string', enum: ['x5t#S256', 'jkt', 'spiffe-id', 'oidc-sub'] }, value: text(2048) },
    },
    accessToken: { ...text(4096), description: 'Or: the access token Admit issued the client.' },
    certificateThumbprint: {
      type: 'string',
      pattern: '^[A-Za-z0-9_-]{43}$',
      description: 'base64url SHA-256 of the client certificate on the connection (RFC 8705 §3).',
    },
    dpop: {
      type: 'object',
      required: ['proof', 'htm', 'htu'],
      additionalProperties: false,
      description: 'The DPoP proof of the request and its method and URL as the client called them (RFC 9449 §7).',
      properties: { proof: text(8192), htm: text(16), htu: { type: 'string', format: 'uri', maxLength: 2048 } },
    },
    scope: text(100),
    environment: text(40),
    transactionType: text(100),
    amount: {
      type: 'object',
      required: ['value', 'currency'],
      properties: { value: { type: 'number', minimum: 0 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } },
    },
    at: {
      type: 'string',
      format: 'date-time',
      description: 'Defaults to now; otherwise within ADMIT_CLOCK_SKEW of Admit’s clock (a decision is about now, not another time).',
    },
  },
} as const;

const reason = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;
/** Serialised by a function Fastify compiles once (fast-json-stringify). */
export const DECISION_RESPONSE_SCHEMA = {
  type: 'object',
  required: ['allow', 'reasons'],
  properties: { allow: { type: 'boolean' }, reasons: { type: 'array', items: reason }, applicationId: { type: 'string' } },
} as const;

interface DecisionRequest {
  clientId?: string;
  confirmation?: { method: string; value: string };
  accessToken?: string;
  certificateThumbprint?: string;
  dpop?: { proof: string; htm: string; htu: string };
  scope: string;
  environment: string;
  transactionType?: string;
  amount?: { value: number; currency: string };
  at?: string;
}

interface FieldError {
  field: string;
  message: string;
}

function fieldErrors(errors: FastifySchemaValidationError[]): FieldError[] {
  return errors.map((e) => {
    const params = e.params as { missingProperty?: string; additionalProperty?: string };
    const path = [
      ...e.instancePath.split('/').filter((p) => p !== ''),
      ...(params.missingProperty === undefined ? [] : [params.missingProperty]),
      ...(params.additionalProperty === undefined ? [] : [params.additionalProperty]),
    ];
    const message = params.additionalProperty === undefined ? (e.message ?? 'is invalid') : 'is not a field of this request';
    return { field: path.join('.') || '(body)', message };
  });
}

/** What the schema cannot say: one form or the other, whole, and `at` near now. */
function crossFieldErrors(input: DecisionRequest, now: Date, clockSkewMs: number): FieldError[] {
  const errors: FieldError[] = [];
  const byToken = input.accessToken !== undefined;
  const byClient = input.clientId !== undefined || input.confirmation !== undefined;
  if (byToken === byClient) {
    errors.push({ field: 'accessToken', message: 'Give either accessToken (with certificateThumbprint or dpop) or clientId with confirmation.' });
  } else if (byClient && (input.clientId === undefined || input.confirmation === undefined)) {
    errors.push({ field: 'confirmation', message: 'clientId and confirmation go together.' });
  } else if (byToken && input.certificateThumbprint === undefined && input.dpop === undefined) {
    errors.push({ field: 'accessToken', message: 'Send what the client presented: certificateThumbprint or dpop.' });
  }
  if (input.amount !== undefined && !Number.isFinite(input.amount.value)) errors.push({ field: 'amount.value', message: 'must be finite' });
  // A time window is judged at the time of the request: an `at` far from now would choose the window.
  if (input.at !== undefined && !(Math.abs(Date.parse(input.at) - now.getTime()) <= clockSkewMs)) {
    errors.push({
      field: 'at',
      message: `must be within ${Math.round(clockSkewMs / 1000)} s of now (${now.toISOString()}); omit it to mean now`,
    });
  }
  return errors;
}

export interface DecisionRouteDependencies extends GatewayRouteDependencies {
  tokens?: TokenVerifier | undefined;
  /** Where the thumbprint form reads its facts: the decision cache, or the registry itself. */
  facts: DecisionFactSource;
}

/**
 * POST /decisions: the request-time decision point for API gateways — may
 * this client, holding this anchor, use this scope here and now? The client
 * must be an active credential of an admitted application, present the anchor
 * its credential is bound to, and the grant's conditions (environment, time,
 * transaction type, amount) must hold (domain/policy.ts). Default deny.
 *
 * The thumbprint form (clientId + confirmation) is the gateways' hot path: its facts come from
 * the decision cache (registry/decision-cache.ts, docs/decisions.md), so a cached client costs
 * no database round trip, and its request lines are not logged (errors are). The token form
 * checks the token in the registry anyway, and reads the rest there too.
 */
export function registerDecisionRoute(app: FastifyInstance, deps: DecisionRouteDependencies): void {
  app.post(
    '/decisions',
    {
      schema: { body: DECISION_REQUEST_SCHEMA, response: { 200: DECISION_RESPONSE_SCHEMA } },
      attachValidation: true,
      // Thousands of decisions a second would drown the log; the gateway logs its own requests.
      logLevel: 'warn',
      // Browser hardening headers mean nothing to a gateway reading JSON, and cost on every call.
      helmet: false,
      // Every answer (allow or deny, not a refused request) is counted for /metrics.
      preSerialization: async (_request: unknown, _reply: unknown, payload: unknown) => {
        recordDecision(payload);
        return payload;
      },
    },
    async (request, reply) => {
      const gateway = authenticateGateway(request.headers.authorization, deps.gatewayTokens);
      if (gateway === undefined) return refuseGateway(reply, 'admit-decisions');
      const now = deps.now();
      const input = request.body as DecisionRequest;
      const errors = request.validationError
        ? fieldErrors(request.validationError.validation as FastifySchemaValidationError[])
        : crossFieldErrors(input, now, deps.clockSkewMs);
      if (errors.length > 0) {
        return sendProblem(reply, {
          status: 400,
          title: 'The decision request has errors',
          detail: 'Correct the fields listed in `errors`.',
          errors,
        });
      }
      const deny = (code: string, message: string) => ({ allow: false, reasons: [{ code, message }] });
      let clientId = input.clientId?.trim();
      let confirmation = input.confirmation;
      let tokenScopes: string[] | undefined;
      let facts: DecisionFacts | null;
      let anchorBindings: { method: string; value: string }[] = [];
      if (input.accessToken !== undefined) {
        if (deps.tokens === undefined)
          return deny('TOKENS_NOT_ISSUED', 'this deployment runs no authorization server; send clientId and confirmation');
        const checked = await deps.tokens.check({
          accessToken: input.accessToken,
          ...(input.certificateThumbprint === undefined ? {} : { certificateThumbprint: input.certificateThumbprint }),
          ...(input.dpop === undefined ? {} : { dpop: input.dpop }),
        });
        if (!checked.ok) return deny(checked.code, checked.message);
        ({ clientId, confirmation } = checked);
        tokenScopes = checked.scopes;
        // Tokens are checked in the registry, so their revocation holds at once; so do the facts.
        facts = await loadDecisionFacts(deps.registry, clientId);
        if (facts !== null) {
          // During a rotation overlap, a token bound to the anchor rotating out still counts.
          const anchors = await deps.registry.trustAnchor.findMany({
            where: { applicationId: facts.applicationId, status: { in: ['ACTIVE', 'ROTATING_OUT'] } },
          });
          anchorBindings = anchors.map(confirmationFor).filter((b) => b !== undefined);
        }
      } else {
        if (clientId === undefined || confirmation === undefined) return deny('CLIENT_UNKNOWN', 'no client named');
        const found = deps.facts.lookup(clientId);
        facts = found instanceof Promise ? await found : found;
      }
      if (facts === null) return deny('CLIENT_UNKNOWN', 'no client is registered with this id');
      if (confirmation === undefined) return deny('CLIENT_UNKNOWN', 'no client named');
      if (gateway.environments !== undefined && !gateway.environments.includes(facts.environment)) {
        return deny('GATEWAY_NOT_SERVING', `the client is a ${facts.environment} client, which gateway ${gateway.name} does not serve`);
      }
      if (facts.credentialStatus !== 'ACTIVE') {
        if (facts.credentialStatus === 'REVOKED') recordRevokedDenial(facts.clientId, facts.revokedAt, new Date());
        return deny('CLIENT_NOT_ACTIVE', `the client is ${facts.credentialStatus.toLowerCase()}`);
      }
      if (facts.applicationStatus !== 'ADMITTED') {
        return deny('APPLICATION_NOT_ADMITTED', `the application is ${facts.applicationStatus.toLowerCase()}`);
      }
      const presented = confirmation;
      const bound = [facts.confirmation, ...anchorBindings];
      // A workload's token is bound (jkt) to a key it generated, proved just now; its identity was the SVID or OIDC token at issuance.
      const workloadToken = tokenScopes !== undefined && (facts.confirmation.method === 'spiffe-id' || facts.confirmation.method === 'oidc-sub');
      if (!workloadToken && !bound.some((b) => b.method === presented.method && b.value === presented.value)) {
        return deny('CONFIRMATION_MISMATCH', 'the client did not present the anchor its credential is bound to');
      }
      if (tokenScopes !== undefined && !tokenScopes.includes(input.scope)) {
        return deny('SCOPE_NOT_IN_TOKEN', `the access token does not carry ${input.scope}`);
      }
      const grant = facts.grant;
      if (grant === undefined) return deny('GRANT_NOT_ACTIVE', 'the application holds no active grant');
      const decision = decide({
        grant: { scopes: grant.scopes, conditions: grant.conditions satisfies GrantConditions, status: 'active' },
        request: {
          scope: input.scope,
          environment: input.environment,
          at: input.at ?? now,
          ...(input.transactionType === undefined ? {} : { transactionType: input.transactionType }),
          ...(input.amount === undefined ? {} : { amount: input.amount }),
        },
      });
      return { allow: decision.allow, reasons: decision.reasons, applicationId: facts.applicationId };
    },
  );
}
