import { html, type SafeHtml } from '../html';
import type { ContactRoleKey } from '../../domain/contacts';
import { csrfField, layout, notice, type PageContext } from './layout';

export const ROLE_NAMES: Record<ContactRoleKey, string> = {
  business: 'business owner',
  technical: 'technical owner',
  security: 'security contact',
};

export function confirmLandingPage(
  context: PageContext,
  action: string,
  role: ContactRoleKey,
  subject: { organisation: string; application: string } | null,
): SafeHtml {
  return layout(
    context,
    'Confirm your contact details',
    html`<h1>Confirm you are the ${ROLE_NAMES[role]}</h1>
      ${
        subject === null
          ? html`<p class="lede">An application for API access named you as its ${ROLE_NAMES[role]}.</p>`
          : html`<p class="lede">
              <strong>${subject.organisation}</strong> applied for API access for <strong>${subject.application}</strong> and named you as its
              ${ROLE_NAMES[role]}.
            </p>`
      }
      <p>
        Confirm only if you expect this and agree to be contacted about this application’s access, key compromise and offboarding. If you do not
        recognise it, close this page: without all three confirmations the application goes no further.
      </p>
      <form method="post" action="${action}">
        ${csrfField(context)}
        <button type="submit">Confirm I am the ${ROLE_NAMES[role]}</button>
      </form>`,
  );
}

export type ConfirmationProblem = 'invalid' | 'expired' | 'used' | 'refused';

const PROBLEM_TEXT: Record<ConfirmationProblem, { title: string; detail: string }> = {
  invalid: {
    title: 'This confirmation link is not valid',
    detail:
      'The link is incomplete or was not issued by Admit. Open the link from the email again, copying all of it; if it still fails, ask the person who applied to check your email address.',
  },
  expired: {
    title: 'This confirmation link has expired',
    detail:
      'Confirmation links work for a limited time. If the application is still waiting for contacts, a reminder with a new link will be sent; otherwise the applicant must apply again.',
  },
  used: {
    title: 'This confirmation link has already been used',
    detail: 'Each link confirms a contact once. Nothing more is needed from this link; the application’s status page shows what happens next.',
  },
  refused: {
    title: 'This confirmation could not be recorded',
    detail: '',
  },
};

export function confirmProblemPage(context: PageContext, problem: ConfirmationProblem, detail?: string, statusLink?: string): SafeHtml {
  const text = PROBLEM_TEXT[problem];
  return layout(
    context,
    text.title,
    html`<h1>${text.title}</h1>
      ${notice(problem === 'used' ? 'warning' : 'error', text.title, detail ?? text.detail)}
      ${statusLink === undefined ? '' : html`<p><a href="${statusLink}">See the application’s status</a></p>`}`,
  );
}

export function confirmedPage(context: PageContext, role: ContactRoleKey, allConfirmed: boolean, statusLink: string, anchorLink: string): SafeHtml {
  return layout(
    context,
    'Contact confirmed',
    html`<h1>Thank you: you are confirmed as the ${ROLE_NAMES[role]}</h1>
      ${notice(
        'success',
        'Contact confirmed',
        allConfirmed
          ? 'All three contacts have now confirmed. The next step is to prove the application’s trust anchor.'
          : 'The application is waiting for the other contacts to confirm.',
      )}
      <ul class="actions">
        ${allConfirmed ? html`<li><a href="${anchorLink}">Prove the trust anchor</a></li>` : ''}
        <li><a href="${statusLink}">See the application’s status</a></li>
      </ul>`,
  );
}
