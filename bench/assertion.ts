// Signed-assertion verification: Admit's verifyAnchor (kind jwk) over a server-issued challenge,
// against jose.jwtVerify of the same token with the same key, imported once.
import { SignJWT, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { InMemoryReplayStore, issueChallenge, verifyAnchor } from '../anchors/index';
import { indexesNeeded, type Benchmark } from './harness';

const AUDIENCE = 'https://admit.example/token';
const CLIENT = 'partner-app-42';

const PLAN = { warmup: 300, iterations: 1_000, rounds: 5 };

export async function assertionBenchmark(): Promise<Benchmark> {
  const now = new Date();
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const pair = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'bench-1', alg: 'ES256' };
  const keys = { keys: [publicJwk] };
  const challenge = issueChallenge({ audience: AUDIENCE, ttlSeconds: 300, now });

  // One token per operation (a jti is accepted once), signed before anything is timed. Admit's side
  // and the baseline's are offset by indexesNeeded(), so both verify the same set of tokens.
  const perSide = indexesNeeded(PLAN);
  const tokens: string[] = [];
  for (let i = 0; i < perSide; i++) {
    tokens.push(
      await new SignJWT({ nonce: challenge.nonce })
        .setProtectedHeader({ alg: 'ES256', kid: publicJwk.kid })
        .setIssuer(CLIENT)
        .setSubject(CLIENT)
        .setAudience(AUDIENCE)
        .setIssuedAt(nowSeconds)
        .setExpirationTime(nowSeconds + 120)
        .setJti(`bench-${i}`)
        .sign(pair.privateKey),
    );
  }
  const token = (i: number): string => tokens[i % perSide]!;

  // A fresh store per round, as the same tokens come back in the baseline's range and the memory pass.
  let replayStore = new InMemoryReplayStore(() => now);
  const admitOp = async (i: number): Promise<void> => {
    const r = await verifyAnchor({ kind: 'jwk', token: token(i), keys, challenge, audience: AUDIENCE, clientId: CLIENT, replayStore, now });
    if (!r.ok) throw new Error(`assertion refused during the bench: ${JSON.stringify(r.reasons)}`);
  };
  await admitOp(0);

  return {
    name: 'Signed assertion (ES256 JWT)',
    baseline: 'jose.jwtVerify, same token and key',
    admit: admitOp,
    base: async (i) => {
      await jwtVerify(token(i), pair.publicKey, { algorithms: ['ES256'], audience: AUDIENCE, issuer: CLIENT, subject: CLIENT, currentDate: now });
    },
    beforeRound: () => {
      replayStore = new InMemoryReplayStore(() => now);
    },
    concurrency: 1,
    ...PLAN,
  };
}
