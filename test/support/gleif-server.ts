// A local HTTPS stand-in for GLEIF's LEI API v1 (the network to api.gleif.org is closed here). It
// answers `GET /api/v1/lei-records/{lei}` in GLEIF's JSON:API format with full record shapes, and
// 404 with a JSON:API error document for LEIs it does not hold. The client under test is the
// production client (entity/gleif.ts), pointed here by ADMIT_GLEIF_URL and trusting this server's
// CA by ADMIT_GLEIF_CA.
import { writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { startHttps, type LocalServer } from '../anchors/fixtures/servers';

export interface LeiRecordFixture {
  lei: string;
  legalName: string;
  legalNameLanguage?: string;
  jurisdiction: string | null;
  country?: string;
  entityStatus?: string | null;
  registrationStatus: string;
  otherNames?: { name: string; language: string; type: string }[];
  transliteratedOtherNames?: { name: string; language: string; type: string }[];
  successorEntity?: { lei: string | null; name: string | null } | null;
  expiration?: { date: string | null; reason: string | null };
  nextRenewalDate?: string;
  corroborationLevel?: string;
}

/** A `lei-records` resource as GLEIF's API v1 returns it (the shape of a real record, every field present). */
export function leiRecordDocument(f: LeiRecordFixture): unknown {
  const country = f.country ?? (f.jurisdiction ?? 'US').slice(0, 2);
  const address = {
    language: 'en',
    addressLines: ['731 Lexington Avenue'],
    addressNumber: null,
    addressNumberWithinBuilding: null,
    mailRouting: null,
    city: 'New York',
    region: country === 'US' ? 'US-NY' : null,
    country,
    postalCode: '10022',
  };
  return {
    meta: { goldenCopy: { publishDate: '2026-12-03T08:00:00Z' } },
    data: {
      type: 'lei-records',
      id: f.lei,
      attributes: {
        lei: f.lei,
        entity: {
          legalName: { name: f.legalName, language: f.legalNameLanguage ?? 'en' },
          otherNames: f.otherNames ?? [],
          transliteratedOtherNames: f.transliteratedOtherNames ?? [],
          legalAddress: address,
          headquartersAddress: address,
          registeredAt: { id: 'RA000602', other: null },
          registeredAs: '3456789',
          jurisdiction: f.jurisdiction,
          category: 'GENERAL',
          legalForm: { id: 'T91T', other: null },
          associatedEntity: { lei: null, name: null },
          status: f.entityStatus === undefined ? 'ACTIVE' : f.entityStatus,
          expiration: f.expiration ?? { date: null, reason: null },
          successorEntity: f.successorEntity ?? { lei: null, name: null },
          successorEntities: f.successorEntity ? [f.successorEntity] : [],
          creationDate: '1996-04-01T00:00:00Z',
          subCategory: null,
          otherAddresses: [],
          eventGroups: [],
        },
        registration: {
          initialRegistrationDate: '2012-06-06T15:53:00Z',
          lastUpdateDate: '2026-06-01T14:10:00Z',
          status: f.registrationStatus,
          nextRenewalDate: f.nextRenewalDate ?? '2027-06-01T00:00:00Z',
          managingLou: 'EVK05KS7XY1DEII3R011',
          corroborationLevel: f.corroborationLevel ?? 'FULLY_CORROBORATED',
          validatedAt: { id: 'RA000602', other: null },
          validatedAs: '3456789',
          otherValidationAuthorities: [],
        },
        bic: null,
        mic: null,
        ocid: null,
        spglobal: [],
        conformityFlag: 'CONFORMING',
      },
      relationships: {
        'managing-lou': { links: { related: `https://api.gleif.org/api/v1/lei-records/${f.lei}/managing-lou` } },
        'lei-issuer': { links: { related: `https://api.gleif.org/api/v1/lei-records/${f.lei}/lei-issuer` } },
        'field-modifications': { links: { related: `https://api.gleif.org/api/v1/lei-records/${f.lei}/field-modifications` } },
      },
      links: { self: `https://api.gleif.org/api/v1/lei-records/${f.lei}` },
    },
  };
}

export interface GleifStandIn {
  /** The base URL for ADMIT_GLEIF_URL: https://127.0.0.1:<port>/api/v1 */
  baseUrl: string;
  /** A PEM file of the server's CA, for ADMIT_GLEIF_CA. */
  caFile: string;
  ca: string;
  records: Map<string, unknown>;
  /** The next `n` requests answer this status (503, 500, 429…) instead of the record. */
  failNext(n: number, status?: number): void;
  /** Requests for these LEIs are never answered (a timeout). */
  hang: Set<string>;
  /** Requests received, `GET /api/v1/lei-records/<lei>`. */
  hits: string[];
  server: LocalServer;
  /** Answers LEIs without a record of their own (see test/support/entity.ts); undefined: GLEIF's 404. */
  fallback: ((lei: string) => LeiRecordFixture | undefined) | undefined;
  put(fixture: LeiRecordFixture): void;
  close(): Promise<void>;
}

export async function startGleifStandIn(dir: string): Promise<GleifStandIn> {
  const server = await startHttps(['gleif.test']);
  const records = new Map<string, unknown>();
  const hang = new Set<string>();
  const hits: string[] = [];
  const held: ServerResponse[] = [];
  let failures: { left: number; status: number } = { left: 0, status: 503 };
  const caFile = path.join(dir, `gleif-ca-${server.port}.pem`);
  await writeFile(caFile, server.ca!);

  // Every path is routed here: the fixture's route table is per exact URL.
  server.routes.clear();
  const original = server.routes.get.bind(server.routes);
  server.routes.get = (url: string) =>
    original(url) ??
    ((req, _body, res) => {
      hits.push(`${req.method} ${url}`);
      const match = /^\/api\/v1\/lei-records\/([^/?]+)$/.exec(url);
      if (failures.left > 0) {
        failures.left -= 1;
        res
          .writeHead(failures.status, { 'content-type': 'application/vnd.api+json' })
          .end(JSON.stringify({ errors: [{ status: String(failures.status), title: 'Service Unavailable' }] }));
        return;
      }
      if (match === null) {
        res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
        return;
      }
      const lei = decodeURIComponent(match[1]!);
      if (hang.has(lei)) {
        held.push(res);
        return;
      }
      const fallback = standIn.fallback?.(lei);
      const record = records.get(lei) ?? (fallback === undefined ? undefined : leiRecordDocument(fallback));
      if (record === undefined) {
        res.writeHead(404, { 'content-type': 'application/vnd.api+json' }).end(JSON.stringify({ errors: [{ status: '404', title: 'Not Found' }] }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/vnd.api+json' }).end(JSON.stringify(record));
    });

  const standIn: GleifStandIn = {
    baseUrl: `${server.origin}/api/v1`,
    fallback: undefined,
    caFile,
    ca: server.ca!,
    records,
    hang,
    hits,
    server,
    failNext(n, status = 503) {
      failures = { left: n, status };
    },
    put(fixture) {
      records.set(fixture.lei, leiRecordDocument(fixture));
    },
    async close() {
      for (const res of held) res.destroy();
      await server.close();
    },
  };
  return standIn;
}
