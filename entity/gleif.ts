// The GLEIF LEI API (v1, JSON:API) client: one record by LEI, through the SSRF-safe fetcher, with a
// timeout, retries with backoff on 5xx/429/timeouts, and a cache with a TTL. The base URL is the
// operator's configuration (GLEIF's public API or a mirror), never partner input.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { AnchorFetchError, createSafeFetcher, type SafeFetcher } from '../anchors';
import type { DnsResolver } from '../anchors/dns-resolver';
import type { LeiRecordSummary, OtherName } from '../domain/legal-entity';

export type GleifLookup =
  | { kind: 'found'; record: LeiRecordSummary; source: string; retrievedAt: string }
  | { kind: 'not-found'; lei: string; source: string; retrievedAt: string }
  | { kind: 'unavailable'; source: string; reason: string };

export interface GleifClient {
  lookup(lei: string): Promise<GleifLookup>;
  /** The configured base URL (evidence names it as the source). */
  readonly baseUrl: string;
}

export interface GleifClientOptions {
  /** e.g. https://api.gleif.org/api/v1 (no trailing slash needed). */
  baseUrl: string;
  /** Extra CAs (PEM) for the base URL's server: a mirror with a private CA, or the test stand-in. */
  ca?: string[];
  resolver?: DnsResolver;
  timeoutMs?: number;
  /** Further attempts after the first, on 5xx, 408, 429, timeouts and connection failures. */
  retries?: number;
  /** First backoff; doubled on each retry, with ±25 % jitter. */
  backoffMs?: number;
  /** How long a found or not-found answer is reused; 0 turns the cache off. Unavailability is never cached. */
  cacheTtlMs?: number;
  /** Overrides the fetcher (its rules stay those of anchors/safe-fetch.ts). */
  fetcher?: SafeFetcher;
  now?: () => number;
}

const nameSchema = z.object({ name: z.string(), language: z.string().nullish(), type: z.string().nullish() });

/** The parts of a GLEIF `lei-records` resource Admit reads; everything else is ignored. */
const recordSchema = z.object({
  data: z.object({
    type: z.literal('lei-records'),
    id: z.string(),
    attributes: z.object({
      lei: z.string(),
      entity: z.object({
        legalName: nameSchema,
        otherNames: z.array(nameSchema).nullish(),
        transliteratedOtherNames: z.array(nameSchema).nullish(),
        jurisdiction: z.string().nullish(),
        status: z.string().nullish(),
        successorEntity: z.object({ lei: z.string().nullish(), name: z.string().nullish() }).nullish(),
        successorEntities: z.array(z.object({ lei: z.string().nullish(), name: z.string().nullish() })).nullish(),
      }),
      registration: z.object({
        status: z.string(),
        lastUpdateDate: z.string().nullish(),
        nextRenewalDate: z.string().nullish(),
        managingLou: z.string().nullish(),
        corroborationLevel: z.string().nullish(),
      }),
    }),
  }),
});

const errorsSchema = z.object({ errors: z.array(z.object({ status: z.string().optional(), title: z.string().optional() })).min(1) });

export const LEI_FORMAT = /^[A-Z0-9]{18}[0-9]{2}$/;

