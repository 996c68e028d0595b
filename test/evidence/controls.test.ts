import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_EVENT_TYPES, isAuditEventType, type AuditEventType } from '../../domain/audit-events';
import type { AuditEntry } from '../../registry/audit';
import { CONTROLS, EVENT_CONTROLS, FRAMEWORKS, controlsSection, eventTypesFor, type EventRef } from '../../evidence/controls';

const ROOT = join(import.meta.dirname, '..', '..');
const PRODUCTION = ['activities', 'workflows', 'operations', 'registry', 'web', 'usage', 'oauth', 'credentials', 'worker', 'cli', 'stack'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

describe('the audit event types', () => {
  it('are each listed once', () => {
    expect(new Set(AUDIT_EVENT_TYPES).size).toBe(AUDIT_EVENT_TYPES.length);
  });

  it('refuse a type the code does not list, at compile time and at run time', () => {
    // @ts-expect-error -- an unlisted type does not compile (tsc runs over the tests): the build fails first.
    const entry: Pick<AuditEntry, 'type'> = { type: 'approval.vote' };
    expect(isAuditEventType(entry.type)).toBe(false);
    expect(isAuditEventType('anchor.bound')).toBe(true);
  });

  // A second net under the compiler: every literal that looks like an event type in code that writes
  // events is listed. It catches a type built some other way than the typed paths.
  it('include every event-type literal written by the code', () => {
    const writers = PRODUCTION.flatMap((dir) => sources(join(ROOT, dir))).filter((file) =>
      /appendAuditEvent|recordAudit\(|await audit\(lc|audit\(lc,|await record\(/.test(readFileSync(file, 'utf8')),
    );
    expect(writers.length).toBeGreaterThan(10);
    const families = new Set(AUDIT_EVENT_TYPES.map((type) => type.split('.')[0]));
    const found = new Map<string, string>();
    for (const file of writers) {
      for (const match of readFileSync(file, 'utf8').matchAll(/'([a-z]+)\.([a-z-]+)'/g)) {
        const [literal, family] = match;
        if (family !== undefined && families.has(family)) found.set(literal.slice(1, -1), relative(ROOT, file));
      }
    }
    const unlisted = [...found].filter(([type]) => !isAuditEventType(type));
    expect(unlisted).toEqual([]);
    expect(found.size).toBeGreaterThan(30);
  });
});

describe('the control mapping', () => {
  it('maps every event type the code can write to at least one control, with a justification', () => {
    for (const type of AUDIT_EVENT_TYPES) {
      const lines = EVENT_CONTROLS[type];
      expect(lines, type).toBeDefined();
      expect(lines.length, type).toBeGreaterThan(0);
      for (const line of lines) expect(line.why.trim().length, `${type} → ${line.control}`).toBeGreaterThan(20);
    }
    // Nothing mapped that the code does not write.
    expect(Object.keys(EVENT_CONTROLS).sort()).toEqual([...AUDIT_EVENT_TYPES].sort());
  });

  it('references only controls in the catalogue, each line once', () => {
    const ids = new Set<string>(CONTROLS.map((control) => control.id));
    expect(ids.size).toBe(CONTROLS.length);
    for (const [type, lines] of Object.entries(EVENT_CONTROLS)) {
      for (const line of lines) expect(ids.has(line.control), `${type} → ${line.control}`).toBe(true);
      expect(new Set(lines.map((line) => line.control)).size, type).toBe(lines.length);
    }
  });

  it('has the catalogue the issue names: NHI1–NHI10, PR.AA-01–06, GV.SC, the 800-207 tenets and components', () => {
    const ids = CONTROLS.map((control) => control.id);
    for (let n = 1; n <= 10; n += 1) expect(ids).toContain(`NHI${n}`);
    for (let n = 1; n <= 6; n += 1) expect(ids).toContain(`PR.AA-0${n}`);
    for (let n = 1; n <= 7; n += 1) expect(ids).toContain(`ZTA-T${n}`);
    expect(ids).toEqual(
      expect.arrayContaining(['GV.SC-04', 'GV.SC-06', 'GV.SC-07', 'GV.SC-10', 'ZTA-PE', 'ZTA-PA', 'ZTA-PEP', 'ZTA-DS-PKI', 'ZTA-DS-ID']),
    );
    expect(CONTROLS.find((c) => c.id === 'NHI1')?.title).toBe('NHI1:2025 Improper Offboarding');
    expect(CONTROLS.find((c) => c.id === 'NHI2')?.title).toBe('NHI2:2025 Secret Leakage');
    expect(CONTROLS.find((c) => c.id === 'PR.AA-03')?.title).toBe('Users, services, and hardware are authenticated');
    for (const control of CONTROLS) expect(Object.keys(FRAMEWORKS)).toContain(control.framework);
  });

  it('leaves a control with a stated gap unmapped, and maps every other control to some event', () => {
    for (const control of CONTROLS) {
      const mapped = eventTypesFor(control.id).length > 0;
      expect(mapped, control.id).toBe(!('gap' in control));
    }
  });
});

const event = (seq: number, type: AuditEventType): EventRef => ({
  seq: BigInt(seq),
  id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
  type,
});

const ADMITTED: EventRef[] = [
  event(1, 'application.registered'),
  event(2, 'entity.lei-checked'),
  event(3, 'entity.domain-checked'),
  event(4, 'contact.confirmed'),
  event(5, 'anchor.bound'),
  event(6, 'risk.assessed'),
  event(7, 'admission.vote'),
  event(8, 'admission.approved'),
  event(9, 'access.granted'),
];

describe('controlsSection', () => {
  it('lists every control of the catalogue, in its order, with the events that evidence it', () => {
    const section = controlsSection(ADMITTED);
    expect(section.controls.map((c) => c.control)).toEqual(CONTROLS.map((c) => c.id));
    const aa02 = section.controls.find((c) => c.control === 'PR.AA-02');
    expect(aa02?.status).toBe('evidenced');
    expect(aa02?.events.map((e) => [e.seq, e.type])).toEqual([
      ['2', 'entity.lei-checked'],
      ['3', 'entity.domain-checked'],
      ['5', 'anchor.bound'],
    ]);
    expect(aa02?.events[0]?.why).toMatch(/GLEIF/);
    expect(section.unmappedTypes).toEqual([]);
  });

  it('shows a control "not evidenced" when the history lacks its events: no rotation, no offboarding', () => {
    // Registered and anchored, never admitted, never rotated: nothing evidences NHI7 Long-Lived Secrets.
    const anchored = controlsSection(ADMITTED.slice(0, 5));
    expect(anchored.controls.find((c) => c.control === 'NHI7')).toMatchObject({ status: 'not evidenced', events: [] });
    const rotated = controlsSection([...ADMITTED.slice(0, 5), event(10, 'anchor.rotated-in')]);
    expect(rotated.controls.find((c) => c.control === 'NHI7')).toMatchObject({
      status: 'evidenced',
      events: [{ seq: '10', type: 'anchor.rotated-in' }],
    });

    // Admitted and still running: NHI1 Improper Offboarding has no evidence until the partner is offboarded.
    expect(controlsSection(ADMITTED).controls.find((c) => c.control === 'NHI1')?.status).toBe('not evidenced');
    const closed = controlsSection([...ADMITTED, event(11, 'application.closed'), event(12, 'keycloak.client-removed')]);
    expect(closed.controls.find((c) => c.control === 'NHI1')?.events.map((e) => e.type)).toEqual(['application.closed', 'keycloak.client-removed']);

    // Without recertification, GV.SC-07 is evidenced only by the admission's risk assessment.
    expect(
      controlsSection(ADMITTED)
        .controls.find((c) => c.control === 'GV.SC-07')
        ?.events.map((e) => e.type),
    ).toEqual(['risk.assessed']);
  });

  it('counts a conditional line only for events whose data meets it: a closure evidences NHI2 only on a key compromise', () => {
    const manual = controlsSection([...ADMITTED, { ...event(11, 'application.closed'), data: { trigger: 'manual' } }]);
    expect(manual.controls.find((c) => c.control === 'NHI2')?.events.map((e) => e.type)).toEqual(['anchor.bound']);
    expect(manual.controls.find((c) => c.control === 'NHI1')?.events.map((e) => e.type)).toEqual(['application.closed']);
    const compromised = controlsSection([...ADMITTED, { ...event(11, 'application.closed'), data: { trigger: 'key-compromise' } }]);
    expect(compromised.controls.find((c) => c.control === 'NHI2')?.events.map((e) => e.type)).toEqual(['anchor.bound', 'application.closed']);
  });

  it('marks controls Admit cannot evidence with their gap, and names event types it does not know', () => {
    const section = controlsSection([...ADMITTED, { seq: 20, type: 'legacy.something' }]);
    expect(section.controls.find((c) => c.control === 'PR.AA-06')).toMatchObject({ status: 'not evidenced', gap: expect.stringMatching(/Physical/) });
    expect(section.unmappedTypes).toEqual(['legacy.something']);
  });
});
