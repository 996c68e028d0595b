import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateQuery } from '../../workflows/messages';
import {
  approvers,
  clientChain,
  confirmContacts,
  createLifecycleHarness,
  mailsTo,
  refusalCode,
  signup,
  submitAnchor,
  vote,
  waitForStage,
  type LifecycleHarness,
} from '../support/lifecycle';
import { organisationFor, randomLei } from '../support/signups';
import { eventually } from '../support/wait';

let h: LifecycleHarness;
beforeAll(async () => {
  // GLEIF's answers are not cached here: a test changes a record and checks again.
  h = await createLifecycleHarness({ ADMIT_GLEIF_CACHE_TTL: '0s' });
});
afterAll(async () => h.close());

/** Contacts confirmed and a certificate verified: what is left is the decision. */
async function toDecision(started: Awaited<ReturnType<typeof signup>>) {
  await waitForStage(started.handle, 'AWAITING_CONTACTS');
  await confirmContacts(h, started.handle, started.body);
  await waitForStage(started.handle, 'AWAITING_ANCHOR');
  const attempt = await submitAnchor(started.handle, { kind: 'x509', certificateChainPem: await clientChain(h, `CN=${started.applicationId}`) });
  expect(attempt.ok).toBe(true);
}

describe('the legal entity and its domain are verified before anyone is mailed a link', () => {
  it('a first enrolment goes to an approver whatever its tier, who must say why; its next application is LOW and automatic', async () => {
    const lei = randomLei();
    const claimed = organisationFor(lei);
    // GLEIF spells the name its own way; the registry record ends with GLEIF's spelling, not the signup's.
    h.stack.entity.gleif.put({
      lei,
      legalName: claimed.legalName.toUpperCase().replace(/ LTD$/, ' LIMITED'),
      jurisdiction: 'GB',
      registrationStatus: 'ISSUED',
      entityStatus: 'ACTIVE',
    });
    const first = await signup(h, {}, { lei, firstEnrolment: true });
    const verifying = await waitForStage(first.handle, 'VERIFYING_ENTITY');
    expect(verifying.entity?.firstEnrolment).toBe(true);
    const contacts = await waitForStage(first.handle, 'AWAITING_CONTACTS');
    expect(contacts.tier).toBe('LOW');
    expect(contacts.entity?.lei?.outcome).toBe('pass');
    expect(contacts.entity?.domain).toMatchObject({ verified: true, method: 'dns-txt' });
    expect(contacts.entity?.approvalReasons.join(' ')).toMatch(/first enrolment/);
    // The technical contact was told how to prove the domain before any confirmation link was sent.
    const mails = await eventually(
      async () => {
        const received = await mailsTo(first.body.contacts.technical.email);
        return received.some((m) => /\/confirm\//.test(m.text)) ? received : undefined;
      },
      20_000,
      'the confirmation link',
    );
    const challengeMail = mails.find((m) => /controls/.test(m.subject));
    const linkMail = mails.find((m) => /\/confirm\//.test(m.text));
    expect(challengeMail?.text).toContain(contacts.entity?.domain.challenge?.txtValue ?? '(no challenge)');
    expect(Date.parse(challengeMail?.receivedAt ?? '')).toBeLessThanOrEqual(Date.parse(linkMail?.receivedAt ?? ''));

    await toDecision(first);
    const pending = await waitForStage(first.handle, 'AWAITING_APPROVAL');
    expect(pending.approval?.required).toBe(1);
    expect(await refusalCode(vote(first.handle, approvers.ada, 'approve'))).toBe('COMMENT_REQUIRED');
    await vote(first.handle, approvers.ada, 'approve', 'The domain is the one on the company’s filings.');
    await waitForStage(first.handle, 'ADMITTED');
    const organisation = await h.stack.registry.organisation.findUniqueOrThrow({ where: { lei } });
    expect(organisation).toMatchObject({
      verified: true,
      legalName: claimed.legalName.toUpperCase().replace(/ LTD$/, ' LIMITED'),
      primaryDomain: claimed.primaryDomain,
    });
    expect(await h.stack.registry.auditEvent.count({ where: { organisationId: organisation.id, type: 'organisation.attributes-verified' } })).toBe(1);

    // The organisation is now established: a LOW application of it needs nobody.
    const second = await signup(h, {}, { lei, name: 'Statement Export', firstEnrolment: true });
    await toDecision(second);
    const admitted = await waitForStage(second.handle, 'ADMITTED');
    expect(admitted.entity?.firstEnrolment).toBe(false);
    expect(admitted.transitions.map((t) => t.stage)).not.toContain('AWAITING_APPROVAL');
  });

  it('refuses an LEI GLEIF has retired, and mails no confirmation link', async () => {
    const lei = randomLei();
    const organisation = organisationFor(lei);
    h.stack.entity.gleif.put({ lei, legalName: organisation.legalName, jurisdiction: 'GB', registrationStatus: 'RETIRED', entityStatus: 'INACTIVE' });
    const started = await signup(h, {}, { lei, firstEnrolment: true });
    const closed = await waitForStage(started.handle, 'REJECTED');
    expect(closed.outcome?.trigger).toBe('entity-refused');
    expect(closed.outcome?.reason).toMatch(/RETIRED|retired/);
    const mails = await mailsTo(started.body.contacts.business.email);
    expect(mails.some((m) => /\/confirm\//.test(m.text))).toBe(false);
    expect((await h.stack.registry.application.findUniqueOrThrow({ where: { id: started.applicationId } })).status).toBe('REJECTED');
  });

  it('a claim that ended unverified releases the id: the next signup claims it afresh, with its own contacts', async () => {
    const lei = randomLei();
    const organisation = organisationFor(lei);
    h.stack.entity.gleif.put({ lei, legalName: organisation.legalName, jurisdiction: 'GB', registrationStatus: 'ANNULLED', entityStatus: 'ACTIVE' });
    const squatter = await signup(h, {}, { lei, firstEnrolment: true });
    await waitForStage(squatter.handle, 'REJECTED');

    // The registration authority corrected the record; the real partner signs up under the same id.
    h.stack.entity.gleif.put({ lei, legalName: organisation.legalName, jurisdiction: 'GB', registrationStatus: 'ISSUED', entityStatus: 'ACTIVE' });
    const partner = await signup(h, { requestedBy: `cfo@${organisation.primaryDomain}` }, { lei, firstEnrolment: true });
    expect(partner.applicationId).toBe(squatter.applicationId);
    const claimed = await waitForStage(partner.handle, 'AWAITING_CONTACTS').catch(async (error: unknown) => {
      throw new Error(`${String(error)}; the claim is ${JSON.stringify(await partner.handle.query(stateQuery)).slice(0, 1500)}`);
    });
    expect(claimed.transitions[0]?.stage).toBe('REGISTERING');
    const record = await h.stack.registry.application.findUniqueOrThrow({ where: { id: partner.applicationId } });
    expect(record).toMatchObject({ status: 'PENDING', requestedBy: `cfo@${organisation.primaryDomain}` });
    const registrations = await h.stack.registry.auditEvent.findMany({
      where: { applicationId: partner.applicationId, type: 'application.registered' },
    });
    expect(registrations).toHaveLength(2);
    await partner.handle.terminate('test over');
  });

  it('records a competing signup for a held id, shows it to approvers, and tells its people; the claim is unchanged', async () => {
    const lei = randomLei();
    const organisation = organisationFor(lei);
    const holder = await signup(h, {}, { lei });
    await waitForStage(holder.handle, 'AWAITING_CONTACTS');
    const rival = {
      ...holder.body,
      organisation: { ...holder.body.organisation, primaryDomain: 'rival-payments.test' },
      contacts: {
        business: { name: 'Rita Rival', email: 'rita@rival-payments.test' },
        technical: { name: 'Tim Rival', email: 'tim@rival-payments.test' },
        security: { name: 'Sue Rival', email: 'sue@rival-payments.test' },
      },
      requestedBy: 'rita@rival-payments.test',
    };
    const response = await h.app.inject({ method: 'POST', url: '/signup', payload: rival });
    expect(response.statusCode).toBe(202);
    expect(response.json<{ applicationId: string }>().applicationId).toBe(holder.applicationId);
    const state = await eventually(
      async () => {
        const s = await holder.handle.query(stateQuery);
        return (s.competingSignups?.length ?? 0) > 0 ? s : undefined;
      },
      20_000,
      'the competing signup to be recorded',
    );
    expect(state.competingSignups?.[0]).toMatchObject({
      requestedBy: 'r***@rival-payments.test',
      organisation: { primaryDomain: 'rival-payments.test' },
    });
    expect(JSON.stringify(state)).not.toContain('rita@rival-payments.test');
    // The claim itself is the holder's, untouched.
    const record = await h.stack.registry.application.findUniqueOrThrow({ where: { id: holder.applicationId }, include: { contacts: true } });
    expect(record.requestedBy).toBe(holder.body.requestedBy);
    expect(record.contacts.map((c) => c.email)).not.toContain('rita@rival-payments.test');
    expect(await h.stack.registry.auditEvent.count({ where: { applicationId: holder.applicationId, type: 'application.competing-signup' } })).toBe(1);
    await eventually(async () =>
      (await mailsTo('rita@rival-payments.test')).some((m) => /waiting behind another claim/.test(m.subject)) ? true : undefined,
    );
    await eventually(async () => ((await mailsTo(approvers.ada.email)).some((m) => /competing signup/i.test(m.subject)) ? true : undefined));
    // The same holder signing up again competes with nobody.
    await h.app.inject({ method: 'POST', url: '/signup', payload: holder.body });
    expect((await holder.handle.query(stateQuery)).competingSignups).toHaveLength(1);
    expect(organisation.primaryDomain).toBe(holder.body.organisation.primaryDomain);
    await holder.handle.terminate('test over');
  });

  it('shows a name that differs from the LEI record to the approver, and records the decision', async () => {
    const lei = randomLei();
    h.stack.entity.gleif.put({
      lei,
      legalName: 'Quite Another Holding AG',
      jurisdiction: 'CH',
      registrationStatus: 'ISSUED',
      entityStatus: 'ACTIVE',
    });
    const started = await signup(h, {}, { lei });
    const contacts = await waitForStage(started.handle, 'AWAITING_CONTACTS');
    expect(contacts.entity?.lei?.outcome).toBe('needs-approval');
    expect(contacts.entity?.approvalReasons.some((r) => r.startsWith('LEI:'))).toBe(true);
    await toDecision(started);
    const pending = await waitForStage(started.handle, 'AWAITING_APPROVAL');
    expect(pending.entity?.lei?.record?.legalName).toBe('Quite Another Holding AG');
    await vote(started.handle, approvers.ada, 'reject', 'Not the entity on the LEI record.');
    const closed = await waitForStage(started.handle, 'REJECTED');
    expect(closed.outcome?.reason).toBe('Not the entity on the LEI record.');
    await eventually(async () =>
      (await h.stack.registry.auditEvent.count({ where: { applicationId: started.applicationId, type: { startsWith: 'entity.' } } })) > 0
        ? true
        : undefined,
    );
  });

  it('keeps a lifecycle waiting, and says for what, while its domain is not proven', async () => {
    const lei = randomLei();
    h.stack.entity.withheld.add(organisationFor(lei).primaryDomain);
    const started = await signup(h, {}, { lei });
    const waiting = await waitForStage(started.handle, 'VERIFYING_ENTITY');
    await eventually(async () => (((await started.handle.query(stateQuery)).entity?.domain.reasons.length ?? 0) > 0 ? true : undefined));
    const state = await started.handle.query(stateQuery);
    expect(state.stage).toBe('VERIFYING_ENTITY');
    expect(state.waitingFor).toContain(`_admit-challenge.${organisationFor(lei).primaryDomain}`);
    expect(waiting.entity?.domain.verified).toBe(false);
    await started.handle.terminate('test over');
  });
});
