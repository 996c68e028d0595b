import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_LIFECYCLE_DURATIONS } from '../../domain/durations';
import { isPortfolioView, portfolioReport, validDays, VIEW_INFO, type PortfolioView } from '../../evidence/portfolio';
import { reportCsv } from '../../evidence/report-format';
import type { Actor } from '../../workflows/messages';
import { messagePage } from '../pages/layout';
import { portfolioIndexPage, portfolioViewPage } from '../pages/portfolio';
import type { PagesContext } from './pages-context';

type ViewRequest = FastifyRequest<{ Params: { view: string }; Querystring: { days?: string } }>;

/**
 * The security team's portfolio views (evidence/portfolio.ts) on the console, for the same people:
 * `/console/portfolio`, `/console/portfolio/<view>[?days=N]` as a table and `…/<view>.csv` as CSV.
 */
export function registerPortfolioRoutes(
  app: FastifyInstance,
  pages: PagesContext,
  requireApprover: (request: FastifyRequest, reply: FastifyReply) => Actor | null,
): void {
  const { deps } = pages;
  const durations = deps.lifecycleDurations ?? DEFAULT_LIFECYCLE_DURATIONS;

  app.get('/console/portfolio', async (request, reply) => {
    if (requireApprover(request, reply) === null) return reply;
    return pages.sendPage(reply.header('cache-control', 'no-store'), portfolioIndexPage(pages.context(request)));
  });

  /** The view and N from the URL, or a 404/400 page already sent. */
  function parse(request: ViewRequest, reply: FastifyReply, suffix: '' | '.csv'): { view: PortfolioView; days?: number } | null {
    const name = suffix === '' ? request.params.view : request.params.view.replace(/\.csv$/, '');
    if (!isPortfolioView(name) || (suffix === '.csv') !== request.params.view.endsWith('.csv')) {
      void pages.sendPage(
        reply.status(404),
        messagePage(pages.context(request), 'No such view', 'error', 'There is no portfolio view with that name.'),
      );
      return null;
    }
    const raw = request.query.days;
    if (raw === undefined || raw === '' || VIEW_INFO[name].defaultDays === null) return { view: name };
    const days = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!validDays(days)) {
      void pages.sendPage(
        reply.status(400),
        messagePage(pages.context(request), 'That N cannot be used', 'error', 'N is a whole number of days from 0 to 3650.'),
      );
      return null;
    }
    return { view: name, days };
  }

  app.get<{ Params: { view: string }; Querystring: { days?: string } }>('/console/portfolio/:view', async (request, reply) => {
    if (requireApprover(request, reply) === null) return reply;
    const csv = request.params.view.endsWith('.csv');
    const parsed = parse(request, reply, csv ? '.csv' : '');
    if (parsed === null) return reply;
    const report = await portfolioReport(deps.registry, parsed.view, {
      now: pages.now(),
      durations,
      ...(parsed.days === undefined ? {} : { days: parsed.days }),
    });
    reply.header('cache-control', 'no-store');
    if (!csv) return pages.sendPage(reply, portfolioViewPage(pages.context(request), report));
    const stamp = report.generatedAt.slice(0, 10);
    return reply
      .type('text/csv; charset=utf-8; header=present')
      .header('content-disposition', `attachment; filename="admit-${report.view}-${stamp}.csv"`)
      .header('x-content-type-options', 'nosniff')
      .send(reportCsv(report, deps.publicUrl));
  });
}
