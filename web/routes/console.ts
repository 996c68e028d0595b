import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { unacceptableCharacter } from '../../domain/text';
import { APPROVER_ROLE, SECURITY_REVIEWER_ROLE } from '../../domain/approval';
import type { FieldError } from '../../domain/signup';
import { offboardUpdate, reportKeyCompromiseUpdate, voteUpdate, type Actor } from '../../workflows/messages';
import { listApplicationIds, readState, sendUpdate, type UpdateOutcome } from '../lifecycle-client';
import { APPLICATION_ID, readRegistryRecord } from '../registry-view';
import { html } from '../html';
import { messagePage } from '../pages/layout';
import { consoleApplicationPage, consoleQueuePage, type ConsoleApplicationInput, type QueueEntry } from '../pages/console';
import type { PagesContext } from './pages-context';
import { registerPortfolioRoutes } from './portfolio';
import { AUDIENCES, type Audience } from '../../evidence/dossier-format';
import { DossierNotFoundError, exportDossier } from '../../evidence/dossier';
import { renderDossierHtml } from '../../evidence/dossier-html';
import { loadControls } from '../../evidence/controls-hook';

/** Roles that may open the console; what each may do is the workflow's to decide. */
const CONSOLE_ROLES = [APPROVER_ROLE, SECURITY_REVIEWER_ROLE];

type Params = { Params: { id: string } };

/** Free text goes into the workflow and the audit log (jsonb): nothing PostgreSQL refuses or that misleads a reader. */
const storable = (value: string, context: z.RefinementCtx) => {
  const problem = unacceptableCharacter(value, { multiline: true });
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
};
const voteForm = z.object({
  decision: z.enum(['approve', 'reject'], { message: 'Choose approve or reject.' }),
  comment: z.string().trim().max(2000, { message: 'Keep the comment under 2,000 characters.' }).superRefine(storable).default(''),
});
const reasonForm = (field: 'reason' | 'detail', what: string) =>
  z.object({
    [field]: z
      .string({ message: `Say ${what}.` })
      .trim()
      .min(3, { message: `Say ${what}.` })
      .max(2000)
      .superRefine(storable),
  });

function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({ field: String(issue.path[0] ?? 'form'), message: issue.message }));
}

const FLASHES: Record<string, string> = {
  vote: 'Your decision was recorded.',
  offboard: 'The partner is being offboarded.',
  'key-compromise': 'The key compromise was recorded; access is suspended.',
};

export function registerConsoleRoutes(app: FastifyInstance, pages: PagesContext): void {
  const { deps } = pages;

  /** Signed in and holding a console role, or answered with a sign-in page (401) or refusal (403). */
  function requireApprover(request: FastifyRequest, reply: FastifyReply): Actor | null {
    const actor = pages.actor(request);
    if (actor === null) {
      void pages.sendPage(
        reply.status(401),
        messagePage(
          pages.context(request),
          'Sign in to continue',
          'warning',
          'The approver console is for signed-in approvers.',
          signInLink(request.url),
        ),
      );
      return null;
    }
    if (!actor.roles.some((role) => CONSOLE_ROLES.includes(role))) {
      void pages.sendPage(
        reply.status(403),
        messagePage(pages.context(request), 'Not an approver', 'error', 'You are signed in, but your account holds no approver role.'),
      );
      return null;
    }
    return actor;
  }

  async function applicationPage(
    request: FastifyRequest<Params>,
    reply: FastifyReply,
    actor: Actor,
    errors: FieldError[],
    outcome: ConsoleApplicationInput['outcome'],
  ) {
    const { id } = request.params;
    const [state, record] = APPLICATION_ID.test(id)
      ? await Promise.all([readState(deps.temporal, id), readRegistryRecord(deps.registry, id)])
      : [null, null];
    if (state === null)
      return pages.sendPage(
        reply.status(404),
        messagePage(pages.context(request), 'Application not found', 'error', 'There is no application with that id.'),
      );
    return pages.sendPage(reply, consoleApplicationPage(pages.context(request), { applicationId: id, record, state, actor, errors, outcome }));
  }

  /** Sends an action's update and shows the workflow's answer: a refusal stays on the page with its reason. */
  async function act<T>(request: FastifyRequest<Params>, reply: FastifyReply, actor: Actor, done: string, send: () => Promise<UpdateOutcome<T>>) {
    if (!APPLICATION_ID.test(request.params.id)) return applicationPage(request, reply, actor, [], null);
    const outcome = await send();
    if (outcome.ok) return reply.redirect(`/console/applications/${request.params.id}?done=${done}`, 303);
    reply.status(outcome.code === 'NOT_RUNNING' ? 410 : 409);
    return applicationPage(request, reply, actor, [], { kind: 'error', title: 'The workflow refused this', detail: outcome.message });
  }

  app.get('/console', async (request, reply) => {
    const actor = requireApprover(request, reply);
    if (actor === null) return reply;
    const ids = await listApplicationIds(deps.temporal, deps.taskQueue, ['AWAITING_APPROVAL', 'ADMITTED', 'SUSPENDED']);
    const entries = (
      await Promise.all(
        ids.map(async (id): Promise<QueueEntry | null> => {
          const [state, record] = await Promise.all([readState(deps.temporal, id), readRegistryRecord(deps.registry, id)]);
          return state === null
            ? null
            : { applicationId: id, state, name: record?.application.name ?? id, organisation: record?.organisation.legalName ?? '' };
        }),
      )
    ).filter((entry): entry is QueueEntry => entry !== null);
    const waiting = entries.filter((e) => e.state.approval?.outcome === 'pending');
    const admitted = entries.filter((e) => (e.state.stage === 'ADMITTED' || e.state.stage === 'SUSPENDED') && !waiting.includes(e));
    return pages.sendPage(reply.header('cache-control', 'no-store'), consoleQueuePage(pages.context(request), actor, waiting, admitted));
  });

  app.get<Params & { Querystring: { done?: string } }>('/console/applications/:id', async (request, reply) => {
    const actor = requireApprover(request, reply);
    if (actor === null) return reply;
    const flash = FLASHES[request.query.done ?? ''];
    return applicationPage(
      request,
      reply.header('cache-control', 'no-store'),
      actor,
      [],
      flash === undefined ? null : { kind: 'success', title: 'Done', detail: flash },
    );
  });

  registerDossierDownload(app, pages, requireApprover);

  app.post<Params>('/console/applications/:id/vote', async (request, reply) => {
    const actor = requireApprover(request, reply);
    if (actor === null) return reply;
    const parsed = voteForm.safeParse(request.body ?? {});
    if (!parsed.success) return applicationPage(request, reply.status(400), actor, fieldErrors(parsed.error), null);
    // The approver's identity travels into the workflow, whose validator enforces separation of duties.
    return act(request, reply, actor, 'vote', () =>
      sendUpdate(deps.temporal, request.params.id, voteUpdate, [{ approver: actor, decision: parsed.data.decision, comment: parsed.data.comment }]),
    );
  });

  app.post<Params>('/console/applications/:id/offboard', async (request, reply) => {
    const actor = requireApprover(request, reply);
    if (actor === null) return reply;
    const parsed = reasonForm('reason', 'why the partner is offboarded').safeParse(request.body ?? {});
    if (!parsed.success) return applicationPage(request, reply.status(400), actor, fieldErrors(parsed.error), null);
    return act(request, reply, actor, 'offboard', () =>
      sendUpdate(deps.temporal, request.params.id, offboardUpdate, [{ by: actor, reason: String(parsed.data.reason) }]),
    );
  });

  app.post<Params>('/console/applications/:id/key-compromise', async (request, reply) => {
    const actor = requireApprover(request, reply);
    if (actor === null) return reply;
    const parsed = reasonForm('detail', 'what happened').safeParse(request.body ?? {});
    if (!parsed.success) return applicationPage(request, reply.status(400), actor, fieldErrors(parsed.error), null);
    return act(request, reply, actor, 'key-compromise', () =>
      sendUpdate(deps.temporal, request.params.id, reportKeyCompromiseUpdate, [{ reportedBy: actor, detail: String(parsed.data.detail) }]),
    );
  });

  registerPortfolioRoutes(app, pages, requireApprover);
}

