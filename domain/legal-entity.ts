// Legal-entity verification rules: what an LEI record's statuses mean for an admission, how a
// signup's legal name and jurisdiction are compared with the record, and what a re-check during
// monitoring triggers. Pure, so the workflow may call it too. The table and the rules are
// documented in docs/entity-verification.md; change both together.

export type LeiOutcome = 'pass' | 'needs-approval' | 'refused';

/** Every registration status of the LEI Common Data File format 3.1 (RegistrationStatusEnum). */
export const REGISTRATION_STATUSES = [
  'ISSUED',
  'LAPSED',
  'PENDING_TRANSFER',
  'PENDING_ARCHIVAL',
  'TRANSFERRED',
  'PENDING_VALIDATION',
  'CANCELLED',
  'RETIRED',
  'ANNULLED',
  'DUPLICATE',
  'MERGED',
] as const;
export type RegistrationStatus = (typeof REGISTRATION_STATUSES)[number];

/** Every entity status of LEI-CDF 3.1 (EntityStatusEnum); GLEIF's API shows a missing one as NULL. */
export const ENTITY_STATUSES = ['ACTIVE', 'INACTIVE', 'NULL'] as const;
export type EntityStatus = (typeof ENTITY_STATUSES)[number];

export interface StatusRule {
  outcome: LeiOutcome;
  /** Why, in words an approver reads next to the record. */
  meaning: string;
}

export const REGISTRATION_STATUS_TABLE: Record<RegistrationStatus, StatusRule> = {
  ISSUED: { outcome: 'pass', meaning: 'the LEI is issued and its record is maintained' },
  LAPSED: { outcome: 'needs-approval', meaning: 'the record was not renewed by its next renewal date, so its data may be out of date' },
  PENDING_TRANSFER: { outcome: 'needs-approval', meaning: 'the record is being transferred to another LEI issuer' },
  PENDING_ARCHIVAL: { outcome: 'needs-approval', meaning: 'the record is about to move to another LEI issuer' },
  TRANSFERRED: { outcome: 'needs-approval', meaning: 'the record was transferred to another LEI issuer; the new issuer’s record should be current' },
  PENDING_VALIDATION: { outcome: 'refused', meaning: 'the LEI has not been issued yet: there is no validated record to verify against' },
  CANCELLED: { outcome: 'refused', meaning: 'the LEI was abandoned before it was issued' },
  RETIRED: { outcome: 'refused', meaning: 'the entity ceased to operate' },
  ANNULLED: { outcome: 'refused', meaning: 'the LEI was found erroneous or invalid after it was issued' },
  DUPLICATE: { outcome: 'refused', meaning: 'the LEI duplicates another LEI of the same entity (this is the non-surviving one)' },
  MERGED: { outcome: 'refused', meaning: 'the entity was merged into another entity' },
};

export const ENTITY_STATUS_TABLE: Record<EntityStatus, StatusRule> = {
  ACTIVE: { outcome: 'pass', meaning: 'the entity is legally registered and operating' },
  INACTIVE: { outcome: 'refused', meaning: 'the entity is no longer legally registered or operating' },
  NULL: { outcome: 'needs-approval', meaning: 'the record does not say whether the entity is operating' },
};

/** A status GLEIF may add later: never passes on its own, an approver looks at it. */
export const UNKNOWN_STATUS_RULE: StatusRule = { outcome: 'needs-approval', meaning: 'a status Admit does not know; an approver must judge it' };

const RANK: Record<LeiOutcome, number> = { pass: 0, 'needs-approval': 1, refused: 2 };

/** The stricter of the outcomes: one refusal refuses, one doubt needs an approver. */
export function worstOutcome(outcomes: LeiOutcome[]): LeiOutcome {
  return outcomes.reduce<LeiOutcome>((worst, o) => (RANK[o] > RANK[worst] ? o : worst), 'pass');
}

export function registrationStatusRule(status: string): StatusRule {
  return (REGISTRATION_STATUS_TABLE as Record<string, StatusRule>)[status] ?? UNKNOWN_STATUS_RULE;
}

