import { readFileSync } from 'node:fs';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import type { Client } from '@temporalio/client';
import type { Registry } from '../registry/client';
import type { AnchorKind } from '../domain/risk';
import type { LifecycleDurations } from '../domain/durations';
import { ConfigError, type GatewayToken } from '../config/env';
import { sendProblem } from './problem';
import { registerCsrfProtection } from './auth/csrf';
import { OidcClient } from './auth/oidc';
import { csrfTokenFor, registerSessions } from './auth/session';
import { messagePage, type PageContext } from './pages/layout';
import { registerApiRoutes } from './routes/api';
import { registerAnchorRoutes } from './routes/anchor';
import { registerAuthRoutes } from './routes/auth';
import { registerConfirmationRoutes } from './routes/confirm';
import { registerConsoleRoutes } from './routes/console';
import { registerOutboxRoutes } from './routes/outbox';
import { registerSignupFormRoutes } from './routes/signup-form';
import { registerStatusRoutes } from './routes/status';
import { registerUsageRoute } from './usage-route';
import { DEFAULT_CLOCK_SKEW_MS } from '../usage/ingest';
import { registerDecisionRoute } from './decision-route';
import { registerEvidenceRoutes } from './routes/evidence';
import type { EvidenceKeyring } from '../evidence/keys';
import { DEFAULT_RATE_LIMITS, rateBudgets, type RateBudget, type RateLimits } from './rate-budgets';
import type { PagesContext } from './routes/pages-context';
import { registerAuthorizationServer, type AuthorizationServer } from '../oauth/plugin';
import { DecisionCache, type DecisionCacheSettings } from '../registry/decision-cache';
import { databaseDecisionFacts } from '../registry/decision-facts';
import type { ReadinessCheck } from '../observability/health';
import { httpRequestDuration } from '../observability/metrics';
import { registerRequestTracing } from './tracing';

export { DEFAULT_RATE_LIMITS, type RateLimit, type RateLimits } from './rate-budgets';

export interface OidcSettings {
  /** The approvers' OpenID Connect issuer; absent means the built-in development provider (refused in production). */
  issuer?: string;
  clientId: string;
  clientSecret?: string;
  /** The ID token claim holding the approver's roles. */
  rolesClaim: string;
}

export interface AppDependencies {
  temporal: Client;
  registry: Registry;
  taskQueue: string;
  /** Where partners and approvers reach this service; emailed links, cookies and the OIDC redirect derive from it. */
  publicUrl: string;
  /** NODE_ENV=production: no development identity provider, no outbox. */
  production: boolean;
  /** Verifies the emailed contact links (ADMIT_LINK_SECRET): one secret, or the ring newest first (ADMIT_LINK_SECRETS). */
  linkSecret: Uint8Array | readonly Uint8Array[];
  /** Seals session cookies (ADMIT_SESSION_SECRET): one secret, or the ring newest first (ADMIT_SESSION_SECRETS). */
  sessionSecret: Uint8Array | readonly Uint8Array[];
  oidc: OidcSettings;
  /** The SMTP sink's directory, for the development outbox; omitted, there is no outbox. */
  mailDir?: string;
  /** Accounts the development identity provider offers; defaults to the seeded approvers. */
  developmentAccounts?: readonly DevelopmentAccount[];
  rateLimits?: Partial<RateLimits>;
  /** Reverse proxies (addresses or CIDRs) whose X-Forwarded-For is believed (ADMIT_TRUST_PROXY). */
  trustedProxies?: readonly string[];
  /** Gateways allowed to POST /usage (ADMIT_GATEWAY_TOKENS); none means every report is refused. */
  gatewayTokens?: readonly GatewayToken[];
  /**
   * Trust-anchor kinds this deployment can verify (configuredAnchorKinds in
   * config/env.ts); the anchor page offers and accepts only these. Default: all.
   */
  anchorKinds?: readonly AnchorKind[];
  /** How far ahead of our clock gateways' timestamps may be (ADMIT_CLOCK_SKEW, ms); default 5 minutes. */
  clockSkewMs?: number;
  /** The partners' embedded authorization server (oauth/), mounted at /oauth and RFC 8414 discovery. */
  authorizationServer?: AuthorizationServer;
  /** The recertification intervals the portfolio views judge by (the configuration's lifecycle durations); default: the domain's. */
  lifecycleDurations?: Pick<LifecycleDurations, 'recertificationStrategicMs' | 'recertificationRegulatedMs'>;
  /** Injected so tests can fix "today" for contract-end validation. */
  now?: () => Date;
  /** What `/readyz` checks; default: Temporal and the registry of these dependencies (observability/health.ts). */
  readinessChecks?: Record<string, ReadinessCheck>;
  /** ADMIT_METRICS_TOKEN: `/metrics` answers only a scraper presenting it (bearer); open without it. */
  metricsToken?: string;
  /** The evidence keyring and checkpoint directory: well-known keys and dossier downloads (docs/evidence.md). */
  evidence?: { keyring: EvidenceKeyring; checkpointDir?: string };
  /** Request logging (method, URL, status; never bodies). Off unless given. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /**
   * The decision cache (registry/decision-cache.ts): started when the app is ready, closed with it.
   * Absent, or with maxEntries 0, every decision reads the registry.
   */
  decisionCache?: DecisionCacheSettings & { databaseUrl: string; log?: (message: string) => void };
}

