import { describe, expect, it } from 'vitest';
import {
  ENTITY_STATUSES,
  ENTITY_STATUS_TABLE,
  REGISTRATION_STATUSES,
  REGISTRATION_STATUS_TABLE,
  assessLeiRecord,
  assessMissingLei,
  compareJurisdiction,
  compareLegalName,
  leiRecheck,
  normaliseLegalName,
  type LeiRecordSummary,
} from '../../domain/legal-entity';

const LEI = '5493001KJTIIGC8Y1R12';

function record(overrides: Partial<LeiRecordSummary> = {}): LeiRecordSummary {
  return {
    lei: LEI,
    legalName: 'Bloomberg Finance L.P.',
    otherNames: [],
    jurisdiction: 'US-DE',
    registrationStatus: 'ISSUED',
    entityStatus: 'ACTIVE',
    successorLei: null,
    successorName: null,
    nextRenewalDate: '2027-06-01T00:00:00Z',
    lastUpdateDate: '2026-06-01T00:00:00Z',
    managingLou: 'EVK05KS7XY1DEII3R011',
    corroborationLevel: 'FULLY_CORROBORATED',
    ...overrides,
  };
}

const claim = { lei: LEI, legalName: 'Bloomberg Finance L.P.', jurisdiction: 'US-DE' };

describe('the status table', () => {
  it('covers every LEI-CDF 3.1 registration status and entity status', () => {
    expect(Object.keys(REGISTRATION_STATUS_TABLE).sort()).toEqual([...REGISTRATION_STATUSES].sort());
    expect(REGISTRATION_STATUSES).toEqual(
      expect.arrayContaining([
        'PENDING_VALIDATION',
        'ISSUED',
        'DUPLICATE',
        'LAPSED',
        'MERGED',
        'RETIRED',
        'ANNULLED',
        'CANCELLED',
        'TRANSFERRED',
        'PENDING_TRANSFER',
        'PENDING_ARCHIVAL',
      ]),
    );
    expect(Object.keys(ENTITY_STATUS_TABLE).sort()).toEqual([...ENTITY_STATUSES].sort());
  });

  const expected: [string, 'pass' | 'needs-approval' | 'refused'][] = [
    ['ISSUED', 'pass'],
    ['LAPSED', 'needs-approval'],
    ['PENDING_TRANSFER', 'needs-approval'],
    ['PENDING_ARCHIVAL', 'needs-approval'],
    ['TRANSFERRED', 'needs-approval'],
    ['PENDING_VALIDATION', 'refused'],
    ['CANCELLED', 'refused'],
    ['RETIRED', 'refused'],
    ['ANNULLED', 'refused'],
    ['DUPLICATE', 'refused'],
    ['MERGED', 'refused'],
    ['SOMETHING_NEW', 'needs-approval'],
  ];
  it.each(expected)('registration status %s → %s (name and jurisdiction matching)', (status, outcome) => {
    const a = assessLeiRecord(claim, record({ registrationStatus: status }));
    expect(a.outcome).toBe(outcome);
    expect(a.reasons.find((r) => r.code === 'LEI_REGISTRATION_STATUS')).toMatchObject({ outcome, message: expect.stringContaining(status) });
  });

  it.each([
    ['ACTIVE', 'pass'],
    ['INACTIVE', 'refused'],
    ['NULL', 'needs-approval'],
    ['DORMANT', 'needs-approval'],
  ] as const)('entity status %s → %s', (status, outcome) => {
    expect(assessLeiRecord(claim, record({ entityStatus: status })).outcome).toBe(outcome);
  });

  it('refuses an ISSUED registration of an INACTIVE entity: the strictest finding decides', () => {
    expect(assessLeiRecord(claim, record({ entityStatus: 'INACTIVE' })).outcome).toBe('refused');
  });

  it('names the successor of a merged entity', () => {
    const a = assessLeiRecord(
      claim,
      record({
        registrationStatus: 'MERGED',
        entityStatus: 'INACTIVE',
        successorLei: '549300ABCDEFGHIJKL12',
        successorName: 'Successor Holdings LLC',
      }),
    );
    expect(a.outcome).toBe('refused');
    expect(a.reasons.find((r) => r.code === 'LEI_SUCCESSOR')?.message).toContain('Successor Holdings LLC, 549300ABCDEFGHIJKL12');
  });

  it('refuses an LEI GLEIF does not know', () => {
    expect(assessMissingLei(LEI)).toMatchObject({ outcome: 'refused', score: 0, reasons: [{ code: 'LEI_NOT_FOUND' }] });
  });

  it('refuses a record of another LEI than the one asked for', () => {
    expect(assessLeiRecord(claim, record({ lei: '529900T8BM49AURSDO55' })).outcome).toBe('refused');
  });

  it('passes an issued, active record whose name and jurisdiction match, with score 1', () => {
    const a = assessLeiRecord(claim, record());
    expect(a).toMatchObject({ outcome: 'pass', score: 1, nameScore: 1, jurisdictionScore: 1, matchedName: 'Bloomberg Finance L.P.' });
    expect(a.reasons.every((r) => r.outcome === 'pass')).toBe(true);
  });
});

