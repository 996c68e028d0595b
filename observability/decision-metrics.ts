import { decisions, revocationToDeny } from './metrics';

/** Counts a `/decisions` answer by outcome and its first reason code (codes are a fixed set: domain/policy.ts and the route's). */
export function recordDecision(payload: unknown): void {
  if (typeof payload !== 'object' || payload === null || typeof (payload as { allow?: unknown }).allow !== 'boolean') return;
  const { allow, reasons } = payload as { allow: boolean; reasons?: { code?: unknown }[] };
  const code = reasons?.[0]?.code;
  decisions.inc({ outcome: allow ? 'allow' : 'deny', reason: typeof code === 'string' ? code : allow ? 'ALLOWED' : 'UNSPECIFIED' });
}

const FIRST_DENIALS_KEPT = 10_000;
const denied = new Set<string>();

/**
 * The first denial this process answers for a revoked credential observes the time since its
 * revocation: how long a revocation takes to reach the gateways that ask. Later denials of the same
 * client do not (they measure nothing but the partner's persistence); the set of clients seen is bounded.
 */
export function recordRevokedDenial(clientId: string, revokedAt: Date | null, now: Date): void {
  if (revokedAt === null || denied.has(clientId)) return;
  denied.add(clientId);
  if (denied.size > FIRST_DENIALS_KEPT) denied.delete(denied.values().next().value as string);
  revocationToDeny.observe(Math.max(0, (now.getTime() - revokedAt.getTime()) / 1000));
}
