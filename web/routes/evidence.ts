import type { FastifyInstance } from 'fastify';
import type { ServiceDependencies } from '../app';
import { sendProblem } from '../problem';
import { latestCheckpoint, publishedOf } from '../../evidence/checkpoint';

export const EVIDENCE_KEYS_PATH = '/.well-known/admit-evidence-keys';
export const EVIDENCE_CHECKPOINT_PATH = '/.well-known/admit-evidence-checkpoint';

/**
 * The evidence key set (every key in the ring, so older signatures verify
 * during a rotation's overlap) and the latest signed checkpoint, at
 * well-known URLs anyone can fetch (docs/evidence.md).
 */
export function registerEvidenceRoutes(app: FastifyInstance, deps: ServiceDependencies): void {
  app.get(EVIDENCE_KEYS_PATH, async (_request, reply) => {
    if (deps.evidence === undefined)
      return sendProblem(reply, { status: 404, title: 'Not found', detail: 'This deployment publishes no evidence keys.' });
    return reply.header('cache-control', 'public, max-age=300').type('application/jwk-set+json').send(JSON.stringify(deps.evidence.keyring.jwks));
  });
  app.get(EVIDENCE_CHECKPOINT_PATH, async (_request, reply) => {
    const latest = await latestCheckpoint(deps.registry);
    if (latest === undefined) return sendProblem(reply, { status: 404, title: 'Not found', detail: 'No checkpoint has been written yet.' });
    return reply
      .header('cache-control', 'no-cache')
      .type('application/json')
      .send(JSON.stringify(publishedOf(latest)));
  });
}