/**
 * An account the development identity provider (stack/dev-idp.ts) offers to
 * sign in as. Declared here, not there, so that production code names nothing
 * under stack/.
 */
export interface DevelopmentAccount {
  sub: string;
  name: string;
  email: string;
  roles: readonly string[];
}

export type ServiceDependencies = Omit<AppDependencies, 'rateLimits'> & {
  rateLimits: RateLimits;
  /** `onRequest` hooks drawing on one budget per client for each kind of action (web/rate-budgets.ts). */
  rateBudget: RateBudget;
};

const MAX_BODY_BYTES = 64 * 1024;
/** Emailed confirmation tokens are JWTs in the path; Fastify's default (100) would turn them into 404s. */
const MAX_PARAM_LENGTH = 4096;
const STYLESHEET = readFileSync(new URL('./assets/admit.css', import.meta.url), 'utf8');

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered (method and URL), for the OpenAPI completeness test. */
    admitRoutes: { method: string; url: string }[];
    /** The decision cache, when there is one (its status() is what tests and operators read). */
    decisionCache: DecisionCache | undefined;
  }
  interface FastifyRequest {
    /** Pages only: false until the body was parsed, so a parser's untyped error is the client's (400), not ours. */
    bodyRead?: boolean;
  }
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('text/html') && !accept.startsWith('application/json');
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Sign-in required',
  403: 'Forbidden',
  404: 'Not found',
  406: 'Not acceptable',
  413: 'Request body too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
};

/**
 * The development identity provider and its seeded accounts are development
 * code (stack/): loaded at run time, and only when there is no real issuer,
 * which buildApp allows outside production alone. So a production process
 * never loads them (test/stack/layering.test.ts checks no static import does).
 */
async function loadDevelopmentIdentityProvider() {
  const [idp, approvers] = await Promise.all([import('../stack/dev-idp'), import('../stack/dev-approvers')]);
  return { issuerFor: idp.developmentIssuerFor, register: idp.registerDevIdentityProvider, accounts: approvers.DEVELOPMENT_ACCOUNTS };
}

