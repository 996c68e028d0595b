import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { verifyAuditChain } from '../../registry/audit';
import type { LocalDns } from '../../stack/dnsmasq';
import {
  auditEvents,
  createActivityHarness,
  registerTestApplication,
  type ActivityHarness,
  type RegisteredTestApplication,
} from '../support/activities';
import { startTestDns } from '../support/dns';
import { startGleifStandIn, type GleifStandIn, type LeiRecordFixture } from '../support/gleif-server';

let gleif: GleifStandIn;
let dns: LocalDns;
let harness: ActivityHarness;
let clock = new Date('2026-12-03T10:00:00Z');

beforeAll(async () => {
  gleif = await startGleifStandIn(inject('scratchDir'));
  dns = await startTestDns();
  harness = await createActivityHarness({
    now: () => clock,
    config: {
      ADMIT_GLEIF_URL: gleif.baseUrl,
      ADMIT_GLEIF_CA: gleif.caFile,
      ADMIT_GLEIF_RETRIES: '1',
      ADMIT_GLEIF_CACHE_TTL: '0s',
      ADMIT_DNS_RESOLVER: dns.address,
      ADMIT_DOMAIN_CHALLENGE_TTL: '1d',
    },
  });
});
afterAll(async () => {
  await harness.close();
  await dns.stop();
  await gleif.close();
});

/** A registered application whose LEI GLEIF holds with the given record (the signup's own name and jurisdiction unless overridden). */
async function enrolled(record: Partial<LeiRecordFixture> | null = {}): Promise<RegisteredTestApplication> {
  const app = await registerTestApplication(harness.activities);
  const { organisation } = app.signup;
  if (record !== null)
    gleif.put({
      lei: organisation.lei,
      legalName: organisation.legalName,
      jurisdiction: organisation.jurisdiction,
      registrationStatus: 'ISSUED',
      ...record,
    });
  return app;
}

