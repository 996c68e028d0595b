// `admit evidence …`: the admission dossier (export, offline verify) and checkpoints (docs/evidence.md).
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { JSONWebKeySet } from 'jose';
import { UsageError } from './usage';
import type { Io } from './admit';
import { AUDIENCES, type Audience, type SignedDossier } from '../evidence/dossier-format';
import type { CheckpointFile, PublishedCheckpoint } from '../evidence/checkpoint';

const EXIT = { ok: 0, failed: 1 } as const;

export const EVIDENCE_USAGE = `usage: admit evidence export <applicationId> [--audience full|partner] [--format json|html] [--out FILE]
  writes the signed dossier (JSON, RFC 8785 canonical form signed as a JWS) or its HTML rendering;
  needs DATABASE_URL and the evidence key (ADMIT_EVIDENCE_KEYS, or the development key under ADMIT_DATA_DIR)
usage: admit evidence verify DOSSIER.json [--keys JWKS.json] [--checkpoint CHECKPOINT.json] [--json]
  checks the signature, every chain link, the inclusion proofs and completeness, offline;
  --keys: the keys published at /.well-known/admit-evidence-keys (default: the dossier's own, self-asserted)
  --checkpoint: a checkpoint held elsewhere (ADMIT_EVIDENCE_DIR, /.well-known/admit-evidence-checkpoint)
  exit 0 verified, 1 not verified (each problem named), 2 bad usage
usage: admit evidence checkpoint           writes a signed checkpoint now (database and ADMIT_EVIDENCE_DIR)
usage: admit evidence verify-log --checkpoint FILE [--keys JWKS.json]
  checks every chain in the registry against a checkpoint file held outside the database
`;

async function readJson<T>(file: string, what: string): Promise<T> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (error) {
    throw new UsageError(`${what} ${file}: not a readable JSON file (${(error as Error).message})`);
  }
}

/** Configuration, registry and keyring, loaded only for the commands that need the database. */
async function registryContext() {
  const [{ loadConfig, ConfigError }, { createRegistry }, { evidenceKeyring }] = await Promise.all([
    import('../config/env'),
    import('../registry/client'),
    import('../evidence/keys'),
  ]);
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
  if (config.DATABASE_URL === undefined) throw new UsageError('DATABASE_URL must point at the registry.');
  return { config, registry: createRegistry(config.DATABASE_URL), keyring: await evidenceKeyring(config) };
}

export async function evidenceExport(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { audience: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help === true) {
    io.out(EVIDENCE_USAGE);
    return EXIT.ok;
  }
  const [applicationId, ...extra] = positionals;
  if (applicationId === undefined || extra.length > 0) throw new UsageError(`give one application id\n${EVIDENCE_USAGE}`);
  const audience = (values.audience ?? 'full') as Audience;
  if (!AUDIENCES.includes(audience)) throw new UsageError(`--audience must be full or partner`);
  const format = values.format ?? 'json';
  if (format !== 'json' && format !== 'html') throw new UsageError('--format must be json or html');
  const { config, registry, keyring } = await registryContext();
  try {
    const [{ exportDossier, DossierNotFoundError }, { renderDossierHtml }, { loadControls }] = await Promise.all([
      import('../evidence/dossier'),
      import('../evidence/dossier-html'),
      import('../evidence/controls-hook'),
    ]);
    const controls = await loadControls();
    let signed: SignedDossier;
    try {
      signed = await exportDossier(registry, keyring, applicationId, {
        audience,
        checkpointDir: config.evidenceDir,
        ...(controls === undefined ? {} : { controls }),
      });
    } catch (error) {
      if (error instanceof DossierNotFoundError) {
        io.err(`admit evidence export: ${error.message}\n`);
        return EXIT.failed;
      }
      throw error;
    }
    const text = format === 'html' ? renderDossierHtml(signed) : `${JSON.stringify(signed, null, 2)}\n`;
    if (values.out === undefined) io.out(text);
    else {
      await writeFile(values.out, text);
      io.err(`wrote the ${audience} dossier of ${applicationId} (${format}) to ${values.out}\n`);
    }
    return EXIT.ok;
  } finally {
    await registry.$disconnect();
  }
}

