import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { inject } from 'vitest';
import type { Client } from '@temporalio/client';
import { startDnsmasq, type LocalDns } from '../../stack/dnsmasq';
import { stateQuery } from '../../workflows/messages';
import type { Registry } from '../../registry/client';
import { startGleifStandIn, type GleifStandIn } from './gleif-server';
import { organisationFor } from './signups';

/** How long the TXT publisher waits on one workflow's answer: a busy or stopped worker must not stall it. */
const QUERY_DEADLINE_MS = 5_000;

/**
 * The world outside Admit that entity verification asks, for one test stack:
 * GLEIF (a local HTTPS stand-in in GLEIF's wire format, knowing every
 * organisation the test signups name, test/support/signups.ts) and the
 * partners' DNS (a dnsmasq of the stack's own). `autoProve` plays the
 * partners' DNS operators: it publishes the TXT record each lifecycle on the
 * stack's task queue asks for, unless the domain is withheld, so tests of
 * later stages start from a verified organisation; the entity tests withhold
 * domains or put records of their own.
 */
export interface EntityWorld {
  env: Record<string, string>;
  gleif: GleifStandIn;
  dns: LocalDns;
  /** Domains whose challenge is never published (their partner never proves control). */
  withheld: Set<string>;
  /** Publishes TXT records for the lifecycles of `taskQueue` as they ask, until closed. */
  autoProve(temporal: Client, taskQueue: string): void;
  /** Also looks at this workflow (Temporal's time-skipping server has no visibility to list them). */
  watch(workflowId: string): void;
  close(): Promise<void>;
}

/** `dir` for a caller outside vitest's services (the chaos suite); otherwise a fresh folder in the run's scratch space. */
export async function startEntityWorld(options: { dir?: string } = {}): Promise<EntityWorld> {
  const dir = options.dir ?? path.join(inject('scratchDir'), `entity-${randomUUID()}`);
  await mkdir(dir, { recursive: true });
  const gleif = await startGleifStandIn(dir);
  gleif.fallback = (lei) => {
    const organisation = organisationFor(lei);
    return { lei, legalName: organisation.legalName, jurisdiction: organisation.jurisdiction, registrationStatus: 'ISSUED', entityStatus: 'ACTIVE' };
  };
  const dns = await startDnsmasq({ dir: path.join(dir, 'dns'), domains: ['test', 'example.com'] });
  const published = new Map<string, string>();
  const withheld = new Set<string>();
  let stopped = false;
  let loop: Promise<void> = Promise.resolve();

  const watched = new Set<string>();

  async function verifying(temporal: Client, taskQueue: string): Promise<Set<string>> {
    const ids = new Set(watched);
    const query = `TaskQueue = "${taskQueue}" AND AdmitStage = "VERIFYING_ENTITY" AND ExecutionStatus = "Running"`;
    try {
      await temporal.withDeadline(Date.now() + QUERY_DEADLINE_MS, async () => {
        for await (const execution of temporal.workflow.list({ query })) ids.add(execution.workflowId);
      });
    } catch {
      // No visibility on this server: the watched workflows are all there is.
    }
    return ids;
  }

  async function publishPending(temporal: Client, taskQueue: string): Promise<void> {
    let added = false;
    for (const workflowId of await verifying(temporal, taskQueue)) {
      if (stopped) return;
      const state = await temporal
        .withDeadline(Date.now() + QUERY_DEADLINE_MS, () => temporal.workflow.getHandle(workflowId).query(stateQuery))
        .catch(() => undefined);
      if (state !== undefined && state.stage !== 'REGISTERING' && state.stage !== 'VERIFYING_ENTITY') watched.delete(workflowId);
      const challenge = state?.entity?.domain.challenge;
      if (challenge === undefined || challenge === null || withheld.has(challenge.domain)) continue;
      if (published.get(challenge.txtName) === challenge.txtValue) continue;
      published.set(challenge.txtName, challenge.txtValue);
      added = true;
    }
    if (added) await dns.setRecords({ txt: [...published].map(([name, value]) => ({ name, strings: [value] })) });
  }

  return {
    env: {
      ADMIT_GLEIF_URL: gleif.baseUrl,
      ADMIT_GLEIF_CA: gleif.caFile,
      ADMIT_DNS_RESOLVER: dns.address,
      ADMIT_DOMAIN_CHECK_EVERY: '1s',
    },
    gleif,
    dns,
    withheld,
    watch(workflowId) {
      watched.add(workflowId);
    },
    autoProve(temporal, taskQueue) {
      loop = (async () => {
        while (!stopped) {
          await publishPending(temporal, taskQueue).catch(() => undefined);
          await new Promise((resolve) => setTimeout(resolve, 400));
        }
      })();
    },
    async close() {
      stopped = true;
      await loop;
      await Promise.allSettled([gleif.close(), dns.stop()]);
    },
  };
}

/**
 * Arranges the registry as it is after an approver admitted a first
 * application of this organisation, with its LEI and domain verified: later
 * signups of the organisation may then take the automatic LOW path. For tests
 * of what comes after admission; the first enrolment itself is tested end to
 * end in test/lifecycle/entity.test.ts.
 */
export async function establishOrganisation(
  registry: Registry,
  organisation: { lei: string; legalName: string; jurisdiction: string; primaryDomain: string },
): Promise<void> {
  const now = new Date();
  const org = await registry.organisation.upsert({
    where: { lei: organisation.lei },
    create: { ...organisation, verified: true, verifiedAt: now, leiVerifiedAt: now, domainVerifiedAt: now, domainVerificationMethod: 'dns-txt' },
    update: {},
  });
  const id = `app-established-${organisation.lei.toLowerCase()}`;
  await registry.application.upsert({
    where: { id },
    create: {
      id,
      organisationId: org.id,
      name: 'Established Integration',
      nameKey: `established-integration-${randomUUID()}`,
      environment: 'production',
      purpose: 'The organisation’s first admitted application.',
      requestedScopes: ['accounts:read'],
      dataSensitivity: 'internal',
      regulatedSector: false,
      strategic: false,
      expectedMonthlyCalls: 1000,
      contractEndDate: new Date(now.getTime() + 365 * 86_400_000),
      requestedBy: `first@${organisation.primaryDomain}`,
      status: 'ADMITTED',
      admittedAt: now,
      workflowId: `partner-lifecycle-${id}`,
    },
    update: {},
  });
}
