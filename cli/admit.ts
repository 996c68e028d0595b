// `admit` command line. Subcommands live in COMMANDS; each gets its remaining arguments and the I/O.
import { open, readFile } from 'node:fs/promises';
import type { JWK } from 'jose';
import { dpopProof, fetchToken } from './token';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import {
  AnchorConfigError,
  AnchorFetchError,
  InMemoryReplayStore,
  createSafeFetcher,
  parseChallenge,
  parseTrustBundle,
  verifyAnchor,
} from '../anchors/index';
import type { AnchorInput, VerificationResult } from '../anchors/index';
import { MAX_MATERIAL_BYTES } from '../anchors/x509';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

export const EXIT = { accepted: 0, refused: 1, usage: 2 } as const;

import { UsageError } from './usage';
import { evidenceExport, evidenceVerify, evidenceCheckpoint, evidenceVerifyLog } from './evidence';

type Command = (args: string[], io: Io) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  'anchor verify': { run: anchorVerify, summary: 'verify a trust anchor (x509, jwk, spiffe, oidc)' },
  'settings apply': { run: settingsApply, summary: "apply the configuration's lifecycle settings to running lifecycles" },
  token: { run: tokenCommand, summary: 'get a DPoP-bound access token with your JWK anchor (private_key_jwt)' },
  dpop: { run: dpopCommand, summary: 'sign a DPoP proof for one API call with your JWK anchor' },
  'evidence export': { run: evidenceExport, summary: "write an application's signed admission dossier (JSON or HTML)" },
  'evidence verify': { run: evidenceVerify, summary: 'verify a dossier offline: signature, chains, inclusion proofs, completeness' },
  'evidence checkpoint': { run: evidenceCheckpoint, summary: 'write a signed checkpoint over every audit chain now' },
  'evidence verify-log': { run: evidenceVerifyLog, summary: "check the registry's audit log against a checkpoint held outside it" },
  'evidence report': { run: evidenceReport, summary: 'a portfolio view for the security team, as a table or CSV' },
};

const TOKEN_USAGE = `usage: admit token --issuer URL --client-id ID --key FILE [--scope "a b"] [--resource URI] [--json]
  --issuer     Admit's public URL (discovery at /.well-known/oauth-authorization-server)
  --key        the anchor's private JWK (JSON file); it signs the client assertion and the DPoP proof
prints the access token (or the whole token response with --json); exit 1 when refused
usage: admit dpop --key FILE --method GET --url URL [--token TOKEN]
prints a DPoP proof for that request (with ath when --token is given)
`;

const TOKEN_OPTIONS = {
  issuer: { type: 'string' },
  'client-id': { type: 'string' },
  key: { type: 'string' },
  scope: { type: 'string' },
  resource: { type: 'string' },
  method: { type: 'string' },
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} satisfies ParseArgsConfig['options'];

type TokenValues = { [K in keyof typeof TOKEN_OPTIONS]?: (typeof TOKEN_OPTIONS)[K] extends { type: 'boolean' } ? boolean : string };

