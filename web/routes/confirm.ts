import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verifyContactLink } from '../../links/contact-confirmation';
import { confirmContactUpdate, UPDATE_REFUSALS } from '../../workflows/messages';
import { readState, sendUpdate } from '../lifecycle-client';
import { readRegistryRecord } from '../registry-view';
import { rememberPartnerContact } from '../auth/session';
import { confirmedPage, confirmLandingPage, confirmProblemPage, type ConfirmationProblem } from '../pages/confirm';
import type { PagesContext } from './pages-context';

/**
 * The emailed contact link. GET only shows what is being confirmed (mail
 * scanners fetch links, and must not use them up); the button POSTs, and the
 * workflow, which accepts each token hash once, decides whether it counts.
 */
export function registerConfirmationRoutes(app: FastifyInstance, pages: PagesContext): void {
  const { deps } = pages;
  const limited = { onRequest: deps.rateBudget('confirmation') };

  const problem = (request: FastifyRequest, reply: FastifyReply, status: number, kind: ConfirmationProblem, detail?: string, statusLink?: string) =>
    pages.sendPage(reply.status(status), confirmProblemPage(pages.context(request), kind, detail, statusLink));

  app.get<{ Params: { token: string } }>('/confirm/:token', limited, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const check = await verifyContactLink(deps.linkSecret, request.params.token, pages.now());
    if (!check.ok) return problem(request, reply, check.reason === 'expired' ? 410 : 400, check.reason);
    const { applicationId, role } = check.claims;
    const [state, record] = await Promise.all([readState(deps.temporal, applicationId), readRegistryRecord(deps.registry, applicationId)]);
    if (state === null) return problem(request, reply, 400, 'invalid');
    if (state.contacts[role]?.confirmedAt != null) return problem(request, reply, 409, 'used', undefined, pages.statusPath(applicationId));
    const subject = record === null ? null : { organisation: record.organisation.legalName, application: record.application.name };
    return pages.sendPage(reply, confirmLandingPage(pages.context(request), `/confirm/${encodeURIComponent(request.params.token)}`, role, subject));
  });

  app.post<{ Params: { token: string } }>('/confirm/:token', limited, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const check = await verifyContactLink(deps.linkSecret, request.params.token, pages.now());
    if (!check.ok) return problem(request, reply, check.reason === 'expired' ? 410 : 400, check.reason);
    const { applicationId, role } = check.claims;
    const outcome = await sendUpdate(deps.temporal, applicationId, confirmContactUpdate, [{ role, tokenHash: check.tokenHash }]);
    if (!outcome.ok) {
      const statusLink = pages.statusPath(applicationId);
      switch (outcome.code) {
        case UPDATE_REFUSALS.CONFIRMATION_USED:
          return problem(request, reply, 409, 'used', outcome.message, statusLink);
        case UPDATE_REFUSALS.CONFIRMATION_EXPIRED:
          return problem(request, reply, 410, 'expired', outcome.message, statusLink);
        case UPDATE_REFUSALS.CONFIRMATION_INVALID:
          return problem(request, reply, 400, 'invalid', outcome.message);
        default:
          return problem(request, reply, 409, 'refused', outcome.message, statusLink);
      }
    }
    // A confirmed contact may now act for the application from this browser (trust anchor, expansions).
    rememberPartnerContact(request, { applicationId, role });
    return pages.sendPage(
      reply,
      confirmedPage(pages.context(request), role, outcome.result.allConfirmed, pages.statusPath(applicationId), pages.anchorPath(applicationId)),
    );
  });
}
