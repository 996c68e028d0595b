import { html, type SafeHtml } from '../html';
import { SCOPE_CATALOGUE } from '../../domain/scopes';
import type { FieldError } from '../../domain/signup';
import { CONTACT_ROLES } from '../../domain/contacts';
import type { LifecycleState, Stage } from '../../workflows/messages';
import type { RegistryView } from '../registry-view';
import type { PublicApplicationView } from '../public-view';
import { ROLE_NAMES } from './confirm';
import { choices } from './form';
import { csrfField, errorSummary, layout, notice, type PageContext } from './layout';

export const STAGE_LABELS: Record<Stage, string> = {
  REGISTERING: 'Registering',
  VERIFYING_ENTITY: 'Verifying the organisation',
  AWAITING_CONTACTS: 'Waiting for contacts to confirm',
  AWAITING_ANCHOR: 'Waiting for the trust anchor',
  AWAITING_APPROVAL: 'Waiting for approval',
  ADMITTED: 'Admitted',
  SUSPENDED: 'Suspended',
  OFFBOARDED: 'Offboarded',
  REJECTED: 'Rejected',
  EXPIRED: 'Expired',
};

export function stageBadge(stage: Stage): SafeHtml {
  return html`<span class="badge badge-${stage.toLowerCase()}">${STAGE_LABELS[stage]}</span>`;
}

export function scopeList(scopes: readonly string[]): SafeHtml {
  return scopes.length === 0
    ? html`<p>None.</p>`
    : html`<ul class="scopes">
        ${scopes.map((s) => html`<li><code>${s}</code></li>`)}
      </ul>`;
}

function timeline(state: LifecycleState): SafeHtml {
  return html`<ol class="timeline">
    ${state.transitions.map((t) => html`<li><strong>${STAGE_LABELS[t.stage]}</strong> <time datetime="${t.at}">${t.at}</time>${t.reason ? html` — ${t.reason}` : ''}</li>`)}
  </ol>`;
}

export interface StatusPageInput {
  applicationId: string;
  record: RegistryView | null;
  state: LifecycleState & { status: string };
  /** This browser applied or confirmed for the application: it may ask for more scopes. */
  partner: boolean;
  expansionErrors: readonly FieldError[];
  flash: string | null;
  /** Whether its tokens are issued under the FAPI 2.0 profile (docs/credentials.md); null when not known. */
  tokenProfile?: 'fapi2' | 'non-fapi' | null;
}

