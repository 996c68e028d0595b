import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnchorFetchError, createSafeFetcher, isForbiddenAddress, verifyX509 } from '../../anchors/index';
import { AT, hierarchy, makeCrl, makeOcsp } from './fixtures/index';
import { bytes, json, startHttp, startHttps } from './fixtures/servers';
import type { LocalServer } from './fixtures/servers';

describe('address rules', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.100.100.200',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '224.0.0.1',
    'not-an-ip',
  ])('refuses %s', (a) => expect(isForbiddenAddress(a)).toBe(true));
  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111'])('allows %s', (a) => expect(isForbiddenAddress(a)).toBe(false));
});

async function refusal(p: Promise<unknown>): Promise<AnchorFetchError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AnchorFetchError);
  return err as AnchorFetchError;
}

describe('safe fetcher', () => {
  let tls: LocalServer;
  let plain: LocalServer;
  beforeAll(async () => {
    tls = await startHttps(['jwks.partner.test']);
    plain = await startHttp();
    tls.routes.set('/jwks', json({ keys: [] }));
    plain.routes.set('/jwks', json({ keys: [] }));
  });
  afterAll(async () => {
    await tls.close();
    await plain.close();
  });

  it('connects to the checked address it resolved, sending the original Host', async () => {
    const fetcher = createSafeFetcher({
      allow: [`jwks.partner.test:${tls.port}`],
      ca: [tls.ca!],
      resolve: () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]),
    });
    const { body } = await fetcher.fetch(`https://jwks.partner.test:${tls.port}/jwks`);
    expect(JSON.parse(body.toString())).toEqual({ keys: [] });
    expect(tls.hits.at(-1)).toBe(`GET /jwks host=jwks.partner.test:${tls.port}`);
  });

  it('caches GET responses by URL', async () => {
    const fetcher = createSafeFetcher({ allow: [tls.hostPort], ca: [tls.ca!] });
    const before = tls.hits.length;
    await fetcher.fetch(`${tls.origin}/jwks`);
    await fetcher.fetch(`${tls.origin}/jwks`);
    expect(tls.hits.length - before).toBe(1);
  });

  const hostile: [string, string, boolean, () => Promise<unknown>][] = [
    ['http without allow-listing', 'URL_FORBIDDEN', false, () => createSafeFetcher().fetch('http://example.com/jwks')],
    ['file: URL', 'URL_FORBIDDEN', false, () => createSafeFetcher().fetch('file:///etc/passwd')],
    ['credentials in the URL', 'URL_FORBIDDEN', false, () => createSafeFetcher().fetch('https://user:pw@example.com/jwks')],
    ['loopback literal', 'URL_FORBIDDEN', false, () => createSafeFetcher().fetch(`${tls.origin}/jwks`)],
    ['cloud metadata address', 'URL_FORBIDDEN', false, () => createSafeFetcher().fetch('https://169.254.169.254/latest/meta-data/')],
    [
      'a public name that resolves to a private address (DNS rebinding)',
      'URL_FORBIDDEN',
      false,
      () => createSafeFetcher({ resolve: () => Promise.resolve([{ address: '10.0.0.5', family: 4 }]) }).fetch('https://jwks.partner.example/jwks'),
    ],
    [
      'a name with one public and one loopback answer',
      'URL_FORBIDDEN',
      false,
      () =>
        createSafeFetcher({
          resolve: () =>
            Promise.resolve([
              { address: '93.184.216.34', family: 4 },
              { address: '127.0.0.1', family: 4 },
            ]),
        }).fetch('https://jwks.partner.example/jwks'),
    ],
    ['IPv4-mapped IPv6 loopback', 'URL_FORBIDDEN', false, () => createSafeFetcher().fetch('https://[::ffff:127.0.0.1]/jwks')],
    [
      'redirect',
      'URL_FORBIDDEN',
      false,
      () => {
        tls.routes.set('/moved', (_q, _b, res) => res.writeHead(301, { location: '/jwks' }).end());
        return createSafeFetcher({ allow: [tls.hostPort], ca: [tls.ca!] }).fetch(`${tls.origin}/moved`);
      },
    ],
    [
      'declared oversized body',
      'URL_RESPONSE_TOO_LARGE',
      false,
      () => {
        tls.routes.set('/huge', (_q, _b, res) => res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) }).end());
        return createSafeFetcher({ allow: [tls.hostPort], ca: [tls.ca!] }).fetch(`${tls.origin}/huge`);
      },
    ],
    [
      'streamed oversized body',
      'URL_RESPONSE_TOO_LARGE',
      false,
      () => {
        tls.routes.set('/stream', (_q, _b, res) => {
          res.writeHead(200);
          res.end(Buffer.alloc(64 * 1024));
        });
        return createSafeFetcher({ allow: [tls.hostPort], ca: [tls.ca!], maxBytes: 1024 }).fetch(`${tls.origin}/stream`);
      },
    ],
    [
      '404 is not retried',
      'URL_FETCH_FAILED',
      false,
      () => createSafeFetcher({ allow: [tls.hostPort], ca: [tls.ca!] }).fetch(`${tls.origin}/missing`),
    ],
    [
      'a server that never answers times out (retryable)',
      'URL_FETCH_FAILED',
      true,
      () => {
        tls.routes.set('/slow', () => undefined);
        return createSafeFetcher({ allow: [tls.hostPort], ca: [tls.ca!], timeoutMs: 200 }).fetch(`${tls.origin}/slow`);
      },
    ],
    [
      'a certificate the fetcher does not trust (retryable: may be a transient interception)',
      'URL_FETCH_FAILED',
      true,
      () => createSafeFetcher({ allow: [tls.hostPort] }).fetch(`${tls.origin}/jwks`),
    ],
  ];
  it.each(hostile)('%s → %s', async (_name, code, retryable, run) => {
    const err = await refusal(run());
    expect(err.code).toBe(code);
    expect(err.retryable).toBe(retryable);
  });
});

