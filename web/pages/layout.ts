import { html, fieldId, type SafeHtml } from '../html';
import type { FieldError } from '../../domain/signup';

/** What every page needs to know about who is looking. */
export interface PageContext {
  csrfToken: string;
  /** The signed-in approver's display name, when there is one. */
  signedInAs: string | null;
  /** Development conveniences (the outbox link) are shown only outside production. */
  development: boolean;
}

export function layout(context: PageContext, title: string, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Admit</title>
        <link rel="stylesheet" href="/assets/admit.css" />
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="site">
          <a class="brand" href="/">Admit</a>
          <nav aria-label="Main">
            <ul>
              <li><a href="/apply">Apply</a></li>
              <li><a href="/console">Approver console</a></li>
              ${context.development ? html`<li><a href="/dev/outbox">Outbox</a></li>` : ''}
            </ul>
          </nav>
          ${
            context.signedInAs === null
              ? html`<a class="account" href="/auth/login">Sign in</a>`
              : html`<form class="account" method="post" action="/auth/logout">
                  <span>Signed in as <strong>${context.signedInAs}</strong></span>
                  <input type="hidden" name="_csrf" value="${context.csrfToken}" />
                  <button type="submit" class="link">Sign out</button>
                </form>`
          }
        </header>
        <main id="main" tabindex="-1">${body}</main>
        <footer class="site"><p>Admit admits API partners by identity before granting them anything.</p></footer>
      </body>
    </html> `;
}

/** The error summary at the top of a form: each error links to its field (GOV.UK pattern). */
export function errorSummary(errors: readonly FieldError[], knownFields: ReadonlySet<string>): SafeHtml {
  if (errors.length === 0) return html``;
  return html`<div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" id="error-summary" autofocus>
    <h2 id="error-summary-title">There is a problem</h2>
    <ul>
      ${errors.map((error) =>
        knownFields.has(error.field) ? html`<li><a href="#${fieldId(error.field)}">${error.message}</a></li>` : html`<li>${error.message}</li>`,
      )}
    </ul>
  </div>`;
}

/** A notice for outcomes that are not field errors (a refused update, a used link). */
export function notice(kind: 'success' | 'warning' | 'error', title: string, detail: string | SafeHtml): SafeHtml {
  return html`<div class="notice notice-${kind}" role="${kind === 'error' ? 'alert' : 'status'}">
    <h2>${title}</h2>
    <p>${detail}</p>
  </div>`;
}

export function messagePage(
  context: PageContext,
  title: string,
  kind: 'success' | 'warning' | 'error',
  detail: string | SafeHtml,
  extra?: SafeHtml,
): SafeHtml {
  return layout(
    context,
    title,
    html`<h1>${title}</h1>
      ${notice(kind, title, detail)}${extra ?? ''}`,
  );
}

export function csrfField(context: PageContext): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${context.csrfToken}" />`;
}
