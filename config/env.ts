import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

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
});

export type Config = z.infer<typeof schema> & {
  /** Where the embedded SMTP sink keeps messages (also read by the outbox). */
  mailDir: string;
  publicUrl: string;
  /** The `aud` partners' assertions and workload tokens must carry. */
  anchorAudience: string;
};

/** Names of variables whose values must never be printed. */
export const SECRET_VARIABLES = ['TEMPORAL_API_KEY', 'ADMIT_PAYLOAD_KEY', 'DATABASE_URL', 'SMTP_URL'] as const;

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
  if (config.NODE_ENV === 'production' && config.ADMIT_PAYLOAD_KEY === undefined) {
    throw new ConfigError('Invalid configuration:\n  ADMIT_PAYLOAD_KEY: required in production (openssl rand -base64 32)');
  }
  const dataDir = path.resolve(config.ADMIT_DATA_DIR);
  const publicUrl = config.ADMIT_PUBLIC_URL ?? `http://localhost:${config.PORT}`;
  return {
    ...config,
    ADMIT_DATA_DIR: dataDir,
    mailDir: path.join(dataDir, 'mail'),
    publicUrl,
    anchorAudience: config.ADMIT_ANCHOR_AUDIENCE ?? publicUrl,
  };
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
