import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { LifecycleSettings } from '../domain/settings';
import type { KeycloakAdminConfig } from '../credentials/keycloak';
import { DEFAULT_LIFECYCLE_DURATIONS, lifecycleDurationProblems, parseDuration, type LifecycleSetting } from '../domain/durations';
import { DEFAULT_EXPANSION_POLICY, expansionPolicyProblems, type ExpansionPolicy } from '../domain/expansion';
import { DEFAULT_RISK_THRESHOLDS, riskThresholdProblems } from '../domain/risk';
import { parseResolverAddress } from '../anchors/dns-resolver';
import { ENVIRONMENTS } from '../domain/environments';
import { DEFAULT_DECISION_CACHE_SETTINGS, type DecisionCacheSettings } from '../registry/decision-facts';
import { keyListProblem } from './key-ring';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

const port = z.coerce.number().int().min(1).max(65535);
const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .refine((v) => v === undefined || protocols.some((p) => v.startsWith(`${p}://`)), {
      message: `must start with ${protocols.map((p) => `${p}://`).join(' or ')}`,
    });
/** Read as text here and parsed in `lifecycleSettingsFrom`, which knows the units and the cross-checks. */
const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

/**
 * The environment variable of every lifecycle setting (domain/durations.ts).
 * Durations take `15m`, `36h`, `7d`, `2w` or ISO-8601 (`P7D`); the
 * resubmission limit is a count. Defaults are the domain's production values.
 */
export const LIFECYCLE_VARIABLES = {
  ADMIT_CONTACT_REMINDER: 'contactReminderMs',
  ADMIT_CONTACT_EXPIRY: 'contactExpiryMs',
  ADMIT_ANCHOR_SUBMISSION: 'anchorSubmissionMs',
  ADMIT_APPROVAL_ESCALATION: 'approvalEscalationMs',
  ADMIT_APPROVAL_EXPIRY: 'approvalExpiryMs',
  ADMIT_PROBATION: 'probationMs',
  ADMIT_INACTIVITY: 'inactivityMs',
  ADMIT_ANCHOR_REVERIFY_EVERY: 'anchorReverificationEveryMs',
  ADMIT_ANCHOR_EXPIRY_NOTICE: 'anchorExpiryNoticeMs',
  ADMIT_SUSPENSION_GRACE: 'suspensionGraceMs',
  ADMIT_RECERTIFY_STRATEGIC: 'recertificationStrategicMs',
  ADMIT_RECERTIFY_REGULATED: 'recertificationRegulatedMs',
  ADMIT_CONTRACT_END_NOTICE: 'contractEndNoticeMs',
  ADMIT_ROTATION_OVERLAP: 'rotationOverlapMs',
  ADMIT_DOMAIN_CHECK_EVERY: 'domainCheckEveryMs',
  ADMIT_LEI_RECHECK_EVERY: 'leiRecheckEveryMs',
  ADMIT_ANCHOR_RESUBMISSIONS: 'anchorResubmissionLimit',
} as const satisfies Record<string, LifecycleSetting>;

export const RISK_THRESHOLD_VARIABLES = { ADMIT_RISK_MEDIUM: 'medium', ADMIT_RISK_HIGH: 'high' } as const;

export const EXPANSION_POLICY_VARIABLES = {
  ADMIT_EXPANSION_MAX_DENIAL_RATE: 'maxDenialRate',
  ADMIT_EXPANSION_MAX_ERROR_RATE: 'maxErrorRate',
  ADMIT_EXPANSION_MIN_CALLS: 'minCalls',
} as const satisfies Record<string, keyof ExpansionPolicy>;

const lifecycleShape = Object.fromEntries(
  [...Object.keys(LIFECYCLE_VARIABLES), ...Object.keys(RISK_THRESHOLD_VARIABLES), ...Object.keys(EXPANSION_POLICY_VARIABLES)].map((name) => [
    name,
    optionalText,
  ]),
) as Record<keyof typeof LIFECYCLE_VARIABLES | keyof typeof RISK_THRESHOLD_VARIABLES | keyof typeof EXPANSION_POLICY_VARIABLES, typeof optionalText>;

/** A gateway allowed to POST usage: its name becomes the reports' `source`. */
export interface GatewayToken {
  name: string;
  token: string;
  /** The application environments this gateway fronts (ADMIT_GATEWAY_ENVIRONMENTS); absent: all. */
  environments?: readonly string[];
}

const GATEWAY_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const MIN_GATEWAY_TOKEN_CHARS = 32;

