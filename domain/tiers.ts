/**
 * The risk tiers, defined once. The array order is the order of increasing scrutiny; every
 * comparison between tiers goes through `tierRank` so no other module re-encodes it.
 */
export const RISK_TIERS = ['LOW', 'MEDIUM', 'HIGH', 'STRATEGIC', 'REGULATED'] as const;

export type RiskTier = (typeof RISK_TIERS)[number];

/** The tiers a numeric score can land in; STRATEGIC and REGULATED come only from the answers. */
export const SCORED_TIERS = ['LOW', 'MEDIUM', 'HIGH'] as const satisfies readonly RiskTier[];

export type ScoredTier = (typeof SCORED_TIERS)[number];

export function isRiskTier(value: unknown): value is RiskTier {
  return typeof value === 'string' && (RISK_TIERS as readonly string[]).includes(value);
}

export function tierRank(tier: RiskTier): number {
  return RISK_TIERS.indexOf(tier);
}

/** The higher of two tiers by scrutiny. */
export function higherTier<T extends RiskTier>(a: T, b: T): T {
  return tierRank(a) >= tierRank(b) ? a : b;
}
