import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, type Registry } from '../../registry/client';
import { DEFAULT_LIFECYCLE_DURATIONS } from '../../domain/durations';
import { dossierPath, portfolioReport, type PortfolioView, type Report } from '../../evidence/portfolio';
import { reportCsv, reportTable } from '../../evidence/report-format';
import { createTestDatabase } from '../support/stack';
import { MINUTE, NOW, addAnchor, addEvent, addGrant, addLeiCheck, addUsage, at, createPartner, type Partner } from '../support/portfolio';

/**
 * Issue 12, item 5: each portfolio view over real registry rows, with a case just inside and one
 * just outside each threshold. Each view gets its own database, so one view's rows are not another's.
 */
const databases: Registry[] = [];
async function freshRegistry(): Promise<{ registry: Registry; url: string }> {
  const url = await createTestDatabase();
  const registry = createRegistry(url, { maxConnections: 3 });
  databases.push(registry);
  return { registry, url };
}
afterAll(async () => {
  await Promise.all(databases.map((r) => r.$disconnect()));
});

const report = (registry: Registry, view: PortfolioView, days?: number) =>
  portfolioReport(registry, view, { now: NOW, durations: DEFAULT_LIFECYCLE_DURATIONS, ...(days === undefined ? {} : { days }) });
const ids = (r: Report) => r.rows.map((row) => row.applicationId);

describe('anchor-expiry', () => {
  let registry: Registry;
  let url: string;
  const p: Record<string, Partner> = {};
  beforeAll(async () => {
    ({ registry, url } = await freshRegistry());
    p.soon = await createPartner(registry, 'Soon');
    await addAnchor(registry, p.soon, at(29, 23 * 60 * MINUTE));
    p.boundary = await createPartner(registry, 'Boundary');
    await addAnchor(registry, p.boundary, at(30));
    p.outside = await createPartner(registry, 'Just Outside');
    await addAnchor(registry, p.outside, at(30, MINUTE));
    p.expired = await createPartner(registry, 'Expired', { status: 'SUSPENDED' });
    await addAnchor(registry, p.expired, at(-2));
    p.rotating = await createPartner(registry, 'Rotating');
    await addAnchor(registry, p.rotating, at(5), 'ROTATING_OUT');
    await addAnchor(registry, p.rotating, at(400));
    p.retired = await createPartner(registry, 'Retired Anchor');
    await addAnchor(registry, p.retired, at(1), 'RETIRED');
    p.offboarded = await createPartner(registry, 'Offboarded', { status: 'OFFBOARDED' });
    await addAnchor(registry, p.offboarded, at(1));
    p.noExpiry = await createPartner(registry, 'No Expiry');
    await addAnchor(registry, p.noExpiry, null);
    p.csv = await createPartner(registry, 'Formula', { legalName: '=HYPERLINK("http://evil.example","click")' });
    await addAnchor(registry, p.csv, at(3));
  });

  it('lists anchors still accepted whose notAfter is within N days, boundary included, soonest first', async () => {
    const r = await report(registry, 'anchor-expiry', 30);
    expect(ids(r)).toEqual([p.expired!.id, p.csv!.id, p.rotating!.id, p.soon!.id, p.boundary!.id]);
    expect(r.rows[0]?.cells).toMatchObject({ status: 'SUSPENDED', expires: 'expired 2 days ago' });
    expect(r.rows[2]?.cells).toMatchObject({ anchorStatus: 'ROTATING_OUT', expires: 'in 5 days' });
    expect(r.rows[3]?.dossier).toBe(`/console/applications/${p.soon!.id}/dossier`);
    // A minute past N days is outside; so are retired anchors and offboarded partners.
    expect(ids(r)).not.toContain(p.outside!.id);
  });

  it('defaults N to 30 days, and N = 0 lists only what has already expired', async () => {
    expect(ids(await report(registry, 'anchor-expiry'))).toEqual(ids(await report(registry, 'anchor-expiry', 30)));
    expect(ids(await report(registry, 'anchor-expiry', 0))).toEqual([p.expired!.id]);
    expect(ids(await report(registry, 'anchor-expiry', 31))).toContain(p.outside!.id);
  });

  it('comes as CSV with a dossier link per row, formulas neutralised, and as a text table', async () => {
    const r = await report(registry, 'anchor-expiry', 30);
    const csv = reportCsv(r, 'https://admit.example');
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(
      '"Application","Application id","Organisation","Tier","Status","Anchor kind","Anchor status","Fingerprint","Not after","Expires","Dossier"',
    );
    expect(lines).toHaveLength(r.rows.length + 2);
    const formula = lines.find((line) => line.includes(p.csv!.id));
    expect(formula).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(formula).toContain(`"https://admit.example${dossierPath(p.csv!.id)}"`);
    const table = reportTable(r);
    expect(table.split('\n')[0]).toMatch(/^Trust anchors expiring \(N = 30 days\) — 5 found/);
    expect(table).toContain(dossierPath(p.soon!.id));
  });

  it('is what `npx admit evidence report` prints, from the database at DATABASE_URL', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['bin/admit.js', 'evidence', 'report', ...args], {
        cwd: root,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: url, ADMIT_PUBLIC_URL: 'https://admit.example', NODE_ENV: 'test' },
        timeout: 60_000,
      });
    // The command reads the wall clock: far-future anchors are the only ones that stay out.
    const csv = run(['anchor-expiry', '--days', '3650', '--format', 'csv']);
    expect(csv.stderr).toBe('');
    expect(csv.status).toBe(0);
    expect(csv.stdout.split('\r\n')[0]).toMatch(/^"Application","Application id",/);
    expect(csv.stdout).toContain(`"https://admit.example/console/applications/${p.soon!.id}/dossier"`);
    expect(csv.stdout).toContain(`"'=HYPERLINK(`);
    const table = run(['broad-grants']);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/^Grants broader than the tier’s minimal template — 0 found/);
    const bad = run(['anchor-expiry', '--days', 'soon']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--days is a whole number/);
    expect(run(['no-such-view']).status).toBe(2);
    expect(run(['exceptions', '--days', '3']).stderr).toMatch(/takes no --days/);
  });
});

