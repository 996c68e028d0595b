import type { FastifyInstance } from 'fastify';
import { validateSignup } from '../../domain/signup';
import { AdmissionClosedError, startAdmission } from '../lifecycle-client';
import { html } from '../html';
import { layout, messagePage } from '../pages/layout';
import { formErrors, signupFromForm, signupPage } from '../pages/signup';
import type { FormValues } from '../pages/form';
import type { PagesContext } from './pages-context';

/** The home page and the signup form, which starts the same workflow as POST /signup. */
export function registerSignupFormRoutes(app: FastifyInstance, pages: PagesContext): void {
  const { deps } = pages;

  app.get('/', async (request, reply) =>
    pages.sendPage(
      reply,
      layout(
        pages.context(request),
        'API partner admission',
        html`<h1>API partner admission</h1>
          <p class="lede">
            Admit enrols your organisation and application, confirms your contacts, verifies your trust anchor and only then grants the smallest
            useful set of scopes.
          </p>
          <ul class="actions">
            <li><a class="button" href="/apply">Apply for API access</a></li>
            <li><a href="/console">Approver console</a> (for the platform’s approvers)</li>
          </ul>`,
      ),
    ),
  );

  app.get('/apply', async (request, reply) => pages.sendPage(reply, signupPage(pages.context(request), {}, [])));

  app.post('/apply', { onRequest: deps.rateBudget('signup') }, async (request, reply) => {
    const values = (request.body ?? {}) as FormValues;
    const validation = validateSignup(signupFromForm(values), pages.now());
    if (!validation.ok) return pages.sendPage(reply.status(400), signupPage(pages.context(request), values, formErrors(validation.errors, values)));
    try {
      const { applicationId } = await startAdmission(deps.temporal, deps.taskQueue, validation.signup, pages.now(), deps.registry);
      // Submitting grants this browser nothing: a repeated signup lands on the same application, so only a
      // confirmed contact link (proof of a mailbox named in the signup) lets a browser act for it.
      return reply.redirect(`${pages.statusPath(applicationId)}?done=submitted`, 303);
    } catch (error) {
      if (error instanceof AdmissionClosedError) {
        return pages.sendPage(
          reply.status(409),
          messagePage(pages.context(request), 'This application has already been through admission', 'error', error.message),
        );
      }
      throw error;
    }
  });
}