async function readPrivateJwk(file: string | undefined): Promise<JWK> {
  if (file === undefined) throw new UsageError(`missing --key\n${TOKEN_USAGE}`);
  let jwk: unknown;
  try {
    jwk = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--key ${file}: not a readable JSON file (${(error as Error).message})`);
  }
  if (typeof jwk !== 'object' || jwk === null || typeof (jwk as JWK).d !== 'string')
    throw new UsageError(`--key ${file}: not a private JWK (no "d")`);
  return jwk as JWK;
}

async function tokenCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: TOKEN_OPTIONS, strict: true, allowPositionals: false }) as { values: TokenValues };
  if (values.help) {
    io.out(TOKEN_USAGE);
    return EXIT.accepted;
  }
  if (values.issuer === undefined || values['client-id'] === undefined) throw new UsageError(`missing --issuer or --client-id\n${TOKEN_USAGE}`);
  const privateJwk = await readPrivateJwk(values.key);
  const issuer = values.issuer.replace(/\/$/, '');
  const discovery = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
  if (!discovery.ok) throw new UsageError(`${issuer} serves no authorization server metadata (HTTP ${discovery.status})`);
  const metadata = (await discovery.json()) as { issuer?: string; token_endpoint?: string };
  if (metadata.issuer !== issuer || typeof metadata.token_endpoint !== 'string')
    throw new UsageError(`${issuer}: the metadata names another issuer or no token endpoint`);
  try {
    const token = await fetchToken(
      { privateJwk },
      {
        clientId: values['client-id'],
        issuer: metadata.issuer,
        tokenEndpoint: metadata.token_endpoint,
        ...(values.scope === undefined ? {} : { scope: values.scope }),
        ...(values.resource === undefined ? {} : { resource: values.resource }),
      },
    );
    io.out(values.json ? `${JSON.stringify(token)}\n` : `${token.access_token}\n`);
    return EXIT.accepted;
  } catch (error) {
    io.err(`admit token: refused: ${(error as Error).message}\n`);
    return EXIT.refused;
  }
}

async function dpopCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: TOKEN_OPTIONS, strict: true, allowPositionals: false }) as { values: TokenValues };
  if (values.help) {
    io.out(TOKEN_USAGE);
    return EXIT.accepted;
  }
  if (values.method === undefined || values.url === undefined) throw new UsageError(`missing --method or --url\n${TOKEN_USAGE}`);
  const privateJwk = await readPrivateJwk(values.key);
  io.out(
    `${await dpopProof({ privateJwk }, values.method.toUpperCase(), values.url, values.token === undefined ? {} : { accessToken: values.token })}\n`,
  );
  return EXIT.accepted;
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const name = Object.keys(COMMANDS).find((c) => argv.slice(0, c.split(' ').length).join(' ') === c);
  if (!name) {
    io.err(
      `usage: admit <command>\n${Object.entries(COMMANDS)
        .map(([c, { summary }]) => `  admit ${c}  ${summary}`)
        .join('\n')}\n`,
    );
    return EXIT.usage;
  }
  try {
    return await COMMANDS[name]!.run(argv.slice(name.split(' ').length), io);
  } catch (err) {
    if (err instanceof UsageError || err instanceof AnchorConfigError) io.err(`admit ${name}: ${err.message}\n`);
    else if (err instanceof AnchorFetchError) io.err(`admit ${name}: could not complete, try again later (${err.message})\n`);
    else if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) io.err(`admit ${name}: ${err.message}\n`);
    else throw err;
    return EXIT.usage;
  }
}

const VERIFY_OPTIONS = {
  kind: { type: 'string' },
  json: { type: 'boolean' },
  at: { type: 'string' },
  cert: { type: 'string' },
  intermediates: { type: 'string', multiple: true },
  'trust-store': { type: 'string', multiple: true },
  crl: { type: 'string', multiple: true },
  ocsp: { type: 'string', multiple: true },
  eku: { type: 'string' },
  'dns-name': { type: 'string' },
  'ip-address': { type: 'string' },
  'max-depth': { type: 'string' },
  jwk: { type: 'string' },
  jwks: { type: 'string' },
  'jwks-url': { type: 'string' },
  assertion: { type: 'string' },
  challenge: { type: 'string' },
  audience: { type: 'string' },
  'client-id': { type: 'string' },
  bundle: { type: 'string' },
  'spiffe-id': { type: 'string' },
  issuer: { type: 'string' },
  subject: { type: 'string' },
  online: { type: 'boolean' },
  'allow-fetch-host': { type: 'string', multiple: true },
  help: { type: 'boolean' },
} satisfies ParseArgsConfig['options'];

const VERIFY_USAGE = `usage: admit anchor verify --kind x509|jwk|spiffe|oidc [--json] [--at ISO-time] [material...]
  x509:   --cert FILE --trust-store FILE [--intermediates FILE] [--crl FILE]... [--ocsp FILE]...
          [--eku clientAuth|serverAuth|any] [--dns-name NAME] [--ip-address IP] [--max-depth N]
  jwk:    --jwk FILE | --jwks FILE | --jwks-url URL, --assertion FILE --challenge FILE --audience AUD [--client-id ID]
  spiffe: --bundle FILE --spiffe-id ID, and --cert FILE (X.509-SVID) or --assertion FILE --audience AUD (JWT-SVID)
  oidc:   --issuer URL --subject SUB --audience AUD --assertion FILE [--jwks FILE]
  --online fetches CRL distribution points, OCSP responders, JWKS URLs and OIDC discovery (SSRF-guarded).
exit: 0 accepted, 1 refused, 2 bad usage or unreadable input
`;

type Values = {
  [K in keyof typeof VERIFY_OPTIONS]?: (typeof VERIFY_OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof VERIFY_OPTIONS)[K] extends { type: 'boolean' }
      ? boolean
      : string;
};

async function anchorVerify(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: VERIFY_OPTIONS, strict: true, allowPositionals: false }) as { values: Values };
  if (values.help) {
    io.out(VERIFY_USAGE);
    return EXIT.accepted;
  }
  const input = await buildInput(values);
  const result = await verifyAnchor(input);
  io.out(values.json ? `${JSON.stringify(publicView(result))}\n` : describe(result));
  return result.ok ? EXIT.accepted : EXIT.refused;
}

function publicView(r: VerificationResult) {
  return {
    ok: r.ok,
    kind: r.kind,
    fingerprint: r.fingerprint ?? null,
    ...(r.keyFingerprint ? { keyFingerprint: r.keyFingerprint } : {}),
    ...(r.subject ? { subject: r.subject } : {}),
    ...(r.notAfter ? { notAfter: r.notAfter } : {}),
    reasons: r.reasons.map(({ code, message }) => ({ code, message })),
  };
}

function describe(r: VerificationResult): string {
  const lines = [`${r.ok ? 'ACCEPTED' : 'REFUSED'} ${r.kind}${r.fingerprint ? ` ${r.fingerprint}` : ''}`];
  if (r.subject) lines.push(`  subject: ${r.subject}`);
  if (r.notAfter) lines.push(`  valid until: ${r.notAfter}`);
  for (const reason of r.reasons) lines.push(`  ${reason.code}: ${reason.message}`);
  return `${lines.join('\n')}\n`;
}

function need(values: Values, ...names: (keyof Values)[]): void {
  const missing = names.filter((n) => values[n] === undefined);
  if (missing.length > 0) throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(', ')}\n${VERIFY_USAGE}`);
}

