import { readFile } from 'node:fs/promises';
import { createSafeFetcher, parseTrustBundle, type SafeFetcher, type TrustBundle } from '../anchors';
import { createDnsResolver, type DnsResolver } from '../anchors/dns-resolver';
import type { Config } from '../config/env';

/**
 * What this deployment trusts to vouch for partners: CAs for client
 * certificates, SPIFFE trust bundles, OIDC workload issuers. Operator
 * configuration, read once when the worker starts.
 */
export interface AnchorTrust {
  trustStore: string[];
  spiffeBundles: Map<string, TrustBundle>;
  oidcIssuers: string[];
  audience: string;
  requireDomainSan: boolean;
  /** The one DNS resolver (ADMIT_DNS_RESOLVER): the fetcher's address lookups and the domain-control TXT lookups. */
  resolver: DnsResolver;
  fetcher: SafeFetcher;
}

export async function loadAnchorTrust(config: Config): Promise<AnchorTrust> {
  const trustStore = config.ADMIT_TRUST_STORE === undefined ? [] : [await readConfigFile(config.ADMIT_TRUST_STORE, 'ADMIT_TRUST_STORE')];
  const spiffeBundles = new Map<string, TrustBundle>();
  if (config.ADMIT_SPIFFE_BUNDLES !== undefined) {
    const text = await readConfigFile(config.ADMIT_SPIFFE_BUNDLES, 'ADMIT_SPIFFE_BUNDLES');
    let byDomain: Record<string, unknown>;
    try {
      byDomain = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new Error('ADMIT_SPIFFE_BUNDLES must name a JSON file mapping each trust domain to its SPIFFE bundle.');
    }
    for (const [domain, bundle] of Object.entries(byDomain)) {
      spiffeBundles.set(domain, await parseTrustBundle(JSON.stringify(bundle)));
    }
  }
  const resolver = createDnsResolver(config.ADMIT_DNS_RESOLVER === undefined ? {} : { server: config.ADMIT_DNS_RESOLVER });
  return {
    trustStore,
    spiffeBundles,
    oidcIssuers: config.ADMIT_OIDC_WORKLOAD_ISSUERS,
    audience: config.anchorAudience,
    requireDomainSan: config.ADMIT_X509_REQUIRE_DOMAIN,
    resolver,
    fetcher: createSafeFetcher({ allow: config.ADMIT_FETCH_ALLOW, resolver }),
  };
}

async function readConfigFile(file: string, variable: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`${variable}=${file} cannot be read: ${(error as Error).message}`);
  }
}
