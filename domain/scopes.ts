import { distinct } from './collections';
import type { GrantConditions } from './policy';
import type { RiskTier, ScoredTier } from './tiers';
import { SCORED_TIERS } from './tiers';
import { MS_PER_MINUTE } from './time';

/** How much harm a scope can do in the wrong hands: read-only is low, writes are medium, money movement and PII are high. */
export type ScopeSensitivity = 'low' | 'medium' | 'high';

/** Risk points a requested scope contributes (see risk.ts); one high scope outweighs several reads. */
export const SENSITIVITY_WEIGHTS: Readonly<Record<ScopeSensitivity, number>> = Object.freeze({
  low: 1,
  medium: 3,
  high: 6,
});

export interface ScopeDefinition {
  readonly scope: string;
  readonly description: string;
  readonly sensitivity: ScopeSensitivity;
  /**
   * Requests under a money-moving scope must state their transaction type and amount whenever the
   * grant constrains them (policy.ts); requests under other scopes carry neither.
   */
  readonly movesMoney: boolean;
}

export const SCOPE_CATALOGUE = deepFreeze([
  { scope: 'accounts:read', description: 'List accounts and read their metadata', sensitivity: 'low', movesMoney: false },
  { scope: 'accounts:balances:read', description: 'Read account balances', sensitivity: 'low', movesMoney: false },
  { scope: 'transactions:read', description: 'Read transaction history', sensitivity: 'low', movesMoney: false },
  { scope: 'statements:read', description: 'Download account statements', sensitivity: 'low', movesMoney: false },
  { scope: 'payments:status:read', description: 'Read the status of payments the application initiated', sensitivity: 'low', movesMoney: false },
  { scope: 'webhooks:manage', description: 'Register, change and delete webhook endpoints', sensitivity: 'medium', movesMoney: false },
  { scope: 'consents:manage', description: 'Create and revoke customer consents', sensitivity: 'medium', movesMoney: false },
  { scope: 'payees:manage', description: 'Add, change and remove payees (beneficiaries)', sensitivity: 'medium', movesMoney: false },
  { scope: 'payments:initiate', description: 'Initiate single payments', sensitivity: 'high', movesMoney: true },
  { scope: 'payments:bulk:initiate', description: 'Initiate bulk payment batches', sensitivity: 'high', movesMoney: true },
  { scope: 'refunds:initiate', description: 'Initiate refunds', sensitivity: 'high', movesMoney: true },
  {
    scope: 'customers:pii:read',
    description: "Read customers' personal data (name, address, date of birth, identifiers)",
    sensitivity: 'high',
    movesMoney: false,
  },
] as const satisfies readonly ScopeDefinition[]);

export type Scope = (typeof SCOPE_CATALOGUE)[number]['scope'];

const DEFINITIONS: ReadonlyMap<string, ScopeDefinition> = new Map(SCOPE_CATALOGUE.map((definition) => [definition.scope, definition]));

/** Exact, case-sensitive match: scope strings are identifiers, and near-misses must not be granted. */
export function isKnownScope(scope: unknown): scope is Scope {
  return typeof scope === 'string' && DEFINITIONS.has(scope);
}

export function scopeDefinition(scope: string): ScopeDefinition | undefined {
  return DEFINITIONS.get(scope);
}

/** The requested strings that are not in the catalogue, each once, in the order asked. */
export function unknownScopes(requested: readonly string[]): string[] {
  return distinct(requested).filter((scope) => !isKnownScope(scope));
}

export interface TierTemplate {
  readonly tier: RiskTier;
  /** Granted at admission (intersected with what was asked); everything else waits for monitored expansion. */
  readonly minimal: readonly Scope[];
  /** The most this tier may ever hold; expansion beyond it is refused, not escalated. */
  readonly ceiling: readonly Scope[];
  /**
   * Conditions every grant of this tier starts with. The admission adds the application's own
   * environment (see `admissionConditions`). Amounts are in EUR until the operator configures the
   * partner's currency; a grant in another currency is denied, never converted.
   */
  readonly defaultConditions: GrantConditions;
  /** Lifetime of each issued access token; short so a leaked token is worth little. */
  readonly credentialLifetimeMs: number;
  /** Multiple of the configured base probation (`LifecycleDurations.probationMs`). */
  readonly probationFactor: number;
}

const LOW_SCOPES = scopesOf('low');
const LOW_AND_MEDIUM_SCOPES = [...LOW_SCOPES, ...scopesOf('medium')];
const ALL_SCOPES = SCOPE_CATALOGUE.map((definition) => definition.scope);

const READ_CORE = ['accounts:read', 'transactions:read', 'payments:status:read'] as const satisfies readonly Scope[];
const MEDIUM_MINIMAL = [...READ_CORE, 'accounts:balances:read', 'webhooks:manage'] as const satisfies readonly Scope[];