export function entityStatusRule(status: string): StatusRule {
  return (ENTITY_STATUS_TABLE as Record<string, StatusRule>)[status] ?? UNKNOWN_STATUS_RULE;
}

// ---------------------------------------------------------------------------------------------
// Names

/**
 * Legal forms with their usual spellings, as they look after normalisation (dots removed, case
 * folded, `&` read as `and`). Equal spellings of one form compare equal ("L.P." = "LP" = "Limited
 * Partnership"); a missing or different form does not.
 */
const LEGAL_FORMS: Record<string, string[]> = {
  ltd: ['ltd', 'limited'],
  inc: ['inc', 'incorporated'],
  corp: ['corp', 'corporation'],
  co: ['co', 'company'],
  llc: ['llc', 'limited liability company'],
  lp: ['lp', 'limited partnership'],
  llp: ['llp', 'limited liability partnership'],
  lllp: ['lllp', 'limited liability limited partnership'],
  plc: ['plc', 'public limited company'],
  'pty-ltd': ['pty ltd', 'pty limited', 'proprietary limited'],
  gmbh: ['gmbh', 'gesellschaft mit beschränkter haftung', 'gesellschaft mit beschraenkter haftung'],
  'gmbh-co-kg': ['gmbh and co kg', 'gmbh and cokg', 'gmbh co kg'],
  ag: ['ag', 'aktiengesellschaft'],
  kg: ['kg', 'kommanditgesellschaft'],
  se: ['se', 'societas europaea'],
  sa: ['sa', 'société anonyme', 'sociedad anónima', 'sociedade anónima'],
  sas: ['sas', 'société par actions simplifiée'],
  sarl: ['sarl', 'sàrl', 'sà rl', 'société à responsabilité limitée'],
  bv: ['bv', 'besloten vennootschap'],
  nv: ['nv', 'naamloze vennootschap'],
  spa: ['spa', 'società per azioni'],
  srl: ['srl', 'società a responsabilità limitata'],
  ab: ['ab', 'aktiebolag'],
  as: ['as', 'aksjeselskap', 'aktieselskab'],
  asa: ['asa', 'allmennaksjeselskap'],
  oy: ['oy', 'osakeyhtiö'],
  oyj: ['oyj', 'julkinen osakeyhtiö'],
  kk: ['kk', 'kabushiki kaisha'],
};

/** Longest spellings first, so "limited partnership" wins over "limited". */
const FORM_SPELLINGS: { tokens: string[]; form: string }[] = Object.entries(LEGAL_FORMS)
  .flatMap(([form, spellings]) => spellings.map((s) => ({ tokens: s.split(' '), form })))
  .sort((a, b) => b.tokens.length - a.tokens.length);

export interface NormalisedName {
  /** The whole name as compared. */
  normal: string;
  /** The name without its legal form. */
  core: string;
  /** The canonical legal form (`lp`, `gmbh`, …), or null when the name ends in none. */
  form: string | null;
}

/**
 * Unicode NFKC (full-width letters, ligatures and compatibility forms fold to their plain
 * forms), case folded, `&` read as `and`, dots and apostrophes dropped, every other
 * punctuation or symbol a space, white space collapsed; then a trailing legal form is
 * recognised. Letters of other scripts stay what they are: a Cyrillic "а" is not a Latin "a".
 */