export function createGleifClient(options: GleifClientOptions): GleifClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const base = new URL(baseUrl);
  if (base.protocol !== 'https:') throw new Error(`the GLEIF URL must be https: ${baseUrl}`);
  const hostPort = `${base.hostname.replace(/^\[|\]$/g, '').toLowerCase()}:${base.port || '443'}`;
  // The operator's configured source is exempt from the private-address rule (a company's mirror
  // may live on its own network), and only it: this fetcher is used for nothing else, so no partner
  // URL ever benefits from the exemption. https, no redirects, size and time limits still apply.
  const fetcher =
    options.fetcher ??
    createSafeFetcher({
      allow: [hostPort],
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.resolver ? { resolver: options.resolver } : {}),
      timeoutMs: options.timeoutMs ?? 10_000,
      maxBytes: 512 * 1024,
    });
  const retries = options.retries ?? 2;
  const backoffMs = options.backoffMs ?? 500;
  const ttl = options.cacheTtlMs ?? 60 * 60_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { expires: number; result: GleifLookup }>();

  async function fetchOnce(lei: string, source: string): Promise<GleifLookup | { kind: 'retry'; reason: string }> {
    let answer;
    try {
      answer = await fetcher.fetch(source, { accept: 'application/vnd.api+json', cache: false, answerStatuses: [404] });
    } catch (error) {
      if (error instanceof AnchorFetchError) {
        return error.retryable ? { kind: 'retry', reason: error.message } : { kind: 'unavailable', source, reason: error.message };
      }
      throw error;
    }
    let body: unknown;
    try {
      body = JSON.parse(answer.body.toString('utf8'));
    } catch {
      return { kind: 'unavailable', source, reason: `the answer (HTTP ${answer.status}) is not JSON` };
    }
    const retrievedAt = new Date(now()).toISOString();
    if (answer.status === 404) {
      // Only GLEIF's own JSON:API "not found" means the LEI does not exist; a bare 404 is a wrong base URL.
      const errors = errorsSchema.safeParse(body);
      if (errors.success && errors.data.errors.some((e) => e.status === '404')) return { kind: 'not-found', lei, source, retrievedAt };
      return { kind: 'unavailable', source, reason: 'HTTP 404 without a JSON:API error: is the GLEIF URL right?' };
    }
    const parsed = recordSchema.safeParse(body);
    if (!parsed.success)
      return {
        kind: 'unavailable',
        source,
        reason: `the answer is not an lei-records resource: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`,
      };
    return { kind: 'found', record: summarise(parsed.data), source, retrievedAt };
  }

  return {
    baseUrl,
    async lookup(rawLei) {
      const lei = rawLei.trim().toUpperCase();
      if (!LEI_FORMAT.test(lei)) throw new Error(`not an LEI: ${JSON.stringify(rawLei)}`);
      const hit = cache.get(lei);
      if (hit !== undefined && hit.expires > now()) return hit.result;
      const source = `${baseUrl}/lei-records/${encodeURIComponent(lei)}`;
      let last = 'no attempt';
      for (let attempt = 0; attempt <= retries; attempt += 1) {
        if (attempt > 0) await sleep(Math.round(backoffMs * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5)));
        const result = await fetchOnce(lei, source);
        if (result.kind === 'retry') {
          last = result.reason;
          continue;
        }
        if (result.kind !== 'unavailable' && ttl > 0) {
          if (cache.size >= 1024) cache.delete(cache.keys().next().value!);
          cache.set(lei, { expires: now() + ttl, result });
        }
        return result;
      }
      return { kind: 'unavailable', source, reason: `${last} (after ${retries + 1} attempts)` };
    },
  };
}

function summarise(resource: z.infer<typeof recordSchema>): LeiRecordSummary {
  const { attributes } = resource.data;
  const { entity, registration } = attributes;
  const others: OtherName[] = [...(entity.otherNames ?? []), ...(entity.transliteratedOtherNames ?? [])].map((n) => ({
    name: n.name,
    type: n.type ?? null,
  }));
  const successor = entity.successorEntity ?? entity.successorEntities?.[0] ?? null;
  return {
    lei: attributes.lei,
    legalName: entity.legalName.name,
    otherNames: others,
    jurisdiction: entity.jurisdiction ?? null,
    registrationStatus: registration.status,
    // GLEIF shows an entity status that was never reported as the string "NULL"; an absent one is the same.
    entityStatus: entity.status ?? 'NULL',
    successorLei: successor?.lei ?? null,
    successorName: successor?.name ?? null,
    nextRenewalDate: registration.nextRenewalDate ?? null,
    lastUpdateDate: registration.lastUpdateDate ?? null,
    managingLou: registration.managingLou ?? null,
    corroborationLevel: registration.corroborationLevel ?? null,
  };
}

/** The client as the worker's configuration describes it. */
export async function gleifClientFromSettings(
  settings: { gleifUrl: string; gleifCaFile: string | undefined; gleifTimeoutMs: number; gleifRetries: number; gleifCacheTtlMs: number },
  resolver: DnsResolver | undefined,
): Promise<GleifClient> {
  let ca: string[] | undefined;
  if (settings.gleifCaFile !== undefined) {
    try {
      ca = [await readFile(settings.gleifCaFile, 'utf8')];
    } catch (error) {
      throw new Error(`ADMIT_GLEIF_CA=${settings.gleifCaFile} cannot be read: ${(error as Error).message}`);
    }
  }
  return createGleifClient({
    baseUrl: settings.gleifUrl,
    ...(ca ? { ca } : {}),
    ...(resolver ? { resolver } : {}),
    timeoutMs: settings.gleifTimeoutMs,
    retries: settings.gleifRetries,
    cacheTtlMs: settings.gleifCacheTtlMs,
  });
}
