import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createSafeFetcher } from '../../anchors';
import { createGleifClient, gleifClientFromSettings } from '../../entity/gleif';
import { loadConfig } from '../../config/env';
import { startGleifStandIn, type GleifStandIn } from '../support/gleif-server';
import { randomLei } from '../support/signups';

let gleif: GleifStandIn;
beforeAll(async () => {
  gleif = await startGleifStandIn(inject('scratchDir'));
});
afterAll(async () => gleif.close());

const client = (options: Partial<Parameters<typeof createGleifClient>[0]> = {}) =>
  createGleifClient({ baseUrl: gleif.baseUrl, ca: [gleif.ca], backoffMs: 10, timeoutMs: 2000, ...options });

describe('GLEIF client against the HTTPS stand-in', () => {
  it('reads a record into its summary', async () => {
    const lei = randomLei();
    gleif.put({
      lei,
      legalName: 'Bloomberg Finance L.P.',
      jurisdiction: 'US-DE',
      registrationStatus: 'ISSUED',
      transliteratedOtherNames: [{ name: 'BLOOMBERG FINANCE LP', language: 'en', type: 'AUTO_ASCII_TRANSLITERATED_LEGAL_NAME' }],
    });
    const result = await client().lookup(lei.toLowerCase());
    expect(result).toMatchObject({
      kind: 'found',
      source: `${gleif.baseUrl}/lei-records/${lei}`,
      record: {
        lei,
        legalName: 'Bloomberg Finance L.P.',
        jurisdiction: 'US-DE',
        registrationStatus: 'ISSUED',
        entityStatus: 'ACTIVE',
        otherNames: [{ name: 'BLOOMBERG FINANCE LP', type: 'AUTO_ASCII_TRANSLITERATED_LEGAL_NAME' }],
        managingLou: 'EVK05KS7XY1DEII3R011',
        corroborationLevel: 'FULLY_CORROBORATED',
        successorLei: null,
      },
    });
  });

  it('reads the successor of a merged entity and an entity status of NULL', async () => {
    const lei = randomLei();
    const successor = randomLei();
    gleif.put({
      lei,
      legalName: 'Merged Away Inc.',
      jurisdiction: 'US-NY',
      registrationStatus: 'MERGED',
      entityStatus: 'INACTIVE',
      successorEntity: { lei: successor, name: 'Survivor Corp.' },
    });
    const nullStatus = randomLei();
    gleif.put({ lei: nullStatus, legalName: 'Quiet Fund', jurisdiction: 'LU', registrationStatus: 'ISSUED', entityStatus: null });
    expect(await client().lookup(lei)).toMatchObject({
      kind: 'found',
      record: { registrationStatus: 'MERGED', entityStatus: 'INACTIVE', successorLei: successor, successorName: 'Survivor Corp.' },
    });
    expect(await client().lookup(nullStatus)).toMatchObject({ kind: 'found', record: { entityStatus: 'NULL' } });
  });

  it('answers not-found for GLEIF’s JSON:API 404', async () => {
    expect(await client().lookup(randomLei())).toMatchObject({ kind: 'not-found' });
  });

  it('does not take a bare 404 (a wrong base URL) for "no such LEI"', async () => {
    const result = await client({ baseUrl: `${gleif.server.origin}/wrong/v1` }).lookup(randomLei());
    expect(result).toMatchObject({ kind: 'unavailable', reason: expect.stringContaining('404') });
  });

  it('retries 5xx with backoff and then succeeds', async () => {
    const lei = randomLei();
    gleif.put({ lei, legalName: 'Retry Ltd', jurisdiction: 'GB', registrationStatus: 'ISSUED' });
    const before = gleif.hits.length;
    gleif.failNext(2, 503);
    expect(await client({ retries: 2 }).lookup(lei)).toMatchObject({ kind: 'found' });
    expect(gleif.hits.length - before).toBe(3);
  });

  it('waits between attempts, doubling the wait (±25 % jitter)', async () => {
    const lei = randomLei();
    gleif.put({ lei, legalName: 'Backoff Ltd', jurisdiction: 'GB', registrationStatus: 'ISSUED' });
    gleif.failNext(2, 502);
    const started = Date.now();
    expect((await client({ retries: 2, backoffMs: 200 }).lookup(lei)).kind).toBe('found');
    // 200 ms then 400 ms, each at least 75 %.
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });

  it('does not retry an answer that is not a failure of the server (a 4xx other than 408/429)', async () => {
    const lei = randomLei();
    const before = gleif.hits.length;
    gleif.failNext(1, 403);
    expect(await client({ retries: 2 }).lookup(lei)).toMatchObject({ kind: 'unavailable' });
    expect(gleif.hits.length - before).toBe(1);
  });

  it('is unavailable when every attempt fails, after 1 + retries attempts', async () => {
    const lei = randomLei();
    gleif.put({ lei, legalName: 'Down Ltd', jurisdiction: 'GB', registrationStatus: 'ISSUED' });
    const before = gleif.hits.length;
    gleif.failNext(3, 500);
    expect(await client({ retries: 2 }).lookup(lei)).toMatchObject({ kind: 'unavailable', reason: expect.stringContaining('after 3 attempts') });
    expect(gleif.hits.length - before).toBe(3);
  });

  it('times out a server that never answers', async () => {
    const lei = randomLei();
    gleif.hang.add(lei);
    const started = Date.now();
    expect(await client({ retries: 1, timeoutMs: 300 }).lookup(lei)).toMatchObject({
      kind: 'unavailable',
      reason: expect.stringContaining('in time'),
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('caches found and not-found answers for the TTL, never unavailability', async () => {
    let clock = 1_000_000;
    const c = client({ cacheTtlMs: 60_000, now: () => clock });
    const lei = randomLei();
    gleif.put({ lei, legalName: 'Cached Ltd', jurisdiction: 'GB', registrationStatus: 'ISSUED' });
    const missing = randomLei();
    const before = gleif.hits.length;
    await c.lookup(lei);
    await c.lookup(lei);
    await c.lookup(missing);
    await c.lookup(missing);
    expect(gleif.hits.length - before).toBe(2);
    // The record lapses at GLEIF; the cached answer stands until the TTL has passed.
    gleif.put({ lei, legalName: 'Cached Ltd', jurisdiction: 'GB', registrationStatus: 'LAPSED' });
    expect(await c.lookup(lei)).toMatchObject({ record: { registrationStatus: 'ISSUED' } });
    clock += 60_001;
    expect(await c.lookup(lei)).toMatchObject({ record: { registrationStatus: 'LAPSED' } });

    const flaky = randomLei();
    gleif.put({ lei: flaky, legalName: 'Flaky Ltd', jurisdiction: 'GB', registrationStatus: 'ISSUED' });
    gleif.failNext(1, 503);
    expect(await c.lookup(flaky).then((r) => r.kind)).toBe('found'); // retried within the call
    gleif.failNext(3, 503);
    const other = randomLei();
    gleif.put({ lei: other, legalName: 'Other Ltd', jurisdiction: 'GB', registrationStatus: 'ISSUED' });
    expect((await c.lookup(other)).kind).toBe('unavailable');
    expect((await c.lookup(other)).kind).toBe('found');
  });

  it('is unavailable for a server whose certificate it does not trust (no CA configured)', async () => {
    expect(await createGleifClient({ baseUrl: gleif.baseUrl, retries: 0 }).lookup(randomLei())).toMatchObject({ kind: 'unavailable' });
  });

  it('reaches the configured mirror on loopback, while the partner fetcher still refuses that address', async () => {
    const lei = randomLei();
    gleif.put({ lei, legalName: 'Mirror Ltd', jurisdiction: 'GB', registrationStatus: 'ISSUED' });
    expect((await client().lookup(lei)).kind).toBe('found');
    const partnerFetcher = createSafeFetcher({ ca: [gleif.ca] });
    await expect(partnerFetcher.fetch(`${gleif.baseUrl}/lei-records/${lei}`)).rejects.toMatchObject({ code: 'URL_FORBIDDEN' });
  });

  it('is built from the configuration: ADMIT_GLEIF_URL, ADMIT_GLEIF_CA, timeout, retries, cache TTL', async () => {
    const config = loadConfig({
      ADMIT_GLEIF_URL: `${gleif.baseUrl}/`,
      ADMIT_GLEIF_CA: gleif.caFile,
      ADMIT_GLEIF_TIMEOUT: '2s',
      ADMIT_GLEIF_RETRIES: '0',
      ADMIT_GLEIF_CACHE_TTL: '0s',
    });
    expect(config.entity).toMatchObject({ gleifUrl: gleif.baseUrl, gleifTimeoutMs: 2000, gleifRetries: 0, gleifCacheTtlMs: 0 });
    const c = await gleifClientFromSettings(config.entity, undefined);
    const lei = randomLei();
    gleif.put({ lei, legalName: 'Configured Ltd', jurisdiction: 'GB', registrationStatus: 'ISSUED' });
    const before = gleif.hits.length;
    expect((await c.lookup(lei)).kind).toBe('found');
    expect((await c.lookup(lei)).kind).toBe('found');
    expect(gleif.hits.length - before).toBe(2); // TTL 0: no cache
    gleif.failNext(1, 503);
    expect((await c.lookup(lei)).kind).toBe('unavailable'); // no retries
  });

  it('refuses configuration it cannot use', () => {
    expect(() => loadConfig({ ADMIT_GLEIF_URL: 'http://api.gleif.org/api/v1' })).toThrow(/ADMIT_GLEIF_URL/);
    expect(() => loadConfig({ ADMIT_GLEIF_TIMEOUT: '10' })).toThrow(/ADMIT_GLEIF_TIMEOUT/);
    expect(() => loadConfig({ ADMIT_GLEIF_RETRIES: '-1' })).toThrow(/ADMIT_GLEIF_RETRIES/);
    expect(() => loadConfig({ ADMIT_DNS_RESOLVER: 'dns.example:53' })).toThrow(/ADMIT_DNS_RESOLVER/);
    expect(loadConfig({}).entity).toMatchObject({
      gleifUrl: 'https://api.gleif.org/api/v1',
      gleifTimeoutMs: 10_000,
      gleifRetries: 2,
      gleifCacheTtlMs: 3_600_000,
      domainChallengeTtlMs: 7 * 86_400_000,
    });
  });
});
