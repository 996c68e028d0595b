import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isKnownScope } from '../../domain/scopes';
import type { ContactRoleKey } from '../../domain/contacts';
import { requestExpansionUpdate } from '../../workflows/messages';
import { readState, sendUpdate } from '../lifecycle-client';
import { APPLICATION_ID, readRegistryRecord } from '../registry-view';
import { partnerContactFor } from '../auth/session';
import { messagePage } from '../pages/layout';
import { formList } from '../pages/form';
import { publicStatusPage, statusPage } from '../pages/status';
import { tokenProfileOf } from '../../oauth/clients';
import { publicApplicationView } from '../public-view';
import type { FieldError } from '../../domain/signup';
import type { PagesContext } from './pages-context';
import { REGISTRY_CONTACT_ROLE } from '../../registry/contact-roles';

const FLASHES: Record<string, string> = {
  submitted: 'Your application was submitted. Each contact has been sent a confirmation link.',
  expansion: 'Your request for more scopes was recorded.',
};

type Params = { Params: { id: string }; Querystring: { done?: string } };

async function readContactEmail(deps: PagesContext['deps'], applicationId: string, role: ContactRoleKey): Promise<string | null> {
  const contact = await deps.registry.contact.findUnique({
    where: { applicationId_role: { applicationId, role: REGISTRY_CONTACT_ROLE[role] } },
  });
  return contact?.email ?? null;
}

/** The partner's status page, and asking for more scopes once admitted. */
export function registerStatusRoutes(app: FastifyInstance, pages: PagesContext): void {
  const { deps } = pages;

  async function render(request: FastifyRequest<Params>, expansionErrors: FieldError[]) {
    const { id } = request.params;
    if (!APPLICATION_ID.test(id)) return null;
    const partner = partnerContactFor(request, id) !== undefined;
    if (!partner && pages.actor(request) === null) {
      // Anyone with the id (ids are guessable) sees only the stage, in general terms.
      const state = await readState(deps.temporal, id);
      return state === null ? null : publicStatusPage(pages.context(request), publicApplicationView(id, state));
    }
    const [state, record, tokenProfile] = await Promise.all([
      readState(deps.temporal, id),
      readRegistryRecord(deps.registry, id),
      tokenProfileOf(deps.registry, id),
    ]);
    if (state === null) return null;
    return statusPage(pages.context(request), {
      applicationId: id,
      record,
      state,
      tokenProfile,
      partner,
      expansionErrors,
      flash: FLASHES[request.query.done ?? ''] ?? null,
    });
  }

  app.get<Params>('/applications/:id/status', { onRequest: pages.deps.rateBudget('status') }, async (request, reply) => {
    const page = await render(request, []);
    if (page === null)
      return pages.sendPage(
        reply.status(404),
        messagePage(pages.context(request), 'Application not found', 'error', 'There is no application with that id.'),
      );
    return pages.sendPage(reply.header('cache-control', 'no-store'), page);
  });

  app.post<Params>('/applications/:id/expansions', async (request, reply) => {
    const { id } = request.params;
    const contact = APPLICATION_ID.test(id) ? partnerContactFor(request, id) : undefined;
    if (contact === undefined) {
      return pages.sendPage(
        reply.status(403),
        messagePage(
          pages.context(request),
          'Not allowed',
          'error',
          'Only a browser in which this application’s contacts confirmed may ask for its scopes.',
        ),
      );
    }
    const scopes = formList((request.body ?? {}) as Record<string, unknown>, 'scopes');
    const errors: FieldError[] = [];
    if (scopes.length === 0) errors.push({ field: 'scopes', message: 'Choose at least one scope to ask for.' });
    else if (!scopes.every(isKnownScope)) errors.push({ field: 'scopes', message: 'Choose scopes from the list.' });
    if (errors.length === 0) {
      // Who asked: the confirmed contact's email, from the registry.
      const record = await readContactEmail(deps, id, contact.role);
      const outcome = await sendUpdate(deps.temporal, id, requestExpansionUpdate, [{ scopes, requestedBy: record ?? `${contact.role} contact` }]);
      if (outcome.ok) return reply.redirect(`${pages.statusPath(id)}?done=expansion`, 303);
      errors.push({ field: 'scopes', message: outcome.message });
    }
    const page = await render(request, errors);
    return page === null ? reply.status(404).send() : pages.sendPage(reply.status(400), page);
  });
}