async function buildInput(values: Values): Promise<AnchorInput> {
  need(values, 'kind');
  const at = values.at === undefined ? undefined : parseTime(values.at);
  const fetcher = values.online ? createSafeFetcher({ allow: values['allow-fetch-host'] ?? [] }) : undefined;
  const when = at ? { at } : {};
  switch (values.kind) {
    case 'x509': {
      need(values, 'cert', 'trust-store');
      const eku = values.eku ?? 'clientAuth';
      if (eku !== 'clientAuth' && eku !== 'serverAuth' && eku !== 'any') throw new UsageError('--eku must be clientAuth, serverAuth or any');
      const maxDepth = values['max-depth'] === undefined ? undefined : Number(values['max-depth']);
      if (maxDepth !== undefined && !(Number.isInteger(maxDepth) && maxDepth >= 0 && maxDepth <= 255))
        throw new UsageError('--max-depth must be an integer from 0 to 255');
      const expectedName = {
        ...(values['dns-name'] !== undefined ? { dns: values['dns-name'] } : {}),
        ...(values['ip-address'] !== undefined ? { ip: values['ip-address'] } : {}),
      };
      return {
        kind: 'x509',
        chain: await readMaterial(values.cert!),
        intermediates: await readAll(values.intermediates),
        trustStore: await readAll(values['trust-store']),
        crls: await readAll(values.crl),
        ocspResponses: await readAll(values.ocsp),
        eku,
        ...(Object.keys(expectedName).length > 0 ? { expectedName } : {}),
        ...(maxDepth !== undefined ? { maxDepth } : {}),
        ...(fetcher ? { fetcher } : {}),
        ...when,
      };
    }
    case 'jwk': {
      need(values, 'assertion', 'challenge', 'audience');
      const sources = [values.jwk, values.jwks, values['jwks-url']].filter((v) => v !== undefined);
      if (sources.length !== 1) throw new UsageError('give exactly one of --jwk, --jwks, --jwks-url');
      let challenge;
      try {
        challenge = parseChallenge(await readJson(values.challenge!));
      } catch (err) {
        throw new UsageError(`--challenge: ${(err as Error).message}`);
      }
      const common = {
        token: (await readText(values.assertion!)).trim(),
        challenge,
        audience: values.audience!,
        ...(values['client-id'] !== undefined ? { clientId: values['client-id'] } : {}),
        replayStore: new InMemoryReplayStore(),
        ...(at ? { now: at } : {}),
      };
      if (values['jwks-url'] !== undefined) {
        if (!fetcher) throw new UsageError('--jwks-url needs --online');
        return { kind: 'jwk', ...common, jwksUrl: values['jwks-url'], fetcher };
      }
      return { kind: 'jwk', ...common, keys: await readJsonMaterial(values.jwk ?? values.jwks!) };
    }
    case 'spiffe': {
      need(values, 'bundle', 'spiffe-id');
      if ((values.cert === undefined) === (values.assertion === undefined))
        throw new UsageError('give exactly one of --cert (X.509-SVID) or --assertion (JWT-SVID)');
      return {
        kind: 'spiffe',
        bundle: await parseTrustBundle(await readMaterial(values.bundle!)),
        expectedId: values['spiffe-id']!,
        ...(values.cert !== undefined ? { x509Svid: await readMaterial(values.cert) } : {}),
        ...(values.assertion !== undefined ? { jwtSvid: (await readText(values.assertion)).trim() } : {}),
        ...(values.audience !== undefined ? { audience: values.audience } : {}),
        ...when,
      };
    }
    case 'oidc': {
      need(values, 'issuer', 'subject', 'audience', 'assertion');
      if (values.jwks === undefined && !fetcher) throw new UsageError('give --jwks or --online for issuer discovery');
      return {
        kind: 'oidc',
        token: (await readText(values.assertion!)).trim(),
        issuer: values.issuer!,
        subject: values.subject!,
        audience: values.audience!,
        ...(values.jwks !== undefined ? { jwks: await readJsonMaterial(values.jwks) } : {}),
        ...(fetcher ? { fetcher } : {}),
        ...(at ? { now: at } : {}),
      };
    }
    default:
      throw new UsageError('--kind must be x509, jwk, spiffe or oidc');
  }
}

