// Used by the Prisma CLI only (`prisma generate`, and `prisma migrate deploy`
// where the native schema engine exists). At run time the registry connects
// through @prisma/adapter-pg with DATABASE_URL (registry/client.ts).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/admit' },
});
