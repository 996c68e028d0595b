import { html, type SafeHtml } from '../html';
import { SCOPE_CATALOGUE } from '../../domain/scopes';
import { DATA_SENSITIVITIES, type FieldError } from '../../domain/signup';
import { ENVIRONMENTS } from '../../domain/environments';
import { CONTACT_ROLES } from '../../domain/contacts';
import { choices, formList, formText, textArea, textInput, type FormValues } from './form';
import { csrfField, errorSummary, layout, type PageContext } from './layout';

/**
 * The signup form. Field names are the signup schema's dotted paths, so the
 * schema's errors land on their fields without a mapping table.
 */
const ROLE_LABELS = { business: 'Business owner', technical: 'Technical owner', security: 'Security contact' } as const;

/** What to say when a field was left empty, instead of the schema's type message. */
export const MISSING_MESSAGES: Record<string, string> = {
  'organisation.legalName': 'Enter the organisation’s legal name.',
  'organisation.lei': 'Enter the organisation’s Legal Entity Identifier (LEI).',
  'organisation.jurisdiction': 'Enter the jurisdiction, such as GB or US-DE.',
  'organisation.primaryDomain': 'Enter the organisation’s primary domain, such as example.com.',
  'application.name': 'Enter the application’s name.',
  'application.environment': 'Choose the environment.',
  'application.purpose': 'Describe what the application will do.',
  'application.requestedScopes': 'Request at least one scope.',
  'application.dataSensitivity': 'Choose the most sensitive data the application will handle.',
  'application.regulatedSector': 'Say whether the organisation is in a regulated sector.',
  'application.strategic': 'Say whether this is a strategic partnership.',
  'application.expectedMonthlyCalls': 'Enter the expected number of calls a month.',
  'application.contractEndDate': 'Enter the contract end date.',
  requestedBy: 'Enter your email address.',
  ...Object.fromEntries(
    CONTACT_ROLES.flatMap((role) => [
      [`contacts.${role}.name`, `Enter the ${ROLE_LABELS[role].toLowerCase()}’s name.`],
      [`contacts.${role}.email`, `Enter the ${ROLE_LABELS[role].toLowerCase()}’s email address.`],
    ]),
  ),
};

export const SIGNUP_FIELDS: ReadonlySet<string> = new Set(Object.keys(MISSING_MESSAGES));

function optionalText(values: FormValues, name: string): string | undefined {
  const value = formText(values, name);
  return value.trim() === '' ? undefined : value;
}

function yesNo(values: FormValues, name: string): boolean | undefined {
  const value = formText(values, name);
  return value === 'yes' ? true : value === 'no' ? false : undefined;
}

function count(values: FormValues, name: string): number | string | undefined {
  const value = optionalText(values, name);
  if (value === undefined) return undefined;
  // People write 20,000 or 20 000; the schema gets a number or, if it is not one, the text to refuse.
  const digits = value.replace(/[\s,_]/g, '');
  return /^\d+$/.test(digits) ? Number(digits) : value;
}

/** The form's fields as the signup schema's input. */
export function signupFromForm(values: FormValues): unknown {
  const contact = (role: string) => ({ name: optionalText(values, `contacts.${role}.name`), email: optionalText(values, `contacts.${role}.email`) });
  return {
    organisation: {
      legalName: optionalText(values, 'organisation.legalName'),
      lei: optionalText(values, 'organisation.lei'),
      jurisdiction: optionalText(values, 'organisation.jurisdiction'),
      primaryDomain: optionalText(values, 'organisation.primaryDomain'),
    },
    application: {
      name: optionalText(values, 'application.name'),
      environment: optionalText(values, 'application.environment'),
      purpose: optionalText(values, 'application.purpose'),
      requestedScopes: formList(values, 'application.requestedScopes'),
      dataSensitivity: optionalText(values, 'application.dataSensitivity'),
      regulatedSector: yesNo(values, 'application.regulatedSector'),
      strategic: yesNo(values, 'application.strategic'),
      expectedMonthlyCalls: count(values, 'application.expectedMonthlyCalls'),
      contractEndDate: optionalText(values, 'application.contractEndDate'),
    },
    contacts: Object.fromEntries(CONTACT_ROLES.map((role) => [role, contact(role)])),
    requestedBy: optionalText(values, 'requestedBy'),
  };
}

/** Schema errors for the form: one per field, array items folded onto their list, empty fields told what to enter. */
export function formErrors(errors: readonly FieldError[], values: FormValues): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const error of errors) {
    const field = error.field.replace(/\.\d+$/, '');
    if (seen.has(field)) continue;
    seen.add(field);
    const empty = field === 'application.requestedScopes' ? formList(values, field).length === 0 : formText(values, field).trim() === '';
    out.push({ field, message: empty && MISSING_MESSAGES[field] !== undefined ? MISSING_MESSAGES[field] : error.message });
  }
  return out;
}

