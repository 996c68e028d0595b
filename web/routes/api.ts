import type { FastifyInstance } from 'fastify';
import { validateSignup } from '../../domain/signup';
import { sendProblem } from '../problem';
import { AdmissionClosedError, readState, startAdmission, StateUnavailableError, type ApplicationState } from '../lifecycle-client';
import { APPLICATION_ID } from '../registry-view';
import { publicApplicationView } from '../public-view';
import { openApiDocumentFor } from '../openapi';
import type { ServiceDependencies } from '../app';
import { readiness, registryCheck, temporalCheck } from '../../observability/health';
import { metricsRegistry } from '../../observability/metrics';
import { timingSafeEqual } from 'node:crypto';

/** The workflow's state, or its status alone when no worker answers, so the status view never becomes an error. */
async function workflowView(
  deps: ServiceDependencies,
  applicationId: string,
): Promise<ApplicationState | { status: string; stateUnavailable: string } | null> {
  try {
    return await readState(deps.temporal, applicationId);
  } catch (error) {
    if (error instanceof StateUnavailableError) return { status: error.status, stateUnavailable: error.message };
    throw error;
  }
}

/** The JSON API: signup, an application's status, health, and the OpenAPI document describing them. */
export function registerApiRoutes(app: FastifyInstance, deps: ServiceDependencies, now: () => Date): void {
  app.get('/healthz', async () => ({ ok: true }));

  // Readiness: Temporal and the registry, which every request needs; not SMTP (the worker's), so a
  // mail outage never takes /decisions out of service. While the web drains, Fastify answers 503.
  const checks = deps.readinessChecks ?? { temporal: temporalCheck(deps.temporal), registry: registryCheck(deps.registry) };
  app.get('/readyz', async (request, reply) => {
    const result = await readiness(checks, (message) => request.log.warn(message));
    return reply
      .status(result.ready ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(result);
  });

  // Prometheus metrics; with ADMIT_METRICS_TOKEN, only for a scraper presenting it as a bearer token.
  const expected = deps.metricsToken === undefined ? undefined : Buffer.from(`Bearer ${deps.metricsToken}`);
  app.get('/metrics', async (request, reply) => {
    if (expected !== undefined) {
      const presented = Buffer.from(request.headers.authorization ?? '');
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
        return sendProblem(reply.header('www-authenticate', 'Bearer realm="admit-metrics"'), {
          status: 401,
          title: 'Sign-in required',
          detail: 'Present the metrics token (ADMIT_METRICS_TOKEN) as a bearer token.',
        });
      }
    }
    return reply
      .type(metricsRegistry.contentType)
      .header('cache-control', 'no-store')
      .send(await metricsRegistry.metrics());
  });

  const openApi = openApiDocumentFor({ production: deps.production });
  app.get('/openapi.json', async (_request, reply) => reply.header('cache-control', 'no-cache').send(openApi));

  app.post('/signup', { onRequest: deps.rateBudget('signup') }, async (request, reply) => {
    const validation = validateSignup(request.body, now());
    if (!validation.ok) {
      return sendProblem(reply, {
        status: 400,
        title: 'The signup has errors',
        detail: 'Correct the fields listed in `errors` and submit again; nothing was recorded.',
        errors: validation.errors,
      });
    }
    try {
      const { applicationId, workflowId } = await startAdmission(deps.temporal, deps.taskQueue, validation.signup, now(), deps.registry);
      return reply
        .status(202)
        .header('location', `/applications/${applicationId}`)
        .send({ applicationId, workflowId, status: `/applications/${applicationId}` });
    } catch (error) {
      if (error instanceof AdmissionClosedError) {
        return sendProblem(reply, { status: 409, title: 'This application has already been through admission', detail: error.message });
      }
      throw error;
    }
  });

  app.get<{ Params: { id: string } }>('/applications/:id', { onRequest: deps.rateBudget('status') }, async (request, reply) => {
    const { id } = request.params;
    if (!APPLICATION_ID.test(id)) {
      return sendProblem(reply, { status: 404, title: 'Not found', detail: 'There is no application with that id.' });
    }
    // Public: the stage and what it waits for in general terms, nothing about people (web/public-view.ts).
    // The full view is the status page, for a confirmed contact's browser or a signed-in approver.
    const workflow = await workflowView(deps, id);
    if (workflow === null) {
      return sendProblem(reply, { status: 404, title: 'Not found', detail: 'There is no application with that id.' });
    }
    return reply.header('cache-control', 'no-store').send(publicApplicationView(id, workflow));
  });
}
