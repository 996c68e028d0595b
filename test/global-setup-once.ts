import type { ProvidedContext } from 'vitest';
import type { TestProject } from 'vitest/node';
import startServices from './global-setup';

/**
 * The global setup of every project that needs the real services (vitest.config.ts).
 *
 * Vitest 4 runs a project's globalSetup once per project that declares it, and only for
 * projects with test files in the run; each project loads the file through its own module
 * runner, so module state is not shared. Both `integration` and `workflow` declare this file:
 * the first one to run starts the services (test/global-setup.ts), the others get the same
 * addresses, and the last teardown stops them. The hand-over is on `globalThis`, which every
 * project's global setup shares (they all run in the main vitest process). A run of one
 * project alone (`vitest run --project workflow`) starts them too.
 */
interface Shared {
  context: Promise<ProvidedContext>;
  users: number;
  stop: () => Promise<void>;
}

const KEY = Symbol.for('admit.test-services');
const registry = globalThis as { [KEY]?: Shared };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let shared = registry[KEY];
  if (shared === undefined) {
    let teardown: () => Promise<void> = async () => undefined;
    const context = startServices(project).then((stop) => {
      teardown = stop;
      return project.getProvidedContext();
    });
    shared = { context, users: 0, stop: () => teardown() };
    registry[KEY] = shared;
  }
  const owner = shared;
  owner.users += 1;
  try {
    const context = await owner.context;
    for (const key of Object.keys(context) as (keyof ProvidedContext & string)[]) {
      project.provide(key, context[key]);
    }
  } catch (error) {
    // The services failed to start (test/global-setup.ts stopped what had started).
    owner.users -= 1;
    if (owner.users === 0 && registry[KEY] === owner) delete registry[KEY];
    throw error;
  }
  return async () => {
    owner.users -= 1;
    if (owner.users > 0) return;
    if (registry[KEY] === owner) delete registry[KEY];
    await owner.stop();
  };
}
