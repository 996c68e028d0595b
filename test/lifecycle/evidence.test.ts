import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestUsageBatch } from '../../usage/ingest';
import { offboardUpdate, requestExpansionUpdate, rotateAnchorUpdate, stateQuery } from '../../workflows/messages';
import { evidenceKeyringFromSeeds, type EvidenceKeyring } from '../../evidence/keys';
import { exportDossier } from '../../evidence/dossier';
import { loadControls } from '../../evidence/controls-hook';
import type { ControlsSection } from '../../evidence/controls';
import { verifyDossier } from '../../evidence/dossier-verify';
import { verifyLogAgainstCheckpoint } from '../../evidence/log-check';
import type { CheckpointFile } from '../../evidence/checkpoint';
import type { SignedDossier } from '../../evidence/dossier-format';
import { main } from '../../cli/admit';
import { approvers, clientChain, createLifecycleHarness, throughAnchor, vote, waitForStage, type LifecycleHarness } from '../support/lifecycle';
import { eventually } from '../support/wait';

let h: LifecycleHarness;
let keyring: EvidenceKeyring;
let dir: string;
beforeAll(async () => {
  h = await createLifecycleHarness({ ADMIT_PROBATION: '1s', ADMIT_EXPANSION_MIN_CALLS: '10', ADMIT_ROTATION_OVERLAP: '2s' });
  keyring = await evidenceKeyringFromSeeds([randomBytes(32)]);
  dir = await mkdtemp(path.join(tmpdir(), 'admit-evidence-lifecycle-'));
});
afterAll(async () => h.close());

/** Votes until the open decision closes (REGULATED: two distinct approvers, one a security reviewer). */
async function approveAll(handle: Parameters<typeof vote>[0], comment: string) {
  for (const approver of [approvers.ada, approvers.rui]) {
    if ((await handle.query(stateQuery)).approval?.outcome !== 'pending') return;
    await vote(handle, approver, 'approve', `${comment} (${approver.name})`);
  }
}

describe('the dossier of a REGULATED partner taken through its whole life', () => {
  it('covers admission, expansion, rotation and offboarding, and verifies offline', async () => {
    // Admission: two approvers.
    const { handle, applicationId } = await throughAnchor(h, { regulatedSector: true, requestedScopes: ['accounts:read', 'payments:initiate'] });
    const waiting = await waitForStage(handle, 'AWAITING_APPROVAL');
    expect(waiting.tier).toBe('REGULATED');
    await approveAll(handle, 'admission reviewed');
    const admitted = await waitForStage(handle, 'ADMITTED');
    const clientId = admitted.grant?.clientId ?? '';

    // Expansion on usage evidence, after probation (REGULATED: three times the base).
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    const end = new Date();
    await ingestUsageBatch(h.stack.registry, 'gateway-test', [
      {
        clientId,
        intervalStart: new Date(end.getTime() - 500).toISOString(),
        intervalEnd: end.toISOString(),
        calls: 400,
        denials: 0,
        errors: 1,
        anomalies: 0,
        lastSeenAt: end.toISOString(),
      },
    ]);
    const expansion = await handle.executeUpdate(requestExpansionUpdate, {
      args: [{ scopes: ['transactions:read'], requestedBy: 'theo@example.com' }],
    });
    expect(expansion.decision).not.toBe('refuse');
    await approveAll(handle, 'usage is clean');
    await eventually(async () => ((await handle.query(stateQuery)).grant?.scopes.includes('transactions:read') ? true : undefined), 20_000);

    // Rotation: a new certificate; the old one is retired after the overlap.
    const rotation = await handle.executeUpdate(rotateAnchorUpdate, {
      args: [{ kind: 'x509', certificateChainPem: await clientChain(h, `CN=${applicationId}-renewed`) }],
    });
    expect(rotation.ok).toBe(true);
    await eventually(
      async () => ((await h.stack.registry.trustAnchor.count({ where: { applicationId, status: 'RETIRED' } })) === 1 ? true : undefined),
      20_000,
    );

    // Offboarding.
    await handle.executeUpdate(offboardUpdate, { args: [{ by: approvers.ada, reason: 'contract terminated by the partner' }] });
    const offboarded = await waitForStage(handle, 'OFFBOARDED');

    const signed = await exportDossier(h.stack.registry, keyring, applicationId, {
      audience: 'full',
      checkpointDir: dir,
      triggers: offboarded.triggers,
      controls: await loadControls(),
    });
    const d = signed.dossier;
    // The controls section, signed with the rest: offboarding evidences NHI1, the verified anchor PR.AA-02,
    // the two approvers PR.AA-05; nothing here evidences who holds the partner's key (NHI10).
    const controls = d.controls as unknown as ControlsSection;
    const status = (id: string) => controls.controls.find((c) => c.control === id);
    expect(status('NHI1')).toMatchObject({
      status: 'evidenced',
      events: expect.arrayContaining([expect.objectContaining({ type: 'application.closed' })]),
    });
    expect(status('PR.AA-02')?.status).toBe('evidenced');
    expect(status('PR.AA-05')?.events.map((e) => e.type)).toEqual(expect.arrayContaining(['admission.vote', 'access.granted']));
    expect(status('NHI10')?.status).toBe('not evidenced');
    expect(controls.unmappedTypes).toEqual([]);
    const types = d.chains.flatMap((c) => c.events.map((e) => e.type));
    for (const type of [
      'application.registered',
      'risk.assessed',
      'admission.vote',
      'access.granted',
      'expansion.requested',
      'expansion.vote',
      'grant.expanded',
      'anchor.rotated',
      'anchor.retired',
      'application.closed',
    ]) {
      expect(types, type).toContain(type);
    }
    expect(d.sections.twoPersonRule).toEqual(
      expect.arrayContaining([expect.objectContaining({ purpose: 'admission', votes: 2, distinctApprovers: 2, requesterVoted: false })]),
    );
    expect((d.sections.credentials as { status: string; confirmationMethod: string }[]).map((c) => c.confirmationMethod)).toContain('x5t#S256');
    expect((d.sections.anchors as { trustAnchors: unknown[] }).trustAnchors).toHaveLength(2);
    expect(d.sections.triggers).toMatchObject({ available: true });
    expect(await verifyDossier(signed, { jwks: keyring.jwks })).toMatchObject({ ok: true, problems: [] });

    // Offline, from files: the dossier, the published keys and the checkpoint file written outside the database.
    const file = path.join(dir, 'regulated.json');
    const keys = path.join(dir, 'jwks.json');
    await writeFile(file, JSON.stringify(signed));
    await writeFile(keys, JSON.stringify(keyring.jwks));
    const held = path.join(dir, 'latest.json');
    const out: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: (t: string) => void out.push(t) };
    expect(await main(['evidence', 'verify', file, '--keys', keys, '--checkpoint', held], io)).toBe(0);
    expect(out.join('')).toMatch(/^verified: /);

    // The partner's copy verifies too, without the approvers' names or comments.
    const partner: SignedDossier = await exportDossier(h.stack.registry, keyring, applicationId, { audience: 'partner', checkpointDir: dir });
    expect(JSON.stringify(partner)).not.toMatch(/Ada|admission reviewed|usage is clean/);
    expect(await verifyDossier(partner, { jwks: keyring.jwks })).toMatchObject({ ok: true });

    // And the registry still holds everything the checkpoint file commits to.
    expect(
      await verifyLogAgainstCheckpoint(h.stack.registry, JSON.parse(await readFile(held, 'utf8')) as CheckpointFile, { jwks: keyring.jwks }),
    ).toMatchObject({ ok: true });
  });
});