export async function evidenceVerify(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { keys: { type: 'string' }, checkpoint: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help === true) {
    io.out(EVIDENCE_USAGE);
    return EXIT.ok;
  }
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError(`give one dossier file\n${EVIDENCE_USAGE}`);
  const signed = await readJson<SignedDossier>(file, 'dossier');
  const jwks = values.keys === undefined ? undefined : await readJson<JSONWebKeySet>(values.keys, '--keys');
  const checkpoint =
    values.checkpoint === undefined ? undefined : await readJson<PublishedCheckpoint | CheckpointFile>(values.checkpoint, '--checkpoint');
  const { verifyDossier } = await import('../evidence/dossier-verify');
  const result = await verifyDossier(signed, { ...(jwks === undefined ? {} : { jwks }), ...(checkpoint === undefined ? {} : { checkpoint }) });
  if (values.json === true) io.out(`${JSON.stringify(result)}\n`);
  else {
    const events = result.chains.reduce((n, c) => n + c.events, 0);
    if (result.ok) {
      io.out(
        `verified: ${signed.dossier.applicationId} (${signed.dossier.audience}), ${result.chains.length} chains, ${events} events, ` +
          `checkpoint ${result.checkpoint?.seq ?? '?'} root ${result.checkpoint?.rootHash ?? '?'}, key ${result.signatureKid ?? '?'}` +
          `${result.omittedFields > 0 ? `, ${result.omittedFields} fields omitted (committed by digest)` : ''}\n`,
      );
    } else {
      io.out(`NOT VERIFIED: ${result.problems.length} problem(s); the first:\n  ${result.problems[0]?.code}: ${result.problems[0]?.message}\n`);
      for (const p of result.problems.slice(1)) io.out(`  ${p.code}: ${p.message}\n`);
    }
    if (result.keys === 'embedded')
      io.err('note: checked against the keys the dossier carries; pass --keys with the published key set to trust it\n');
  }
  return result.ok ? EXIT.ok : EXIT.failed;
}

export async function evidenceCheckpoint(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { help: { type: 'boolean' } }, strict: true });
  if (values.help === true) {
    io.out(EVIDENCE_USAGE);
    return EXIT.ok;
  }
  const { config, registry, keyring } = await registryContext();
  try {
    const { createCheckpoint } = await import('../evidence/checkpoint');
    const made = await createCheckpoint(registry, keyring, config.evidenceDir);
    io.out(
      `${made.created ? 'wrote' : 'unchanged since'} checkpoint ${made.checkpoint.seq}: ${made.checkpoint.treeSize} chains, root ${made.checkpoint.rootHash}` +
        `${made.file === undefined ? '' : ` (${made.file})`}\n`,
    );
    return EXIT.ok;
  } finally {
    await registry.$disconnect();
  }
}

export async function evidenceVerifyLog(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { checkpoint: { type: 'string' }, keys: { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help === true) {
    io.out(EVIDENCE_USAGE);
    return EXIT.ok;
  }
  if (values.checkpoint === undefined) throw new UsageError(`--checkpoint names a checkpoint file held outside the database\n${EVIDENCE_USAGE}`);
  const held = await readJson<CheckpointFile>(values.checkpoint, '--checkpoint');
  if (!Array.isArray(held.leaves)) throw new UsageError('--checkpoint: a checkpoint file with its leaves (from ADMIT_EVIDENCE_DIR) is needed');
  const jwks = values.keys === undefined ? undefined : await readJson<JSONWebKeySet>(values.keys, '--keys');
  const { registry } = await registryContext();
  try {
    const { verifyLogAgainstCheckpoint } = await import('../evidence/log-check');
    const result = await verifyLogAgainstCheckpoint(registry, held, jwks === undefined ? {} : { jwks });
    if (result.ok) io.out(`the registry holds every event checkpoint ${held.seq} commits to: ${result.chains} chains, ${result.events} events\n`);
    else {
      const b = result.brokenAt;
      io.out(
        `NOT VERIFIED against checkpoint ${held.seq}: chain ${b?.chainId ?? '?'} event ${b?.chainSeq ?? '?'}${b?.seq === undefined ? '' : ` (seq ${b.seq})`}: ${b?.reason}\n`,
      );
    }
    return result.ok ? EXIT.ok : EXIT.failed;
  } finally {
    await registry.$disconnect();
  }
}