function verifyInput(app: RegisteredTestApplication, overrides: Record<string, unknown> = {}) {
  const { organisation } = app.signup;
  return {
    applicationId: app.applicationId,
    workflowId: app.workflowId,
    lei: organisation.lei,
    legalName: organisation.legalName,
    jurisdiction: organisation.jurisdiction,
    ...overrides,
  };
}

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe('verifyLegalEntity', () => {
  it('passes an issued, active record whose name and jurisdiction match, and keeps the evidence', async () => {
    const app = await enrolled();
    const result = await harness.activities.verifyLegalEntity(verifyInput(app));
    expect(result).toMatchObject({
      outcome: 'pass',
      score: 1,
      record: {
        lei: app.signup.organisation.lei,
        legalName: app.signup.organisation.legalName,
        registrationStatus: 'ISSUED',
        entityStatus: 'ACTIVE',
        jurisdiction: 'GB',
      },
      source: `${gleif.baseUrl}/lei-records/${app.signup.organisation.lei}`,
      checkedAt: clock.toISOString(),
    });
    const check = await harness.registry.leiCheck.findUniqueOrThrow({ where: { checkKey: `${app.workflowId}:lei-check:0` } });
    expect(check).toMatchObject({
      outcome: 'pass',
      registrationStatus: 'ISSUED',
      entityStatus: 'ACTIVE',
      recordLegalName: app.signup.organisation.legalName,
      score: 1,
      source: result.source,
    });
    const org = await harness.registry.organisation.findUniqueOrThrow({ where: { id: app.organisationId } });
    expect(org.leiVerifiedAt?.toISOString()).toBe(clock.toISOString());
    expect(org.verified).toBe(false); // the domain is not proven yet
    const [event] = await auditEvents(harness.registry, app.applicationId, 'entity.lei-checked');
    expect(event).toMatchObject({
      idempotencyKey: `${app.workflowId}:lei-check:0`,
      data: { outcome: 'pass', reasons: expect.arrayContaining([expect.objectContaining({ code: 'NAME_MATCH' })]) },
    });
  });

  it('returns the first check on a retry, without asking GLEIF again or recording twice', async () => {
    const app = await enrolled();
    const first = await harness.activities.verifyLegalEntity(verifyInput(app));
    gleif.put({ lei: app.signup.organisation.lei, legalName: 'Someone Else Ltd', jurisdiction: 'GB', registrationStatus: 'RETIRED' });
    const hits = gleif.hits.length;
    const [again, overlapping] = await Promise.all([
      harness.activities.verifyLegalEntity(verifyInput(app)),
      harness.activities.verifyLegalEntity(verifyInput(app)),
    ]);
    expect(again).toEqual(first);
    expect(overlapping).toEqual(first);
    expect(gleif.hits.length).toBe(hits);
    expect(await harness.registry.leiCheck.count({ where: { applicationId: app.applicationId } })).toBe(1);
    expect(await auditEvents(harness.registry, app.applicationId, 'entity.lei-checked')).toHaveLength(1);
    // A re-check is another round, and sees the change.
    expect((await harness.activities.verifyLegalEntity(verifyInput(app, { round: 1 }))).outcome).toBe('refused');
  });

  it('sends a name mismatch to an approver, with both names and the score', async () => {
    const app = await enrolled({ legalName: 'Completely Other Holdings plc' });
    const result = await harness.activities.verifyLegalEntity(verifyInput(app));
    expect(result.outcome).toBe('needs-approval');
    expect(result.score).toBeLessThan(1);
    const mismatch = result.reasons.find((r) => r.code === 'NAME_MISMATCH');
    expect(mismatch?.message).toContain(app.signup.organisation.legalName);
    expect(mismatch?.message).toContain('Completely Other Holdings plc');
    const org = await harness.registry.organisation.findUniqueOrThrow({ where: { id: app.organisationId } });
    expect(org.leiVerifiedAt).toBeNull();
  });

  it('sends a jurisdiction mismatch to an approver', async () => {
    const app = await enrolled({ jurisdiction: 'IE' });
    const result = await harness.activities.verifyLegalEntity(verifyInput(app));
    expect(result).toMatchObject({ outcome: 'needs-approval', nameScore: 1, jurisdictionScore: 0 });
    expect(result.reasons.find((r) => r.code === 'JURISDICTION_MISMATCH')?.message).toContain('IE');
  });

  it.each([
    ['lapsed', { registrationStatus: 'LAPSED' }, 'needs-approval'],
    ['pending transfer', { registrationStatus: 'PENDING_TRANSFER' }, 'needs-approval'],
    [
      'retired',
      { registrationStatus: 'RETIRED', entityStatus: 'INACTIVE', expiration: { date: '2025-01-01T00:00:00Z', reason: 'DISSOLVED' } },
      'refused',
    ],
    [
      'merged, with its successor',
      {
        registrationStatus: 'MERGED',
        entityStatus: 'INACTIVE',
        successorEntity: { lei: '549300ZZZZZZZZZZZZ99', name: 'Absorbing Bank AG' },
        expiration: { date: '2025-06-30T00:00:00Z', reason: 'CORPORATE_ACTION' },
      },
      'refused',
    ],
    ['annulled', { registrationStatus: 'ANNULLED' }, 'refused'],
    ['duplicate', { registrationStatus: 'DUPLICATE' }, 'refused'],
    ['an inactive entity with an issued LEI', { registrationStatus: 'ISSUED', entityStatus: 'INACTIVE' }, 'refused'],
  ] as const)('%s → %s', async (_name, record, outcome) => {
    const app = await enrolled(record);
    const result = await harness.activities.verifyLegalEntity(verifyInput(app));
    expect(result.outcome).toBe(outcome);
    expect(result.record?.registrationStatus).toBe(record.registrationStatus);
    if ('successorEntity' in record) expect(result.reasons.find((r) => r.code === 'LEI_SUCCESSOR')?.message).toContain('Absorbing Bank AG');
  });

  it('refuses an LEI GLEIF does not know, recording the check', async () => {
    const app = await enrolled(null);
    const result = await harness.activities.verifyLegalEntity(verifyInput(app));
    expect(result).toMatchObject({ outcome: 'refused', record: null, reasons: [{ code: 'LEI_NOT_FOUND' }] });
    expect(await harness.registry.leiCheck.count({ where: { applicationId: app.applicationId, outcome: 'refused' } })).toBe(1);
  });

  it('fails retryably while GLEIF is down, writing nothing', async () => {
    const app = await enrolled();
    gleif.failNext(2, 503);
    const error = await failure(harness.activities.verifyLegalEntity(verifyInput(app)));
    expect(error).toMatchObject({ type: 'LeiSourceUnavailable', nonRetryable: false });
    expect(await harness.registry.leiCheck.count({ where: { applicationId: app.applicationId } })).toBe(0);
    expect((await harness.activities.verifyLegalEntity(verifyInput(app))).outcome).toBe('pass');
  });

  it('fails non-retryably for input that cannot succeed', async () => {
    const app = await enrolled();
    expect(await failure(harness.activities.verifyLegalEntity(verifyInput(app, { lei: 'NOT-AN-LEI' })))).toMatchObject({
      type: 'InvalidActivityInput',
      nonRetryable: true,
    });
    const other = await enrolled();
    expect(await failure(harness.activities.verifyLegalEntity(verifyInput(app, { lei: other.signup.organisation.lei })))).toMatchObject({
      type: 'InvalidActivityInput',
      nonRetryable: true,
    });
    expect(await failure(harness.activities.verifyLegalEntity(verifyInput(app, { applicationId: 'app-missing' })))).toMatchObject({
      type: 'ApplicationNotFound',
      nonRetryable: true,
    });
  });
});

