// Runs every x509-limbo case through Admit (`admit anchor verify`, in process, as the limbo test does)
// and through two other verifiers — Go's crypto/x509 (stack/x509-verify-go, built once into
// ~/.cache/admit) and OpenSSL (`openssl verify -x509_strict -auth_level 2`, when installed) — and
// prints each one's agreement with the corpus, the agreement between them, and every case where any
// of them differs from the corpus or from Admit.
//   npm run corpus:compare [-- path/to/limbo.json]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../cli/admit';
import { ensureGoX509Verifier, goVersion } from '../stack/x509-verify-go';

interface LimboCase {
  id: string;
  validation_kind: 'SERVER' | 'CLIENT';
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  validation_time: string | null;
  extended_key_usage: string[];
  key_usage: string[];
  signature_algorithms: string[];
  expected_result: 'SUCCESS' | 'FAILURE';
  expected_peer_name: { kind: string; value: string } | null;
  max_chain_depth: number | null;
  crls: string[];
}

interface Verdict {
  ok: boolean;
  /** The first reason (Admit's code, Go's or OpenSSL's message). */
  why?: string;
}

const file = process.argv[2] ?? path.resolve(import.meta.dirname, '..', '..', 'shared', 'corpora', 'x509-limbo', 'limbo.json');
const cases = (JSON.parse(readFileSync(file, 'utf8')) as { testcases: LimboCase[] }).testcases;
const root = mkdtempSync(path.join(tmpdir(), 'limbo-compare-'));

/** The purpose, as the limbo test passes it to Admit (an empty EKU list is no constraint). */
function eku(c: LimboCase): 'clientAuth' | 'serverAuth' | 'any' {
  const e = c.extended_key_usage[0];
  if (e === 'serverAuth' || e === 'clientAuth') return e;
  if (c.key_usage.includes('digitalSignature')) return c.validation_kind === 'SERVER' ? 'serverAuth' : 'clientAuth';
  return 'any';
}

interface Files {
  chain: string;
  peer: string;
  trusted: string;
  untrusted: string;
  crls: string[];
}

function write(c: LimboCase, i: number): Files {
  const dir = path.join(root, String(i));
  mkdirSync(dir, { recursive: true });
  const put = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  return {
    chain: put('chain.pem', c.peer_certificate + c.untrusted_intermediates.join('')),
    peer: put('peer.pem', c.peer_certificate),
    trusted: put('trusted.pem', c.trusted_certs.join('')),
    untrusted: put('untrusted.pem', c.untrusted_intermediates.join('')),
    crls: c.crls.map((crl, k) => put(`crl-${k}.pem`, crl)),
  };
}

async function admit(c: LimboCase, files: Files): Promise<Verdict> {
  const args = ['anchor', 'verify', '--kind', 'x509', '--json', '--cert', files.chain, '--trust-store', files.trusted, '--eku', eku(c)];
  files.crls.forEach((f) => args.push('--crl', f));
  if (c.expected_peer_name?.kind === 'DNS') args.push('--dns-name', c.expected_peer_name.value);
  if (c.expected_peer_name?.kind === 'IP') args.push('--ip-address', c.expected_peer_name.value);
  if (c.max_chain_depth !== null) args.push('--max-depth', String(c.max_chain_depth));
  if (c.validation_time) args.push('--at', c.validation_time);
  let out = '';
  const code = await main(args, { out: (t) => (out += t), err: () => undefined });
  if (code === 0) return { ok: true };
  let why: string | undefined;
  try {
    why = (JSON.parse(out) as { reasons?: { code: string }[] }).reasons?.[0]?.code;
  } catch {
    why = `exit ${code}`;
  }
  return { ok: false, ...(why ? { why } : {}) };
}

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

function openssl(c: LimboCase, files: Files): Verdict {
  const args = ['verify', '-x509_strict', '-auth_level', '2', '-CAfile', files.trusted];
  if (c.untrusted_intermediates.length > 0) args.push('-untrusted', files.untrusted);
  const purpose = eku(c);
  if (purpose !== 'any') args.push('-purpose', purpose === 'serverAuth' ? 'sslserver' : 'sslclient');
  if (c.expected_peer_name?.kind === 'DNS') args.push('-verify_hostname', c.expected_peer_name.value);
  if (c.expected_peer_name?.kind === 'IP') args.push('-verify_ip', c.expected_peer_name.value);
  if (c.max_chain_depth !== null) args.push('-verify_depth', String(c.max_chain_depth));
  if (c.validation_time) args.push('-attime', String(Math.floor(Date.parse(c.validation_time) / 1000)));
  if (files.crls.length > 0) {
    args.push('-crl_check');
    files.crls.forEach((f) => args.push('-CRLfile', f));
  }
  args.push(files.peer);
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status === 0) return { ok: true };
  const line = `${r.stdout}\n${r.stderr}`.split('\n').find((l) => /error \d+/.test(l));
  return { ok: false, why: line?.replace(/^.*?error \d+ at \d+ depth lookup: ?/, '').trim() ?? 'refused' };
}