describe('legal names', () => {
  it('normalises Unicode compatibility forms, case, punctuation and spacing', () => {
    expect(normaliseLegalName('  ＢＬＯＯＭＢＥＲＧ   Finance,  L.P. ').normal).toBe('bloomberg finance lp');
    expect(normaliseLegalName('Straße AG').normal).toBe('strasse ag');
    expect(normaliseLegalName('O’Brien & Sons Ltd').normal).toBe('obrien and sons ltd');
    expect(normaliseLegalName('Müller-Lüdenscheidt GmbH').normal).toBe('müller lüdenscheidt gmbh');
  });

  it.each([
    ['Bloomberg Finance LP', 'Bloomberg Finance L.P.'],
    ['Bloomberg Finance Limited Partnership', 'Bloomberg Finance L.P.'],
    ['ACME LIMITED', 'Acme Ltd.'],
    ['Acme Incorporated', 'ACME, INC.'],
    ['Beispiel Gesellschaft mit beschränkter Haftung', 'Beispiel GmbH'],
    ['Muster GmbH & Co. KG', 'MUSTER GMBH AND CO KG'],
    ['Goldman Sachs & Co. LLC', 'Goldman Sachs and Co LLC'],
  ])('%s matches the record’s %s (spellings of one legal form)', (claimed, recorded) => {
    expect(compareLegalName(claimed, recorded)).toMatchObject({ score: 1, reasons: [{ code: 'NAME_MATCH', outcome: 'pass' }] });
  });

  it('does not pass a name without its legal form, or with another one', () => {
    expect(compareLegalName('Bloomberg Finance', 'Bloomberg Finance L.P.')).toMatchObject({
      score: 0.9,
      reasons: [{ code: 'NAME_LEGAL_FORM_DIFFERS', outcome: 'needs-approval' }],
    });
    expect(compareLegalName('Acme Inc', 'Acme Ltd').reasons[0]).toMatchObject({ code: 'NAME_LEGAL_FORM_DIFFERS', outcome: 'needs-approval' });
  });

  it('shows both names and a score below 1 for a mismatch', () => {
    const c = compareLegalName('Bloomberg Finanse L.P.', 'Bloomberg Finance L.P.');
    expect(c.reasons[0]).toMatchObject({ code: 'NAME_MISMATCH', outcome: 'needs-approval' });
    expect(c.reasons[0]!.message).toContain('Bloomberg Finanse L.P.');
    expect(c.reasons[0]!.message).toContain('Bloomberg Finance L.P.');
    expect(c.score).toBeGreaterThan(0.5);
    expect(c.score).toBeLessThan(0.9);
    expect(compareLegalName('Totally Different Corp', 'Bloomberg Finance L.P.').score).toBeLessThan(0.3);
  });

  it('does not fold a homoglyph from another script into Latin', () => {
    // The "а" below is CYRILLIC SMALL LETTER A.
    expect(compareLegalName('Bloomberg Finаnce L.P.', 'Bloomberg Finance L.P.').reasons[0]!.code).toBe('NAME_MISMATCH');
  });

  it('accepts the record’s own legal name in another language or transliteration, but not a trading or previous name', () => {
    const others = [
      { name: 'Societe Generale', type: 'AUTO_ASCII_TRANSLITERATED_LEGAL_NAME' },
      { name: 'SG', type: 'TRADING_OR_OPERATING_NAME' },
      { name: 'Old Bank SA', type: 'PREVIOUS_LEGAL_NAME' },
    ];
    expect(compareLegalName('SOCIETE GENERALE', 'Société Générale', others).reasons[0]).toMatchObject({
      code: 'NAME_MATCH_OTHER_LEGAL_NAME',
      outcome: 'pass',
    });
    expect(compareLegalName('SG', 'Société Générale', others).reasons[0]).toMatchObject({
      code: 'NAME_MATCHES_NON_LEGAL_NAME',
      outcome: 'needs-approval',
    });
    expect(compareLegalName('Old Bank S.A.', 'Société Générale', others).reasons[0]).toMatchObject({
      code: 'NAME_MATCHES_NON_LEGAL_NAME',
      outcome: 'needs-approval',
    });
  });

  it('never passes an empty name', () => {
    expect(compareLegalName('...', '---').reasons[0]!.outcome).toBe('needs-approval');
  });
});

