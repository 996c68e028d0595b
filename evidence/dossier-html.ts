import { html, type SafeHtml } from '../web/html';
import type { DossierChain, SignedDossier } from './dossier-format';

/**
 * The human-readable rendering of a signed dossier: the same document, every
 * value escaped (web/html.ts), nothing executable. The JSON stays the
 * evidence; this page says so and carries the signature to check it.
 */

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1f24}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccd}h3{font-size:1rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #dde;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#f3f4f8;font-weight:600}code,.mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
.omitted{color:#8a4b00;font-style:italic}.note{color:#555}`;

function value(v: unknown): SafeHtml {
  if (v === null || v === undefined) return html`<span class="note">—</span>`;
  if (typeof v === 'object' && !Array.isArray(v) && (v as { omitted?: unknown }).omitted === true) {
    return html`<span class="omitted">omitted (digest <code>${String((v as { digest?: unknown }).digest ?? '')}</code>)</span>`;
  }
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x !== 'object' || x === null)) return html`${v.map(String).join(', ')}`;
    return table(v);
  }
  if (typeof v === 'object') {
    return html`<table>
      ${Object.entries(v as Record<string, unknown>).map(
        ([k, x]) =>
          html`<tr>
            <th>${k}</th>
            <td>${value(x)}</td>
          </tr>`,
      )}
    </table>`;
  }
  return html`${String(v)}`;
}

function table(rows: unknown[]): SafeHtml {
  if (rows.length === 0) return html`<p class="note">None.</p>`;
  const objects = rows.filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null && !Array.isArray(r));
  const columns = [...new Set(objects.flatMap((r) => Object.keys(r)))];
  return html`<table>
    <tr>
      ${columns.map((c) => html`<th>${c}</th>`)}
    </tr>
    ${objects.map(
      (r) =>
        html`<tr>
          ${columns.map((c) => html`<td>${value(r[c])}</td>`)}
        </tr>`,
    )}
  </table>`;
}

function chainTable(chain: DossierChain): SafeHtml {
  return html`<h3>
      ${chain.kind} chain <code>${chain.chainId}</code>${chain.partial === true ? ' (legacy segment: this partner’s events only)' : ''}
    </h3>
    <p>
      Committed by the checkpoint at ${chain.leaf.size} events, head <code>${chain.leaf.head}</code>; inclusion proof: leaf
      ${chain.inclusionProof.leafIndex} of ${chain.inclusionProof.treeSize}, ${chain.inclusionProof.path.length} sibling hashes.
    </p>
    <table>
      <tr>
        <th>#</th>
        <th>when</th>
        <th>type</th>
        <th>actor</th>
        <th>data</th>
        <th>hash (previous)</th>
      </tr>
      ${chain.events.map(
        (e) =>
          html`<tr>
            <td>${e.chainSeq ?? e.seq}</td>
            <td>${e.occurredAt}</td>
            <td>${e.type}</td>
            <td>${e.actor === undefined ? html`<span class="omitted">omitted</span>` : e.actor}</td>
            <td>${value(e.data)}${e.omitted === undefined ? '' : html`<div class="omitted">omitted: ${Object.keys(e.omitted).join(', ')}</div>`}</td>
            <td class="mono">${e.hash}<br /><span class="note">${e.prevHash}</span></td>
          </tr>`,
      )}
    </table>`;
}

const TITLES: Record<string, string> = {
  entityVerification: 'Legal entity and domain verification',
  contactConfirmations: 'Contact confirmations',
  anchors: 'Trust anchors and their verifications',
  risk: 'Risk score and reasons',
  votes: 'Votes',
  twoPersonRule: 'The two-person rule as applied',
  approvals: 'Decisions',
  grants: 'Grants and their conditions',
  expansions: 'Expansions and the usage they were decided on',
  triggers: 'Armed triggers',
  suspensionsAndRevocations: 'Suspensions and revocations',
  credentials: 'Client credentials and their bindings',
  transitions: 'Lifecycle stages',
};

export function renderDossierHtml(signed: SignedDossier): string {
  const d = signed.dossier;
  const app = d.record.application as Record<string, unknown>;
  const page = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'" />
        <title>Admission dossier: ${d.applicationId}</title>
        <style>
          ${STYLE}
        </style>
      </head>
      <body>
        <h1>Admission dossier: ${String(app.name ?? d.applicationId)}</h1>
        <p>
          Application <code>${d.applicationId}</code>, audience <strong>${d.audience}</strong>, generated ${d.generatedAt}. This page renders the
          signed JSON dossier; the JSON is the evidence: check it with <code>npx admit evidence verify dossier.json --keys jwks.json</code>.
        </p>
        <p>
          Checkpoint ${d.checkpoint.seq} of ${d.checkpoint.createdAt}: ${d.checkpoint.treeSize} chains, root <code>${d.checkpoint.rootHash}</code>,
          key <code>${d.checkpoint.kid}</code>.
        </p>
        ${
          d.audience === 'partner'
            ? html`<p class="omitted">
                The partner’s copy leaves out approvers’ names and comments and other people’s contact details. Each omission shows the salted digest
                it was committed to, so the document still verifies.
              </p>`
            : ''
        }
        <h2>Registry record</h2>
        ${value(d.record)}
        ${Object.entries(d.sections).map(
          ([key, section]) =>
            html`<h2>${TITLES[key] ?? key}</h2>
              ${value(section)}`,
        )}
        <h2>Controls</h2>
        ${d.controls === null ? html`<p class="note">The control mapping is not installed in this deployment.</p>` : value(d.controls)}
        <h2>Events and their hashes</h2>
        ${d.chains.map(chainTable)}
        <h2>Signature</h2>
        <p class="mono">${signed.signature.protected}..${signed.signature.signature}</p>
      </body>
    </html> `;
  return page.toString();
}