describe('recertification-overdue', () => {
  let registry: Registry;
  const p: Record<string, Partner> = {};
  beforeAll(async () => {
    ({ registry } = await freshRegistry());
    // REGULATED: every 90 days; STRATEGIC: every 180 days (the domain's defaults).
    p.overdue = await createPartner(registry, 'Overdue', { tier: 'REGULATED', admittedAt: at(-91) });
    p.justOutside = await createPartner(registry, 'Not Yet', { tier: 'REGULATED', admittedAt: at(-90, 60 * MINUTE) });
    p.recertified = await createPartner(registry, 'Recertified', { tier: 'REGULATED', admittedAt: at(-200) });
    await addEvent(registry, p.recertified, 'recertification.approved', at(-80), { approvers: ['x'] });
    p.earlierClaim = await createPartner(registry, 'Earlier Claim', { tier: 'REGULATED', admittedAt: at(-100) });
    await addEvent(registry, p.earlierClaim, 'recertification.approved', at(-150), {});
    p.strategic = await createPartner(registry, 'Strategic', { tier: 'STRATEGIC', admittedAt: at(-181), status: 'SUSPENDED' });
    p.high = await createPartner(registry, 'High', { tier: 'HIGH', admittedAt: at(-999) });
    p.closed = await createPartner(registry, 'Closed', { tier: 'REGULATED', admittedAt: at(-300), status: 'OFFBOARDED' });
  });

  it('lists STRATEGIC and REGULATED partners past their due date, from their last recertification or admission', async () => {
    const r = await report(registry, 'recertification-overdue');
    expect(r.days).toBe(0);
    // Most overdue first (due 10 days ago), then the two due a day ago, by id.
    expect(ids(r)).toEqual([p.earlierClaim!.id, ...[p.overdue!.id, p.strategic!.id].sort()]);
    const overdue = r.rows.find((row) => row.applicationId === p.overdue!.id);
    expect(overdue?.cells).toMatchObject({ overdue: 'by 1 days', dueAt: at(-1).toISOString() });
    // A recertification before this admission belonged to an earlier claim: the admission counts.
    expect(r.rows.find((row) => row.applicationId === p.earlierClaim!.id)?.cells.lastDecision).toBe(`${at(-100).toISOString()} (admitted)`);
    // Due an hour from now is not overdue; nor is one recertified 80 days ago.
    expect(ids(r)).not.toContain(p.justOutside!.id);
    expect(ids(r)).not.toContain(p.recertified!.id);
  });

  it('with N, also lists those due within N days, boundary included', async () => {
    expect(ids(await report(registry, 'recertification-overdue', 10))).toContain(p.recertified!.id);
    expect(ids(await report(registry, 'recertification-overdue', 9))).not.toContain(p.recertified!.id);
    expect(ids(await report(registry, 'recertification-overdue', 1))).toContain(p.justOutside!.id);
  });
});