function parseTime(text: string): Date {
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(ms)) throw new UsageError('--at must be an ISO 8601 time such as 2026-01-31T12:00:00Z');
  return new Date(ms);
}

/** Reads at most MAX_MATERIAL_BYTES, refusing larger files before any parsing. */
async function readMaterial(path: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    const buffer = Buffer.alloc(MAX_MATERIAL_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > MAX_MATERIAL_BYTES)
      throw new UsageError(`${path} is larger than ${MAX_MATERIAL_BYTES} bytes; it is not a certificate, key or token`);
    return buffer.subarray(0, length);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  } finally {
    await handle.close();
  }
}

async function readAll(paths: string[] | undefined): Promise<Buffer[]> {
  return Promise.all((paths ?? []).map(readMaterial));
}

async function readText(path: string): Promise<string> {
  return (await readMaterial(path)).toString('utf8');
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readText(path));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${path} is not JSON`);
  }
}

/** Partner key material that is not JSON is a refusal of the material (JWK_INVALID), not a usage error. */
async function readJsonMaterial(path: string): Promise<unknown> {
  const text = await readText(path);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const SETTINGS_USAGE = `usage: admit settings apply --by NAME [--query VISIBILITY-QUERY] [--batch N] [--json]
  Sends the lifecycle settings of this environment's configuration (ADMIT_* durations, risk thresholds,
  expansion policy; TEMPORAL_* for the connection) to every running partner lifecycle, or to those
  the query also selects (e.g. "AdmitTier = 'REGULATED'"), N at a time (default 20). A timer already
  armed keeps its due time; see docs/workflow.md for what a change reaches.
