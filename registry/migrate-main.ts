import { loadConfig, required } from '../config/env';
import { applyMigrations } from './migrate';

/** `npm run migrate`: applies pending registry migrations to DATABASE_URL (deployments run it before the services). */
const config = loadConfig();
const databaseUrl = required(config.DATABASE_URL, 'DATABASE_URL', 'Point it at the registry database.');
applyMigrations(databaseUrl).then(
  (applied) => console.error(applied.length === 0 ? 'Registry schema is up to date.' : `Applied: ${applied.join(', ')}`),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
