import { z } from 'zod';
import { signupSchema } from '../domain/signup';
import { PORTFOLIO_VIEWS } from '../evidence/portfolio';
import { DECISION_REQUEST_SCHEMA, DECISION_RESPONSE_SCHEMA } from './decision-route';

/**
 * The OpenAPI 3.1 document served at /openapi.json. Written by hand next to
 * the routes (a test checks every registered route appears here); the signup
 * body's schema is generated from the same zod schema that validates it.
 */
const problem = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: problem } } });
const htmlResponse = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });
const redirect = (description: string) => ({ description, headers: { location: { schema: { type: 'string' } } } });
const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^app-[a-z0-9]{20}-[a-z0-9-]{2,80}-(sandbox|production)$' },
};
const tokenParam = {
  name: 'token',
  in: 'path',
  required: true,
  description: 'The signed token from the emailed link.',
  schema: { type: 'string', maxLength: 4096 },
};

/** A form endpoint: urlencoded (or multipart) with the session's CSRF token; answers HTML. */
const form = (summary: string, fields: Record<string, unknown>, required: string[], responses: Record<string, unknown>, multipart = false) => {
  const schema = {
    type: 'object',
    properties: { _csrf: { type: 'string', description: 'The session’s CSRF token (from the page’s form).' }, ...fields },
    required: ['_csrf', ...required],
  };
  return {
    summary,
    tags: ['pages'],
    security: [{ session: [] }],
    requestBody: {
      required: true,
      content: multipart ? { 'multipart/form-data': { schema } } : { 'application/x-www-form-urlencoded': { schema } },
    },
    responses: {
      ...responses,
      '403': htmlResponse('The CSRF token is missing or does not match, or the session may not do this.'),
      '413': problemResponse('The body is too large.'),
    },
  };
};
const page = (summary: string, extra: Record<string, unknown> = {}) => ({
  summary,
  tags: ['pages'],
  responses: { '200': htmlResponse(summary) },
  ...extra,
});
const text = { type: 'string' };

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'Admit',
    version: '0.1.0',
    description: 'Identity admission for API partners. Errors are RFC 9457 problem documents (HTML for browsers that prefer it).',
  },
  tags: [
    { name: 'api', description: 'JSON API' },
    { name: 'pages', description: 'Server-rendered pages and their forms' },
    { name: 'auth', description: 'Approver sign-in' },
    { name: 'development', description: 'Only outside production' },
    { name: 'evidence', description: 'Evidence keys and checkpoints (docs/evidence.md)' },
  ],
  paths: {
    '/healthz': {
      get: {
        summary: 'Liveness',
        tags: ['api'],
        responses: {
          '200': {
            description: 'The service is up.',
            content: { 'application/json': { schema: { type: 'object', properties: { ok: { type: 'boolean' } } } } },
          },
        },
      },
    },
    '/readyz': {
      get: {
        summary: 'Readiness: Temporal and the registry answer (not SMTP, the worker’s); 503 while the service drains',
        tags: ['api'],
        responses: {
          '200': {
            description: 'Ready.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { ready: { type: 'boolean' }, checks: { type: 'object', additionalProperties: { type: 'string' } } },
                },
              },
            },
          },
          '503': { description: 'A dependency is unavailable (`checks` names it), or the service is shutting down.' },
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics (bearer ADMIT_METRICS_TOKEN when configured)',
        tags: ['api'],
        responses: {
          '200': { description: 'Prometheus text exposition format', content: { 'text/plain': {} } },
          '401': { description: 'Token missing or wrong' },
        },
      },
    },
    '/.well-known/admit-evidence-keys': {
      get: {
        summary: 'The evidence key set: every key of the ring, newest first (docs/evidence.md)',
        tags: ['evidence'],
        responses: { '200': { description: 'JWKS', content: { 'application/jwk-set+json': {} } }, '404': problemResponse('No evidence keys here.') },
      },
    },
    '/.well-known/admit-evidence-checkpoint': {
      get: {
        summary: 'The latest signed checkpoint over every audit chain (without its leaves)',
        tags: ['evidence'],
        responses: {
          '200': { description: 'The checkpoint: seq, createdAt, treeSize, rootHash, kid and its JWS', content: { 'application/json': {} } },
          '404': problemResponse('No checkpoint yet.'),
        },
      },
    },
    '/openapi.json': {
      get: { summary: 'This document', tags: ['api'], responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': {} } } } },
    },
    '/signup': {
      post: {
        summary: 'Apply for API access; starts (or joins) the application’s lifecycle',
        tags: ['api'],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: z.toJSONSchema(signupSchema, { io: 'input', unrepresentable: 'any' }) } },
        },
        responses: {
          '202': {
            description: 'Accepted; the lifecycle runs.',
            headers: { location: { schema: text } },
            content: { 'application/json': { schema: { type: 'object', properties: { applicationId: text, workflowId: text, status: text } } } },
          },
          '400': problemResponse('Invalid signup; `errors` lists each field. Nothing was recorded.'),
          '409': problemResponse('This application’s admission has ended.'),
          '413': problemResponse('The body is over 64 KiB.'),
          '415': problemResponse('Not JSON.'),
          '429': problemResponse('Too many signups from this address.'),
        },
      },
    },
    '/usage': {
      post: {
        summary: 'A gateway’s batch of usage reports (calls, denials, errors, anomalies)',
        tags: ['api'],
        security: [{ gateway: [] }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { type: 'object', required: ['reports'], properties: { reports: { type: 'array', items: { type: 'object' } } } },
            },
          },
        },
        responses: {
          '200': {
            description: 'Recorded, all of them.',
            content: { 'application/json': { schema: { type: 'object', properties: { accepted: { type: 'integer' }, source: text } } } },
          },
          '400': problemResponse('Some reports are invalid (`errors` per row); nothing recorded.'),
          '401': problemResponse('No or unknown gateway token.'),
          '413': problemResponse('The batch is too large.'),
        },
      },
    },
    '/decisions': {
      post: {
        summary: 'Request-time decision for a gateway: may this client, with this anchor, use this scope here and now?',
        tags: ['api'],
        security: [{ gateway: [] }],
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: DECISION_REQUEST_SCHEMA },
          },
        },
        responses: {
          '200': {
            description: 'The decision (default deny), with reasons.',
            content: {
              'application/json': {
                schema: DECISION_RESPONSE_SCHEMA,
              },
            },
          },
          '400': problemResponse('The request has errors (`errors` per field).'),
          '401': problemResponse('No or unknown gateway token.'),
        },
      },
    },
    '/applications/{id}': {
      get: {
        summary: 'An application’s public status: its stage and what it waits for, in general terms',
        description:
          'Anyone who knows an id may ask, so the answer names no one: no organisation or application details, contacts, requester emails, approvers or comments. The full view is the status page, for a browser in which one of the application’s contacts confirmed, or a signed-in approver.',
        tags: ['api'],
        parameters: [idParam],
        responses: {
          '200': {
            description: 'The public status.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['applicationId', 'workflow'],
                  additionalProperties: false,
                  properties: {
                    applicationId: text,
                    workflow: {
                      type: 'object',
                      required: ['status', 'stage', 'waitingFor'],
                      additionalProperties: false,
                      properties: { status: text, stage: { type: ['string', 'null'] }, waitingFor: { type: ['string', 'null'] } },
                    },
                  },
                },
              },
            },
          },
          '404': problemResponse('No such application.'),
          '429': problemResponse('Too many requests from this address.'),
        },
      },
    },
    '/assets/admit.css': {
      get: { summary: 'The stylesheet', tags: ['pages'], responses: { '200': { description: 'CSS', content: { 'text/css': {} } } } },
    },
    '/': { get: page('Home') },
    '/apply': {
      get: page('The signup form'),
      post: form('Submit the signup form', { 'organisation.legalName': text, 'application.requestedScopes': { type: 'array', items: text } }, [], {
        '303': redirect('Submitted; to the status page.'),
        '400': htmlResponse('The form with an error summary; nothing recorded.'),
        '429': problemResponse('Too many signups from this address.'),
      }),
    },
    '/confirm/{token}': {
      get: {
        ...page('Contact confirmation landing page'),
        parameters: [tokenParam],
        responses: {
          '200': htmlResponse('What is being confirmed, with a button.'),
          '400': htmlResponse('Invalid link.'),
          '409': htmlResponse('Already used.'),
          '410': htmlResponse('Expired.'),
          '429': problemResponse('Too many attempts.'),
        },
      },
      post: {
        ...form('Confirm the contact', {}, [], {
          '200': htmlResponse('Confirmed.'),
          '400': htmlResponse('Invalid link.'),
          '409': htmlResponse('Already used, or refused by the workflow.'),
          '410': htmlResponse('Expired.'),
          '429': problemResponse('Too many attempts.'),
        }),
        parameters: [tokenParam],
      },
    },
    '/applications/{id}/status': {
      get: {
        ...page('Status page: the full view for a confirmed contact’s browser or a signed-in approver; the stage alone for anyone else'),
        parameters: [idParam],
      },
    },
    '/applications/{id}/expansions': {
      post: {
        ...form('Ask for more scopes (a confirmed contact’s browser)', { scopes: { type: 'array', items: text } }, ['scopes'], {
          '303': redirect('Recorded.'),
          '400': htmlResponse('Refused, with the reason.'),
        }),
        parameters: [idParam],
      },
    },
    '/applications/{id}/anchor': {
      get: { ...page('The trust-anchor page'), parameters: [idParam] },
      post: {
        ...form(
          'Submit a trust anchor (a confirmed contact’s browser)',
          {
            kind: { enum: ['x509', 'jwk', 'spiffe', 'oidc'] },
            'x509.certificateChainPem': text,
            'x509.certificateChainPemFile': { type: 'string', format: 'binary' },
            'jwk.jwks': text,
            'jwk.jwksUrl': text,
            'jwk.assertion': text,
          },
          ['kind'],
          {
            '200': htmlResponse('Verified.'),
            '400': htmlResponse('Field errors.'),
            '409': htmlResponse('Refused by the workflow.'),
            '422': htmlResponse('Refused by the verifier, with its reasons.'),
          },
          true,
        ),
        parameters: [idParam],
      },
    },
    '/applications/{id}/anchor/challenge': {
      post: {
        ...form('Ask for a proof-of-possession challenge', {}, [], { '303': redirect('Issued; back to the anchor page.') }),
        parameters: [idParam],
      },
    },
    '/applications/{id}/anchor/challenge.json': {
      get: {
        summary: 'Download the current challenge',
        tags: ['pages'],
        parameters: [idParam],
        responses: {
          '200': { description: 'The challenge (nonce, audience, issuedAt, expiresAt).', content: { 'application/json': {} } },
          '404': htmlResponse('No challenge yet.'),
        },
      },
    },
    '/console': {
      get: {
        ...page('The approver console: queue and admitted partners'),
        security: [{ session: [] }],
        responses: { '200': htmlResponse('Queue.'), '401': htmlResponse('Not signed in.'), '403': htmlResponse('No approver role.') },
      },
    },
    '/console/portfolio': {
      get: {
        ...page('The security team’s portfolio views'),
        security: [{ session: [] }],
        responses: { '200': htmlResponse('The list of views.'), '401': htmlResponse('Not signed in.'), '403': htmlResponse('No approver role.') },
      },
    },
    '/console/portfolio/{view}': {
      get: {
        summary: 'One portfolio view as a table (HTML), or as CSV when the view name ends in .csv',
        tags: ['pages'],
        security: [{ session: [] }],
        parameters: [
          {
            name: 'view',
            in: 'path',
            required: true,
            schema: { type: 'string', pattern: `^(${PORTFOLIO_VIEWS.join('|')})(\\.csv)?$` },
          },
          {
            name: 'days',
            in: 'query',
            required: false,
            description: 'N, for the views that take one.',
            schema: { type: 'integer', minimum: 0, maximum: 3650 },
          },
        ],
        responses: {
          '200': {
            description: 'The view.',
            content: { 'text/html': { schema: { type: 'string' } }, 'text/csv': { schema: { type: 'string' } } },
          },
          '400': htmlResponse('N is not a whole number of days from 0 to 3650.'),
          '401': htmlResponse('Not signed in.'),
          '403': htmlResponse('No approver role.'),
          '404': htmlResponse('No such view.'),
        },
      },
    },
    '/console/applications/{id}': { get: { ...page('One application’s evidence and decision'), parameters: [idParam], security: [{ session: [] }] } },
    '/console/applications/{id}/dossier': {
      get: {
        summary: 'Download the signed admission dossier (docs/evidence.md)',
        tags: ['pages'],
        security: [{ session: [] }],
        parameters: [
          idParam,
          { name: 'audience', in: 'query', schema: { enum: ['full', 'partner'] } },
          { name: 'format', in: 'query', schema: { enum: ['json', 'html'] } },
        ],
        responses: {
          '200': { description: 'The dossier, as an attachment', content: { 'application/json': {}, 'text/html': {} } },
          '400': htmlResponse('Unknown audience or format.'),
          '401': htmlResponse('Not signed in.'),
          '404': htmlResponse('No such application.'),
        },
      },
    },
    '/console/applications/{id}/vote': {
      post: {
        ...form('Approve or reject', { decision: { enum: ['approve', 'reject'] }, comment: text }, ['decision'], {
          '303': redirect('Recorded.'),
          '401': htmlResponse('Not signed in.'),
          '409': htmlResponse('Refused by the workflow (separation of duties, already voted, stage closed…), with its reason.'),
        }),
        parameters: [idParam],
      },
    },
    '/console/applications/{id}/offboard': {
      post: {
        ...form('Offboard an admitted partner', { reason: text }, ['reason'], {
          '303': redirect('Offboarding.'),
          '401': htmlResponse('Not signed in.'),
          '409': htmlResponse('Refused by the workflow.'),
        }),
        parameters: [idParam],
      },
    },
    '/console/applications/{id}/key-compromise': {
      post: {
        ...form('Record a key compromise', { detail: text }, ['detail'], {
          '303': redirect('Recorded.'),
          '401': htmlResponse('Not signed in.'),
          '409': htmlResponse('Refused by the workflow.'),
        }),
        parameters: [idParam],
      },
    },
    '/auth/login': {
      get: {
        summary: 'Start OpenID Connect sign-in (code flow with PKCE)',
        tags: ['auth'],
        parameters: [{ name: 'returnTo', in: 'query', schema: text }],
        responses: {
          '303': redirect('To the issuer’s authorization endpoint.'),
          '503': htmlResponse('The identity provider cannot be reached; try again later.'),
        },
      },
    },
    '/auth/callback': {
      get: {
        summary: 'OpenID Connect redirect URI',
        tags: ['auth'],
        parameters: [
          { name: 'code', in: 'query', schema: text },
          { name: 'state', in: 'query', schema: text },
        ],
        responses: {
          '303': redirect('Signed in.'),
          '401': htmlResponse('Sign-in failed, with why.'),
          '503': htmlResponse('The identity provider cannot be reached; try again later.'),
        },
      },
    },
    '/auth/logout': { post: form('Sign out', {}, [], { '303': redirect('Signed out.') }) },
    '/dev-idp/.well-known/openid-configuration': {
      get: {
        summary: 'Development identity provider: discovery',
        tags: ['development'],
        responses: { '200': { description: 'OpenID Provider metadata', content: { 'application/json': {} } } },
      },
    },
    '/dev-idp/jwks': {
      get: {
        summary: 'Development identity provider: signing keys',
        tags: ['development'],
        responses: { '200': { description: 'JWKS', content: { 'application/json': {} } } },
      },
    },
    '/dev-idp/authorize': {
      get: {
        summary: 'Development identity provider: choose a seeded approver',
        tags: ['development'],
        responses: { '200': htmlResponse('Sign-in page.'), '400': problemResponse('Invalid authorization request.') },
      },
      post: {
        ...form('Development identity provider: sign in as the chosen approver', { account: text }, ['account'], {
          '303': redirect('Back to the redirect URI with a code.'),
        }),
        tags: ['development'],
      },
    },
    '/dev-idp/token': {
      post: {
        summary: 'Development identity provider: token endpoint (authorization_code + PKCE)',
        tags: ['development'],
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': {
              schema: { type: 'object', properties: { grant_type: text, code: text, redirect_uri: text, code_verifier: text, client_id: text } },
            },
          },
        },
        responses: {
          '200': { description: 'Tokens, including the ID token.', content: { 'application/json': {} } },
          '400': { description: 'OAuth error.' },
          '401': { description: 'Client authentication failed.' },
        },
      },
    },
    '/dev/outbox': { get: { ...page('Development outbox: messages the SMTP sink received'), tags: ['development'] } },
    '/dev/outbox/{id}': {
      get: { ...page('One received message'), tags: ['development'], parameters: [{ name: 'id', in: 'path', required: true, schema: text }] },
    },
  },
  components: {
    securitySchemes: {
      gateway: { type: 'http', scheme: 'bearer', description: 'A gateway token from ADMIT_GATEWAY_TOKENS.' },
      session: { type: 'apiKey', in: 'cookie', name: 'admit-session', description: 'Encrypted session cookie (`__Host-admit-session` over HTTPS).' },
    },
    schemas: {
      Problem: {
        type: 'object',
        description: 'RFC 9457 problem details',
        required: ['type', 'title', 'status'],
        properties: {
          type: text,
          title: text,
          status: { type: 'integer' },
          detail: text,
          instance: text,
          errors: { type: 'array', items: { type: 'object', required: ['field', 'message'], properties: { field: text, message: text } } },
        },
      },
    },
  },
} as const;

/**
 * The document a service serves: in production, without the operations tagged
 * `development` (the development identity provider, the outbox), which are
 * not registered there.
 */
export function openApiDocumentFor(options: { production: boolean }): typeof OPENAPI_DOCUMENT {
  if (!options.production) return OPENAPI_DOCUMENT;
  const isDevelopment = (operations: object) =>
    Object.values(operations).every((operation: { tags?: readonly string[] }) => operation.tags?.includes('development') === true);
  const paths = Object.fromEntries(Object.entries(OPENAPI_DOCUMENT.paths).filter(([, operations]) => !isDevelopment(operations)));
  return { ...OPENAPI_DOCUMENT, paths } as typeof OPENAPI_DOCUMENT;
}
