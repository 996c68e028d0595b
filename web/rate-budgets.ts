import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface RateLimit {
  max: number;
  timeWindow: number;
}

/**
 * One budget per client address for each kind of action, shared by every
 * route that performs it: a signup costs the same whether it arrives as JSON
 * (POST /signup) or as the form (POST /apply), and the two draw on one count.
 */
export interface RateLimits {
  /** POST /signup and POST /apply. */
  signup: RateLimit;
  /** The emailed confirmation link (GET and POST /confirm/:token). */
  confirmation: RateLimit;
  /** Trust-anchor challenges and submissions (POST /applications/:id/anchor, …/anchor/challenge). */
  anchor: RateLimit;
  /** Starting and finishing an approver sign-in (GET /auth/login, GET /auth/callback). */
  login: RateLimit;
  /** Reading an application's status (GET /applications/:id, GET /applications/:id/status). */
  status: RateLimit;
  /**
   * The partners' token endpoint (POST /oauth/token): each request verifies signatures and reads the
   * registry, so a flood from one address is turned away before that work.
   */
  token: RateLimit;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  signup: { max: 20, timeWindow: 60_000 },
  confirmation: { max: 60, timeWindow: 60_000 },
  anchor: { max: 10, timeWindow: 60_000 },
  login: { max: 60, timeWindow: 60_000 },
  status: { max: 600, timeWindow: 60_000 },
  token: { max: 300, timeWindow: 60_000 },
};

export type RateBudget = (name: keyof RateLimits) => (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

type Limiter = (
  request: FastifyRequest,
) => Promise<{ isAllowed: boolean; isExceeded: boolean; ttlInSeconds: number; max: number; remaining: number }>;

/**
 * `onRequest` hooks drawing on shared budgets. Each budget is one limiter of
 * @fastify/rate-limit (`createRateLimit`, one store), created on first use on
 * the instance the plugin was registered on; the client is the request's
 * address (behind ADMIT_TRUST_PROXY, the forwarded one).
 */
export function rateBudgets(app: FastifyInstance, limits: RateLimits): RateBudget {
  const limiters = new Map<keyof RateLimits, Limiter>();
  return (name) => async (request, reply) => {
    let limiter = limiters.get(name);
    if (limiter === undefined) {
      limiter = (app as FastifyInstance & { createRateLimit(options: RateLimit): Limiter }).createRateLimit(limits[name]);
      limiters.set(name, limiter);
    }
    const result = await limiter(request);
    reply.header('x-ratelimit-limit', result.max).header('x-ratelimit-remaining', Math.max(0, result.remaining));
    if (!result.isAllowed && result.isExceeded) {
      reply.header('retry-after', result.ttlInSeconds);
      throw Object.assign(new Error(`Too many requests from this address; try again in ${result.ttlInSeconds} s.`), { statusCode: 429 });
    }
  };
}
