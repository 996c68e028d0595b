import { html, type SafeHtml } from '../html';
import { minimalGrant, tierTemplate } from '../../domain/scopes';
import type { FieldError } from '../../domain/signup';
import { CONTACT_ROLES } from '../../domain/contacts';
import type { Actor, LifecycleState } from '../../workflows/messages';
import type { RegistryView } from '../registry-view';
import { ROLE_NAMES } from './confirm';
import { choices, textArea } from './form';
import { csrfField, errorSummary, layout, notice, type PageContext } from './layout';
import { scopeList, stageBadge } from './status';

export interface QueueEntry {
  applicationId: string;
  name: string;
  organisation: string;
  state: LifecycleState;
}

export function consoleQueuePage(context: PageContext, actor: Actor, waiting: readonly QueueEntry[], admitted: readonly QueueEntry[]): SafeHtml {
  const row = (entry: QueueEntry) =>
    html`<tr>
      <td><a href="/console/applications/${entry.applicationId}">${entry.name}</a><br /><span class="hint">${entry.organisation}</span></td>
      <td>${entry.state.tier}</td>
      <td>${stageBadge(entry.state.stage)}</td>
      <td>
        ${entry.state.approval === null ? '—' : html`${entry.state.approval.purpose}: ${entry.state.approval.votes.filter((v) => v.decision === 'approve').length} of ${entry.state.approval.required}`}
      </td>
    </tr>`;
  const table = (caption: string, entries: readonly QueueEntry[], empty: string) =>
    entries.length === 0
      ? html`<p>${empty}</p>`
      : html`<table>
          <caption>
            ${caption}
          </caption>
          <thead>
            <tr>
              <th scope="col">Application</th>
              <th scope="col">Tier</th>
              <th scope="col">Stage</th>
              <th scope="col">Approvals</th>
            </tr>
          </thead>
          <tbody>
            ${entries.map(row)}
          </tbody>
        </table>`;
  return layout(
    context,
    'Approver console',
    html`<h1>Approver console</h1>
      <p class="lede">Signed in as ${actor.name} (${actor.email}); roles: ${actor.roles.join(', ') || 'none'}.</p>
      <p><a href="/console/portfolio">Portfolio views</a>: expiring anchors, recertification, unused access, broad grants, open exceptions.</p>
      <section aria-labelledby="queue-title">
        <h2 id="queue-title">Waiting for a decision</h2>
        ${table('Applications waiting for a decision', waiting, 'Nothing is waiting for a decision.')}
      </section>
      <section aria-labelledby="admitted-title">
        <h2 id="admitted-title">Admitted partners</h2>
        ${table('Admitted and suspended partners', admitted, 'No partners are admitted yet.')}
      </section>`,
  );
}

export interface ConsoleApplicationInput {
  applicationId: string;
  record: RegistryView | null;
  state: LifecycleState & { status: string };
  actor: Actor;
  errors: readonly FieldError[];
  /** A refusal from the workflow (its message), or a confirmation of what was done. */
  outcome: { kind: 'success' | 'error'; title: string; detail: string } | null;
}

export const VOTE_FIELDS: ReadonlySet<string> = new Set(['decision', 'comment', 'reason', 'detail']);

/** Other parties' signups for this application id while this claim holds it. */
function competingSignups(state: LifecycleState): SafeHtml {
  const signups = state.competingSignups ?? [];
  if (signups.length === 0) return html``;
  return html`<h3>Competing signups (${signups.length})</h3>
    <p>Other parties signed up for this application while this claim holds it. They changed nothing; weigh them when you decide.</p>
    <ul>
      ${signups.map(
        (c) =>
          html`<li>
            <time datetime="${c.at}">${c.at}</time>: ${c.requestedBy} for ${c.organisation.legalName} (${c.organisation.primaryDomain},
            ${c.organisation.jurisdiction}); contacts ${c.contacts.join(', ')}
          </li>`,
      )}
    </ul>`;
}

