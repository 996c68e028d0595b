import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offboardUpdate } from '../../workflows/messages';
import { controlsSection } from '../../evidence/controls';
import { portfolioReport } from '../../evidence/portfolio';
import { DEFAULT_LIFECYCLE_DURATIONS, MS_PER_DAY } from '../../domain';
import { approvers, createLifecycleHarness, throughAnchor, vote, waitForStage, type LifecycleHarness } from '../support/lifecycle';

/**
 * The control mapping and the portfolio views over what a real lifecycle writes: a REGULATED partner
 * admitted by two approvers, then offboarded. Every event it leaves is mapped; the controls its
 * history cannot yet evidence say so; the views read its real rows.
 */
let h: LifecycleHarness;
beforeAll(async () => {
  h = await createLifecycleHarness();
});
afterAll(async () => h.close());

const eventsOf = (applicationId: string) => h.stack.registry.auditEvent.findMany({ where: { applicationId }, orderBy: { seq: 'asc' } });

describe('controls of a real partner', () => {
  it('maps every event a REGULATED admission and its offboarding write, and shows what is not evidenced yet', async () => {
    const { handle, applicationId } = await throughAnchor(h, { regulatedSector: true, requestedScopes: ['accounts:read', 'payments:initiate'] });
    await waitForStage(handle, 'AWAITING_APPROVAL');
    await vote(handle, approvers.ada, 'approve', 'contract checked');
    await vote(handle, approvers.rui, 'approve', 'anchor and scopes reviewed');
    await waitForStage(handle, 'ADMITTED');

    const admitted = controlsSection(await eventsOf(applicationId));
    expect(admitted.unmappedTypes).toEqual([]);
    const control = (section: typeof admitted, id: string) => section.controls.find((c) => c.control === id);
    expect(control(admitted, 'PR.AA-05')?.events.filter((e) => e.type === 'admission.vote')).toHaveLength(2);
    expect(control(admitted, 'PR.AA-02')?.events.map((e) => e.type)).toEqual(expect.arrayContaining(['entity.lei-checked', 'anchor.bound']));
    expect(control(admitted, 'NHI5')?.events.map((e) => e.type)).toContain('access.granted');
    // Still admitted and never rotated: no evidence of offboarding or rotation yet, and none is claimed.
    expect(control(admitted, 'NHI1')).toMatchObject({ status: 'not evidenced', events: [] });
    expect(control(admitted, 'NHI7')?.events.map((e) => e.type)).toEqual(['access.granted']);

    // The views read the same rows: the REGULATED partner is due for recertification in 90 days, holds only its minimal grant.
    const views = { now: new Date(), durations: DEFAULT_LIFECYCLE_DURATIONS };
    const due = await portfolioReport(h.stack.registry, 'recertification-overdue', { ...views, days: 91 });
    expect(due.rows.map((r) => r.applicationId)).toContain(applicationId);
    expect((await portfolioReport(h.stack.registry, 'recertification-overdue', views)).rows.map((r) => r.applicationId)).not.toContain(applicationId);
    expect((await portfolioReport(h.stack.registry, 'broad-grants', views)).rows.map((r) => r.applicationId)).not.toContain(applicationId);
    const anchors = await portfolioReport(h.stack.registry, 'anchor-expiry', { ...views, days: 3650 });
    expect(anchors.rows.find((r) => r.applicationId === applicationId)?.cells.anchorKind).toBe('X509');
    expect(new Date(due.rows.find((r) => r.applicationId === applicationId)?.cells.dueAt ?? '').getTime()).toBeGreaterThan(
      Date.now() + 89 * MS_PER_DAY,
    );

    await handle.executeUpdate(offboardUpdate, { args: [{ by: approvers.ada, reason: 'partnership ended early' }] });
    await expect(handle.result()).resolves.toMatchObject({ stage: 'OFFBOARDED' });
    const closed = controlsSection(await eventsOf(applicationId));
    expect(closed.unmappedTypes).toEqual([]);
    expect(control(closed, 'NHI1')).toMatchObject({ status: 'evidenced', events: [expect.objectContaining({ type: 'application.closed' })] });
    expect(control(closed, 'GV.SC-10')?.status).toBe('evidenced');
    // A manual offboarding is not a response to a leaked key: NHI2 keeps only the anchor's evidence.
    expect(control(closed, 'NHI2')?.events.map((e) => e.type)).toEqual(['anchor.bound']);
    // Offboarded: no longer in any view.
    expect((await portfolioReport(h.stack.registry, 'anchor-expiry', { ...views, days: 3650 })).rows.map((r) => r.applicationId)).not.toContain(
      applicationId,
    );
  });
});
