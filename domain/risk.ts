import { DomainInputError } from './errors';
import type { Environment } from './environments';
import { distinct } from './collections';
import { lowestTierHolding, scopeDefinition, SENSITIVITY_WEIGHTS } from './scopes';
import type { RiskTier, ScoredTier } from './tiers';
import { higherTier } from './tiers';

export type DataSensitivity = 'public' | 'internal' | 'confidential' | 'restricted';

export interface RiskAnswers {
  requestedScopes: string[];
  dataSensitivity: DataSensitivity;
  regulatedSector: boolean;
  strategic: boolean;
  expectedMonthlyCalls: number;
  environment: Environment;
}

/** Score at or above `medium` is MEDIUM, at or above `high` is HIGH. */
export interface RiskThresholds {
  medium: number;
  high: number;
}

/**
 * Calibrated so that a production read-only integration on internal data at modest volume
 * (3 reads + internal + 10k–100k calls + production = 8) stays LOW, confidential data or a write
 * scope tips it to MEDIUM, and restricted data with money movement lands in HIGH.
 */
export const DEFAULT_RISK_THRESHOLDS: Readonly<RiskThresholds> = Object.freeze({ medium: 10, high: 20 });

export const DATA_SENSITIVITY_POINTS: Readonly<Record<DataSensitivity, number>> = Object.freeze({
  public: 0,
  internal: 2,
  confidential: 5,
  restricted: 8,
});

export const ENVIRONMENT_POINTS: Readonly<Record<Environment, number>> = Object.freeze({ sandbox: 0, production: 2 });

/** Lower bounds of monthly call volume, highest first; the first band whose floor is reached applies. */
export const VOLUME_BANDS: readonly { readonly atLeast: number; readonly points: number; readonly label: string }[] = Object.freeze([
  { atLeast: 1_000_000, points: 5, label: '1,000,000 or more calls a month' },
  { atLeast: 100_000, points: 3, label: '100,000 to 999,999 calls a month' },
  { atLeast: 10_000, points: 1, label: '10,000 to 99,999 calls a month' },
  { atLeast: 0, points: 0, label: 'under 10,000 calls a month' },
]);

export type RiskFactor = 'scope' | 'unknown-scope' | 'data-sensitivity' | 'volume' | 'environment' | 'scope-floor' | 'regulated-sector' | 'strategic';

export interface RiskReason {
  factor: RiskFactor;
  points: number;
  detail: string;
}

export interface RiskAssessment {
  score: number;
  tier: RiskTier;
  /** Every contribution to the score, then every rule that moved the tier; points sum to `score`. */
  reasons: RiskReason[];
}

export function riskThresholdProblems(thresholds: unknown): string[] {
  if (typeof thresholds !== 'object' || thresholds === null) return ['thresholds must be an object'];
  const { medium, high } = thresholds as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof medium !== 'number' || !Number.isFinite(medium) || medium <= 0) problems.push('medium must be a positive number');
  if (typeof high !== 'number' || !Number.isFinite(high) || high <= 0) problems.push('high must be a positive number');
  if (problems.length === 0 && (medium as number) >= (high as number)) problems.push('medium must be below high');
  return problems;
}

/**
 * An explainable risk score. STRATEGIC and REGULATED are categories declared in the answers, not
 * score bands: they force the tier whatever the score (regulated wins, being the stricter regime).
 * Otherwise the thresholds pick LOW/MEDIUM/HIGH, raised if needed to the lowest tier whose scope
 * ceiling holds every requested scope, so a high score is never needed to ask for a payment scope.
 */
