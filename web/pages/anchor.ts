import { html, type SafeHtml } from '../html';
import type { AnchorKind } from '../../domain/risk';
import type { FieldError } from '../../domain/signup';
import type { AnchorAttempt, LifecycleState } from '../../workflows/messages';
import { formText, textArea, textInput, type FormValues } from './form';
import { csrfField, errorSummary, layout, notice, type PageContext } from './layout';

export const ANCHOR_KIND_LABELS: Record<AnchorKind, string> = {
  x509: 'X.509 client certificate',
  jwk: 'Signed assertion (JWK or JWKS)',
  spiffe: 'SPIFFE workload identity',
  oidc: 'OIDC workload identity federation',
};

export const ANCHOR_FIELDS: ReadonlySet<string> = new Set([
  'x509.certificateChainPem',
  'jwk.jwks',
  'jwk.jwksUrl',
  'jwk.assertion',
  'spiffe.spiffeId',
  'spiffe.svidPem',
  'spiffe.jwtSvid',
  'oidc.issuer',
  'oidc.subject',
  'oidc.token',
]);

function attemptList(attempts: readonly AnchorAttempt[]): SafeHtml {
  if (attempts.length === 0) return html``;
  return html`<section aria-labelledby="attempts-title">
    <h2 id="attempts-title">Earlier attempts</h2>
    <ol class="attempts" reversed>
      ${[...attempts].reverse().map(
        (attempt) =>
          html`<li>
            <p><strong>${ANCHOR_KIND_LABELS[attempt.kind]}</strong>, ${attempt.at}: ${attempt.ok ? 'verified' : 'refused'}</p>
            ${
              attempt.reasons.length === 0
                ? ''
                : html`<ul>
                    ${attempt.reasons.map((r) => html`<li><code>${r.code}</code> ${r.message}</li>`)}
                  </ul>`
            }
          </li>`,
      )}
    </ol>
  </section>`;
}

function fileInput(field: string, label: string, hint: string): SafeHtml {
  const id = `file-${field.replace(/\./g, '-')}`;
  return html`<div class="field">
    <label for="${id}">${label}</label>
    <p class="hint" id="${id}-hint">${hint}</p>
    <input type="file" id="${id}" name="${field}File" aria-describedby="${id}-hint" />
  </div>`;
}

export interface AnchorPageInput {
  applicationId: string;
  applicationName: string;
  state: LifecycleState;
  allowedKinds: readonly AnchorKind[];
  values: FormValues;
  errors: readonly FieldError[];
  /** The verifier's answer to the last submission, shown at the top. */
  result: AnchorAttempt | null;
  statusPath: string;
}

