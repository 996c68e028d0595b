/** The three contacts every partner application names, each confirming by an emailed link. */
export const CONTACT_ROLES = ['business', 'technical', 'security'] as const;
export type ContactRoleKey = (typeof CONTACT_ROLES)[number];
