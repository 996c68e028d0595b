import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { anchorSubmissionSchema, type AnchorSubmission } from '../../domain/anchor-submission';
import { allowedAnchorKinds, ANCHOR_KINDS, type AnchorKind } from '../../domain/risk';
import type { FieldError } from '../../domain/signup';
import { requestAnchorChallengeUpdate, submitAnchorUpdate, type AnchorAttempt } from '../../workflows/messages';
import { readState, sendUpdate, type ApplicationState } from '../lifecycle-client';
import { APPLICATION_ID, readRegistryRecord } from '../registry-view';
import { partnerContactFor } from '../auth/session';
import { messagePage } from '../pages/layout';
import { ANCHOR_KIND_LABELS, anchorPage } from '../pages/anchor';
import type { FormValues } from '../pages/form';
import type { PagesContext } from './pages-context';

/** Multipart bodies carry a PEM chain of up to 64 KiB plus the form around it. */
export const ANCHOR_BODY_LIMIT = 256 * 1024;

type Params = { Params: { id: string } };

/** What to say when a required part of a submission is missing. */
const MISSING: Record<string, string> = {
  'x509.certificateChainPem': 'Upload or paste the certificate chain (PEM).',
  'jwk.assertion': 'Upload or paste the signed assertion.',
  'spiffe.spiffeId': 'Enter the SPIFFE ID.',
  'oidc.issuer': 'Enter the workload issuer’s https:// URL.',
  'oidc.subject': 'Enter the subject your workload’s tokens carry.',
  'oidc.token': 'Paste a current ID token from that issuer.',
};

/** A file field wins over its pasted twin; both arrive as text. */
function fieldText(values: FormValues, field: string): string | undefined {
  const file = values[`${field}File`];
  if (Buffer.isBuffer(file) && file.length > 0) return file.toString('utf8');
  const value = values[field];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The form as an AnchorSubmission, or the field errors that stop it reaching the verifier. */
export function submissionFromForm(values: FormValues): { ok: true; submission: AnchorSubmission } | { ok: false; errors: FieldError[] } {
  const kind = typeof values.kind === 'string' && (ANCHOR_KINDS as readonly string[]).includes(values.kind) ? (values.kind as AnchorKind) : undefined;
  if (kind === undefined) return { ok: false, errors: [{ field: 'kind', message: 'Choose a kind of trust anchor.' }] };
  const errors: FieldError[] = [];
  let candidate: Record<string, unknown>;
  switch (kind) {
    case 'x509':
      candidate = { kind, certificateChainPem: fieldText(values, 'x509.certificateChainPem') };
      break;
    case 'jwk': {
      const jwksText = fieldText(values, 'jwk.jwks');
      let jwks: unknown;
      if (jwksText !== undefined) {
        try {
          jwks = JSON.parse(jwksText);
        } catch {
          errors.push({ field: 'jwk.jwks', message: 'The public keys are not valid JSON; paste the JWK or JWKS document as published.' });
        }
      }
      candidate = { kind, jwks, jwksUrl: fieldText(values, 'jwk.jwksUrl'), assertion: fieldText(values, 'jwk.assertion') };
      break;
    }
    case 'spiffe':
      candidate = {
        kind,
        spiffeId: fieldText(values, 'spiffe.spiffeId'),
        svidPem: fieldText(values, 'spiffe.svidPem'),
        jwtSvid: fieldText(values, 'spiffe.jwtSvid'),
      };
      break;
    case 'oidc':
      candidate = {
        kind,
        issuer: fieldText(values, 'oidc.issuer'),
        subject: fieldText(values, 'oidc.subject'),
        token: fieldText(values, 'oidc.token'),
      };
      break;
  }
  const parsed = anchorSubmissionSchema.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = `${kind}.${String(issue.path[0] ?? '')}`;
      if (errors.some((e) => e.field === field)) continue;
      errors.push({ field, message: issue.code === 'invalid_type' ? (MISSING[field] ?? 'This is required.') : issue.message });
    }
  }
  return errors.length > 0 || !parsed.success ? { ok: false, errors } : { ok: true, submission: parsed.data };
}