/** All cases through the Go verifier at once: one JSON line per case in, one verdict per line out. */
function go(binary: string): Map<string, Verdict> {
  const input = cases
    .map((c) =>
      JSON.stringify({
        id: c.id,
        peer: c.peer_certificate,
        intermediates: c.untrusted_intermediates,
        roots: c.trusted_certs,
        crls: c.crls,
        time: c.validation_time ?? '',
        eku: eku(c),
        dnsName: c.expected_peer_name?.kind === 'DNS' ? c.expected_peer_name.value : '',
        ipAddress: c.expected_peer_name?.kind === 'IP' ? c.expected_peer_name.value : '',
        maxDepth: c.max_chain_depth ?? -1,
      }),
    )
    .join('\n');
  // The program's go.mod says go 1.21 (so older toolchains build it), which would select Go 1.21's
  // defaults; x509negativeserial=0 is the default of Go 1.23 and later (a negative serial is refused).
  const out = execFileSync(binary, {
    input: `${input}\n`,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, GODEBUG: 'x509negativeserial=0' },
  });
  const verdicts = new Map<string, Verdict>();
  for (const line of out.trim().split('\n')) {
    const v = JSON.parse(line) as { id: string; ok: boolean; error?: string };
    verdicts.set(v.id, { ok: v.ok, ...(v.error ? { why: v.error } : {}) });
  }
  return verdicts;
}

type Name = 'Admit' | 'Go' | 'OpenSSL';
const tallies = new Map<Name, { agree: number; falseAccept: number; falseReject: number }>();
const count = (name: Name, want: boolean, v: Verdict) => {
  const t = tallies.get(name) ?? { agree: 0, falseAccept: 0, falseReject: 0 };
  if (v.ok === want) t.agree++;
  else if (v.ok) t.falseAccept++;
  else t.falseReject++;
  tallies.set(name, t);
};

const goVerdicts = go(await ensureGoX509Verifier());
const same: Record<'Go' | 'OpenSSL', number> = { Go: 0, OpenSSL: 0 };
const rows: string[] = [];
try {
  for (const [i, c] of cases.entries()) {
    const files = write(c, i);
    const want = c.expected_result === 'SUCCESS';
    const verdicts: Partial<Record<Name, Verdict>> = { Admit: await admit(c, files), Go: goVerdicts.get(c.id) };
    if (!verdicts.Go) throw new Error(`the Go verifier gave no verdict for ${c.id}`);
    if (hasOpenssl) verdicts.OpenSSL = openssl(c, files);
    for (const [name, v] of Object.entries(verdicts) as [Name, Verdict][]) count(name, want, v);
    const a = verdicts.Admit!;
    for (const other of ['Go', 'OpenSSL'] as const) if (verdicts[other] && verdicts[other].ok === a.ok) same[other]++;
    const differs = Object.values(verdicts).some((v) => v.ok !== want || v.ok !== a.ok);
    if (differs) {
      const cell = (v: Verdict | undefined) =>
        v === undefined ? '–' : v.ok ? 'accepts' : `refuses${v.why ? ` (${v.why.replace(/\|/g, '\\|')})` : ''}`;
      rows.push(`| \`${c.id}\` | ${c.expected_result} | ${cell(verdicts.Admit)} | ${cell(verdicts.Go)} | ${cell(verdicts.OpenSSL)} |`);
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

const label: Record<Name, string> = {
  Admit: 'Admit (`admit anchor verify`)',
  Go: `Go ${(await goVersion()).replace(/^go/, '')} \`crypto/x509\` (stack/x509-verify-go)`,
  OpenSSL: hasOpenssl
    ? `${execFileSync('openssl', ['version']).toString().trim().split(' ').slice(0, 2).join(' ')} \`-x509_strict -auth_level 2\``
    : 'OpenSSL (not installed)',
};
const table = [...tallies].map(([name, t]) => `| ${label[name]} | ${cases.length} | ${t.agree} | ${t.falseAccept} | ${t.falseReject} |`);
console.log(`x509-limbo (${path.basename(file)}), ${cases.length} cases

| verifier | cases | agree with corpus | false accepts | false refusals |
| --- | ---: | ---: | ---: | ---: |
${table.join('\n')}

Admit and Go give the same answer on ${same.Go} of ${cases.length} cases${hasOpenssl ? `; Admit and OpenSSL on ${same.OpenSSL}` : ''}.

Cases where a verifier differs from the corpus or from Admit (${rows.length}):

| case | expected | Admit | Go | OpenSSL |
| --- | --- | --- | --- | --- |
${rows.join('\n')}`);
