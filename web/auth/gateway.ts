import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { GatewayToken } from '../../config/env';
import { sendProblem } from '../problem';

/** API gateways authenticate to Admit (usage reports, request-time decisions) with their bearer tokens. */

/**
 * The gateway whose token this is, comparing in constant time against every
 * configured token (digests first, so lengths do not leak either).
 */
export function gatewayFor(authorization: string | undefined, tokens: readonly GatewayToken[]): string | undefined {
  return authenticateGateway(authorization, tokens)?.name;
}

/** The configured tokens' digests, computed once per configuration rather than on every request. */
const digests = new WeakMap<readonly GatewayToken[], Buffer[]>();

function digestsOf(tokens: readonly GatewayToken[]): Buffer[] {
  let known = digests.get(tokens);
  if (known === undefined || known.length !== tokens.length) {
    known = tokens.map((gateway) => createHash('sha256').update(gateway.token).digest());
    digests.set(tokens, known);
  }
  return known;
}

/** The gateway (name and the environments it serves) whose token this is. */
export function authenticateGateway(authorization: string | undefined, tokens: readonly GatewayToken[]): GatewayToken | undefined {
  const match = /^Bearer ([\x21-\x7e]+)$/.exec(authorization ?? '');
  if (match?.[1] === undefined) return undefined;
  const presented = createHash('sha256').update(match[1]).digest();
  const known = digestsOf(tokens);
  let found: GatewayToken | undefined;
  tokens.forEach((gateway, index) => {
    if (timingSafeEqual(presented, known[index]!) && found === undefined) found = gateway;
  });
  return found;
}

/** The 401 a request without a valid gateway token gets. */
export function refuseGateway(reply: FastifyReply, realm: string): FastifyReply {
  return sendProblem(reply.header('www-authenticate', `Bearer realm="${realm}"`), {
    status: 401,
    title: 'Unauthorised',
    detail: 'Send the gateway token Admit was configured with (ADMIT_GATEWAY_TOKENS) as `Authorization: Bearer <token>`.',
  });
}
