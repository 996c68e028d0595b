import { CONTACT_ROLES } from '../../domain/contacts';
import { maskEmail } from '../../domain/email-domain';
import { UPDATE_REFUSALS, type CompetingSignupInput, type CompetingSignupView } from '../messages';
import { refuse, type Lifecycle } from './context';
import { audit, notify } from './effects';

/**
 * A signup for an application id that this claim holds, made by someone
 * else (other requester, contacts or organisation details). It changes
 * nothing in the claim; it is recorded with it, shown to approvers, and its
 * people are told that their signup waits behind another claim.
 */

const KEPT = 10;

export function validateCompetingSignup(lc: Lifecycle, input: CompetingSignupInput): void {
  if (lc.isRegistering) refuse(UPDATE_REFUSALS.WRONG_STAGE, 'This application is still being registered; try again in a moment.');
  if (lc.isClosed) refuse(UPDATE_REFUSALS.WRONG_STAGE, `This application is already ${lc.state.stage}.`);
  const contacts = input?.contacts as Partial<CompetingSignupInput['contacts']> | undefined;
  if (
    typeof input !== 'object' ||
    input === null ||
    typeof input.at !== 'string' ||
    typeof input.requestedBy !== 'string' ||
    typeof input.organisation?.primaryDomain !== 'string' ||
    CONTACT_ROLES.some((role) => typeof contacts?.[role]?.email !== 'string')
  ) {
    refuse(UPDATE_REFUSALS.INVALID_INPUT, 'A competing signup names when it came, who asked, the organisation and its three contacts.');
  }
}

export async function noteCompetingSignup(lc: Lifecycle, input: CompetingSignupInput): Promise<{ recorded: boolean }> {
  validateCompetingSignup(lc, input);
  const view: CompetingSignupView = {
    at: input.at,
    requestedBy: maskEmail(input.requestedBy),
    organisation: {
      legalName: input.organisation.legalName,
      jurisdiction: input.organisation.jurisdiction,
      primaryDomain: input.organisation.primaryDomain,
    },
    contacts: CONTACT_ROLES.map((role) => `${role}: ${maskEmail(input.contacts[role].email)}`),
  };
  const signups = (lc.state.competingSignups ??= []);
  signups.push(view);
  if (signups.length > KEPT) signups.shift();
  const count = (lc.internal.competingSignups ?? 0) + 1;
  lc.internal.competingSignups = count;
  // Addresses stay out of the append-only log: masked there, in clear only in the mail that tells them.
  await audit(lc, {
    key: `competing-signup:${count}`,
    type: 'application.competing-signup',
    actor: view.requestedBy,
    occurredAt: input.at,
    data: { ...view },
  });
  await notify(lc, {
    to: ['approvers'],
    template: 'competing-signup',
    data: {
      claimedBy: view.requestedBy,
      organisation: `${view.organisation.legalName} (${view.organisation.primaryDomain})`,
      contacts: view.contacts,
    },
    key: `competing-signup:${count}:approvers`,
  });
  const people = new Map<string, { email: string; name: string }>();
  for (const role of CONTACT_ROLES)
    people.set(input.contacts[role].email.toLowerCase(), { email: input.contacts[role].email, name: input.contacts[role].name });
  if (!people.has(input.requestedBy.toLowerCase()))
    people.set(input.requestedBy.toLowerCase(), { email: input.requestedBy, name: input.requestedBy });
  await notify(lc, {
    to: [...people.values()],
    template: 'competing-signup-received',
    data: { receivedAt: input.at },
    key: `competing-signup:${count}:claimant`,
  });
  return { recorded: true };
}