export function statusPage(context: PageContext, input: StatusPageInput): SafeHtml {
  const { state, record, applicationId } = input;
  const name = record?.application.name ?? applicationId;
  const grantable = state.grant === null ? [] : SCOPE_CATALOGUE.map((s) => s.scope).filter((s) => !state.grant!.scopes.includes(s));
  return layout(
    context,
    `Status of ${name}`,
    html`<h1>${name}</h1>
      <p class="lede">${record === null ? '' : html`${record.organisation.legalName} · `}<code>${applicationId}</code></p>
      ${input.flash === null ? '' : notice('success', 'Done', input.flash)}
      <section class="card" aria-labelledby="stage-title">
        <h2 id="stage-title">Where it stands</h2>
        <dl class="facts">
          <dt>Stage</dt>
          <dd>${stageBadge(state.stage)}</dd>
          <dt>Waiting for</dt>
          <dd>${state.waitingFor ?? 'Nothing'}</dd>
          <dt>Risk tier</dt>
          <dd>${state.tier} (score ${state.risk.score})</dd>
          ${
            state.outcome === null
              ? ''
              : html`<dt>Outcome</dt>
                  <dd>${state.outcome.stage}: ${state.outcome.reason} (${state.outcome.trigger}, ${state.outcome.at})</dd>`
          }
        </dl>
        <p><a href="/applications/${applicationId}/status">Refresh</a></p>
      </section>
      <section class="card" aria-labelledby="contacts-title">
        <h2 id="contacts-title">Contacts</h2>
        <ul class="checklist">
          ${CONTACT_ROLES.map((role) => {
            const confirmedAt = state.contacts[role]?.confirmedAt ?? null;
            return html`<li class="${confirmedAt === null ? 'todo' : 'done'}">
              ${ROLE_NAMES[role]}:
              ${confirmedAt === null ? 'not confirmed yet' : html`confirmed <time datetime="${confirmedAt}">${confirmedAt}</time>`}
            </li>`;
          })}
        </ul>
        ${state.contactsDeadline === null || state.stage !== 'AWAITING_CONTACTS' ? '' : html`<p>Contacts must confirm by <time datetime="${state.contactsDeadline}">${state.contactsDeadline}</time>.</p>`}
      </section>
      <section class="card" aria-labelledby="anchor-title">
        <h2 id="anchor-title">Trust anchor</h2>
        ${
          state.anchor === null
            ? html`<p>
                Not verified
                yet.${state.stage === 'AWAITING_ANCHOR' ? html` <a href="/applications/${applicationId}/anchor">Prove the trust anchor</a>` : ''}
              </p>`
            : html`<dl class="facts">
                <dt>Kind</dt>
                <dd>${state.anchor.kind}</dd>
                <dt>Fingerprint</dt>
                <dd><code class="wrap">${state.anchor.fingerprint}</code></dd>
                ${
                  state.anchor.subject === null
                    ? ''
                    : html`<dt>Subject</dt>
                        <dd>${state.anchor.subject}</dd>`
                }
                ${
                  state.anchor.notAfter === null
                    ? ''
                    : html`<dt>Valid until</dt>
                        <dd>${state.anchor.notAfter}</dd>`
                }
                <dt>Health</dt>
                <dd>${state.anchor.health}</dd>
                ${
                  input.tokenProfile === undefined || input.tokenProfile === null
                    ? ''
                    : html`<dt>Token profile</dt>
                        <dd>
                          ${
                            input.tokenProfile === 'fapi2'
                              ? 'FAPI 2.0'
                              : 'Not FAPI 2.0: an RS256 key. Tokens are still issued and sender-constrained; rotate to a PS256, ES256 or EdDSA key to conform.'
                          }
                        </dd>`
                }
              </dl>`
        }
      </section>
      <section class="card" aria-labelledby="approval-title">
        <h2 id="approval-title">Approval</h2>
        ${
          state.approval === null
            ? html`<p>
                ${
                  state.tier === 'LOW'
                    ? 'LOW-risk applications are admitted on the pre-approved template.'
                    : state.grant !== null
                      ? 'Approved: the decision is in the history below.'
                      : state.outcome !== null
                        ? 'Closed.'
                        : 'Not started yet.'
                }
              </p>`
            : html`<p>
                ${state.approval.purpose}: ${state.approval.votes.filter((v) => v.decision === 'approve').length} of ${state.approval.required}
                distinct approvals; outcome <strong>${state.approval.outcome}</strong>.
              </p>`
        }
      </section>
      <section class="card" aria-labelledby="grant-title">
        <h2 id="grant-title">Granted access</h2>
        ${
          state.grant === null
            ? html`<p>No scopes granted yet.</p>`
            : html`<dl class="facts">
                  <dt>Client id</dt>
                  <dd><code>${state.grant.clientId}</code></dd>
                  <dt>Granted</dt>
                  <dd><time datetime="${state.grant.grantedAt}">${state.grant.grantedAt}</time></dd>
                  <dt>Credential lifetime</dt>
                  <dd>${Math.round(state.grant.credentialLifetimeSeconds / 60)} minutes</dd>
                  ${
                    state.probationEndsAt === null
                      ? ''
                      : html`<dt>Probation ends</dt>
                          <dd><time datetime="${state.probationEndsAt}">${state.probationEndsAt}</time></dd>`
                  }
                </dl>
                <h3>Scopes</h3>
                ${scopeList(state.grant.scopes)}
                <h3>Conditions</h3>
                <pre class="conditions">${JSON.stringify(state.grant.conditions, null, 2)}</pre>`
        }
      </section>
      <section class="card" aria-labelledby="triggers-title">
        <h2 id="triggers-title">Offboarding triggers armed</h2>
        ${
          state.triggers.length === 0
            ? html`<p>None yet: they are armed at admission.</p>`
            : html`<ul>
                ${state.triggers.map((t) => html`<li><strong>${t.kind}</strong>: ${t.description}${t.dueAt === undefined ? '' : html` (due <time datetime="${t.dueAt}">${t.dueAt}</time>)`}</li>`)}
              </ul>`
        }
      </section>
      ${
        state.expansions.length === 0 && !(input.partner && state.stage === 'ADMITTED')
          ? ''
          : html`<section class="card" aria-labelledby="expansions-title">
              <h2 id="expansions-title">Scope expansions</h2>
              ${
                state.expansions.length === 0
                  ? ''
                  : html`<ul>
                      ${state.expansions.map((e) => html`<li>${e.scopes.join(', ')}: <strong>${e.decision}</strong>${e.reasons.length === 0 ? '' : html` — ${e.reasons.map((r) => r.message).join('; ')}`}</li>`)}
                    </ul>`
              }
              ${
                input.partner && state.stage === 'ADMITTED' && grantable.length > 0
                  ? html`${errorSummary(input.expansionErrors, new Set(['scopes']))}
                      <form method="post" action="/applications/${applicationId}/expansions" class="stack">
                        ${csrfField(context)}
                        ${choices(
                          'checkbox',
                          'scopes',
                          'Ask for more scopes',
                          grantable.map((s) => ({ value: s, label: s })),
                          [],
                          input.expansionErrors,
                          'Usage during probation decides whether these may be granted.',
                        )}
                        <button type="submit">Request these scopes</button>
                      </form>`
                  : ''
              }
            </section>`
      }
      <section aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        ${timeline(state)}
      </section>`,
  );
}

/** The status page for anyone with the id: the stage and what it waits for in general terms, and how to see more. */
export function publicStatusPage(context: PageContext, view: PublicApplicationView): SafeHtml {
  const { stage, waitingFor } = view.workflow;
  return layout(
    context,
    'Application status',
    html`<h1>Application status</h1>
      <section class="card" aria-labelledby="public-status">
        <h2 id="public-status">Where it stands</h2>
        <p>${stage === null ? view.workflow.status.toLowerCase() : stageBadge(stage)}</p>
        ${waitingFor === null ? '' : html`<p>Waiting for ${waitingFor}.</p>`}
        <p>
          The details (contacts, trust anchor, approvals, scopes, history) are shown to the application’s contacts, in the browser in which they
          confirmed, and to signed-in approvers.
        </p>
      </section>`,
  );
}