describe('no-usage', () => {
  let registry: Registry;
  const p: Record<string, Partner> = {};
  beforeAll(async () => {
    ({ registry } = await freshRegistry());
    p.idle = await createPartner(registry, 'Idle', { admittedAt: at(-100) });
    await addUsage(registry, p.idle, at(-31));
    p.recent = await createPartner(registry, 'Recent', { admittedAt: at(-100) });
    await addUsage(registry, p.recent, at(-40));
    await addUsage(registry, p.recent, at(-30, MINUTE));
    p.never = await createPartner(registry, 'Never Used', { admittedAt: at(-31) });
    p.new = await createPartner(registry, 'New', { admittedAt: at(-29) });
    p.zeroCalls = await createPartner(registry, 'Zero Calls', { admittedAt: at(-100) });
    await addUsage(registry, p.zeroCalls, at(-50));
    await addUsage(registry, p.zeroCalls, at(-1), 0);
    p.pending = await createPartner(registry, 'Pending', { status: 'PENDING' });
  });

  it('lists partners whose last call is at least N days old, or never called since an admission that old', async () => {
    const r = await report(registry, 'no-usage', 30);
    // Oldest first; Idle and Never Used have been idle since the same instant, so their ids decide.
    expect(ids(r)).toEqual([p.zeroCalls!.id, ...[p.idle!.id, p.never!.id].sort((a, b) => a.localeCompare(b))]);
    expect(r.rows.find((row) => row.applicationId === p.never!.id)?.cells).toMatchObject({ lastCall: 'never', idle: '31 days' });
    expect(r.rows.find((row) => row.applicationId === p.idle!.id)?.cells.lastCall).toBe(at(-31).toISOString());
    // A call a minute inside the window, or an admission 29 days old, keeps a partner off the list.
    expect(ids(r)).not.toContain(p.recent!.id);
    expect(ids(r)).not.toContain(p.new!.id);
    expect(ids(await report(registry, 'no-usage', 29))).toEqual(expect.arrayContaining([p.recent!.id, p.new!.id]));
  });
});

describe('broad-grants', () => {
  let registry: Registry;
  const p: Record<string, Partner> = {};
  beforeAll(async () => {
    ({ registry } = await freshRegistry());
    p.minimal = await createPartner(registry, 'Minimal', { tier: 'LOW' });
    await addGrant(registry, p.minimal, 'LOW', ['accounts:read', 'transactions:read', 'payments:status:read']);
    p.expanded = await createPartner(registry, 'Expanded', { tier: 'LOW' });
    await addGrant(registry, p.expanded, 'LOW', ['accounts:read', 'statements:read']);
    p.beyond = await createPartner(registry, 'Beyond', { tier: 'LOW', status: 'SUSPENDED' });
    await addGrant(registry, p.beyond, 'LOW', ['accounts:read', 'payments:initiate'], 'SUSPENDED');
    p.revoked = await createPartner(registry, 'Revoked Grant', { tier: 'LOW' });
    await addGrant(registry, p.revoked, 'LOW', ['payments:initiate'], 'REVOKED');
    p.subset = await createPartner(registry, 'Subset', { tier: 'MEDIUM' });
    await addGrant(registry, p.subset, 'MEDIUM', ['accounts:read', 'webhooks:manage']);
    // Re-tiered down after admission: judged by the tier it has now.
    p.retiered = await createPartner(registry, 'Retiered', { tier: 'LOW' });
    await addGrant(registry, p.retiered, 'MEDIUM', ['accounts:read', 'webhooks:manage']);
  });

  it('lists grants outside the minimal template, those beyond the ceiling first', async () => {
    const r = await report(registry, 'broad-grants');
    expect(r.days).toBeNull();
    // Beyond the ceiling first (by application id), then broader than the minimal template.
    expect(ids(r)).toEqual([...[p.beyond!.id, p.retiered!.id].sort(), p.expanded!.id]);
    const cells = (partner: Partner) => r.rows.find((row) => row.applicationId === partner.id)?.cells;
    expect(cells(p.beyond!)).toMatchObject({ finding: 'beyond the ceiling', beyondCeiling: 'payments:initiate', beyondMinimal: 'payments:initiate' });
    expect(cells(p.retiered!)).toMatchObject({ finding: 'beyond the ceiling', tier: 'LOW', beyondCeiling: 'webhooks:manage' });
    expect(r.rows[2]?.cells).toMatchObject({ finding: 'broader than the minimal template', beyondMinimal: 'statements:read', beyondCeiling: '' });
    // Exactly the minimal template, a subset of it, or a revoked grant: nothing to report.
    expect(ids(r)).not.toContain(p.minimal!.id);
    expect(ids(r)).not.toContain(p.subset!.id);
    expect(ids(r)).not.toContain(p.revoked!.id);
  });
});