export function scoreRisk(answers: RiskAnswers, thresholds: RiskThresholds = DEFAULT_RISK_THRESHOLDS): RiskAssessment {
  const problems = riskThresholdProblems(thresholds);
  if (problems.length > 0) throw new DomainInputError('RISK_THRESHOLDS_INVALID', `Invalid risk thresholds: ${problems.join('; ')}`);

  const reasons: RiskReason[] = [];
  const requested = distinct(answers.requestedScopes);
  for (const scope of requested) {
    const definition = scopeDefinition(scope);
    if (definition) {
      reasons.push({
        factor: 'scope',
        points: SENSITIVITY_WEIGHTS[definition.sensitivity],
        detail: `${scope} (${definition.sensitivity} sensitivity)`,
      });
    } else {
      reasons.push({ factor: 'unknown-scope', points: 0, detail: `${JSON.stringify(scope)} is not in the catalogue and will not be granted` });
    }
  }

  const sensitivityPoints = DATA_SENSITIVITY_POINTS[answers.dataSensitivity];
  if (sensitivityPoints === undefined) {
    // Reachable only from unvalidated input; scoring it as the worst case keeps the function total.
    reasons.push({
      factor: 'data-sensitivity',
      points: DATA_SENSITIVITY_POINTS.restricted,
      detail: `unknown data sensitivity ${JSON.stringify(answers.dataSensitivity)} scored as restricted`,
    });
  } else {
    reasons.push({ factor: 'data-sensitivity', points: sensitivityPoints, detail: `${answers.dataSensitivity} data` });
  }

  reasons.push(volumeReason(answers.expectedMonthlyCalls));

  const environmentPoints = ENVIRONMENT_POINTS[answers.environment];
  if (environmentPoints === undefined) {
    reasons.push({
      factor: 'environment',
      points: ENVIRONMENT_POINTS.production,
      detail: `unknown environment ${JSON.stringify(answers.environment)} scored as production`,
    });
  } else {
    reasons.push({ factor: 'environment', points: environmentPoints, detail: `${answers.environment} environment` });
  }

  const score = reasons.reduce((sum, reason) => sum + reason.points, 0);
  const byScore = tierForScore(score, thresholds);
  const floor = lowestTierHolding(requested);
  const scored = higherTier<ScoredTier>(byScore, floor);
  if (scored !== byScore) {
    reasons.push({
      factor: 'scope-floor',
      points: 0,
      detail: `raised from ${byScore} to ${floor}: only ${floor} and above may hold the requested scopes`,
    });
  }

  let tier: RiskTier = scored;
  if (answers.regulatedSector === true) {
    tier = 'REGULATED';
    reasons.push({ factor: 'regulated-sector', points: 0, detail: 'regulated sector: REGULATED regardless of score' });
  }
  if (answers.strategic === true) {
    if (tier !== 'REGULATED') tier = 'STRATEGIC';
    reasons.push({
      factor: 'strategic',
      points: 0,
      detail: tier === 'REGULATED' ? 'strategic partner, but REGULATED takes precedence' : 'strategic partner: STRATEGIC regardless of score',
    });
  }
  return { score, tier, reasons };
}

function tierForScore(score: number, thresholds: RiskThresholds): ScoredTier {
  if (score >= thresholds.high) return 'HIGH';
  if (score >= thresholds.medium) return 'MEDIUM';
  return 'LOW';
}

function volumeReason(expectedMonthlyCalls: number): RiskReason {
  const top = VOLUME_BANDS[0]!;
  if (typeof expectedMonthlyCalls !== 'number' || !Number.isFinite(expectedMonthlyCalls) || expectedMonthlyCalls < 0) {
    return {
      factor: 'volume',
      points: top.points,
      detail: `expected volume ${String(expectedMonthlyCalls)} is not a valid count; scored as ${top.label}`,
    };
  }
  const band = VOLUME_BANDS.find((candidate) => expectedMonthlyCalls >= candidate.atLeast) ?? top;
  return { factor: 'volume', points: band.points, detail: band.label };
}

/** Distinct approvers an admission (and a recertification) at this tier needs. */
export function approvalsRequired(tier: RiskTier): number {
  return APPROVALS_REQUIRED[tier];
}

/**
 * Distinct approvers an expansion that `decideExpansion` sent to approval needs: as many as the
 * tier's admission, and at least one, since a LOW expansion reaches approval only when its
 * evidence was not clean enough to grant automatically.
 */
export function expansionApprovalsRequired(tier: RiskTier): number {
  return Math.max(1, APPROVALS_REQUIRED[tier]);
}

const APPROVALS_REQUIRED: Readonly<Record<RiskTier, number>> = Object.freeze({ LOW: 0, MEDIUM: 1, HIGH: 2, STRATEGIC: 2, REGULATED: 2 });

/** The trust-anchor kinds (matching the three anchor families in the brief). */
export const ANCHOR_KINDS = Object.freeze(['x509', 'jwk', 'spiffe', 'oidc'] as const);

export type AnchorKind = (typeof ANCHOR_KINDS)[number];

/**
 * HIGH and above need an anchor some third party vouches for: an X.509 certificate chains to a
 * configured trust store, a SPIFFE SVID to a trust bundle, an OIDC workload token to an issuer we
 * trust. A bare JWK signed assertion proves possession of a key the partner generated and
 * registered itself: nobody but the partner attests it, so it is enough only up to MEDIUM.
 */
export function allowedAnchorKinds(tier: RiskTier): readonly AnchorKind[] {
  return ALLOWED_ANCHOR_KINDS[tier];
}

const ATTESTED_ANCHOR_KINDS = Object.freeze(['x509', 'spiffe', 'oidc'] as const satisfies readonly AnchorKind[]);

const ALLOWED_ANCHOR_KINDS: Readonly<Record<RiskTier, readonly AnchorKind[]>> = Object.freeze({
  LOW: ANCHOR_KINDS,
  MEDIUM: ANCHOR_KINDS,
  HIGH: ATTESTED_ANCHOR_KINDS,
  STRATEGIC: ATTESTED_ANCHOR_KINDS,
  REGULATED: ATTESTED_ANCHOR_KINDS,
});

export function isAnchorKindAllowed(tier: RiskTier, kind: string): boolean {
  return (ALLOWED_ANCHOR_KINDS[tier] as readonly string[]).includes(kind);
}

/** Strategic and regulated partners are re-approved on a schedule (`recertification*Ms` in the durations). */
export function recertificationRequired(tier: RiskTier): boolean {
  return tier === 'STRATEGIC' || tier === 'REGULATED';
}