describe('recordLegalEntityDecision', () => {
  const decision = (app: RegisteredTestApplication, accepted: boolean) => ({
    applicationId: app.applicationId,
    workflowId: app.workflowId,
    accepted,
    decidedBy: 'https://idp.example ada',
    reason: 'Trading name confirmed against the company register.',
    decidedAt: '2026-12-03T11:00:00.000Z',
  });

  it('verifies the LEI when an approver accepts a needs-approval check, once, with the reason as evidence', async () => {
    const app = await enrolled({ registrationStatus: 'LAPSED' });
    expect((await harness.activities.verifyLegalEntity(verifyInput(app))).outcome).toBe('needs-approval');
    await harness.activities.recordLegalEntityDecision(decision(app, true));
    await harness.activities.recordLegalEntityDecision(decision(app, true));
    const org = await harness.registry.organisation.findUniqueOrThrow({ where: { id: app.organisationId } });
    expect(org.leiVerifiedAt?.toISOString()).toBe('2026-12-03T11:00:00.000Z');
    const events = await auditEvents(harness.registry, app.applicationId, 'entity.lei-accepted');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: 'https://idp.example ada', data: { reason: 'Trading name confirmed against the company register.' } });
  });

  it('leaves the LEI unverified when the approver rejects it', async () => {
    const app = await enrolled({ legalName: 'Not The Same plc' });
    await harness.activities.verifyLegalEntity(verifyInput(app));
    await harness.activities.recordLegalEntityDecision(decision(app, false));
    expect((await harness.registry.organisation.findUniqueOrThrow({ where: { id: app.organisationId } })).leiVerifiedAt).toBeNull();
    expect(await auditEvents(harness.registry, app.applicationId, 'entity.lei-rejected')).toHaveLength(1);
  });

  it('cannot override a refusal, decide a passed check, or decide without a reason', async () => {
    const refused = await enrolled({ registrationStatus: 'RETIRED' });
    await harness.activities.verifyLegalEntity(verifyInput(refused));
    expect(await failure(harness.activities.recordLegalEntityDecision(decision(refused, true)))).toMatchObject({
      type: 'InvalidActivityInput',
      nonRetryable: true,
    });
    expect((await harness.registry.organisation.findUniqueOrThrow({ where: { id: refused.organisationId } })).leiVerifiedAt).toBeNull();
    const passed = await enrolled();
    await harness.activities.verifyLegalEntity(verifyInput(passed));
    expect(await failure(harness.activities.recordLegalEntityDecision(decision(passed, true)))).toMatchObject({ type: 'InvalidActivityInput' });
    const doubtful = await enrolled({ registrationStatus: 'LAPSED' });
    await harness.activities.verifyLegalEntity(verifyInput(doubtful));
    expect(await failure(harness.activities.recordLegalEntityDecision({ ...decision(doubtful, true), reason: '  ' }))).toMatchObject({
      type: 'InvalidActivityInput',
    });
  });
});