describe('exceptions', () => {
  let registry: Registry;
  const p: Record<string, Partner> = {};
  const ada = 'http://127.0.0.1:3000/dev-idp ada';
  beforeAll(async () => {
    ({ registry } = await freshRegistry());
    await registry.approver.create({ data: { subject: ada, email: 'ada@admit.localhost', name: 'Ada Approver', roles: ['approver'] } });
    p.outside = await createPartner(registry, 'Outsourced SOC', { contacts: { SECURITY: 'soc@mssp.example.net' } });
    await addEvent(
      registry,
      p.outside,
      'admission.vote',
      at(-11),
      { decision: 'approve', comment: 'Their SOC is run by an MSSP under contract' },
      ada,
    );
    p.subdomain = await createPartner(registry, 'Subdomain Contacts');
    const subdomainOrg = await registry.organisation.findUniqueOrThrow({ where: { id: p.subdomain.organisationId } });
    await registry.contact.updateMany({
      where: { applicationId: p.subdomain.id, role: 'SECURITY' },
      data: { email: `sec@soc.${subdomainOrg.primaryDomain}` },
    });

    p.lei = await createPartner(registry, 'Doubtful LEI');
    const doubtful = await addLeiCheck(registry, p.lei, 'needs-approval', at(-12));
    await addEvent(registry, p.lei, 'entity.lei-accepted', at(-11), { checkId: doubtful.id, reason: 'Trading name; the record is the parent' }, ada);
    p.leiSettled = await createPartner(registry, 'LEI Settled');
    const settled = await addLeiCheck(registry, p.leiSettled, 'needs-approval', at(-40));
    await addEvent(registry, p.leiSettled, 'entity.lei-accepted', at(-39), { checkId: settled.id, reason: 'ok' }, ada);
    await addLeiCheck(registry, p.leiSettled, 'pass', at(-5));

    p.lapsed = await createPartner(registry, 'Lapsed');
    await addEvent(registry, p.lapsed, 'entity.lei-rechecked', at(-3), { action: 'review', reason: 'registration status LAPSED: not renewed' });
    p.lapsedThenFine = await createPartner(registry, 'Lapsed Then Fine');
    await addEvent(registry, p.lapsedThenFine, 'entity.lei-rechecked', at(-30), { action: 'review', reason: 'registration status LAPSED' });
    await addEvent(registry, p.lapsedThenFine, 'entity.lei-rechecked', at(-2), { action: 'none', reason: null });

    p.unverified = await createPartner(registry, 'Legacy', { verified: false });
    p.closed = await createPartner(registry, 'Closed Outside', { status: 'OFFBOARDED', contacts: { BUSINESS: 'boss@elsewhere.example' } });
  });

  it('lists each open exception with who accepted it and why, derived from rows and audit events', async () => {
    const r = await report(registry, 'exceptions');
    const found = r.rows.map((row) => [row.applicationId, row.cells.kind]);
    expect(found).toEqual(
      expect.arrayContaining([
        [p.outside!.id, 'contacts outside the domain'],
        [p.lei!.id, 'doubtful LEI accepted'],
        [p.lapsed!.id, 'LEI status under review'],
        [p.unverified!.id, 'organisation not verified'],
      ]),
    );
    expect(found).toHaveLength(4);
    expect(r.rows.find((row) => row.applicationId === p.outside!.id)?.cells).toMatchObject({
      detail: expect.stringMatching(/^security contact at mssp\.example\.net; organisation domain /),
      acceptedBy: 'Ada Approver',
      reason: 'Their SOC is run by an MSSP under contract',
    });
    // Only the domain of the address is reported, never the address.
    expect(JSON.stringify(r.rows)).not.toContain('soc@mssp');
    expect(r.rows.find((row) => row.applicationId === p.lei!.id)?.cells).toMatchObject({
      detail: expect.stringMatching(/score 0\.82: the legal name differs from the record/),
      acceptedBy: 'Ada Approver',
      reason: 'Trading name; the record is the parent',
    });
    expect(r.rows.find((row) => row.applicationId === p.lapsed!.id)?.cells).toMatchObject({ acceptedBy: 'awaiting approvers' });
    // Contacts at a subdomain, an LEI passed since, a status back to normal, a closed partner: none is open.
    for (const closed of [p.subdomain!, p.leiSettled!, p.lapsedThenFine!, p.closed!]) expect(ids(r)).not.toContain(closed.id);
  });

  it('shows a review as accepted once approvers recertify after it', async () => {
    await addEvent(registry, p.lapsed!, 'recertification.approved', at(-1), {}, ada);
    const r = await report(registry, 'exceptions');
    expect(r.rows.find((row) => row.applicationId === p.lapsed!.id)?.cells).toMatchObject({
      acceptedBy: 'Ada Approver',
      reason: 'recertified since',
    });
  });
});