function parseGatewayTokens(value: string | undefined, problems: string[]): GatewayToken[] {
  if (value === undefined) return [];
  const tokens: GatewayToken[] = [];
  for (const [index, pair] of value.split(',').entries()) {
    const separator = pair.indexOf(':');
    const name = pair.slice(0, separator).trim();
    const token = pair.slice(separator + 1).trim();
    // Messages name the pair by position, never by content: the value is a secret.
    if (separator < 0 || !GATEWAY_NAME.test(name)) {
      problems.push(`ADMIT_GATEWAY_TOKENS: pair ${index + 1} must be name:token with a lower-case name (a-z, 0-9, . _ -)`);
    } else if (token.length < MIN_GATEWAY_TOKEN_CHARS) {
      problems.push(
        `ADMIT_GATEWAY_TOKENS: the token of gateway ${name} must be at least ${MIN_GATEWAY_TOKEN_CHARS} characters (openssl rand -base64 32)`,
      );
    } else if (tokens.some((t) => t.name === name)) {
      problems.push(`ADMIT_GATEWAY_TOKENS: gateway ${name} is listed twice`);
    } else {
      tokens.push({ name, token });
    }
  }
  return tokens;
}

/**
 * ADMIT_GATEWAY_ENVIRONMENTS: `name:env+env,…`. A listed gateway may report
 * usage for, and ask decisions about, clients of applications in its
 * environments only; once the variable is set, an unlisted gateway serves none.
 */
function bindGatewayEnvironments(value: string | undefined, tokens: GatewayToken[], problems: string[]): GatewayToken[] {
  if (value === undefined) return tokens;
  const served = new Map<string, string[]>();
  for (const [index, pair] of value.split(',').entries()) {
    const separator = pair.indexOf(':');
    const name = pair.slice(0, separator).trim();
    const environments = pair
      .slice(separator + 1)
      .split('+')
      .map((e) => e.trim());
    if (separator < 0 || !GATEWAY_NAME.test(name)) {
      problems.push(`ADMIT_GATEWAY_ENVIRONMENTS: entry ${index + 1} must be name:environment (e.g. kong:production or edge:sandbox+production)`);
    } else if (!tokens.some((t) => t.name === name)) {
      problems.push(`ADMIT_GATEWAY_ENVIRONMENTS: gateway ${name} has no token in ADMIT_GATEWAY_TOKENS`);
    } else if (served.has(name)) {
      problems.push(`ADMIT_GATEWAY_ENVIRONMENTS: gateway ${name} is listed twice`);
    } else {
      const unknown = environments.filter((e) => !(ENVIRONMENTS as readonly string[]).includes(e));
      if (unknown.length > 0)
        problems.push(
          `ADMIT_GATEWAY_ENVIRONMENTS: gateway ${name}: ${unknown.map((e) => JSON.stringify(e)).join(', ')} is not one of ${ENVIRONMENTS.join(', ')}`,
        );
      else served.set(name, [...new Set(environments)]);
    }
  }
  return tokens.map((t) => ({ ...t, environments: served.get(t.name) ?? [] }));
}

