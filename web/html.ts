import { BIDI_CONTROLS } from '../domain/text';

/**
 * Server-rendered HTML with escaping by default: every interpolated value is
 * escaped unless it is itself the result of `html`, so a partner's input can
 * never become markup.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Interpolated = SafeHtml | string | number | boolean | null | undefined | readonly Interpolated[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/**
 * Bidirectional controls (embeddings, overrides, isolates, LRM/RLM/ALM) would
 * let a partner's text reorder what an approver reads ("Evil\u202Egnp.exe"
 * shows as "Evilexe.png"). They are shown as visible code points instead.
 */
export function escapeHtml(text: string): string {
  return text
    .replace(/[&<>"'`]/g, (char) => ESCAPES[char] ?? char)
    .replace(BIDI_CONTROLS, (char) => `[U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}]`);
}

function render(value: Interpolated): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map((item: Interpolated) => render(item)).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolated[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** For markup built elsewhere and already escaped (never partner input). */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** A stable element id for a dotted field name, e.g. `contacts.business.email` → `field-contacts-business-email`. */
export function fieldId(field: string): string {
  return `field-${field.replace(/[^A-Za-z0-9_-]+/g, '-')}`;
}