describe('domain challenges', () => {
  /** A registered application whose organisation's primary domain is a `.test` name the local DNS serves. */
  async function withTestDomain(): Promise<RegisteredTestApplication & { domain: string }> {
    const app = await enrolled();
    const domain = `${app.signup.organisation.lei.slice(0, 8).toLowerCase()}.test`;
    await harness.registry.organisation.update({ where: { id: app.organisationId }, data: { primaryDomain: domain } });
    return { ...app, domain };
  }

  it('issues the same token on every attempt and keeps only its hash', async () => {
    const app = await withTestDomain();
    const input = { applicationId: app.applicationId, workflowId: app.workflowId, domain: app.domain };
    const first = await harness.activities.issueDomainChallenge(input);
    clock = new Date(clock.getTime() + 60_000);
    const [again, overlapping] = await Promise.all([harness.activities.issueDomainChallenge(input), harness.activities.issueDomainChallenge(input)]);
    expect(again).toEqual(first);
    expect(overlapping).toEqual(first);
    expect(first).toMatchObject({
      domain: app.domain,
      round: 0,
      txtName: `_admit-challenge.${app.domain}`,
      httpUrl: `https://${app.domain}/.well-known/admit-challenge/${first.token}`,
    });
    const row = await harness.registry.domainChallenge.findUniqueOrThrow({
      where: { workflowId_domain_round: { workflowId: app.workflowId, domain: app.domain, round: 0 } },
    });
    expect(row.tokenHash).toBe(createHash('sha256').update(first.token).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(first.token);
    expect(row.expiresAt.toISOString()).toBe(first.expiresAt);
    expect(await auditEvents(harness.registry, app.applicationId, 'entity.domain-challenge-issued')).toHaveLength(1);
    const next = await harness.activities.issueDomainChallenge({ ...input, round: 1 });
    expect(next.token).not.toBe(first.token);
  });

  it('refuses a public suffix or a non-domain, non-retryably', async () => {
    const app = await withTestDomain();
    for (const domain of ['co.uk', 'github.io', '10.0.0.1']) {
      expect(
        await failure(harness.activities.issueDomainChallenge({ applicationId: app.applicationId, workflowId: app.workflowId, domain })),
      ).toMatchObject({ type: 'DomainNotAcceptable', nonRetryable: true });
    }
  });

  it('verifies the organisation once the TXT record holds the value and the LEI passed', async () => {
    const app = await withTestDomain();
    const ids = { applicationId: app.applicationId, workflowId: app.workflowId, domain: app.domain };
    await harness.activities.verifyLegalEntity(verifyInput(app));
    const challenge = await harness.activities.issueDomainChallenge(ids);

    const before = await harness.activities.checkDomainControl({ ...ids, check: 0 });
    expect(before).toMatchObject({ verified: false, method: null });
    expect(before.reasons.map((r) => r.code)).toContain('DNS_TXT_MISSING');
    // The test signup's contacts are at example.com, outside the organisation's domain.
    expect(before.contactsOutsideDomain).toEqual(['business', 'technical', 'security']);

    await dns.setRecords({ txt: [{ name: challenge.txtName, strings: [challenge.txtValue] }] });
    const after = await harness.activities.checkDomainControl({ ...ids, check: 1 });
    expect(after).toMatchObject({ verified: true, method: 'dns-txt', reasons: [{ code: 'DNS_TXT_MATCH' }] });
    const org = await harness.registry.organisation.findUniqueOrThrow({ where: { id: app.organisationId } });
    expect(org).toMatchObject({ verified: true, domainVerificationMethod: 'dns-txt' });
    expect(org.verifiedAt?.toISOString()).toBe(clock.toISOString());

    // A retry of a check returns what that check found, even though the record is gone now.
    await dns.setRecords({});
    expect(await harness.activities.checkDomainControl({ ...ids, check: 0 })).toEqual(before);
    expect(await harness.activities.checkDomainControl({ ...ids, check: 1 })).toEqual(after);
    const events = await auditEvents(harness.registry, app.applicationId, 'entity.domain-checked');
    expect(events.map((e) => (e.data as { check: number }).check)).toEqual([0, 1]);
    expect((await verifyAuditChain(harness.registry)).ok).toBe(true);
  });

  it('does not verify the organisation by a domain other than its primary domain', async () => {
    const app = await withTestDomain();
    const ids = { applicationId: app.applicationId, workflowId: app.workflowId, domain: `elsewhere-${app.domain}` };
    await harness.activities.verifyLegalEntity(verifyInput(app));
    const challenge = await harness.activities.issueDomainChallenge(ids);
    await dns.setRecords({ txt: [{ name: challenge.txtName, strings: [challenge.txtValue] }] });
    expect((await harness.activities.checkDomainControl(ids)).verified).toBe(true);
    const org = await harness.registry.organisation.findUniqueOrThrow({ where: { id: app.organisationId } });
    expect(org).toMatchObject({ verified: false, domainVerifiedAt: null });
  });

  it('uses the one configured resolver for the https method too: a domain resolving to loopback is not fetched', async () => {
    const app = await withTestDomain();
    const ids = { applicationId: app.applicationId, workflowId: app.workflowId, domain: app.domain };
    await harness.activities.issueDomainChallenge(ids);
    await dns.setRecords({ addresses: [{ name: app.domain, address: '127.0.0.1' }] });
    const result = await harness.activities.checkDomainControl(ids);
    expect(result.verified).toBe(false);
    expect(result.reasons.find((r) => r.method === 'https-well-known')).toMatchObject({ code: 'HTTPS_FORBIDDEN' });
  });

  it('does not accept proof after the challenge expired', async () => {
    const app = await withTestDomain();
    const ids = { applicationId: app.applicationId, workflowId: app.workflowId, domain: app.domain };
    const challenge = await harness.activities.issueDomainChallenge(ids);
    await dns.setRecords({ txt: [{ name: challenge.txtName, strings: [challenge.txtValue] }] });
    clock = new Date(Date.parse(challenge.expiresAt) + 1);
    expect(await harness.activities.checkDomainControl(ids)).toMatchObject({ verified: false, reasons: [{ code: 'CHALLENGE_EXPIRED' }] });
  });

  it('fails non-retryably for a challenge that was never issued', async () => {
    const app = await withTestDomain();
    expect(
      await failure(
        harness.activities.checkDomainControl({ applicationId: app.applicationId, workflowId: app.workflowId, domain: app.domain, round: 3 }),
      ),
    ).toMatchObject({ type: 'DomainChallengeUnknown', nonRetryable: true });
  });
});
