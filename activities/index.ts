import type { Registry } from '../registry/client';
import type { Mailer } from '../mail/transport';
import { registryActivities } from './registry';

export interface ActivityDependencies {
  registry: Registry;
  mailer: Mailer;
}

/** Every activity the worker registers, bound to its dependencies. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...registryActivities(deps.registry),
  };
}

export type Activities = ReturnType<typeof createActivities>;
