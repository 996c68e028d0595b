import Fastify, { type FastifyInstance } from 'fastify';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Registry } from '../registry/client';
import { validateSignup } from '../domain/signup';
import { applicationIdFor, workflowIdFor } from '../domain/identity';
import { partnerLifecycle } from '../workflows/partner-lifecycle';
import { stateQuery, type LifecycleState } from '../workflows/messages';
import { sendProblem } from './problem';
import type { GatewayToken } from '../config/env';
import { registerUsageRoute } from './usage-route';
import { registerDecisionRoute } from './decision-route';

export interface AppDependencies {
  temporal: Client;
  registry: Registry;
  taskQueue: string;
  /** Injected so tests can fix "today" for contract-end validation. */
  now?: () => Date;
  /** Request logging (method, URL, status; never bodies). Off unless given. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Gateways allowed to POST /usage (ADMIT_GATEWAY_TOKENS); none means every report is refused. */
  gatewayTokens?: readonly GatewayToken[];
}

const MAX_BODY_BYTES = 64 * 1024;
const APPLICATION_ID = /^app-[a-z0-9]{20}-[a-z0-9-]{2,80}-(sandbox|production)$/;

function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}

export function buildApp(deps: AppDependencies): FastifyInstance {
  const now = deps.now ?? (() => new Date());
  const app = Fastify({
    bodyLimit: MAX_BODY_BYTES,
    logger: deps.logLevel === undefined ? false : { level: deps.logLevel },
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error(error);
    return sendProblem(reply, {
      status,
      title: status === 413 ? 'Request body too large' : status === 415 ? 'Unsupported media type' : status < 500 ? 'Bad request' : 'Internal error',
      detail: status < 500 ? error.message : 'Something went wrong on our side; nothing was changed. Try again shortly.',
    });
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, { status: 404, title: 'Not found', detail: `No route for ${request.method} ${request.url}.` }),
  );

  app.get('/healthz', async () => ({ ok: true }));

  registerUsageRoute(app, { registry: deps.registry, gatewayTokens: deps.gatewayTokens ?? [] });
  registerDecisionRoute(app, { registry: deps.registry, gatewayTokens: deps.gatewayTokens ?? [] });

  app.post('/signup', async (request, reply) => {
    const validation = validateSignup(request.body, now());
    if (!validation.ok) {
      return sendProblem(reply, {
        status: 400,
        title: 'The signup has errors',
        detail: 'Correct the fields listed in `errors` and submit again; nothing was recorded.',
        errors: validation.errors,
      });
    }
    const { signup } = validation;
    const applicationId = applicationIdFor(signup.organisation.lei, signup.application.name, signup.application.environment);
    const workflowId = workflowIdFor(applicationId);
    try {
      await deps.temporal.workflow.start(partnerLifecycle, {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [{ applicationId, signup, submittedAt: now().toISOString() }],
        // A repeated signup joins the running lifecycle instead of starting another.
        workflowIdConflictPolicy: 'USE_EXISTING',
        // A closed lifecycle (offboarded, rejected, expired) is not silently restarted.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        return sendProblem(reply, {
          status: 409,
          title: 'This application has already been through admission',
          detail: `The admission of ${applicationId} has ended; its record stays for audit. Contact your partner manager to re-admit it.`,
        });
      }
      throw error;
    }
    return reply
      .status(202)
      .header('location', `/applications/${applicationId}`)
      .send({ applicationId, workflowId, status: `/applications/${applicationId}` });
  });

  app.get<{ Params: { id: string } }>('/applications/:id', async (request, reply) => {
    const { id } = request.params;
    if (!APPLICATION_ID.test(id)) {
      return sendProblem(reply, { status: 404, title: 'Not found', detail: 'There is no application with that id.' });
    }
    const [record, workflow] = await Promise.all([
      deps.registry.application.findUnique({
        where: { id },
        include: { organisation: true, contacts: { orderBy: { role: 'asc' } } },
      }),
      queryState(deps.temporal, workflowIdFor(id)),
    ]);
    if (record === null && workflow === null) {
      return sendProblem(reply, { status: 404, title: 'Not found', detail: 'There is no application with that id.' });
    }
    return {
      applicationId: id,
      registry:
        record === null
          ? null
          : {
              organisation: {
                id: record.organisation.id,
                legalName: record.organisation.legalName,
                lei: record.organisation.lei,
                jurisdiction: record.organisation.jurisdiction,
                primaryDomain: record.organisation.primaryDomain,
                status: record.organisation.status,
              },
              application: {
                name: record.name,
                environment: record.environment,
                purpose: record.purpose,
                requestedScopes: record.requestedScopes,
                dataSensitivity: record.dataSensitivity,
                regulatedSector: record.regulatedSector,
                strategic: record.strategic,
                expectedMonthlyCalls: record.expectedMonthlyCalls,
                contractEndDate: record.contractEndDate.toISOString().slice(0, 10),
                status: record.status,
                createdAt: record.createdAt.toISOString(),
              },
              // Contact details are personal data; the status view shows only who confirmed.
              contacts: record.contacts.map((c) => ({
                role: c.role,
                email: maskEmail(c.email),
                confirmed: c.confirmedAt !== null,
              })),
            },
      workflow,
    };
  });

  return app;
}

type WorkflowView = (LifecycleState & { status: string }) | { status: string; stateUnavailable: string };

/** The workflow's status, and its state when a worker is there to answer the query. */
async function queryState(temporal: Client, workflowId: string): Promise<WorkflowView | null> {
  const handle = temporal.workflow.getHandle(workflowId);
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
  try {
    return { ...(await handle.query(stateQuery)), status };
  } catch {
    // Queries need a worker; a restart or an outage must not turn a status page into an error.
    return { status, stateUnavailable: 'No worker answered just now; the state will show again shortly.' };
  }
}