/** What was verified about the organisation, and what is left for the approver to judge. */
function entitySection(state: LifecycleState): SafeHtml {
  const entity = state.entity;
  if (entity === undefined || entity === null) return html``;
  const lei = entity.lei;
  const record = lei?.record ?? null;
  return html`<section class="card" aria-labelledby="entity-title">
    <h2 id="entity-title">Legal entity and domain</h2>
    ${
      entity.approvalReasons.length === 0
        ? html`<p>Nothing for a person to judge here: the LEI record matches and the domain is proven.</p>`
        : html`<p><strong>To judge before approving</strong> (your comment is kept as the reason):</p>
            <ul>
              ${entity.approvalReasons.map((r) => html`<li>${r}</li>`)}
            </ul>`
    }
    <dl class="facts">
      <dt>LEI check</dt>
      <dd>
        ${lei === null ? 'not yet' : html`${lei.outcome} (score ${lei.score.toFixed(2)}, <time datetime="${lei.checkedAt}">${lei.checkedAt}</time>)`}
      </dd>
      ${
        record === null
          ? html`<dt>GLEIF record</dt>
              <dd>${lei === null ? '—' : 'none'}</dd>`
          : html`<dt>Name at GLEIF</dt>
              <dd>${record.legalName}</dd>
              <dt>Jurisdiction at GLEIF</dt>
              <dd>${record.jurisdiction ?? '—'}</dd>
              <dt>Registration, entity status</dt>
              <dd>${record.registrationStatus}, ${record.entityStatus}</dd>
              <dt>Managing LOU</dt>
              <dd>${record.managingLou ?? '—'}</dd>`
      }
      <dt>Domain</dt>
      <dd>
        ${entity.domain.name}:
        ${entity.domain.verified ? html`proven by ${entity.domain.method ?? '—'} <time datetime="${entity.domain.verifiedAt ?? ''}">${entity.domain.verifiedAt ?? ''}</time>` : 'not proven'}
      </dd>
      <dt>First enrolment</dt>
      <dd>${entity.firstEnrolment ? 'Yes' : 'No'}</dd>
      <dt>Contacts outside the domain</dt>
      <dd>${entity.contactsOutsideDomain.length === 0 ? 'None' : entity.contactsOutsideDomain.join(', ')}</dd>
    </dl>
    ${
      lei === null || lei.reasons.length === 0
        ? ''
        : html`<ul>
            ${lei.reasons.map((r) => html`<li><code>${r.code}</code> ${r.outcome}: ${r.message}</li>`)}
          </ul>`
    }
    ${competingSignups(state)}
  </section>`;
}

