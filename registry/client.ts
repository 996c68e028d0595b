import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';

export type Registry = PrismaClient;
export { Prisma } from '../generated/prisma/client';

/** The registry's Prisma client over node-postgres (no engine binary). */
export function createRegistry(databaseUrl: string, options: { maxConnections?: number } = {}): Registry {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.maxConnections ?? 10 });
  return new PrismaClient({ adapter });
}
