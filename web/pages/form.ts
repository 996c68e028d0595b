import { fieldId, html, type SafeHtml } from '../html';
import type { FieldError } from '../../domain/signup';

/** Raw form values as the body parsers give them. */
export type FormValues = Record<string, unknown>;

export function formText(values: FormValues, name: string): string {
  const value = values[name];
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return '';
}

export function formList(values: FormValues, name: string): string[] {
  const value = values[name];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return typeof value === 'string' ? [value] : [];
}

export function errorFor(errors: readonly FieldError[], field: string): FieldError | undefined {
  return errors.find((error) => error.field === field);
}

function errorMessage(error: FieldError | undefined, field: string): SafeHtml {
  return error === undefined
    ? html``
    : html`<p class="field-error" id="${fieldId(field)}-error"><span class="visually-hidden">Error:</span> ${error.message}</p>`;
}

function describedBy(field: string, hint: string | undefined, error: FieldError | undefined): SafeHtml {
  const ids = [hint === undefined ? '' : `${fieldId(field)}-hint`, error === undefined ? '' : `${fieldId(field)}-error`].filter(Boolean);
  return ids.length === 0 ? html`` : html` aria-describedby="${ids.join(' ')}"`;
}

export interface InputOptions {
  type?: 'text' | 'email' | 'number' | 'date' | 'url';
  hint?: string;
  autocomplete?: string;
  inputmode?: string;
  width?: 'short' | 'medium' | 'long';
}

export function textInput(field: string, label: string, value: string, errors: readonly FieldError[], options: InputOptions = {}): SafeHtml {
  const error = errorFor(errors, field);
  return html`<div class="field${error ? ' field-invalid' : ''}">
    <label for="${fieldId(field)}">${label}</label>
    ${options.hint === undefined ? '' : html`<p class="hint" id="${fieldId(field)}-hint">${options.hint}</p>`} ${errorMessage(error, field)}
    <input
      class="input-${options.width ?? 'long'}"
      type="${options.type ?? 'text'}"
      id="${fieldId(field)}"
      name="${field}"
      value="${value}"
      ${
        options.autocomplete ? html` autocomplete="${options.autocomplete}"` : ''
      }${options.inputmode ? html` inputmode="${options.inputmode}"` : ''}${error ? html` aria-invalid="true"` : ''}${describedBy(field, options.hint, error)}
    />
  </div>`;
}

export function textArea(
  field: string,
  label: string,
  value: string,
  errors: readonly FieldError[],
  options: { hint?: string; rows?: number; monospace?: boolean } = {},
): SafeHtml {
  const error = errorFor(errors, field);
  return html`<div class="field${error ? ' field-invalid' : ''}">
    <label for="${fieldId(field)}">${label}</label>
    ${options.hint === undefined ? '' : html`<p class="hint" id="${fieldId(field)}-hint">${options.hint}</p>`} ${errorMessage(error, field)}
    <textarea
      id="${fieldId(field)}"
      name="${field}"
      rows="${options.rows ?? 4}"
      ${options.monospace ? html` class="mono"` : ''}${error ? html` aria-invalid="true"` : ''}${describedBy(field, options.hint, error)}
    >
${value}</textarea>
  </div>`;
}

export interface Choice {
  value: string;
  label: string;
  hint?: string;
}

/** Radios or checkboxes in a fieldset; the first option carries the field's id so the error summary can link to it. */
export function choices(
  kind: 'radio' | 'checkbox',
  field: string,
  legend: string,
  options: readonly Choice[],
  selected: readonly string[],
  errors: readonly FieldError[],
  hint?: string,
): SafeHtml {
  const error = errorFor(errors, field);
  return html`<fieldset class="field${error ? ' field-invalid' : ''}" ${describedBy(field, hint, error)}>
    <legend>${legend}</legend>
    ${hint === undefined ? '' : html`<p class="hint" id="${fieldId(field)}-hint">${hint}</p>`} ${errorMessage(error, field)}
    ${options.map((option, index) => {
      const id = index === 0 ? fieldId(field) : `${fieldId(field)}-${index}`;
      return html`<div class="choice">
        <input type="${kind}" id="${id}" name="${field}" value="${option.value}" ${selected.includes(option.value) ? html` checked` : ''} />
        <label for="${id}">${option.label}${option.hint === undefined ? '' : html` <span class="hint">${option.hint}</span>`}</label>
      </div>`;
    })}
  </fieldset>`;
}