export function registerAnchorRoutes(app: FastifyInstance, pages: PagesContext): void {
  const { deps } = pages;
  const configured = deps.anchorKinds ?? ANCHOR_KINDS;
  /** Kinds this deployment can verify (a trust store, SPIFFE bundles, OIDC issuers configured) that the tier allows. */
  const offeredKinds = (state: ApplicationState): AnchorKind[] => allowedAnchorKinds(state.tier).filter((kind) => configured.includes(kind));

  /** Only a browser in which a contact confirmed (proof of a named mailbox) may bind the application's anchor. */
  async function loadForPartner(request: FastifyRequest<Params>, reply: FastifyReply): Promise<{ state: ApplicationState; name: string } | null> {
    const { id } = request.params;
    const notFound = () => {
      void pages.sendPage(
        reply.status(404),
        messagePage(pages.context(request), 'Application not found', 'error', 'There is no application with that id.'),
      );
      return null;
    };
    if (!APPLICATION_ID.test(id)) return notFound();
    if (partnerContactFor(request, id) === undefined) {
      void pages.sendPage(
        reply.status(403),
        messagePage(
          pages.context(request),
          'Open this page from your confirmation',
          'error',
          'Only a browser in which one of this application’s contacts confirmed may submit its trust anchor. Open your confirmation link in this browser.',
        ),
      );
      return null;
    }
    const [state, record] = await Promise.all([readState(deps.temporal, id), readRegistryRecord(deps.registry, id)]);
    if (state === null) return notFound();
    return { state, name: record?.application.name ?? id };
  }

  const render = (
    request: FastifyRequest<Params>,
    reply: FastifyReply,
    loaded: { state: ApplicationState; name: string },
    values: FormValues,
    errors: FieldError[],
    result: AnchorAttempt | null,
  ) =>
    pages.sendPage(
      reply,
      anchorPage(pages.context(request), {
        applicationId: request.params.id,
        applicationName: loaded.name,
        state: loaded.state,
        allowedKinds: offeredKinds(loaded.state),
        values,
        errors,
        result,
        statusPath: pages.statusPath(request.params.id),
      }),
    );

  app.get<Params>('/applications/:id/anchor', async (request, reply) => {
    const loaded = await loadForPartner(request, reply);
    if (loaded === null) return reply;
    return render(request, reply, loaded, {}, [], null);
  });

  app.post<Params>('/applications/:id/anchor/challenge', { onRequest: pages.deps.rateBudget('anchor') }, async (request, reply) => {
    const loaded = await loadForPartner(request, reply);
    if (loaded === null) return reply;
    const outcome = await sendUpdate(deps.temporal, request.params.id, requestAnchorChallengeUpdate, []);
    if (!outcome.ok) {
      return render(request, reply.status(409), loaded, {}, [{ field: 'challenge', message: outcome.message }], null);
    }
    return reply.redirect(`${pages.anchorPath(request.params.id)}#kind-jwk`, 303);
  });

  app.get<Params>('/applications/:id/anchor/challenge.json', async (request, reply) => {
    const loaded = await loadForPartner(request, reply);
    if (loaded === null) return reply;
    if (loaded.state.challenge === null) {
      return pages.sendPage(
        reply.status(404),
        messagePage(pages.context(request), 'No challenge yet', 'warning', 'Ask for a challenge on the trust-anchor page first.'),
      );
    }
    return reply
      .header('content-disposition', 'attachment; filename="admit-challenge.json"')
      .header('cache-control', 'no-store')
      .type('application/json')
      .send(JSON.stringify(loaded.state.challenge, null, 2));
  });

  app.post<Params>(
    '/applications/:id/anchor',
    { bodyLimit: ANCHOR_BODY_LIMIT, onRequest: pages.deps.rateBudget('anchor') },
    async (request, reply) => {
      const loaded = await loadForPartner(request, reply);
      if (loaded === null) return reply;
      const values = (request.body ?? {}) as FormValues;
      // Pasted text is echoed back on error; uploaded files are not (they arrive as buffers).
      const echoed = Object.fromEntries(Object.entries(values).filter(([, value]) => typeof value === 'string'));
      const parsed = submissionFromForm(values);
      if (!parsed.ok) return render(request, reply.status(400), loaded, echoed, parsed.errors, null);
      // Refused here, before the workflow counts it as a submission: a kind nobody here can verify, or the tier does not allow.
      const offered = offeredKinds(loaded.state);
      if (!offered.includes(parsed.submission.kind)) {
        const why = configured.includes(parsed.submission.kind)
          ? 'is not accepted for this application’s risk tier'
          : 'cannot be verified by this service (it is not configured here)';
        return render(
          request,
          reply.status(400),
          loaded,
          echoed,
          [
            {
              field: 'kind',
              message: `${ANCHOR_KIND_LABELS[parsed.submission.kind]} ${why}; use one of: ${offered.map((k) => ANCHOR_KIND_LABELS[k]).join(', ')}. This did not count as a submission.`,
            },
          ],
          null,
        );
      }
      const outcome = await sendUpdate(deps.temporal, request.params.id, submitAnchorUpdate, [parsed.submission]);
      if (!outcome.ok) {
        return render(request, reply.status(409), loaded, echoed, [{ field: 'kind', message: outcome.message }], null);
      }
      const state = (await readState(deps.temporal, request.params.id)) ?? loaded.state;
      return render(request, reply.status(outcome.result.ok ? 200 : 422), { ...loaded, state }, outcome.result.ok ? {} : echoed, [], outcome.result);
    },
  );
}
