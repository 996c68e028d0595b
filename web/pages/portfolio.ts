import { html, type SafeHtml } from '../html';
import { PORTFOLIO_VIEWS, VIEW_INFO, type PortfolioView, type Report } from '../../evidence/portfolio';
import { layout, notice, type PageContext } from './layout';

const viewPath = (view: PortfolioView) => `/console/portfolio/${view}`;

/** The list of views, each with what it answers. */
export function portfolioIndexPage(context: PageContext): SafeHtml {
  return layout(
    context,
    'Portfolio',
    html`<p><a href="/console">← Approver console</a></p>
      <h1>Portfolio</h1>
      <p class="lede">Questions about every partner at once, answered from the registry. Each view is a table here and a CSV download.</p>
      <ul class="views">
        ${PORTFOLIO_VIEWS.map(
          (view) =>
            html`<li>
              <a href="${viewPath(view)}">${VIEW_INFO[view].title}</a>
              <br /><span class="hint">${VIEW_INFO[view].description}</span>
            </li>`,
        )}
      </ul>`,
  );
}

/** One view as a table, with the N form (where it takes one), a CSV link and each row's dossier link. */
export function portfolioViewPage(context: PageContext, report: Report, error: string | null = null): SafeHtml {
  const query = report.days === null ? '' : `?days=${report.days}`;
  const daysForm =
    report.days === null
      ? html``
      : html`<form method="get" action="${viewPath(report.view)}" class="inline">
          <label for="days">N (days)</label>
          <input id="days" name="days" type="number" min="0" max="3650" step="1" value="${String(report.days)}" class="width-small" />
          <button type="submit">Show</button>
        </form>`;
  const table =
    report.rows.length === 0
      ? html`<p>None found.</p>`
      : html`<div class="table-scroll" role="region" aria-label="${report.title}" tabindex="0">
          <table>
            <caption>
              ${report.title}: ${report.rows.length} found
            </caption>
            <thead>
              <tr>
                ${report.columns.map((c) => html`<th scope="col">${c.header}</th>`)}
                <th scope="col">Dossier</th>
              </tr>
            </thead>
            <tbody>
              ${report.rows.map(
                (row) =>
                  html`<tr>
                    ${report.columns.map((c) =>
                      c.key === 'application'
                        ? html`<td><a href="/console/applications/${row.applicationId}">${row.cells[c.key] ?? ''}</a></td>`
                        : html`<td>${row.cells[c.key] ?? ''}</td>`,
                    )}
                    <td><a href="${row.dossier}">Dossier</a></td>
                  </tr>`,
              )}
            </tbody>
          </table>
        </div>`;
  return layout(
    context,
    report.title,
    html`<p><a href="/console/portfolio">← Portfolio</a></p>
      <h1>${report.title}</h1>
      <p class="lede">${report.description}</p>
      ${error === null ? html`` : notice('error', 'That N cannot be used', error)} ${daysForm}
      <p>
        <a class="button" href="${viewPath(report.view)}.csv${query}" download>Download CSV</a> As of
        <time datetime="${report.generatedAt}">${report.generatedAt}</time>.
      </p>
      ${table}`,
  );
}
