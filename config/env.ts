import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { LifecycleSettings } from '../activities/contract';
import {
  DEFAULT_LIFECYCLE_DURATIONS,
  lifecycleDurationProblems,
  parseDuration,
  type LifecycleSetting,
} from '../domain/durations';
import { DEFAULT_EXPANSION_POLICY, expansionPolicyProblems, type ExpansionPolicy } from '../domain/expansion';
import { DEFAULT_RISK_THRESHOLDS, riskThresholdProblems } from '../domain/risk';

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
      problems.push(`ADMIT_GATEWAY_TOKENS: the token of gateway ${name} must be at least ${MIN_GATEWAY_TOKEN_CHARS} characters (openssl rand -base64 32)`);
    } else if (tokens.some((t) => t.name === name)) {
      problems.push(`ADMIT_GATEWAY_TOKENS: gateway ${name} is listed twice`);
    } else {
      tokens.push({ name, token });
    }
  }
  return tokens;
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
    .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s !== '')),
  ADMIT_ANCHOR_AUDIENCE: z.string().optional(),
  ADMIT_X509_REQUIRE_DOMAIN: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  ADMIT_FETCH_ALLOW: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s !== '')),

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
  ADMIT_GATEWAY_TOKENS: optionalText,

  // Approver sign-in and browser sessions (web/).
  ADMIT_SESSION_SECRET: z
    .string()
    .optional()
    .refine((v) => v === undefined || (/^[A-Za-z0-9+/]+={0,2}$/.test(v.trim()) && Buffer.from(v, 'base64').length >= 32), {
      message: 'must be at least 32 random bytes, base64-encoded (openssl rand -base64 32)',
    }),
  ADMIT_OIDC_ISSUER: optionalUrl(['https', 'http']),
  ADMIT_OIDC_CLIENT_ID: z.string().trim().min(1).default('admit-console'),
  ADMIT_OIDC_CLIENT_SECRET: optionalText,
  ADMIT_OIDC_ROLES_CLAIM: z.string().trim().min(1).default('roles'),
  ADMIT_TRUST_PROXY: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s !== '')),

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
  ADMIT_OAUTH_ASSERTION_MAX_AGE: z.coerce.number().int().min(5).max(600).default(60),

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
  publicUrl: string;
  /** The `aud` partners' assertions and workload tokens must carry. */
  anchorAudience: string;
  /** Durations, risk thresholds and expansion policy in force, from the ADMIT_* lifecycle variables. */
  lifecycle: LifecycleSettings;
  /** Parsed ADMIT_GATEWAY_TOKENS. */
  gatewayTokens: GatewayToken[];
  /** Parsed ADMIT_OAUTH_RESOURCES: the APIs partners' tokens may name as audience. */
  resourceServers: ResourceServerEntry[];
  /** Where the authorization server's mutual-TLS endpoints are reached (ADMIT_OAUTH_MTLS_URL). */
  mtlsUrl: string;
};

/** Names of variables whose values must never be printed. */
export const SECRET_VARIABLES = [
  'TEMPORAL_API_KEY',
  'ADMIT_PAYLOAD_KEY',
  'ADMIT_LINK_SECRET',
  'ADMIT_GATEWAY_TOKENS',
  'ADMIT_SESSION_SECRET',
  'ADMIT_OIDC_CLIENT_SECRET',
  'ADMIT_OAUTH_SIGNING_KEY',
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
    for (const variable of ['ADMIT_PAYLOAD_KEY', 'ADMIT_LINK_SECRET', 'ADMIT_OAUTH_SIGNING_KEY'] as const) {
      if (config[variable] === undefined) problems.push(`${variable}: required in production (openssl rand -base64 32)`);
    }
  }
  const gatewayTokens = parseGatewayTokens(config.ADMIT_GATEWAY_TOKENS, problems);
  const lifecycle = lifecycleSettingsFrom(config, problems);
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
    publicUrl,
    anchorAudience: config.ADMIT_ANCHOR_AUDIENCE ?? publicUrl,
    lifecycle,
    gatewayTokens,
    resourceServers,
    mtlsUrl: config.ADMIT_OAUTH_MTLS_URL ?? `https://localhost:${config.ADMIT_OAUTH_MTLS_PORT}`,
  };
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
    if (!/^\d+(\.\d+)?$/.test(raw) || value <= 0) problems.push(`${variable}: ${JSON.stringify(raw)} is not a positive number (a risk score, e.g. 10)`);
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
    return url.protocol.startsWith('http') || url.protocol.startsWith('post') || url.protocol.startsWith('smtp')
      ? url.toString()
      : '***';
  } catch {
    return '***';
  }
}

/** Fails with a clear message when a service's address is missing. */
export function required<T>(value: T | undefined, variable: string, hint: string): T {
  if (value === undefined) throw new ConfigError(`${variable} is not set. ${hint}`);
  return value;
}