export function buildApp(input: AppDependencies): FastifyInstance {
  const rateLimits: RateLimits = { ...DEFAULT_RATE_LIMITS, ...input.rateLimits };
  // Bound to the app once it exists (below); routes only call it after the rate-limit plugin has loaded.
  let budget: RateBudget = () => {
    throw new Error('rate budgets are not ready');
  };
  const deps: ServiceDependencies = { ...input, rateLimits, rateBudget: (name) => budget(name) };
  const now = deps.now ?? (() => new Date());
  const publicUrl = new URL(deps.publicUrl);
  const origin = publicUrl.origin;
  const secure = publicUrl.protocol === 'https:' || !LOCAL_HOSTS.has(publicUrl.hostname);
  const devIdp = deps.oidc.issuer === undefined;
  if (deps.production && devIdp) {
    throw new ConfigError('ADMIT_OIDC_ISSUER is required in production: the built-in development identity provider is refused there.');
  }

  const app = Fastify({
    bodyLimit: MAX_BODY_BYTES,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Without trusted proxies the client is the socket's peer, so a forged X-Forwarded-For buys nothing.
    trustProxy: deps.trustedProxies !== undefined && deps.trustedProxies.length > 0 ? [...deps.trustedProxies] : false,
    logger: deps.logLevel === undefined ? false : { level: deps.logLevel },
    // Route schemas (POST /decisions) validate, never repair: no coercion, no silent removal of unknown fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: true } },
  });
  app.decorate('admitRoutes', [] as { method: string; url: string }[]);
  const cacheSettings = deps.decisionCache;
  const decisionCache =
    cacheSettings === undefined || cacheSettings.maxEntries <= 0 ? undefined : new DecisionCache({ ...cacheSettings, registry: deps.registry });
  app.decorate('decisionCache', decisionCache);
  if (decisionCache !== undefined) {
    app.addHook('onReady', () => decisionCache.start());
    app.addHook('onClose', () => decisionCache.close());
  }
  registerRequestTracing(app);
  // Draining (app.close()): requests already in flight are answered with `Connection: close`, so
  // their keep-alive connections end with them instead of holding the close open until they time out.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  // By route pattern, never the raw URL (tokens in paths, unbounded label values).
  app.addHook('onResponse', async (request, reply) => {
    httpRequestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') app.admitRoutes.push({ method, url: route.url });
  });

  void app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: publicUrl.protocol === 'https:',
  });
  void app.register(cookie);
  void app.register(rateLimit, { global: false });
  budget = rateBudgets(app, rateLimits);

  const anonymousContext: PageContext = { csrfToken: '', signedInAs: null, development: !deps.production };
  const pageContext = (request: FastifyRequest): PageContext =>
    request.session === null || request.session === undefined
      ? anonymousContext
      : { csrfToken: csrfTokenFor(request), signedInAs: request.session.data.actor?.name ?? null, development: !deps.production };
  const sendPage: PagesContext['sendPage'] = (reply, page) => reply.type('text/html; charset=utf-8').send(page.toString());

  const sendError = (request: FastifyRequest, reply: FastifyReply, status: number, detail: string) => {
    const title = TITLES[status] ?? (status < 500 ? 'Bad request' : 'Internal error');
    if (wantsHtml(request)) return sendPage(reply.status(status), messagePage(pageContext(request), title, 'error', detail));
    return sendProblem(reply, { status, title, detail });
  };

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const unreadableBody = request.bodyRead === false && error.statusCode === undefined;
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : unreadableBody ? 400 : 500;
    if (status >= 500) request.log.error(error);
    const detail = unreadableBody
      ? `The request body could not be read (${error.message}); nothing was changed.`
      : status < 500
        ? error.message
        : 'Something went wrong on our side; nothing was changed. Try again shortly.';
    return sendError(request, reply, status, detail);
  });
  app.setNotFoundHandler((request, reply) => sendError(request, reply, 404, `No route for ${request.method} ${request.url.split('?')[0]}.`));

  app.get('/assets/admit.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET),
  );

  // Routes go inside plugins so they register after @fastify/rate-limit, whose onRoute hook applies the limits.
  void app.register(async (api) => {
    registerApiRoutes(api, deps, now);
    const gateways = {
      registry: deps.registry,
      gatewayTokens: deps.gatewayTokens ?? [],
      now,
      clockSkewMs: deps.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS,
    };
    registerUsageRoute(api, gateways);
    registerDecisionRoute(api, {
      ...gateways,
      tokens: deps.authorizationServer?.tokens,
      facts: decisionCache ?? databaseDecisionFacts(deps.registry),
    });
    registerEvidenceRoutes(api, deps);
  });
  if (deps.authorizationServer !== undefined)
    registerAuthorizationServer(app, deps.authorizationServer.provider, deps.gatewayTokens ?? [], deps.rateBudget('token'));

  // The pages: their own scope, so form parsing, sessions and CSRF checks never touch the JSON API.
  void app.register(async (pages) => {
    void pages.register(formbody, { bodyLimit: MAX_BODY_BYTES });
    void pages.register(multipart, {
      attachFieldsToBody: 'keyValues',
      limits: { fileSize: 64 * 1024, files: 3, fields: 30, fieldSize: 64 * 1024, parts: 40 },
    });
    pages.addHook('onRequest', async (request) => {
      request.bodyRead = false;
    });
    pages.addHook('preHandler', async (request) => {
      request.bodyRead = true;
    });
    registerSessions(pages, { secret: deps.sessionSecret, secure, registry: deps.registry });
    registerCsrfProtection(pages);

    const context: PagesContext = {
      deps,
      now,
      context: pageContext,
      sendPage,
      statusPath: (id) => `/applications/${id}/status`,
      anchorPath: (id) => `/applications/${id}/anchor`,
      actor: (request) => request.session.data.actor,
    };
    let issuer = deps.oidc.issuer;
    if (issuer === undefined) {
      const development = await loadDevelopmentIdentityProvider();
      issuer = development.issuerFor(deps.publicUrl);
      development.register(pages, {
        issuer,
        clientId: deps.oidc.clientId,
        clientSecret: deps.oidc.clientSecret,
        redirectUris: [`${origin}/auth/callback`],
        rolesClaim: deps.oidc.rolesClaim,
        accounts: deps.developmentAccounts ?? development.accounts,
        pageContext,
      });
    }
    const oidc = new OidcClient({
      issuer,
      clientId: deps.oidc.clientId,
      clientSecret: deps.oidc.clientSecret,
      redirectUri: `${origin}/auth/callback`,
      rolesClaim: deps.oidc.rolesClaim,
    });

    registerSignupFormRoutes(pages, context);
    registerConfirmationRoutes(pages, context);
    registerAnchorRoutes(pages, context);
    registerStatusRoutes(pages, context);
    registerConsoleRoutes(pages, context);
    registerAuthRoutes(pages, context, oidc);
    if (!deps.production && deps.mailDir !== undefined) registerOutboxRoutes(pages, context, deps.mailDir);
  });

  return app;
}