export function consoleApplicationPage(context: PageContext, input: ConsoleApplicationInput): SafeHtml {
  const { state, record, applicationId, actor, errors } = input;
  const name = record?.application.name ?? applicationId;
  const template = tierTemplate(state.tier);
  const grant = minimalGrant(state.tier, state.requestedScopes);
  const approval = state.approval;
  const approvals = approval?.votes.filter((v) => v.decision === 'approve') ?? [];
  const alreadyVoted = approval?.votes.some((v) => v.approverSubject === actor.subject) ?? false;
  const base = `/console/applications/${applicationId}`;
  const admitted = state.stage === 'ADMITTED' || state.stage === 'SUSPENDED';

  return layout(
    context,
    errors.length > 0 ? `Error: ${name}` : `Decide: ${name}`,
    html`<p><a href="/console">Back to the queue</a></p>
      <h1>${name}</h1>
      <p class="lede">${record?.organisation.legalName ?? ''} · <code>${applicationId}</code> · ${stageBadge(state.stage)}</p>
      ${input.outcome === null ? '' : notice(input.outcome.kind, input.outcome.title, input.outcome.detail)} ${errorSummary(errors, VOTE_FIELDS)}
      <p class="actions" aria-label="Admission dossier">
        <a class="button secondary" href="${base}/dossier?audience=full&amp;format=json" download>Download dossier (JSON, signed)</a>
        <a class="button secondary" href="${base}/dossier?audience=full&amp;format=html" download>Download dossier (HTML)</a>
        <a class="button secondary" href="${base}/dossier?audience=partner&amp;format=json" download>Partner’s copy (JSON)</a>
      </p>
      <div class="evidence">
        <section class="card" aria-labelledby="registry-title">
          <h2 id="registry-title">Registry record</h2>
          ${
            record === null
              ? html`<p>No registry record yet.</p>`
              : html`<dl class="facts">
                  <dt>Legal name</dt>
                  <dd>${record.organisation.legalName}</dd>
                  <dt>LEI</dt>
                  <dd><code>${record.organisation.lei}</code></dd>
                  <dt>Jurisdiction</dt>
                  <dd>${record.organisation.jurisdiction}</dd>
                  <dt>Primary domain</dt>
                  <dd>${record.organisation.primaryDomain}</dd>
                  <dt>Environment</dt>
                  <dd>${record.application.environment}</dd>
                  <dt>Purpose</dt>
                  <dd>${record.application.purpose}</dd>
                  <dt>Data sensitivity</dt>
                  <dd>${record.application.dataSensitivity}</dd>
                  <dt>Regulated sector</dt>
                  <dd>${record.application.regulatedSector ? 'Yes' : 'No'}</dd>
                  <dt>Strategic</dt>
                  <dd>${record.application.strategic ? 'Yes' : 'No'}</dd>
                  <dt>Expected calls a month</dt>
                  <dd>${record.application.expectedMonthlyCalls.toLocaleString('en-GB')}</dd>
                  <dt>Contract ends</dt>
                  <dd>${record.application.contractEndDate}</dd>
                  <dt>Registry status</dt>
                  <dd>${record.application.status}</dd>
                </dl>`
          }
        </section>
        ${entitySection(state)}
        <section class="card" aria-labelledby="contacts-title">
          <h2 id="contacts-title">Contact confirmations</h2>
          <ul class="checklist">
            ${CONTACT_ROLES.map((role) => {
              const confirmedAt = state.contacts[role]?.confirmedAt ?? null;
              const contact = record?.contacts.find((c) => c.role.toLowerCase() === role);
              return html`<li class="${confirmedAt === null ? 'todo' : 'done'}">
                ${ROLE_NAMES[role]}${contact === undefined ? '' : html` (${contact.name}, ${contact.email})`}:
                ${confirmedAt === null ? 'not confirmed' : html`confirmed <time datetime="${confirmedAt}">${confirmedAt}</time>`}
              </li>`;
            })}
          </ul>
        </section>
        <section class="card" aria-labelledby="anchor-title">
          <h2 id="anchor-title">Trust anchor</h2>
          ${
            state.anchor === null
              ? html`<p>Not verified.</p>`
              : html`<dl class="facts">
                  <dt>Kind</dt>
                  <dd>${state.anchor.kind}</dd>
                  <dt>Fingerprint</dt>
                  <dd><code class="wrap">${state.anchor.fingerprint}</code></dd>
                  <dt>Subject</dt>
                  <dd>${state.anchor.subject ?? '—'}</dd>
                  <dt>Valid until</dt>
                  <dd>${state.anchor.notAfter ?? '—'}</dd>
                  <dt>Verified</dt>
                  <dd><time datetime="${state.anchor.verifiedAt}">${state.anchor.verifiedAt}</time></dd>
                  <dt>Health</dt>
                  <dd>${state.anchor.health}</dd>
                </dl>`
          }
          ${state.anchorAttempts.some((a) => !a.ok) ? html`<p>${state.anchorAttempts.filter((a) => !a.ok).length} refused attempt(s) before this one.</p>` : ''}
        </section>
        <section class="card" aria-labelledby="risk-title">
          <h2 id="risk-title">Risk: ${state.tier}, score ${state.risk.score}</h2>
          <table>
            <caption>
              How the score was reached
            </caption>
            <thead>
              <tr>
                <th scope="col">Factor</th>
                <th scope="col">Points</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              ${state.risk.reasons.map(
                (r) =>
                  html`<tr>
                    <td>${r.factor}</td>
                    <td>${r.points}</td>
                    <td>${r.detail}</td>
                  </tr>`,
              )}
            </tbody>
          </table>
        </section>
        <section class="card" aria-labelledby="scopes-title">
          <h2 id="scopes-title">Requested scopes against the ${state.tier} template</h2>
          <table>
            <caption>
              Each requested scope and what admission would do with it
            </caption>
            <thead>
              <tr>
                <th scope="col">Scope</th>
                <th scope="col">At admission</th>
              </tr>
            </thead>
            <tbody>
              ${grant.granted.map(
                (s) =>
                  html`<tr>
                    <td><code>${s}</code></td>
                    <td>Granted (in the minimal template)</td>
                  </tr>`,
              )}
              ${grant.dropped.map(
                (d) =>
                  html`<tr>
                    <td><code>${d.scope}</code></td>
                    <td>Not granted: ${d.message}</td>
                  </tr>`,
              )}
            </tbody>
          </table>
          <p>Template minimal set: ${template.minimal.join(', ')}. Ceiling: ${template.ceiling.length} scopes.</p>
        </section>
      </div>
      <section class="card" aria-labelledby="votes-title">
        <h2 id="votes-title">Decision</h2>
        ${
          approval === null
            ? html`<p>No decision is open for this application.</p>`
            : html`<p class="two-person">
                  <strong
                    >${approval.required === 1 ? 'One approver decides.' : `Two-person rule: ${approval.required} distinct approvers must approve.`}</strong
                  >
                  ${approvals.length} of ${approval.required} approvals so far; outcome <strong>${approval.outcome}</strong>.
                  ${state.tier === 'REGULATED' ? 'For a REGULATED application one approver must be a security reviewer.' : ''} The requester and the
                  application’s contacts cannot approve it.
                </p>
                ${
                  approval.scopes === undefined
                    ? ''
                    : html`<p>This decision is about an expansion adding:</p>
                        ${scopeList(approval.scopes)}`
                }
                ${
                  approval.votes.length === 0
                    ? html`<p>No votes yet.</p>`
                    : html`<table>
                        <caption>
                          Votes so far
                        </caption>
                        <thead>
                          <tr>
                            <th scope="col">Approver</th>
                            <th scope="col">Decision</th>
                            <th scope="col">Comment</th>
                            <th scope="col">When</th>
                          </tr>
                        </thead>
                        <tbody>
                          ${approval.votes.map(
                            (v) =>
                              html`<tr>
                                <td>${v.approverEmail}</td>
                                <td>${v.decision}</td>
                                <td>${v.comment}</td>
                                <td><time datetime="${v.at}">${v.at}</time></td>
                              </tr>`,
                          )}
                        </tbody>
                      </table>`
                }
                ${
                  approval.outcome !== 'pending'
                    ? ''
                    : html`${alreadyVoted ? html`<p>You have already voted on this decision.</p>` : ''}
                        <form method="post" action="${base}/vote" class="stack">
                          ${csrfField(context)}
                          ${choices(
                            'radio',
                            'decision',
                            'Your decision',
                            [
                              { value: 'approve', label: 'Approve' },
                              { value: 'reject', label: 'Reject' },
                            ],
                            [],
                            errors,
                          )}
                          ${textArea('comment', 'Comment', '', errors, { hint: 'What you checked, and why you decided so. Required to reject.', rows: 3 })}
                          <button type="submit">Record my decision</button>
                        </form>`
                }`
        }
      </section>
      ${
        admitted
          ? html`<section class="card danger" aria-labelledby="actions-title">
              <h2 id="actions-title">Actions on this partner</h2>
              <form method="post" action="${base}/key-compromise" class="stack">
                ${csrfField(context)}
                ${textArea('detail', 'Report key compromise', '', errors, { hint: 'What happened. Access is suspended at once and the anchor must be rotated.', rows: 2 })}
                <button type="submit" class="danger">Record key compromise</button>
              </form>
              <form method="post" action="${base}/offboard" class="stack">
                ${csrfField(context)}
                ${textArea('reason', 'Offboard this partner', '', errors, { hint: 'Why. Every credential and grant is revoked and the contacts are told.', rows: 2 })}
                <button type="submit" class="danger">Offboard</button>
              </form>
            </section>`
          : ''
      }`,
  );
}
