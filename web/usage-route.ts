import type { FastifyInstance } from 'fastify';
import type { GatewayToken } from '../config/env';
import type { Registry } from '../registry/client';
import { ingestUsageBatch, MAX_USAGE_BATCH, UsageBatchRejected } from '../usage/ingest';
import { sendProblem } from './problem';
import { authenticateGateway, refuseGateway } from './auth/gateway';

/** Room for a full batch (each report is a few hundred bytes); the app's default limit is for forms. */
const USAGE_BODY_LIMIT = MAX_USAGE_BATCH * 1024;

/**
 * POST /usage: a gateway's batch of usage reports, `{ "reports": [...] }`,
 * authenticated by its bearer token (ADMIT_GATEWAY_TOKENS). The gateway's
 * name is the reports' source. All or nothing: 200 with the count, or 400
 * with an error per offending row and nothing recorded.
 */
export interface GatewayRouteDependencies {
  registry: Registry;
  gatewayTokens: readonly GatewayToken[];
  now: () => Date;
  /** ADMIT_CLOCK_SKEW in milliseconds. */
  clockSkewMs: number;
}

export function registerUsageRoute(app: FastifyInstance, deps: GatewayRouteDependencies): void {
  app.post('/usage', { bodyLimit: USAGE_BODY_LIMIT }, async (request, reply) => {
    const gateway = authenticateGateway(request.headers.authorization, deps.gatewayTokens);
    if (gateway === undefined) return refuseGateway(reply, 'admit-usage');
    const source = gateway.name;
    const body = request.body as { reports?: unknown } | null;
    try {
      const result = await ingestUsageBatch(deps.registry, source, body?.reports, {
        now: deps.now(),
        clockSkewMs: deps.clockSkewMs,
        environments: gateway.environments,
      });
      return reply.status(200).send({ accepted: result.accepted, source });
    } catch (error) {
      if (error instanceof UsageBatchRejected) {
        return sendProblem(reply, {
          status: 400,
          title: 'The usage batch has errors',
          detail: `${error.message} Correct the reports listed in \`errors\` and send the whole batch again.`,
          errors: error.errors,
        });
      }
      throw error;
    }
  });
}