const yesNoChoices = [
  { value: 'yes', label: 'Yes' },
  { value: 'no', label: 'No' },
];

export function signupPage(context: PageContext, values: FormValues, errors: readonly FieldError[]): SafeHtml {
  const v = (name: string) => formText(values, name);
  const title = errors.length > 0 ? 'Error: Apply for API access' : 'Apply for API access';
  return layout(
    context,
    title,
    html`<h1>Apply for API access</h1>
      <p class="lede">
        Tell us who you are and what your application needs. We enrol your organisation and application, ask each contact to confirm by email, then
        ask you to prove your trust anchor. You start with the smallest useful set of scopes.
      </p>
      ${errorSummary(errors, SIGNUP_FIELDS)}
      <form method="post" action="/apply" novalidate class="stack">
        ${csrfField(context)}
        <fieldset class="section">
          <legend><h2>Organisation</h2></legend>
          ${textInput('organisation.legalName', 'Legal name', v('organisation.legalName'), errors, { autocomplete: 'organization' })}
          ${textInput('organisation.lei', 'Legal Entity Identifier (LEI)', v('organisation.lei'), errors, { hint: '20 characters, ISO 17442, for example 5493001KJTIIGC8Y1R12.', width: 'medium' })}
          ${textInput('organisation.jurisdiction', 'Jurisdiction', v('organisation.jurisdiction'), errors, { hint: 'ISO 3166 country code such as GB, or subdivision such as US-DE.', width: 'short' })}
          ${textInput('organisation.primaryDomain', 'Primary domain', v('organisation.primaryDomain'), errors, { hint: 'The domain your organisation owns, such as example.com.', width: 'medium' })}
        </fieldset>
        <fieldset class="section">
          <legend><h2>Application</h2></legend>
          ${textInput('application.name', 'Application name', v('application.name'), errors)}
          ${choices(
            'radio',
            'application.environment',
            'Environment',
            ENVIRONMENTS.map((e) => ({ value: e, label: e === 'sandbox' ? 'Sandbox' : 'Production' })),
            [v('application.environment')],
            errors,
          )}
          ${textArea('application.purpose', 'Purpose', v('application.purpose'), errors, { hint: 'What the application does with the API, in a sentence or two (at least 10 characters).' })}
          ${choices(
            'checkbox',
            'application.requestedScopes',
            'Requested scopes',
            SCOPE_CATALOGUE.map((s) => ({ value: s.scope, label: s.scope, hint: `${s.description} (${s.sensitivity} sensitivity)` })),
            formList(values, 'application.requestedScopes'),
            errors,
            'Ask for what the application needs. Sensitive scopes raise the risk tier; some are granted only after probation.',
          )}
          ${textInput('application.contractEndDate', 'Contract end date', v('application.contractEndDate'), errors, { type: 'date', hint: 'Access ends on this date. Format YYYY-MM-DD.', width: 'medium' })}
        </fieldset>
        <fieldset class="section">
          <legend><h2>Risk questions</h2></legend>
          ${choices(
            'radio',
            'application.dataSensitivity',
            'Most sensitive data the application will handle',
            DATA_SENSITIVITIES.map((d) => ({ value: d, label: d[0]!.toUpperCase() + d.slice(1) })),
            [v('application.dataSensitivity')],
            errors,
          )}
          ${choices('radio', 'application.regulatedSector', 'Is your organisation in a regulated sector (banking, payments, insurance)?', yesNoChoices, [v('application.regulatedSector')], errors)}
          ${choices('radio', 'application.strategic', 'Is this a strategic partnership agreed with your partner manager?', yesNoChoices, [v('application.strategic')], errors)}
          ${textInput('application.expectedMonthlyCalls', 'Expected API calls a month', v('application.expectedMonthlyCalls'), errors, { inputmode: 'numeric', width: 'medium' })}
        </fieldset>
        <fieldset class="section">
          <legend><h2>Contacts</h2></legend>
          <p class="hint">Each contact receives a confirmation link by email. All three must confirm before the application goes further.</p>
          ${CONTACT_ROLES.map(
            (role) =>
              html`<fieldset class="subsection">
                <legend>${ROLE_LABELS[role]}</legend>
                ${textInput(`contacts.${role}.name`, 'Full name', v(`contacts.${role}.name`), errors, { autocomplete: 'off', width: 'medium' })}
                ${textInput(`contacts.${role}.email`, 'Email address', v(`contacts.${role}.email`), errors, { type: 'email', autocomplete: 'off', width: 'medium' })}
              </fieldset>`,
          )}
          ${textInput('requestedBy', 'Your email address', v('requestedBy'), errors, { type: 'email', autocomplete: 'email', hint: 'You, the person submitting this application. You cannot approve it yourself.', width: 'medium' })}
        </fieldset>
        <button type="submit">Submit application</button>
      </form>`,
  );
}