export function normaliseLegalName(name: string): NormalisedName {
  const folded = name.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
  const normal = folded
    .replace(/&/g, ' and ')
    .replace(/[.'’‘`´]/g, '')
    .replace(/[\p{P}\p{S}]/gu, ' ')
    .replace(/[\s\p{Z}\p{Cc}\p{Cf}]+/gu, ' ')
    .trim();
  const tokens = normal === '' ? [] : normal.split(' ');
  for (const { tokens: spelling, form } of FORM_SPELLINGS) {
    if (tokens.length <= spelling.length) continue;
    const tail = tokens.slice(tokens.length - spelling.length);
    if (tail.every((t, i) => t === spelling[i])) {
      return {
        normal: [...tokens.slice(0, tokens.length - spelling.length), form].join(' '),
        core: tokens.slice(0, tokens.length - spelling.length).join(' '),
        form,
      };
    }
  }
  return { normal, core: normal, form: null };
}

/** Sørensen–Dice coefficient of the character bigrams: 1 for equal strings, 0 for nothing in common. */
export function nameSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  const grams = (s: string): Map<string, number> => {
    const chars = [...s];
    const m = new Map<string, number>();
    for (let i = 0; i + 1 < chars.length; i += 1) {
      const g = chars[i]! + chars[i + 1]!;
      m.set(g, (m.get(g) ?? 0) + 1);
    }
    return m;
  };
  const ga = grams(a);
  const gb = grams(b);
  let total = 0;
  let shared = 0;
  for (const n of ga.values()) total += n;
  for (const n of gb.values()) total += n;
  for (const [g, n] of ga) shared += Math.min(n, gb.get(g) ?? 0);
  return total === 0 ? 0 : (2 * shared) / total;
}

/** Name kinds of GLEIF's otherNames / transliteratedOtherNames that are the legal name itself, in another language or script. */
const SAME_LEGAL_NAME_TYPES = new Set([
  'ALTERNATIVE_LANGUAGE_LEGAL_NAME',
  'AUTO_ASCII_TRANSLITERATED_LEGAL_NAME',
  'PREFERRED_ASCII_TRANSLITERATED_LEGAL_NAME',
]);

export interface OtherName {
  name: string;
  type: string | null;
}

export interface LeiReason {
  code: string;
  outcome: LeiOutcome;
  message: string;
}

export interface NameComparison {
  score: number;
  matchedName: string | null;
  reasons: LeiReason[];
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

export function compareLegalName(claimed: string, recordName: string, otherNames: OtherName[] = []): NameComparison {
  const c = normaliseLegalName(claimed);
  const r = normaliseLegalName(recordName);
  if (c.normal !== '' && c.normal === r.normal) {
    return {
      score: 1,
      matchedName: recordName,
      reasons: [{ code: 'NAME_MATCH', outcome: 'pass', message: `The legal name matches the record’s “${recordName}”.` }],
    };
  }
  for (const other of otherNames) {
    if (other.type === null || !SAME_LEGAL_NAME_TYPES.has(other.type)) continue;
    if (c.normal !== '' && c.normal === normaliseLegalName(other.name).normal) {
      return {
        score: 1,
        matchedName: other.name,
        reasons: [
          {
            code: 'NAME_MATCH_OTHER_LEGAL_NAME',
            outcome: 'pass',
            message: `The legal name matches “${other.name}”, the record’s ${other.type.toLowerCase().replace(/_/g, ' ')} of “${recordName}”.`,
          },
        ],
      };
    }
  }
  for (const other of otherNames) {
    if (other.type !== null && SAME_LEGAL_NAME_TYPES.has(other.type)) continue;
    if (c.normal !== '' && c.normal === normaliseLegalName(other.name).normal) {
      return {
        score: 0.8,
        matchedName: other.name,
        reasons: [
          {
            code: 'NAME_MATCHES_NON_LEGAL_NAME',
            outcome: 'needs-approval',
            message: `The signup gives “${claimed}”, which the record lists as a ${(other.type ?? 'other name').toLowerCase().replace(/_/g, ' ')}; its legal name is “${recordName}”.`,
          },
        ],
      };
    }
  }
  if (c.core !== '' && c.core === r.core) {
    return {
      score: 0.9,
      matchedName: null,
      reasons: [
        {
          code: 'NAME_LEGAL_FORM_DIFFERS',
          outcome: 'needs-approval',
          message: `The name matches but the legal form does not: the signup gives “${claimed}” (${c.form ?? 'no legal form'}), the record “${recordName}” (${r.form ?? 'no legal form'}).`,
        },
      ],
    };
  }
  const score = round3(Math.min(0.89, nameSimilarity(c.normal, r.normal)));
  return {
    score,
    matchedName: null,
    reasons: [
      {
        code: 'NAME_MISMATCH',
        outcome: 'needs-approval',
        message: `The legal name does not match: the signup gives “${claimed}” (compared as “${c.normal}”), the record “${recordName}” (compared as “${r.normal}”); similarity ${score}.`,
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Jurisdictions

export interface JurisdictionComparison {
  score: number;
  reasons: LeiReason[];
}

const JURISDICTION = /^([A-Z]{2})(?:-([A-Z0-9]{1,3}))?$/;

/**
 * ISO 3166-1 alpha-2 country, optionally with an ISO 3166-2 subdivision ("US-DE"), compared
 * case-insensitively. Equal codes match. The same country where only one side names a
 * subdivision ("US" against "US-DE") is not a match: in federal systems the subdivision is
 * where the entity is formed, so an approver decides. Different subdivisions or countries do not match.
 */
export function compareJurisdiction(claimed: string, record: string | null): JurisdictionComparison {
  const c = JURISDICTION.exec(claimed.trim().toUpperCase());
  const r = record === null ? null : JURISDICTION.exec(record.trim().toUpperCase());
  if (r === null) {
    return {
      score: 0,
      reasons: [
        {
          code: 'JURISDICTION_NOT_IN_RECORD',
          outcome: 'needs-approval',
          message: `The record gives no usable jurisdiction (${JSON.stringify(record)}); the signup gives ${claimed}.`,
        },
      ],
    };
  }
  if (c === null) {
    return {
      score: 0,
      reasons: [
        {
          code: 'JURISDICTION_MISMATCH',
          outcome: 'needs-approval',
          message: `The signup’s jurisdiction ${JSON.stringify(claimed)} is not an ISO 3166 code; the record gives ${r[0]}.`,
        },
      ],
    };
  }
  if (c[0] === r[0])
    return { score: 1, reasons: [{ code: 'JURISDICTION_MATCH', outcome: 'pass', message: `The jurisdiction ${r[0]} matches the record.` }] };
  if (c[1] === r[1] && (c[2] === undefined || r[2] === undefined)) {
    return {
      score: 0.75,
      reasons: [
        {
          code: 'JURISDICTION_SUBDIVISION_UNCONFIRMED',
          outcome: 'needs-approval',
          message: `The country ${r[1]} matches, but the signup gives ${c[0]} and the record ${r[0]}: only one names a subdivision.`,
        },
      ],
    };
  }
  return {
    score: c[1] === r[1] ? 0.25 : 0,
    reasons: [
      {
        code: 'JURISDICTION_MISMATCH',
        outcome: 'needs-approval',
        message: `The jurisdiction does not match: the signup gives ${c[0]}, the record ${r[0]}.`,
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// The whole check

/** What of an LEI record the rules read (entity/gleif.ts parses GLEIF's JSON:API into this). */
export interface LeiRecordSummary {
  lei: string;
  legalName: string;
  otherNames: OtherName[];
  jurisdiction: string | null;
  registrationStatus: string;
  entityStatus: string;
  successorLei: string | null;
  successorName: string | null;
  nextRenewalDate: string | null;
  lastUpdateDate: string | null;
  managingLou: string | null;
  corroborationLevel: string | null;
}

export interface LeiAssessment {
  outcome: LeiOutcome;
  /** min(name score, jurisdiction score): 1 only when both match. */
  score: number;
  nameScore: number;
  jurisdictionScore: number;
  matchedName: string | null;
  reasons: LeiReason[];
}

export function assessLeiRecord(claim: { lei: string; legalName: string; jurisdiction: string }, record: LeiRecordSummary): LeiAssessment {
  const reasons: LeiReason[] = [];
  if (record.lei.toUpperCase() !== claim.lei.toUpperCase()) {
    reasons.push({
      code: 'LEI_RECORD_MISMATCH',
      outcome: 'refused',
      message: `The source answered with the record of ${record.lei}, not ${claim.lei}.`,
    });
  }
  const registration = registrationStatusRule(record.registrationStatus);
  reasons.push({
    code: 'LEI_REGISTRATION_STATUS',
    outcome: registration.outcome,
    message: `Registration status ${record.registrationStatus}: ${registration.meaning}.`,
  });
  const entity = entityStatusRule(record.entityStatus);
  reasons.push({ code: 'LEI_ENTITY_STATUS', outcome: entity.outcome, message: `Entity status ${record.entityStatus}: ${entity.meaning}.` });
  if (record.successorLei !== null || record.successorName !== null) {
    reasons.push({
      code: 'LEI_SUCCESSOR',
      outcome: 'needs-approval',
      message: `The record names a successor entity: ${[record.successorName, record.successorLei].filter((v) => v !== null).join(', ')}; the successor should sign up under its own LEI.`,
    });
  }
  const name = compareLegalName(claim.legalName, record.legalName, record.otherNames);
  const jurisdiction = compareJurisdiction(claim.jurisdiction, record.jurisdiction);
  reasons.push(...name.reasons, ...jurisdiction.reasons);
  return {
    outcome: worstOutcome(reasons.map((r) => r.outcome)),
    score: Math.min(name.score, jurisdiction.score),
    nameScore: name.score,
    jurisdictionScore: jurisdiction.score,
    matchedName: name.matchedName,
    reasons,
  };
}

/** The assessment when GLEIF has no record of the LEI. */
export function assessMissingLei(lei: string): LeiAssessment {
  return {
    outcome: 'refused',
    score: 0,
    nameScore: 0,
    jurisdictionScore: 0,
    matchedName: null,
    reasons: [{ code: 'LEI_NOT_FOUND', outcome: 'refused', message: `GLEIF has no record of the LEI ${lei}.` }],
  };
}

// ---------------------------------------------------------------------------------------------
// Monitoring

export interface LeiStatusSnapshot {
  registrationStatus: string;
  entityStatus: string;
}

export type LeiRecheckAction = 'none' | 'review' | 'offboard';

export interface LeiRecheck {
  /** `lei-lapsed` when the registration lapsed, `lei-ended` when the LEI or the entity ended, `lei-status` for any other doubt. */
  trigger: 'lei-lapsed' | 'lei-ended' | 'lei-status' | null;
  action: LeiRecheckAction;
  /** The statuses differ from the last check's. */
  changed: boolean;
  reason: string | null;
}

/**
 * What a periodic re-check of an admitted organisation's LEI means. A record that still passes
 * triggers nothing; a lapse (or any status an approver must judge) asks for a review; a status
 * that would refuse a new admission (retired, merged, annulled, duplicate, an inactive entity…)
 * offboards. The caller re-checks with the same `assessLeiRecord` statuses; an unreachable GLEIF
 * is no trigger (the caller retries later), and a record that has vanished counts as ended.
 */
export function leiRecheck(previous: LeiStatusSnapshot | null, current: LeiStatusSnapshot | 'not-found'): LeiRecheck {
  if (current === 'not-found') return { trigger: 'lei-ended', action: 'offboard', changed: true, reason: 'GLEIF no longer has a record of the LEI.' };
  const changed = previous === null || previous.registrationStatus !== current.registrationStatus || previous.entityStatus !== current.entityStatus;
  const registration = registrationStatusRule(current.registrationStatus);
  const entity = entityStatusRule(current.entityStatus);
  const outcome = worstOutcome([registration.outcome, entity.outcome]);
  if (outcome === 'pass') return { trigger: null, action: 'none', changed, reason: null };
  const reason = [
    registration.outcome === 'pass' ? null : `registration status ${current.registrationStatus}: ${registration.meaning}`,
    entity.outcome === 'pass' ? null : `entity status ${current.entityStatus}: ${entity.meaning}`,
  ]
    .filter((r) => r !== null)
    .join('; ');
  if (outcome === 'refused') return { trigger: 'lei-ended', action: 'offboard', changed, reason };
  return { trigger: current.registrationStatus === 'LAPSED' ? 'lei-lapsed' : 'lei-status', action: 'review', changed, reason };
}
