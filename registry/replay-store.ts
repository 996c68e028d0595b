import type { ReplayStore } from '../anchors';
import type { Registry } from './client';

/**
 * The assertion replay guard shared by every worker: a jti is accepted once
 * until it expires (a primary key in `used_assertions`, so two workers racing
 * on the same jti cannot both win).
 */
export function registryReplayStore(registry: Registry): ReplayStore {
  return {
    async claim(jti, expiresAt) {
      await registry.usedAssertion.deleteMany({ where: { expiresAt: { lt: new Date() } } });
      const inserted = await registry.$executeRaw`
        INSERT INTO used_assertions (jti, expires_at) VALUES (${jti}, ${expiresAt}) ON CONFLICT (jti) DO NOTHING`;
      return inserted === 1;
    },
  };
}