`;

async function settingsApply(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { by: { type: 'string' }, query: { type: 'string' }, batch: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help === true) {
    io.out(SETTINGS_USAGE);
    return EXIT.accepted;
  }
  if (values.by === undefined || values.by.trim() === '')
    throw new UsageError(`--by names who applies the settings (for the evidence).\n${SETTINGS_USAGE}`);
  const batchSize = values.batch === undefined ? 20 : Number(values.batch);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new UsageError('--batch must be a positive whole number.');
  // Loaded only here: `anchor verify` must work without a Temporal configuration.
  const [{ loadConfig, ConfigError }, { connectTemporal, createTemporalClient }, { applySettingsToRunningLifecycles }] = await Promise.all([
    import('../config/env'),
    import('../temporal/connection'),
    import('../operations/apply-settings'),
  ]);
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
  const connection = await connectTemporal(config);
  try {
    const client = await createTemporalClient(config, connection);
    const rollout = await applySettingsToRunningLifecycles(client, {
      settings: config.lifecycle,
      by: values.by.trim(),
      ...(values.query === undefined ? {} : { query: values.query }),
      batchSize,
      onProgress: values.json === true ? undefined : (done) => io.err(`  ${done} lifecycles…\n`),
    });
    if (values.json === true) io.out(`${JSON.stringify(rollout)}\n`);
    else {
      io.out(`applied to ${rollout.applied}, already current ${rollout.unchanged}, refused by ${rollout.refused.length}\n`);
      for (const r of rollout.refused) io.out(`  ${r.workflowId}: ${r.code} ${r.message}\n`);
    }
    return rollout.refused.length === 0 ? EXIT.accepted : EXIT.refused;
  } finally {
    await connection.close();
  }
}

const REPORT_USAGE = `usage: admit evidence report <view> [--days N] [--format table|csv]
  views:
    anchor-expiry            partners whose trust anchor expires within N days (default 30)
    recertification-overdue  STRATEGIC and REGULATED partners overdue for recertification (N > 0: also due within N days)
    no-usage                 partners with no call in N days (default 30)
    broad-grants             grants broader than their tier's minimal template, and any beyond its ceiling
    exceptions               open exceptions: contacts outside the domain, doubtful LEI accepted, LEI under review, unverified
  Reads the registry at DATABASE_URL; links each row to its dossier under ADMIT_PUBLIC_URL. CSV is RFC 4180,
  with a leading apostrophe on cells a spreadsheet would run as a formula.
`;

async function evidenceReport(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { days: { type: 'string' }, format: { type: 'string' }, help: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help === true) {
    io.out(REPORT_USAGE);
    return EXIT.accepted;
  }
  const [{ isPortfolioView, portfolioReport, validDays, VIEW_INFO }, { reportCsv, reportTable }] = await Promise.all([
    import('../evidence/portfolio'),
    import('../evidence/report-format'),
  ]);
  const view = positionals[0];
  if (positionals.length !== 1 || !isPortfolioView(view)) throw new UsageError(`name one view.\n${REPORT_USAGE}`);
  const format = values.format ?? 'table';
  if (format !== 'table' && format !== 'csv') throw new UsageError('--format is table or csv.');
  let days: number | undefined;
  if (values.days !== undefined) {
    if (VIEW_INFO[view].defaultDays === null) throw new UsageError(`${view} takes no --days.`);
    days = /^\d{1,4}$/.test(values.days) ? Number(values.days) : Number.NaN;
    if (!validDays(days)) throw new UsageError('--days is a whole number of days from 0 to 3650.');
  }
  // Loaded only here: `anchor verify` must work without a database.
  const [{ loadConfig, ConfigError }, { createRegistry }] = await Promise.all([import('../config/env'), import('../registry/client')]);
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
  if (config.DATABASE_URL === undefined) throw new UsageError('set DATABASE_URL to the registry database (npm start prints it).');
  const registry = createRegistry(config.DATABASE_URL, { maxConnections: 2 });
  try {
    const report = await portfolioReport(registry, view, {
      now: new Date(),
      ...(days === undefined ? {} : { days }),
      durations: config.lifecycle.durations,
    });
    io.out(format === 'csv' ? reportCsv(report, config.publicUrl) : reportTable(report, config.publicUrl));
    return EXIT.accepted;
  } finally {
    await registry.$disconnect();
  }
}