/** The signed dossier of one application, as a download (docs/evidence.md). */
function registerDossierDownload(
  app: FastifyInstance,
  pages: PagesContext,
  requireApprover: (request: FastifyRequest, reply: FastifyReply) => Actor | null,
) {
  const { deps } = pages;
  app.get<Params & { Querystring: { audience?: string; format?: string } }>('/console/applications/:id/dossier', async (request, reply) => {
    const actor = requireApprover(request, reply);
    if (actor === null) return reply;
    const { id } = request.params;
    const audience = (request.query.audience ?? 'full') as Audience;
    const format = request.query.format ?? 'json';
    if (!AUDIENCES.includes(audience) || (format !== 'json' && format !== 'html') || !APPLICATION_ID.test(id)) {
      return pages.sendPage(
        reply.status(400),
        messagePage(pages.context(request), 'Cannot export that', 'error', 'Choose the full or partner dossier, as JSON or HTML, of an application.'),
      );
    }
    if (deps.evidence === undefined) {
      return pages.sendPage(
        reply.status(503),
        messagePage(pages.context(request), 'No evidence key', 'error', 'This deployment has no evidence key configured.'),
      );
    }
    // The armed triggers live in the lifecycle: asked for, and left out (marked unavailable) when no worker answers.
    const state = await readState(deps.temporal, id).catch(() => null);
    const controls = await loadControls();
    try {
      const signed = await exportDossier(deps.registry, deps.evidence.keyring, id, {
        audience,
        ...(deps.evidence.checkpointDir === undefined ? {} : { checkpointDir: deps.evidence.checkpointDir }),
        ...(state === null ? {} : { triggers: state.triggers }),
        ...(controls === undefined ? {} : { controls }),
      });
      const file = `${id}-dossier-${audience}.${format}`;
      reply.header('cache-control', 'no-store').header('content-disposition', `attachment; filename="${file}"`);
      return format === 'html'
        ? reply.type('text/html; charset=utf-8').send(renderDossierHtml(signed))
        : reply.type('application/json').send(`${JSON.stringify(signed, null, 2)}\n`);
    } catch (error) {
      if (!(error instanceof DossierNotFoundError)) throw error;
      return pages.sendPage(
        reply.status(404),
        messagePage(pages.context(request), 'Application not found', 'error', 'There is no application with that id.'),
      );
    }
  });
}

export function signInLink(returnTo: string) {
  return html`<p><a class="button" href="/auth/login?returnTo=${encodeURIComponent(returnTo)}">Sign in with your identity provider</a></p>`;
}
