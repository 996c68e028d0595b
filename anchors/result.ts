import type { Reason } from './reasons';

export type AnchorKind = 'x509' | 'jwk' | 'spiffe' | 'oidc';

export interface VerificationResult {
  ok: boolean;
  kind: AnchorKind;
  /** The registry key for this anchor (see docs/anchors.md for each kind). */
  fingerprint?: string;
  /** RFC 7638 thumbprint of the public key, equal for the same key under any wrapper. */
  keyFingerprint?: string;
  subject?: string;
  /** Earliest moment at which the anchor stops being valid (re-verify before then). */
  notAfter?: string;
  reasons: Reason[];
  details?: Record<string, unknown>;
}

/** Operator configuration that cannot be used (an unreadable trust store, a bad option): not the partner's fault. */
export class AnchorConfigError extends Error {
  override name = 'AnchorConfigError';
}

export function refuse(kind: AnchorKind, reasons: Reason[], extra: Partial<VerificationResult> = {}): VerificationResult {
  return { ...extra, ok: false, kind, reasons: dedupe(reasons) };
}

function dedupe(reasons: Reason[]): Reason[] {
  const seen = new Set<string>();
  return reasons.filter((r) => {
    const key = `${r.code}\u0000${r.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
