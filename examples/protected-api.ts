import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

/**
 * An example API a partner calls with an Admit access token. It holds no
 * policy of its own: for every request it asks Admit's decision point
 * (POST /decisions, with its gateway token) whether this token, presented
 * with this certificate or DPoP proof, may use the scope here and now —
 * which checks the token, its `cnf` binding and the grant's conditions.
 *
 *   GET /accounts  → scope accounts:read
 *
 * With `tls`, it listens on HTTPS and asks for client certificates (for
 * certificate-bound tokens, RFC 8705); otherwise plain HTTP with DPoP.
 */

export interface ProtectedApiOptions {
  /** Admit's base URL (its /decisions). */
  admitUrl: string;
  /** This API's gateway token (one of ADMIT_GATEWAY_TOKENS). */
  gatewayToken: string;
  /** The environment this API serves (checked against the grant's conditions). */
  environment: string;
  port?: number;
  host?: string;
  tls?: { certPem: string; keyPem: string; clientCas?: string[] };
}

export interface ProtectedApi {
  url: string;
  close(): Promise<void>;
}

const ROUTES: Record<string, { method: string; scope: string; body: unknown }> = {
  '/accounts': { method: 'GET', scope: 'accounts:read', body: { accounts: [{ id: 'acc-1', balance: { value: 1200.5, currency: 'EUR' } }] } },
};

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

export async function startProtectedApi(options: ProtectedApiOptions): Promise<ProtectedApi> {
  let baseUrl = '';
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = ROUTES[path];
    if (route === undefined || route.method !== req.method) return send(res, 404, { error: 'not_found' });
    const authorization = req.headers.authorization ?? '';
    const match = /^(DPoP|Bearer) ([A-Za-z0-9._~+/=-]+)$/.exec(authorization);
    if (match === null) return send(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'DPoP algs="ES256 PS256 EdDSA", Bearer' });
    const [, scheme, accessToken] = match as unknown as [string, string, string];
    const socket = req.socket as Partial<TLSSocket>;
    const cert = socket.encrypted === true ? socket.getPeerX509Certificate?.() : undefined;
    const proof = req.headers.dpop;
    const question: Record<string, unknown> = { accessToken, scope: route.scope, environment: options.environment };
    if (scheme === 'DPoP') {
      if (typeof proof !== 'string')
        return send(res, 401, { error: 'invalid_dpop_proof' }, { 'www-authenticate': 'DPoP error="invalid_dpop_proof"' });
      question.dpop = { proof, htm: req.method, htu: `${baseUrl}${path}` };
    } else if (cert !== undefined) {
      question.certificateThumbprint = createHash('sha256').update(cert.raw).digest('base64url');
    } else {
      return send(res, 401, { error: 'invalid_token', error_description: 'sender-constrained tokens only' });
    }
    const decision = await fetch(new URL('/decisions', options.admitUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${options.gatewayToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(question),
    });
    if (!decision.ok) return send(res, 503, { error: 'decision_point_unavailable' });
    const verdict = (await decision.json()) as { allow: boolean; reasons: { code: string; message: string }[] };
    if (!verdict.allow) return send(res, 403, { error: 'access_denied', reasons: verdict.reasons.map((r) => r.code) });
    return send(res, 200, route.body);
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => send(res, 500, { error: 'server_error' }));
  };
  const server =
    options.tls === undefined
      ? createHttpServer(listener)
      : createHttpsServer(
          {
            cert: options.tls.certPem,
            key: options.tls.keyPem,
            requestCert: true,
            rejectUnauthorized: false,
            ...(options.tls.clientCas === undefined ? {} : { ca: options.tls.clientCas }),
          },
          listener,
        );
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
  return {
    url: baseUrl,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