/**
 * Every environment variable Admit reads, with its default. The README's
 * configuration table is checked against this list by a test.
 */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  ADMIT_DATA_DIR: z.string().default(path.join(REPO_ROOT, '.data')),

  TEMPORAL_ADDRESS: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .refine((v) => v === undefined || /^[^\s:/]+:\d+$/.test(v), { message: 'must be host:port' }),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('admit-partner-lifecycle'),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_TLS: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true')),
  TEMPORAL_CLI_PATH: z.string().optional(),
  ADMIT_TEMPORAL_DOWNLOAD: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  ADMIT_TEMPORAL_PORT: port.default(7233),
  ADMIT_TEMPORAL_UI_PORT: port.default(8233),
  // The worker's sticky cache of running lifecycles: each costs memory while cached, an evicted one is
  // replayed from its history when it next wakes (docs/deployment.md, "Parking at scale").
  ADMIT_WORKFLOW_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(500),
  ADMIT_STICKY_QUEUE_TIMEOUT: z
    .string()
    .default('10s')
    .transform((raw, ctx) => {
      try {
        const ms = parseDuration(raw);
        if (ms >= 1_000 && ms <= 600_000) return ms;
        ctx.addIssue({ code: 'custom', message: 'must be between 1s and 10m' });
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
      }
      return z.NEVER;
    }),

  DATABASE_URL: optionalUrl(['postgresql', 'postgres']),
  POSTGRES_BIN_DIR: z.string().optional(),
  ADMIT_POSTGRES_PORT: port.default(54329),

  SMTP_URL: optionalUrl(['smtp', 'smtps']),
  MAIL_FROM: z.string().min(3).default('Admit <admit@localhost>'),
  ADMIT_SMTP_PORT: port.default(2525),

  ADMIT_HTTP_HOST: z.string().default('127.0.0.1'),
  PORT: port.default(3000),
  ADMIT_PUBLIC_URL: optionalUrl(['http', 'https']),

  ADMIT_TRUST_STORE: z.string().optional(),
  ADMIT_SPIFFE_BUNDLES: z.string().optional(),
  ADMIT_OIDC_WORKLOAD_ISSUERS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ADMIT_ANCHOR_AUDIENCE: z.string().optional(),
  ADMIT_X509_REQUIRE_DOMAIN: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  ADMIT_FETCH_ALLOW: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),

  ADMIT_DNS_RESOLVER: optionalText.refine((v) => v === undefined || parseResolverAddress(v) !== undefined, {
    message: 'must be the IP address of a DNS resolver, optionally with a port: 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53',
  }),

  // Legal-entity verification against GLEIF (entity/gleif.ts).
  ADMIT_GLEIF_URL: z
    .string()
    .trim()
    .default('https://api.gleif.org/api/v1')
    .refine((v) => /^https:\/\/[^/?#]+(\/[^?#]*)?$/.test(v), {
      message: 'must be an https:// URL without query or fragment (GLEIF API v1 or a mirror of it)',
    })
    .transform((v) => v.replace(/\/+$/, '')),
  ADMIT_GLEIF_CA: optionalText,
  ADMIT_GLEIF_TIMEOUT: optionalText,
  ADMIT_GLEIF_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  ADMIT_GLEIF_CACHE_TTL: optionalText,
  ADMIT_DOMAIN_CHALLENGE_TTL: optionalText,

  ADMIT_PAYLOAD_KEY: z
    .string()
    .optional()
    .refine((v) => v === undefined || Buffer.from(v, 'base64').length === 32, {
      message: 'must be 32 random bytes, base64-encoded (openssl rand -base64 32)',
    }),
  ADMIT_LINK_SECRET: z
    .string()
    .optional()
    .refine((v) => v === undefined || (/^[A-Za-z0-9+/]+={0,2}$/.test(v.trim()) && Buffer.from(v, 'base64').length >= 32), {
      message: 'must be at least 32 random bytes, base64-encoded (openssl rand -base64 32)',
    }),
  // Key rings for rotation (config/key-ring.ts): newest first; the single variable above is kept as the oldest.
  ADMIT_PAYLOAD_KEYS: optionalText.superRefine((v, ctx) => {
    const problem = keyListProblem(v, 32, true);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
  ADMIT_LINK_SECRETS: optionalText.superRefine((v, ctx) => {
    const problem = keyListProblem(v, 32, false);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
  ADMIT_GATEWAY_TOKENS: optionalText,
  ADMIT_GATEWAY_ENVIRONMENTS: optionalText,
  ADMIT_CLOCK_SKEW: z.string().trim().default('5m'),
  // The web's decision cache (registry/decision-cache.ts, docs/decisions.md).
  ADMIT_DECISION_CACHE_SIZE: z
    .string()
    .trim()
    .default('100000')
    .refine((v) => /^\d+$/.test(v) && Number(v) <= 10_000_000, {
      message: 'must be a whole number of clients up to 10000000 (0 turns the cache off)',
    })
    .transform(Number),
  ADMIT_DECISION_CACHE_MAX_STALENESS: z.string().trim().default('1s'),
  ADMIT_DECISION_CACHE_POLL: z.string().trim().default('200ms'),

  // Approver sign-in and browser sessions (web/).
  ADMIT_SESSION_SECRET: z
    .string()
    .optional()
    .refine((v) => v === undefined || (/^[A-Za-z0-9+/]+={0,2}$/.test(v.trim()) && Buffer.from(v, 'base64').length >= 32), {
      message: 'must be at least 32 random bytes, base64-encoded (openssl rand -base64 32)',
    }),
  ADMIT_SESSION_SECRETS: optionalText.superRefine((v, ctx) => {
    const problem = keyListProblem(v, 32, false);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
  ADMIT_OIDC_ISSUER: optionalUrl(['https', 'http']),
  ADMIT_OIDC_CLIENT_ID: z.string().trim().min(1).default('admit-console'),
  ADMIT_OIDC_CLIENT_SECRET: optionalText,
  ADMIT_OIDC_ROLES_CLAIM: z.string().trim().min(1).default('roles'),
  ADMIT_TRUST_PROXY: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),

  // The partners' authorization server: Admit's own, or a Keycloak realm Admit provisions clients into.
  ADMIT_AUTHORIZATION_SERVER: z.enum(['embedded', 'keycloak']).default('embedded'),
  ADMIT_KEYCLOAK_URL: optionalUrl(['https', 'http']),
  ADMIT_KEYCLOAK_REALM: optionalText,
  ADMIT_KEYCLOAK_CLIENT_ID: optionalText,
  ADMIT_KEYCLOAK_CLIENT_SECRET: optionalText,
  // The embedded authorization server for partners (oauth/).
  ADMIT_OAUTH_RESOURCES: optionalText,
  ADMIT_OAUTH_MTLS_PORT: port.default(3443),
  ADMIT_OAUTH_MTLS_URL: optionalUrl(['https']),
  ADMIT_OAUTH_TLS_CERT: optionalText,
  ADMIT_OAUTH_TLS_KEY: optionalText,
  ADMIT_OAUTH_SIGNING_KEY: z
    .string()
    .optional()
    .refine((v) => v === undefined || (/^[A-Za-z0-9+/]+={0,2}$/.test(v.trim()) && Buffer.from(v, 'base64').length === 32), {
      message: 'must be 32 random bytes, base64-encoded (openssl rand -base64 32): the Ed25519 seed of the access-token signing key',
    }),
  // Evidence (docs/evidence.md): the checkpoint signing keyring, newest first, and where checkpoints are also written.
  ADMIT_EVIDENCE_KEYS: z
    .string()
    .optional()
    .refine(
      (v) =>
        v === undefined ||
        v
          .split(',')
          .map((k) => k.trim())
          .every((k) => /^[A-Za-z0-9+/]+={0,2}$/.test(k) && Buffer.from(k, 'base64').length === 32),
      { message: 'must be a comma-separated list of 32-byte Ed25519 seeds, base64-encoded, newest first (openssl rand -base64 32)' },
    ),
  ADMIT_EVIDENCE_DIR: z.string().trim().optional(),
  ADMIT_EVIDENCE_CHECKPOINT_EVERY: z
    .string()
    .trim()
    .default('1h')
    .refine(
      (v) => {
        try {
          return parseDuration(v) >= 1000;
        } catch {
          return false;
        }
      },
      { message: 'must be a duration of at least 1s (e.g. 15m, 1h)' },
    ),
  ADMIT_OAUTH_ASSERTION_MAX_AGE: z.coerce.number().int().min(5).max(600).default(60),
  // Operations (docs/operations.md): the worker's probe and metrics port, the Temporal Runtime's
  // metrics, the drain on SIGTERM, who may scrape the web's /metrics, and traces.
  ADMIT_WORKER_HTTP_PORT: z
    .string()
    .trim()
    .default('9464')
    .refine((v) => v === 'off' || (/^\d{1,5}$/.test(v) && Number(v) <= 65535), { message: 'a port (0 takes a free one) or `off`' }),
  ADMIT_TEMPORAL_METRICS_ADDRESS: optionalText.refine((v) => v === undefined || /^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(v), {
    message: 'host:port for the Temporal Runtime’s Prometheus exporter (e.g. 0.0.0.0:9465)',
  }),
  ADMIT_SHUTDOWN_GRACE: z.string().trim().default('30s'),
  ADMIT_METRICS_TOKEN: optionalText.refine((v) => v === undefined || v.length >= 16, { message: 'at least 16 characters (openssl rand -base64 24)' }),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl(['http', 'https']),
  OTEL_SERVICE_NAME: optionalText,

  ...lifecycleShape,
});

/** One API (resource server) of the catalogue tokens may be issued for (RFC 8707). */
export interface ResourceServerEntry {
  /** The resource indicator: an absolute URI without fragment, which becomes the token's `aud`. */
  uri: string;
  /** `jwt` (RFC 9068, verified locally; revocation seen at `exp`) or `opaque` (introspected; revocation seen at once). */
  format: 'jwt' | 'opaque';
}

/** `uri=format` pairs, comma-separated; the default is the one API at `$ADMIT_PUBLIC_URL/api`, opaque. */
export function parseResourceServers(value: string | undefined, publicUrl: string, problems: string[]): ResourceServerEntry[] {
  if (value === undefined) return [{ uri: `${publicUrl.replace(/\/$/, '')}/api`, format: 'opaque' }];
  const entries: ResourceServerEntry[] = [];
  for (const [index, pair] of value.split(',').entries()) {
    const separator = pair.lastIndexOf('=');
    const uri = pair.slice(0, separator).trim();
    const format = pair.slice(separator + 1).trim();
    let valid = false;
    try {
      const url = new URL(uri);
      valid = url.hash === '' && !uri.includes('#') && (url.protocol === 'https:' || url.protocol === 'http:' || url.protocol === 'urn:');
    } catch {
      valid = false;
    }
    if (separator < 0 || !valid) problems.push(`ADMIT_OAUTH_RESOURCES: entry ${index + 1} must be <absolute URI without fragment>=<jwt|opaque>`);
    else if (format !== 'jwt' && format !== 'opaque') problems.push(`ADMIT_OAUTH_RESOURCES: the format of ${uri} must be jwt or opaque`);
    else if (entries.some((e) => e.uri === uri)) problems.push(`ADMIT_OAUTH_RESOURCES: ${uri} is listed twice`);
    else entries.push({ uri, format });
  }
  return entries;
}

export type Config = z.infer<typeof schema> & {
  /** Where the embedded SMTP sink keeps messages (also read by the outbox). */
  mailDir: string;
  /** Where checkpoints are also written, outside the database (ADMIT_EVIDENCE_DIR). */
  evidenceDir: string;
  /** How often the worker writes a checkpoint (ADMIT_EVIDENCE_CHECKPOINT_EVERY). */
  checkpointEveryMs: number;
  publicUrl: string;
  /** The `aud` partners' assertions and workload tokens must carry. */
  anchorAudience: string;
  /** Durations, risk thresholds and expansion policy in force, from the ADMIT_* lifecycle variables. */
  lifecycle: LifecycleSettings;
  /** Parsed ADMIT_GATEWAY_TOKENS, each with its ADMIT_GATEWAY_ENVIRONMENTS. */
  gatewayTokens: GatewayToken[];
  /** Legal-entity and domain verification settings (ADMIT_GLEIF_*, ADMIT_DOMAIN_CHALLENGE_TTL). */
  entity: EntityVerificationSettings;
  /** Admin access to the Keycloak realm when ADMIT_AUTHORIZATION_SERVER=keycloak; otherwise undefined. */
  keycloak: KeycloakAdminConfig | undefined;
  /** ADMIT_CLOCK_SKEW in milliseconds: how far ahead of Admit's clock a gateway's timestamps may be. */
  clockSkewMs: number;
  /** ADMIT_DECISION_CACHE_*: the web's decision cache (maxEntries 0: off). */
  decisionCache: DecisionCacheSettings;
  /** Parsed ADMIT_OAUTH_RESOURCES: the APIs partners' tokens may name as audience. */
  resourceServers: ResourceServerEntry[];
  /** Where the authorization server's mutual-TLS endpoints are reached (ADMIT_OAUTH_MTLS_URL). */
  mtlsUrl: string;
  /** ADMIT_WORKER_HTTP_PORT: the worker's /healthz, /readyz and /metrics port; undefined when `off`. */
  workerHttpPort: number | undefined;
  /** ADMIT_SHUTDOWN_GRACE in milliseconds: how long a SIGTERM lets in-flight activities and requests finish. */
  shutdownGraceMs: number;
};

export interface EntityVerificationSettings {
  gleifUrl: string;
  /** PEM file of extra CAs trusted for the GLEIF URL (a mirror with a private CA). */
  gleifCaFile: string | undefined;
  gleifTimeoutMs: number;
  gleifRetries: number;
  gleifCacheTtlMs: number;
  domainChallengeTtlMs: number;
}

const ENTITY_DURATION_DEFAULTS = {
  ADMIT_GLEIF_TIMEOUT: { key: 'gleifTimeoutMs', ms: 10_000, min: 100, max: 120_000 },
  ADMIT_GLEIF_CACHE_TTL: { key: 'gleifCacheTtlMs', ms: 60 * 60_000, min: 0, max: 7 * 86_400_000 },
  ADMIT_DOMAIN_CHALLENGE_TTL: { key: 'domainChallengeTtlMs', ms: 7 * 86_400_000, min: 60_000, max: 90 * 86_400_000 },
} as const;

function entitySettingsFrom(
  config: { ADMIT_GLEIF_URL: string; ADMIT_GLEIF_CA: string | undefined; ADMIT_GLEIF_RETRIES: number } & Record<
    keyof typeof ENTITY_DURATION_DEFAULTS,
    string | undefined
  >,
  problems: string[],
): EntityVerificationSettings {
  const durations = { gleifTimeoutMs: 0, gleifCacheTtlMs: 0, domainChallengeTtlMs: 0 };
  for (const [variable, { key, ms, min, max }] of Object.entries(ENTITY_DURATION_DEFAULTS)) {
    const raw = config[variable as keyof typeof ENTITY_DURATION_DEFAULTS];
    durations[key] = ms;
    if (raw === undefined) continue;
    try {
      const value = parseDuration(raw);
      if (value < min || value > max)
        problems.push(`${variable}: must be between ${min} ms and ${max} ms (e.g. ${variable === 'ADMIT_GLEIF_TIMEOUT' ? '10s' : '1h'})`);
      else durations[key] = value;
    } catch (error) {
      problems.push(`${variable}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { gleifUrl: config.ADMIT_GLEIF_URL, gleifCaFile: config.ADMIT_GLEIF_CA, gleifRetries: config.ADMIT_GLEIF_RETRIES, ...durations };
}

/** Names of variables whose values must never be printed. */
export const SECRET_VARIABLES = [
  'TEMPORAL_API_KEY',
  'ADMIT_PAYLOAD_KEY',
  'ADMIT_PAYLOAD_KEYS',
  'ADMIT_LINK_SECRET',
  'ADMIT_LINK_SECRETS',
  'ADMIT_GATEWAY_TOKENS',
  'ADMIT_SESSION_SECRET',
  'ADMIT_SESSION_SECRETS',
  'ADMIT_OIDC_CLIENT_SECRET',
  'ADMIT_KEYCLOAK_CLIENT_SECRET',
  'ADMIT_OAUTH_SIGNING_KEY',
  'ADMIT_METRICS_TOKEN',
  'ADMIT_EVIDENCE_KEYS',
  'DATABASE_URL',
  'SMTP_URL',
] as const;

export const CONFIG_VARIABLES = Object.keys(schema.shape);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the configuration, reporting every invalid variable at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const config = parsed.data;
  const problems: string[] = [];
  if (config.NODE_ENV === 'production') {
    // Outside production these are generated once under the data directory; a
    // generated key on one of several production machines would split them.
    // The embedded authorization server's signing key only matters when it issues partners' tokens.
    const required = [
      'ADMIT_PAYLOAD_KEY',
      'ADMIT_LINK_SECRET',
      ...(config.ADMIT_AUTHORIZATION_SERVER === 'embedded' ? (['ADMIT_OAUTH_SIGNING_KEY'] as const) : []),
    ] as const;
    const rings: Partial<Record<string, string | undefined>> = {
      ADMIT_PAYLOAD_KEY: config.ADMIT_PAYLOAD_KEYS,
      ADMIT_LINK_SECRET: config.ADMIT_LINK_SECRETS,
    };
    for (const variable of required) {
      if (config[variable] === undefined && rings[variable] === undefined) {
        problems.push(`${variable}: required in production (openssl rand -base64 32)${variable in rings ? `, or ${variable}S` : ''}`);
      }
    }
  }
  const gatewayTokens = bindGatewayEnvironments(
    config.ADMIT_GATEWAY_ENVIRONMENTS,
    parseGatewayTokens(config.ADMIT_GATEWAY_TOKENS, problems),
    problems,
  );
  let clockSkewMs = 5 * 60_000;
  try {
    clockSkewMs = parseDuration(config.ADMIT_CLOCK_SKEW);
    if (clockSkewMs > 60 * 60_000) problems.push('ADMIT_CLOCK_SKEW: at most 1h (it lets gateways report intervals that have not ended)');
  } catch (error) {
    problems.push(`ADMIT_CLOCK_SKEW: ${error instanceof Error ? error.message : String(error)}`);
  }
  const decisionCache = decisionCacheFrom(config, problems);
  let shutdownGraceMs = 30_000;
  try {
    shutdownGraceMs = parseDuration(config.ADMIT_SHUTDOWN_GRACE);
    if (shutdownGraceMs > 60 * 60_000) problems.push('ADMIT_SHUTDOWN_GRACE: at most 1h');
  } catch (error) {
    problems.push(`ADMIT_SHUTDOWN_GRACE: ${error instanceof Error ? error.message : String(error)}`);
  }
  const lifecycle = lifecycleSettingsFrom(config, problems);
  const entity = entitySettingsFrom(config, problems);
  const keycloak = keycloakFrom(config, problems);
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  const dataDir = path.resolve(config.ADMIT_DATA_DIR);
  const publicUrl = config.ADMIT_PUBLIC_URL ?? `http://localhost:${config.PORT}`;
  const resourceServers = parseResourceServers(config.ADMIT_OAUTH_RESOURCES, publicUrl, problems);
  if ((config.ADMIT_OAUTH_TLS_CERT === undefined) !== (config.ADMIT_OAUTH_TLS_KEY === undefined)) {
    problems.push('ADMIT_OAUTH_TLS_CERT and ADMIT_OAUTH_TLS_KEY: give both (PEM files) or neither (a development CA is generated)');
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return {
    ...config,
    ADMIT_DATA_DIR: dataDir,
    mailDir: path.join(dataDir, 'mail'),
    evidenceDir: path.resolve(config.ADMIT_EVIDENCE_DIR ?? path.join(dataDir, 'evidence', 'checkpoints')),
    checkpointEveryMs: parseDuration(config.ADMIT_EVIDENCE_CHECKPOINT_EVERY),
    publicUrl,
    anchorAudience: config.ADMIT_ANCHOR_AUDIENCE ?? publicUrl,
    lifecycle,
    gatewayTokens,
    entity,
    keycloak,
    clockSkewMs,
    decisionCache,
    resourceServers,
    mtlsUrl: config.ADMIT_OAUTH_MTLS_URL ?? `https://localhost:${config.ADMIT_OAUTH_MTLS_PORT}`,
    workerHttpPort: config.ADMIT_WORKER_HTTP_PORT === 'off' ? undefined : Number(config.ADMIT_WORKER_HTTP_PORT),
    shutdownGraceMs,
  };
}

/** The decision cache's bound and check interval: the check must run more than once within the bound. */
function decisionCacheFrom(config: z.infer<typeof schema>, problems: string[]): DecisionCacheSettings {
  const settings = { ...DEFAULT_DECISION_CACHE_SETTINGS, maxEntries: config.ADMIT_DECISION_CACHE_SIZE };
  const duration = (variable: 'ADMIT_DECISION_CACHE_MAX_STALENESS' | 'ADMIT_DECISION_CACHE_POLL', min: number, max: number): number | undefined => {
    try {
      const ms = parseDuration(config[variable]);
      if (ms >= min && ms <= max) return ms;
      problems.push(`${variable}: must be between ${min} ms and ${max / 1000} s`);
    } catch (error) {
      problems.push(`${variable}: ${error instanceof Error ? error.message : String(error)}`);
    }
    return undefined;
  };
  const maxStalenessMs = duration('ADMIT_DECISION_CACHE_MAX_STALENESS', 100, 60_000);
  const pollIntervalMs = duration('ADMIT_DECISION_CACHE_POLL', 10, 30_000);
  if (maxStalenessMs !== undefined && pollIntervalMs !== undefined) {
    if (pollIntervalMs * 2 > maxStalenessMs) {
      problems.push(
        `ADMIT_DECISION_CACHE_POLL (${pollIntervalMs} ms) must be at most half of ADMIT_DECISION_CACHE_MAX_STALENESS (${maxStalenessMs} ms), so one failed check does not stop the cache`,
      );
    } else {
      settings.maxStalenessMs = maxStalenessMs;
      settings.pollIntervalMs = pollIntervalMs;
    }
  }
  return settings;
}

const KEYCLOAK_REALM = /^[A-Za-z0-9._-]{1,255}$/;

/** With ADMIT_AUTHORIZATION_SERVER=keycloak, every ADMIT_KEYCLOAK_* variable is required. */
function keycloakFrom(config: z.infer<typeof schema>, problems: string[]): KeycloakAdminConfig | undefined {
  if (config.ADMIT_AUTHORIZATION_SERVER !== 'keycloak') return undefined;
  const required = ['ADMIT_KEYCLOAK_URL', 'ADMIT_KEYCLOAK_REALM', 'ADMIT_KEYCLOAK_CLIENT_ID', 'ADMIT_KEYCLOAK_CLIENT_SECRET'] as const;
  const missing = required.filter((variable) => config[variable] === undefined);
  for (const variable of missing) problems.push(`${variable}: required when ADMIT_AUTHORIZATION_SERVER=keycloak`);
  if (config.ADMIT_KEYCLOAK_REALM !== undefined && !KEYCLOAK_REALM.test(config.ADMIT_KEYCLOAK_REALM)) {
    problems.push('ADMIT_KEYCLOAK_REALM: a realm name (letters, digits, . _ -)');
  }
  if (config.NODE_ENV === 'production' && config.ADMIT_KEYCLOAK_URL?.startsWith('http://') === true) {
    problems.push('ADMIT_KEYCLOAK_URL: must be https:// in production (the admin client secret travels to it)');
  }
  const {
    ADMIT_KEYCLOAK_URL: url,
    ADMIT_KEYCLOAK_REALM: realm,
    ADMIT_KEYCLOAK_CLIENT_ID: clientId,
    ADMIT_KEYCLOAK_CLIENT_SECRET: clientSecret,
  } = config;
  if (url === undefined || realm === undefined || clientId === undefined || clientSecret === undefined) return undefined;
  return { url, realm, clientId, clientSecret };
}

/**
 * The lifecycle settings from their variables over the domain's defaults.
 * Every problem names the variable to fix, including the cross-checks
 * (a reminder must come before its expiry).
 */
function lifecycleSettingsFrom(config: Record<keyof typeof lifecycleShape, string | undefined>, problems: string[]): LifecycleSettings {
  const env: Partial<Record<string, string>> = config;
  const durations = { ...DEFAULT_LIFECYCLE_DURATIONS };
  for (const [variable, setting] of Object.entries(LIFECYCLE_VARIABLES)) {
    const raw = env[variable];
    if (raw === undefined) continue;
    if (setting === 'anchorResubmissionLimit') {
      if (/^\d+$/.test(raw) && Number.isSafeInteger(Number(raw))) durations[setting] = Number(raw);
      else problems.push(`${variable}: ${JSON.stringify(raw)} is not a whole number (e.g. 3)`);
      continue;
    }
    try {
      durations[setting] = parseDuration(raw);
    } catch (error) {
      problems.push(`${variable}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const variableOf = Object.fromEntries(Object.entries(LIFECYCLE_VARIABLES).map(([variable, setting]) => [setting, variable]));
  for (const problem of lifecycleDurationProblems(durations)) {
    problems.push(`${problem.replace(/\b[a-zA-Z]+Ms\b|\banchorResubmissionLimit\b/g, (setting) => variableOf[setting] ?? setting)}`);
  }

  const riskThresholds = { ...DEFAULT_RISK_THRESHOLDS };
  for (const [variable, key] of Object.entries(RISK_THRESHOLD_VARIABLES)) {
    const raw = env[variable];
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || value <= 0)
      problems.push(`${variable}: ${JSON.stringify(raw)} is not a positive number (a risk score, e.g. 10)`);
    else riskThresholds[key] = value;
  }
  if (riskThresholdProblems(riskThresholds).includes('medium must be below high')) {
    problems.push(`ADMIT_RISK_MEDIUM (${riskThresholds.medium}) must be below ADMIT_RISK_HIGH (${riskThresholds.high})`);
  }

  const expansionPolicy: ExpansionPolicy = { ...DEFAULT_EXPANSION_POLICY };
  for (const [variable, key] of Object.entries(EXPANSION_POLICY_VARIABLES)) {
    const raw = env[variable];
    if (raw === undefined) continue;
    const value = Number(raw);
    const valid = key === 'minCalls' ? /^\d+$/.test(raw) && Number.isSafeInteger(value) : /^\d+(\.\d+)?$/.test(raw) && value <= 1;
    if (!valid) {
      problems.push(
        `${variable}: ${JSON.stringify(raw)} is not ${key === 'minCalls' ? 'a whole number of calls (e.g. 500)' : 'a fraction of calls between 0 and 1 (e.g. 0.01 for 1%)'}`,
      );
    } else {
      expansionPolicy[key] = value;
    }
  }
  // Defence in depth: the per-variable checks above should make this empty.
  for (const problem of expansionPolicyProblems(expansionPolicy)) problems.push(`expansion policy: ${problem}`);

  return { durations, riskThresholds, expansionPolicy };
}

/** A view of the configuration safe to log: secrets and credentials in URLs are masked. */
export function describeConfig(config: Config): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of CONFIG_VARIABLES) {
    const value = (config as Record<string, unknown>)[name];
    if (value === undefined) continue;
    out[name] = (SECRET_VARIABLES as readonly string[]).includes(name) ? maskSecret(String(value)) : String(value);
  }
  return out;
}

function maskSecret(value: string): string {
  try {
    const url = new URL(value);
    if (url.password !== '') url.password = '***';
    if (url.username !== '') url.username = '***';
    return url.protocol.startsWith('http') || url.protocol.startsWith('post') || url.protocol.startsWith('smtp') ? url.toString() : '***';
  } catch {
    return '***';
  }
}

/**
 * The trust-anchor kinds this deployment can verify: signed assertions always;
 * client certificates with ADMIT_TRUST_STORE, SPIFFE with ADMIT_SPIFFE_BUNDLES,
 * OIDC workload identity with ADMIT_OIDC_WORKLOAD_ISSUERS.
 */
export function configuredAnchorKinds(config: Config): ('x509' | 'jwk' | 'spiffe' | 'oidc')[] {
  const hasIssuers = config.ADMIT_OIDC_WORKLOAD_ISSUERS.length > 0;
  return [
    ...(config.ADMIT_TRUST_STORE === undefined ? [] : (['x509'] as const)),
    'jwk' as const,
    ...(config.ADMIT_SPIFFE_BUNDLES === undefined ? [] : (['spiffe'] as const)),
    ...(hasIssuers ? (['oidc'] as const) : []),
  ];
}

/** Fails with a clear message when a service's address is missing. */
export function required<T>(value: T | undefined, variable: string, hint: string): T {
  if (value === undefined) throw new ConfigError(`${variable} is not set. ${hint}`);
  return value;
}