export function anchorPage(context: PageContext, input: AnchorPageInput): SafeHtml {
  const { state, values, errors, applicationId } = input;
  const v = (name: string) => formText(values, name);
  const base = `/applications/${applicationId}/anchor`;
  const waiting = state.stage === 'AWAITING_ANCHOR';
  const challenge = state.challenge;

  const sections: Record<AnchorKind, SafeHtml> = {
    x509: html`<section class="card" aria-labelledby="kind-x509">
      <h2 id="kind-x509">${ANCHOR_KIND_LABELS.x509}</h2>
      <p>
        Upload the client certificate chain in PEM: the application’s certificate first, then any intermediates. It must chain to a certificate
        authority Admit trusts, allow client authentication, and name your primary domain.
      </p>
      <form method="post" action="${base}" enctype="multipart/form-data" class="stack">
        ${csrfField(context)}<input type="hidden" name="kind" value="x509" />
        ${fileInput('x509.certificateChainPem', 'Certificate chain file (.pem)', 'Or paste it below.')}
        ${textArea('x509.certificateChainPem', 'Certificate chain (PEM)', v('x509.certificateChainPem'), errors, { rows: 8, monospace: true })}
        <button type="submit">Submit certificate chain</button>
      </form>
    </section>`,
    jwk: html`<section class="card" aria-labelledby="kind-jwk">
      <h2 id="kind-jwk">${ANCHOR_KIND_LABELS.jwk}</h2>
      <ol class="steps">
        <li>
          <h3>Get a challenge</h3>
          ${
            challenge === null
              ? html`<p>Admit issues a one-time challenge for you to sign.</p>`
              : html`<dl class="facts">
                    <dt>Nonce</dt>
                    <dd><code>${challenge.nonce}</code></dd>
                    <dt>Audience</dt>
                    <dd><code>${challenge.audience}</code></dd>
                    <dt>Expires</dt>
                    <dd>${challenge.expiresAt}</dd>
                  </dl>
                  <p><a href="${base}/challenge.json" download>Download the challenge (JSON)</a></p>`
          }
          <form method="post" action="${base}/challenge">
            ${csrfField(context)}
            <button type="submit" class="secondary">${challenge === null ? 'Get a challenge' : 'Get a new challenge'}</button>
          </form>
        </li>
        <li>
          <h3>Sign it</h3>
          <p>
            Sign a JWT with your private key (ES256, ES384, EdDSA, PS256 or RS256; no embedded keys) with claims <code>iss</code> and
            <code>sub</code> both your application id <code>${applicationId}</code>, <code>aud</code> the challenge’s audience, <code>nonce</code> the
            challenge’s nonce, a fresh <code>jti</code>, <code>iat</code>, and <code>exp</code> at most ten minutes later.
          </p>
        </li>
        <li>
          <h3>Submit your public keys and the signed assertion</h3>
          <form method="post" action="${base}" enctype="multipart/form-data" class="stack">
            ${csrfField(context)}<input type="hidden" name="kind" value="jwk" />
            ${textInput('jwk.jwksUrl', 'JWKS URL', v('jwk.jwksUrl'), errors, { type: 'url', hint: 'An https:// URL where your public keys are published. Or give the keys inline below.' })}
            ${fileInput('jwk.jwks', 'Public JWK or JWKS file (.json)', 'Or paste it below.')}
            ${textArea('jwk.jwks', 'Public JWK or JWKS (JSON)', v('jwk.jwks'), errors, { rows: 5, monospace: true })}
            ${fileInput('jwk.assertion', 'Signed assertion file', 'Or paste it below.')}
            ${textArea('jwk.assertion', 'Signed assertion (compact JWT)', v('jwk.assertion'), errors, { rows: 4, monospace: true })}
            <button type="submit">Submit proof of possession</button>
          </form>
        </li>
      </ol>
    </section>`,
    spiffe: html`<section class="card" aria-labelledby="kind-spiffe">
      <h2 id="kind-spiffe">${ANCHOR_KIND_LABELS.spiffe}</h2>
      <form method="post" action="${base}" enctype="multipart/form-data" class="stack">
        ${csrfField(context)}<input type="hidden" name="kind" value="spiffe" />
        ${textInput('spiffe.spiffeId', 'SPIFFE ID', v('spiffe.spiffeId'), errors, { hint: 'For example spiffe://example.com/payments/api.' })}
        ${fileInput('spiffe.svidPem', 'X.509-SVID file (.pem)', 'Or paste it below, or give a JWT-SVID instead.')}
        ${textArea('spiffe.svidPem', 'X.509-SVID (PEM)', v('spiffe.svidPem'), errors, { rows: 6, monospace: true })}
        ${textArea('spiffe.jwtSvid', 'JWT-SVID', v('spiffe.jwtSvid'), errors, { rows: 3, monospace: true })}
        <button type="submit">Submit SVID</button>
      </form>
    </section>`,
    oidc: html`<section class="card" aria-labelledby="kind-oidc">
      <h2 id="kind-oidc">${ANCHOR_KIND_LABELS.oidc}</h2>
      <form method="post" action="${base}" enctype="multipart/form-data" class="stack">
        ${csrfField(context)}<input type="hidden" name="kind" value="oidc" />
        ${textInput('oidc.issuer', 'Workload issuer', v('oidc.issuer'), errors, { type: 'url', hint: 'The https:// issuer of your workload identity tokens.' })}
        ${textInput('oidc.subject', 'Subject', v('oidc.subject'), errors, { hint: 'The sub claim your workload’s tokens carry.' })}
        ${textArea('oidc.token', 'ID token', v('oidc.token'), errors, { rows: 4, monospace: true, hint: 'A current token from that issuer for that subject, with Admit as its audience.' })}
        <button type="submit">Submit workload identity</button>
      </form>
    </section>`,
  };

  return layout(
    context,
    errors.length > 0 ? 'Error: Prove your trust anchor' : 'Prove your trust anchor',
    html`<h1>Prove the trust anchor for ${input.applicationName}</h1>
      <p class="lede">
        The trust anchor is how Admit will recognise your application: its credentials will be bound to it. One anchor belongs to exactly one
        application.
      </p>
      ${
        input.result === null
          ? ''
          : input.result.ok
            ? notice('success', 'Trust anchor verified', 'The anchor is bound to this application. See the status page for what happens next.')
            : html`<div class="notice notice-error" role="alert">
                <h2>The verifier refused this anchor</h2>
                <ul>
                  ${input.result.reasons.map((r) => html`<li><code>${r.code}</code> ${r.message}</li>`)}
                </ul>
              </div>`
      }
      ${errorSummary(errors, ANCHOR_FIELDS)}
      ${
        waiting
          ? html`<p>
                Your application is in the <strong>${state.tier}</strong> risk tier, which accepts:
                ${input.allowedKinds.map((k) => ANCHOR_KIND_LABELS[k]).join('; ')}.
              </p>
              ${input.allowedKinds.map((kind) => sections[kind])}`
          : notice(
              'warning',
              'No trust anchor is awaited now',
              state.waitingFor === null
                ? 'The application is not waiting for a trust anchor.'
                : `The application is waiting for ${state.waitingFor}.`,
            )
      }
      ${attemptList(state.anchorAttempts)}
      <p><a href="${input.statusPath}">See the application’s status</a></p>`,
  );
}
