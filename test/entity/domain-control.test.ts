import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsResolver, createSafeFetcher } from '../../anchors';
import { checkDomainControl, checkHttpsChallenge, checkTxtChallenge, domainChallenge } from '../../entity/domain-control';
import type { LocalDns } from '../../stack/dnsmasq';
import { startHttps, type LocalServer } from '../anchors/fixtures/servers';
import { startTestDns } from '../support/dns';

const secret = randomBytes(32);
let dns: LocalDns;
let web: LocalServer;
beforeAll(async () => {
  dns = await startTestDns();
  web = await startHttps(['acme.test', 'nothing.test']);
});
afterAll(async () => {
  await dns.stop();
  await web.close();
});

describe('the challenge', () => {
  it('is the same for the same workflow, domain and round, and new for a new round or another secret', () => {
    const a = domainChallenge(secret, { workflowId: 'wf-1', domain: 'acme.test', round: 0 });
    expect(domainChallenge(secret, { workflowId: 'wf-1', domain: 'acme.test', round: 0 })).toEqual(a);
    expect(domainChallenge(secret, { workflowId: 'wf-1', domain: 'acme.test', round: 1 }).token).not.toBe(a.token);
    expect(domainChallenge(secret, { workflowId: 'wf-2', domain: 'acme.test', round: 0 }).token).not.toBe(a.token);
    expect(domainChallenge(randomBytes(32), { workflowId: 'wf-1', domain: 'acme.test', round: 0 }).token).not.toBe(a.token);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.txtName).toBe('_admit-challenge.acme.test');
    expect(a.httpUrl).toBe(`https://acme.test/.well-known/admit-challenge/${a.token}`);
    expect(a.keyAuthorization.startsWith(`${a.token}.`)).toBe(true);
    expect(a.txtValue).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('DNS TXT proof through a real DNS server', () => {
  const resolver = () => createDnsResolver({ server: dns.address });
  const c = domainChallenge(secret, { workflowId: 'wf-dns', domain: 'acme.test', round: 0 });

  it('is missing before the record exists', async () => {
    await dns.setRecords({});
    expect(await checkTxtChallenge(resolver(), c)).toMatchObject({ verified: false, reasons: [{ code: 'DNS_TXT_MISSING' }] });
  });

  it('proves control with the exact value among other TXT records', async () => {
    await dns.setRecords({
      txt: [
        { name: c.txtName, strings: ['v=spf1 -all'] },
        { name: c.txtName, strings: [c.txtValue] },
      ],
    });
    expect(await checkTxtChallenge(resolver(), c)).toMatchObject({ verified: true, method: 'dns-txt' });
  });

  it('joins the character-strings of one record without separators', async () => {
    await dns.setRecords({ txt: [{ name: c.txtName, strings: [c.txtValue.slice(0, 20), c.txtValue.slice(20)] }] });
    expect((await checkTxtChallenge(resolver(), c)).verified).toBe(true);
  });

  it.each([
    ['a value differing in case', (v: string) => (v.toLowerCase() === v ? v.toUpperCase() : v.toLowerCase())],
    ['a value with a trailing space', (v: string) => `${v} `],
    ['the token instead of the digest', () => c.token],
    ['another round’s value', () => domainChallenge(secret, { workflowId: 'wf-dns', domain: 'acme.test', round: 1 }).txtValue],
  ])('does not accept %s', async (_name, value) => {
    await dns.setRecords({ txt: [{ name: c.txtName, strings: [value(c.txtValue)] }] });
    expect(await checkTxtChallenge(resolver(), c)).toMatchObject({ verified: false, reasons: [{ code: 'DNS_TXT_MISMATCH' }] });
  });

  it('does not accept the value at another name', async () => {
    await dns.setRecords({
      txt: [
        { name: 'acme.test', strings: [c.txtValue] },
        { name: '_admit-challenge.other.test', strings: [c.txtValue] },
      ],
    });
    expect((await checkTxtChallenge(resolver(), c)).verified).toBe(false);
  });

  it('reports an unreachable resolver as a failed lookup, not as a missing record', async () => {
    const dead = createDnsResolver({ server: '127.0.0.1:9', timeoutMs: 200, tries: 1 });
    expect(await checkTxtChallenge(dead, c)).toMatchObject({ verified: false, reasons: [{ code: 'DNS_LOOKUP_FAILED' }] });
  });
});

describe('https proof at the well-known URL, through the SSRF-safe fetcher and the same resolver', () => {
  const c = domainChallenge(secret, { workflowId: 'wf-https', domain: 'acme.test', round: 0 });
  const path = `/.well-known/admit-challenge/${c.token}`;
  // The test server lives on loopback: only an allow-listed host:port reaches it.
  const fetcher = () => createSafeFetcher({ allow: [`acme.test:${web.port}`], ca: [web.ca!], resolver: createDnsResolver({ server: dns.address }) });

  beforeAll(async () => {
    await dns.setRecords({
      addresses: [
        { name: 'acme.test', address: '127.0.0.1' },
        { name: 'nothing.test', address: '127.0.0.1' },
      ],
    });
  });

  it('proves control when the URL serves the key authorization (trailing newline ignored)', async () => {
    web.routes.set(path, (_q, _b, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`${c.keyAuthorization}\n`));
    expect(await checkHttpsChallenge(fetcher(), c, web.port)).toMatchObject({ verified: true, method: 'https-well-known' });
    expect(web.hits.at(-1)).toBe(`GET ${path} host=acme.test:${web.port}`);
  });

  it('does not accept the token alone, or the key authorization with leading text', async () => {
    web.routes.set(path, (_q, _b, res) => res.writeHead(200).end(c.token));
    expect(await checkHttpsChallenge(fetcher(), c, web.port)).toMatchObject({ verified: false, reasons: [{ code: 'HTTPS_MISMATCH' }] });
    web.routes.set(path, (_q, _b, res) => res.writeHead(200).end(` ${c.keyAuthorization}`));
    expect((await checkHttpsChallenge(fetcher(), c, web.port)).verified).toBe(false);
  });

  it('does not follow a redirect to the proof elsewhere', async () => {
    web.routes.set(path, (_q, _b, res) => res.writeHead(302, { location: 'https://elsewhere.test/proof' }).end());
    expect(await checkHttpsChallenge(fetcher(), c, web.port)).toMatchObject({ verified: false, reasons: [{ code: 'HTTPS_FORBIDDEN' }] });
  });

  it('refuses to fetch when the domain resolves to loopback and is not allow-listed', async () => {
    web.routes.set(path, (_q, _b, res) => res.writeHead(200).end(c.keyAuthorization));
    const strict = createSafeFetcher({ ca: [web.ca!], resolver: createDnsResolver({ server: dns.address }) });
    const before = web.hits.length;
    expect(await checkHttpsChallenge(strict, c, web.port)).toMatchObject({ verified: false, reasons: [{ code: 'HTTPS_FORBIDDEN' }] });
    expect(web.hits.length).toBe(before);
  });

  it('tries DNS first, then https, and keeps both reasons', async () => {
    web.routes.set(path, (_q, _b, res) => res.writeHead(200).end(c.keyAuthorization));
    const result = await checkDomainControl({ resolver: createDnsResolver({ server: dns.address }), fetcher: fetcher(), httpsPort: web.port }, c);
    expect(result).toMatchObject({ verified: true, method: 'https-well-known' });
    expect(result.reasons.map((r) => r.code)).toEqual(['DNS_TXT_MISSING', 'HTTPS_MATCH']);
  });
});
