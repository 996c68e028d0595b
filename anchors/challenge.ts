// Proof-of-possession challenges and the replay guard for the assertions signed over them.
import { randomBytes } from 'node:crypto';

export interface Challenge {
  nonce: string;
  audience: string;
  issuedAt: string;
  expiresAt: string;
}

export const DEFAULT_CHALLENGE_TTL_SECONDS = 300;

export function issueChallenge(opts: { audience: string; ttlSeconds?: number; now?: Date }): Challenge {
  const now = opts.now ?? new Date();
  const ttl = opts.ttlSeconds ?? DEFAULT_CHALLENGE_TTL_SECONDS;
  return {
    nonce: randomBytes(32).toString('base64url'),
    audience: opts.audience,
    issuedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + ttl * 1000).toISOString(),
  };
}

/** Validates a challenge read back from storage or a file; throws a plain Error on a bad shape. */
export function parseChallenge(value: unknown): Challenge {
  const c = value as Partial<Record<keyof Challenge, unknown>> | null;
  if (!c || typeof c !== 'object') throw new Error('the challenge must be a JSON object');
  for (const field of ['nonce', 'audience', 'issuedAt', 'expiresAt'] as const) {
    if (typeof c[field] !== 'string' || c[field] === '') throw new Error(`the challenge needs a string ${field}`);
  }
  for (const field of ['issuedAt', 'expiresAt'] as const) {
    if (Number.isNaN(Date.parse(c[field] as string))) throw new Error(`the challenge ${field} is not an ISO time`);
  }
  return c as Challenge;
}

export interface ReplayStore {
  /** True the first time `jti` is claimed; false if it was claimed before and has not expired. */
  claim(jti: string, expiresAt: Date): Promise<boolean>;
}

/** For a single process (the CLI, tests). The registry-backed store gives the same guarantee across workers. */
export class InMemoryReplayStore implements ReplayStore {
  private readonly seen = new Map<string, number>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  claim(jti: string, expiresAt: Date): Promise<boolean> {
    const now = this.now().getTime();
    for (const [key, expiry] of this.seen) if (expiry < now) this.seen.delete(key);
    if (this.seen.has(jti)) return Promise.resolve(false);
    this.seen.set(jti, expiresAt.getTime());
    return Promise.resolve(true);
  }
}
