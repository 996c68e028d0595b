import type { ContactRole } from '../generated/prisma/client';
import type { ContactRoleKey } from '../domain/contacts';

/** How the workflow's contact roles are stored in the registry's `ContactRole` enum. */
export const REGISTRY_CONTACT_ROLE = {
  business: 'BUSINESS',
  technical: 'TECHNICAL',
  security: 'SECURITY',
} as const satisfies Record<ContactRoleKey, ContactRole>;
