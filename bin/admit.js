#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx admit` works from a checkout without a build step.
import { tsImport } from 'tsx/esm/api';

const { main } = await tsImport('../cli/admit.ts', import.meta.url);
process.exitCode = await main(process.argv.slice(2));