export const TIER_TEMPLATES: Readonly<Record<RiskTier, TierTemplate>> = deepFreeze({
  LOW: {
    tier: 'LOW',
    minimal: [...READ_CORE],
    ceiling: LOW_SCOPES,
    defaultConditions: {},
    credentialLifetimeMs: 15 * MS_PER_MINUTE,
    probationFactor: 1,
  },
  MEDIUM: {
    tier: 'MEDIUM',
    minimal: [...MEDIUM_MINIMAL],
    ceiling: LOW_AND_MEDIUM_SCOPES,
    defaultConditions: {},
    credentialLifetimeMs: 10 * MS_PER_MINUTE,
    probationFactor: 1,
  },
  HIGH: {
    tier: 'HIGH',
    minimal: [...MEDIUM_MINIMAL, 'payments:initiate'],
    ceiling: ALL_SCOPES,
    defaultConditions: {
      transactionTypes: ['domestic-transfer'],
      maxAmount: { value: 10_000, currency: 'EUR' },
    },
    credentialLifetimeMs: 5 * MS_PER_MINUTE,
    probationFactor: 2,
  },
  STRATEGIC: {
    tier: 'STRATEGIC',
    minimal: [...MEDIUM_MINIMAL, 'statements:read', 'consents:manage', 'payments:initiate'],
    ceiling: ALL_SCOPES,
    defaultConditions: {
      transactionTypes: ['domestic-transfer', 'international-transfer'],
      maxAmount: { value: 100_000, currency: 'EUR' },
    },
    credentialLifetimeMs: 5 * MS_PER_MINUTE,
    probationFactor: 2,
  },
  REGULATED: {
    tier: 'REGULATED',
    minimal: [...READ_CORE, 'accounts:balances:read', 'consents:manage', 'payments:initiate'],
    ceiling: ALL_SCOPES,
    defaultConditions: {
      transactionTypes: ['domestic-transfer'],
      maxAmount: { value: 50_000, currency: 'EUR' },
    },
    credentialLifetimeMs: 5 * MS_PER_MINUTE,
    probationFactor: 3,
  },
} satisfies Record<RiskTier, TierTemplate>);

export function tierTemplate(tier: RiskTier): TierTemplate {
  return TIER_TEMPLATES[tier];
}

/** Probation for a tier: the configured base scaled by the tier, so shortened test settings scale too. */
export function probationMs(tier: RiskTier, baseProbationMs: number): number {
  return baseProbationMs * TIER_TEMPLATES[tier].probationFactor;
}

/** The conditions an admitted application's grant starts with: its tier's defaults, pinned to its environment. */
export function admissionConditions(tier: RiskTier, environment: string): GrantConditions {
  return { ...copyConditions(TIER_TEMPLATES[tier].defaultConditions), environments: [environment] };
}

export type DroppedScopeCode = 'SCOPE_UNKNOWN' | 'OUTSIDE_CEILING' | 'NOT_IN_MINIMAL';

export interface DroppedScope {
  readonly scope: string;
  readonly code: DroppedScopeCode;
  readonly message: string;
}

export interface MinimalGrant {
  /** In catalogue order, so the same request always yields the same grant. */
  readonly granted: Scope[];
  /** Every requested scope not granted, with why, in the order asked. */
  readonly dropped: DroppedScope[];
}

/** The admission grant: what was asked ∩ the tier's minimal template. Never more than asked. */
export function minimalGrant(tier: RiskTier, requested: readonly string[]): MinimalGrant {
  const template = TIER_TEMPLATES[tier];
  const asked = distinct(requested);
  const dropped: DroppedScope[] = [];
  for (const scope of asked) {
    if (!isKnownScope(scope)) {
      dropped.push({ scope, code: 'SCOPE_UNKNOWN', message: `${JSON.stringify(scope)} is not in the scope catalogue` });
    } else if (!template.ceiling.includes(scope)) {
      dropped.push({ scope, code: 'OUTSIDE_CEILING', message: `${scope} is beyond what a ${tier} application may ever hold` });
    } else if (!template.minimal.includes(scope)) {
      dropped.push({
        scope,
        code: 'NOT_IN_MINIMAL',
        message: `${scope} is not granted at admission for ${tier}; it may be requested through monitored expansion after probation`,
      });
    }
  }
  const granted = ALL_SCOPES.filter((scope) => asked.includes(scope) && template.minimal.includes(scope) && template.ceiling.includes(scope));
  return { granted, dropped };
}

/** True when every scope is known and inside the tier's ceiling (an empty set is trivially within). */
export function withinCeiling(tier: RiskTier, scopes: readonly string[]): boolean {
  return outsideCeiling(tier, scopes).length === 0;
}

/** The scopes (each once, in order) a tier may never hold, unknown ones included. */
export function outsideCeiling(tier: RiskTier, scopes: readonly string[]): string[] {
  const ceiling: readonly string[] = TIER_TEMPLATES[tier].ceiling;
  return distinct(scopes).filter((scope) => !ceiling.includes(scope));
}

/**
 * The least-scrutinised scored tier whose ceiling holds every known scope in the request: a score
 * may never place an application in a tier that could not hold what it asked for.
 */
export function lowestTierHolding(scopes: readonly string[]): ScoredTier {
  const known = scopes.filter(isKnownScope);
  return SCORED_TIERS.find((tier) => withinCeiling(tier, known)) ?? 'HIGH';
}

function scopesOf(sensitivity: ScopeSensitivity): Scope[] {
  return SCOPE_CATALOGUE.filter((definition) => definition.sensitivity === sensitivity).map((definition) => definition.scope);
}

function copyConditions(conditions: GrantConditions): GrantConditions {
  return JSON.parse(JSON.stringify(conditions)) as GrantConditions;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
