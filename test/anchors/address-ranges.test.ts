import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnchorFetchError, createDnsResolver, createSafeFetcher, isForbiddenAddress, parseResolverAddress } from '../../anchors/index';
import type { LocalDns } from '../../stack/dnsmasq';
import { json, startHttps, type LocalServer } from './fixtures/servers';
import { startTestDns } from '../support/dns';

describe('address ranges (ipaddr.js), one case per range', () => {
  it.each([
    // ::/96 — the unspecified and loopback addresses and the deprecated IPv4-compatible block, whatever IPv4 it embeds.
    ['::/96 embedding loopback', '::7f00:1', true],
    ['::/96 embedding a private address', '::a00:1', true],
    ['::/96 embedding a public address', '::808:808', true],
    // 2002::/16 — 6to4: judged by the IPv4 address in bits 16–47.
    ['6to4 of loopback', '2002:7f00:1::1', true],
    ['6to4 of 10/8', '2002:a00:5::', true],
    ['6to4 of cloud metadata', '2002:a9fe:a9fe::', true],
    ['6to4 of a public address', '2002:808:808::1', false],
    // 64:ff9b::/96 — NAT64 well-known prefix: judged by the IPv4 address in the last 32 bits.
    ['NAT64 of loopback', '64:ff9b::7f00:1', true],
    ['NAT64 of cloud metadata', '64:ff9b::a9fe:a9fe', true],
    ['NAT64 of 192.168/16', '64:ff9b::c0a8:101', true],
    ['NAT64 of a public address', '64:ff9b::808:808', false],
    // 64:ff9b:1::/48 — NAT64 local-use prefix (RFC 8215): refused whatever it embeds.
    ['NAT64 local-use embedding a public address', '64:ff9b:1::808:808', true],
    ['NAT64 local-use embedding loopback', '64:ff9b:1:7f00:1::', true],
    // The rest of the special-purpose registry.
    ['IPv4-mapped loopback', '::ffff:7f00:1', true],
    ['Teredo', '2001:0:4136:e378:8000:63bf:3fff:fdd2', true],
    ['documentation', '2001:db8::1', true],
    ['unique local', 'fd12:3456::1', true],
    ['link-local', 'fe80::1', true],
    ['multicast', 'ff02::1', true],
    ['public IPv6', '2606:4700:4700::1111', false],
    ['benchmarking IPv4', '198.18.0.1', true],
    ['CGNAT', '100.64.0.1', true],
    ['broadcast', '255.255.255.255', true],
    ['public IPv4', '93.184.216.34', false],
  ])('%s (%s) forbidden: %s', (_name, address, forbidden) => {
    expect(isForbiddenAddress(address)).toBe(forbidden);
  });
});

describe('the resolver address', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['127.0.0.1:5353', '127.0.0.1:5353'],
    ['[::1]:53', '[::1]:53'],
    ['::1', '::1'],
  ])('accepts %s', (value, parsed) => expect(parseResolverAddress(value)).toBe(parsed));
  it.each(['dns.example', '127.0.0.1:0', '127.0.0.1:70000', '[::1', ''])('refuses %s', (value) =>
    expect(parseResolverAddress(value)).toBeUndefined(),
  );
});

describe('the fetcher looks addresses up with the configured resolver and checks every answer', () => {
  let dns: LocalDns;
  let tls: LocalServer;
  beforeAll(async () => {
    tls = await startHttps(['jwks.partner.test']);
    tls.routes.set('/jwks', json({ keys: [] }));
    dns = await startTestDns({
      addresses: [
        { name: 'jwks.partner.test', address: '127.0.0.1' },
        { name: 'nat64.evil.test', address: '64:ff9b::a9fe:a9fe' },
        { name: 'sixtofour.evil.test', address: '2002:a00:5::1' },
        { name: 'private.evil.test', address: '10.0.0.5' },
      ],
    });
  });
  afterAll(async () => {
    await dns.stop();
    await tls.close();
  });

  async function refusal(url: string): Promise<AnchorFetchError> {
    const fetcher = createSafeFetcher({ resolver: createDnsResolver({ server: dns.address }) });
    const error = await fetcher.fetch(url).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AnchorFetchError);
    return error as AnchorFetchError;
  }

  it.each([
    ['a NAT64 address of the metadata service', 'https://nat64.evil.test/jwks'],
    ['a 6to4 address of a private network', 'https://sixtofour.evil.test/jwks'],
    ['a private IPv4 address', 'https://private.evil.test/jwks'],
  ])('refuses a name that resolves to %s', async (_name, url) => {
    expect(await refusal(url)).toMatchObject({ code: 'URL_FORBIDDEN', retryable: false });
  });

  it('says a name the resolver does not know is not found, and does not retry it', async () => {
    expect(await refusal('https://nothing.evil.test/jwks')).toMatchObject({ code: 'URL_FETCH_FAILED', retryable: false });
  });

  it('connects to the address the configured resolver gave, for an allow-listed test server', async () => {
    const fetcher = createSafeFetcher({
      allow: [`jwks.partner.test:${tls.port}`],
      ca: [tls.ca!],
      resolver: createDnsResolver({ server: dns.address }),
    });
    const { body } = await fetcher.fetch(`https://jwks.partner.test:${tls.port}/jwks`);
    expect(JSON.parse(body.toString())).toEqual({ keys: [] });
    expect(tls.hits.at(-1)).toBe(`GET /jwks host=jwks.partner.test:${tls.port}`);
  });
});