describe('jurisdictions', () => {
  it('matches equal ISO 3166 codes, case-insensitively', () => {
    expect(compareJurisdiction('us-de', 'US-DE')).toMatchObject({ score: 1, reasons: [{ code: 'JURISDICTION_MATCH', outcome: 'pass' }] });
    expect(compareJurisdiction('GB', 'GB').score).toBe(1);
  });

  it('sends a country against a subdivision of it to an approver, either way round', () => {
    expect(compareJurisdiction('US', 'US-DE').reasons[0]).toMatchObject({ code: 'JURISDICTION_SUBDIVISION_UNCONFIRMED', outcome: 'needs-approval' });
    expect(compareJurisdiction('US-DE', 'US').reasons[0]).toMatchObject({ code: 'JURISDICTION_SUBDIVISION_UNCONFIRMED', outcome: 'needs-approval' });
  });

  it('does not match another subdivision or another country', () => {
    expect(compareJurisdiction('US-NY', 'US-DE')).toMatchObject({ score: 0.25, reasons: [{ code: 'JURISDICTION_MISMATCH' }] });
    expect(compareJurisdiction('GB', 'US-DE')).toMatchObject({ score: 0, reasons: [{ code: 'JURISDICTION_MISMATCH' }] });
    // A prefix of the code is not a country match.
    expect(compareJurisdiction('USA', 'US').reasons[0]!.code).toBe('JURISDICTION_MISMATCH');
  });

  it('sends a record without a jurisdiction to an approver', () => {
    expect(compareJurisdiction('GB', null).reasons[0]).toMatchObject({ code: 'JURISDICTION_NOT_IN_RECORD', outcome: 'needs-approval' });
  });

  it('makes a jurisdiction mismatch alone enough to need an approver', () => {
    const a = assessLeiRecord({ ...claim, jurisdiction: 'US-NY' }, record());
    expect(a).toMatchObject({ outcome: 'needs-approval', nameScore: 1, jurisdictionScore: 0.25, score: 0.25 });
  });
});

describe('re-checking during monitoring', () => {
  const issued = { registrationStatus: 'ISSUED', entityStatus: 'ACTIVE' };
  it('triggers nothing while the record still passes', () => {
    expect(leiRecheck(issued, issued)).toEqual({ trigger: null, action: 'none', changed: false, reason: null });
  });
  it('fires lei-lapsed for review when the LEI lapses', () => {
    expect(leiRecheck(issued, { registrationStatus: 'LAPSED', entityStatus: 'ACTIVE' })).toMatchObject({
      trigger: 'lei-lapsed',
      action: 'review',
      changed: true,
    });
  });
  it('offboards when the entity is retired, merged or inactive, or the record vanished', () => {
    expect(leiRecheck(issued, { registrationStatus: 'RETIRED', entityStatus: 'INACTIVE' })).toMatchObject({
      trigger: 'lei-ended',
      action: 'offboard',
    });
    expect(leiRecheck(issued, { registrationStatus: 'MERGED', entityStatus: 'ACTIVE' })).toMatchObject({ trigger: 'lei-ended', action: 'offboard' });
    expect(leiRecheck(issued, { registrationStatus: 'ISSUED', entityStatus: 'INACTIVE' })).toMatchObject({
      trigger: 'lei-ended',
      action: 'offboard',
    });
    expect(leiRecheck(issued, 'not-found')).toMatchObject({ trigger: 'lei-ended', action: 'offboard' });
  });
  it('asks for a review of a status it does not know', () => {
    expect(leiRecheck(issued, { registrationStatus: 'PENDING_TRANSFER', entityStatus: 'ACTIVE' })).toMatchObject({
      trigger: 'lei-status',
      action: 'review',
    });
  });
});
