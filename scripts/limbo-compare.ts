// Runs every x509-limbo case through Admit (`admit anchor verify`, in process, as the limbo test does)
// and through a second verifier, OpenSSL (`openssl verify -x509_strict -auth_level 2`), and prints the
// agreement of each with the corpus and with each other, and every case where they differ.
//   npx tsx scripts/limbo-compare.ts [path/to/limbo.json]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../cli/admit';

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

const file = process.argv[2] ?? path.resolve(import.meta.dirname, '..', '..', 'shared', 'corpora', 'x509-limbo', 'limbo.json');
const cases = (JSON.parse(readFileSync(file, 'utf8')) as { testcases: LimboCase[] }).testcases;
const root = mkdtempSync(path.join(tmpdir(), 'limbo-compare-'));

function eku(c: LimboCase): 'clientAuth' | 'serverAuth' | 'any' {
  const e = c.extended_key_usage[0];
  if (e === 'serverAuth' || e === 'clientAuth') return e;
  if (c.key_usage.includes('digitalSignature')) return c.validation_kind === 'SERVER' ? 'serverAuth' : 'clientAuth';
  return 'any';
}

async function admit(c: LimboCase, files: Files): Promise<boolean> {
  const args = ['anchor', 'verify', '--kind', 'x509', '--json', '--cert', files.chain, '--trust-store', files.trusted, '--eku', eku(c)];
  files.crls.forEach((f) => args.push('--crl', f));
  if (c.expected_peer_name?.kind === 'DNS') args.push('--dns-name', c.expected_peer_name.value);
  if (c.expected_peer_name?.kind === 'IP') args.push('--ip-address', c.expected_peer_name.value);
  if (c.max_chain_depth !== null) args.push('--max-depth', String(c.max_chain_depth));
  if (c.validation_time) args.push('--at', c.validation_time);
  return (await main(args, { out: () => undefined, err: () => undefined })) === 0;
}

function openssl(c: LimboCase, files: Files): boolean {
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
  try {
    execFileSync('openssl', args, { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
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
  execFileSync('mkdir', ['-p', dir]);
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

const tally = {
  cases: 0,
  admitAgree: 0,
  admitFalseAccept: 0,
  admitFalseReject: 0,
  opensslAgree: 0,
  opensslFalseAccept: 0,
  opensslFalseReject: 0,
  bothAgree: 0,
};
const differences: string[] = [];
for (const [i, c] of cases.entries()) {
  const files = write(c, i);
  const want = c.expected_result === 'SUCCESS';
  const a = await admit(c, files);
  const o = openssl(c, files);
  tally.cases++;
  if (a === want) tally.admitAgree++;
  else if (a) {
    tally.admitFalseAccept++;
    console.error(`admit false accept: ${c.id}`);
  } else tally.admitFalseReject++;
  if (o === want) tally.opensslAgree++;
  else if (o) tally.opensslFalseAccept++;
  else tally.opensslFalseReject++;
  if (a === o) tally.bothAgree++;
  else differences.push(`${c.id}: expected ${c.expected_result}, Admit ${a ? 'accepts' : 'refuses'}, OpenSSL ${o ? 'accepts' : 'refuses'}`);
}

console.log(`| verifier | cases | agree with corpus | false accepts | false rejects |
| --- | --- | --- | --- | --- |
| Admit | ${tally.cases} | ${tally.admitAgree} | ${tally.admitFalseAccept} | ${tally.admitFalseReject} |
| ${execFileSync('openssl', ['version']).toString().trim().split(' ').slice(0, 2).join(' ')} -x509_strict -auth_level 2 | ${tally.cases} | ${tally.opensslAgree} | ${tally.opensslFalseAccept} | ${tally.opensslFalseReject} |

Admit and OpenSSL give the same answer on ${tally.bothAgree} of ${tally.cases} cases. Differences:
${differences.map((d) => `- ${d}`).join('\n')}`);