describe('online revocation through the safe fetcher', () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await startHttp();
  });
  afterAll(() => server.close());

  async function chain(path: string, serial: string, kind: 'crl' | 'ocsp') {
    const url = `${server.origin}${path}`;
    const h = await hierarchy({ serial, ...(kind === 'crl' ? { crlUrl: url } : { ocspUrl: url }) });
    const fetcher = createSafeFetcher({ allow: [server.hostPort] });
    return { h, fetcher, input: { chain: h.leaf.pem + h.intermediate.pem, trustStore: [h.root.pem], at: AT, fetcher } };
  }

  it('accepts when the distribution point CRL does not list the leaf', async () => {
    const { h, input } = await chain('/good.crl', '5001', 'crl');
    server.routes.set('/good.crl', bytes(await makeCrl(h.intermediate, [{ serial: '9999' }])));
    const r = await verifyX509(input);
    expect(r.reasons).toEqual([]);
  });

  it('refuses a leaf listed on the fetched CRL → CERT_REVOKED', async () => {
    const { h, input } = await chain('/bad.crl', '5002', 'crl');
    server.routes.set('/bad.crl', bytes(await makeCrl(h.intermediate, [{ serial: '5002' }])));
    const r = await verifyX509(input);
    expect(r.reasons[0]?.code).toBe('CERT_REVOKED');
  });

  it('refuses when the distribution point serves another issuer CRL → CRL_ISSUER_MISMATCH (fail closed)', async () => {
    const { h, input } = await chain('/other.crl', '5003', 'crl');
    server.routes.set('/other.crl', bytes(await makeCrl(h.root, [])));
    const r = await verifyX509(input);
    expect(r.reasons[0]?.code).toBe('CRL_ISSUER_MISMATCH');
  });

  it('accepts a good answer from the AIA OCSP responder, which received a POST', async () => {
    const { h, input } = await chain('/ocsp-good', '5004', 'ocsp');
    server.routes.set('/ocsp-good', (req, body, res) => {
      expect(req.method).toBe('POST');
      expect(body.length).toBeGreaterThan(20);
      void makeOcsp(h.leaf, h.intermediate).then((der) => res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(der));
    });
    const r = await verifyX509(input);
    expect(r.reasons).toEqual([]);
    expect((r.details?.revocation as { status: string }[])[0]?.status).toBe('good');
  });

  it('refuses a revoked answer from the AIA OCSP responder → CERT_REVOKED', async () => {
    const { h, input } = await chain('/ocsp-revoked', '5005', 'ocsp');
    server.routes.set('/ocsp-revoked', (_req, _body, res) => {
      void makeOcsp(h.leaf, h.intermediate, { status: 'revoked' }).then((der) => res.writeHead(200).end(der));
    });
    const r = await verifyX509(input);
    expect(r.reasons[0]?.code).toBe('CERT_REVOKED');
  });

  it('an unreachable distribution point is a retryable error, not a refusal', async () => {
    const { input } = await chain('/down.crl', '5006', 'crl');
    server.routes.set('/down.crl', (_q, _b, res) => res.writeHead(503).end());
    const err = await refusal(verifyX509(input));
    expect(err.retryable).toBe(true);
  });
});
