/**
 * Characters no partner-typed text may hold: they either break the registry
 * (PostgreSQL refuses NUL in text and JSON) or deceive the people who read it
 * (bidirectional controls reorder what an approver sees). Pure, shared by the
 * signup contract and the HTML renderer.
 */

/** Bidirectional formatting controls: embeddings and overrides, isolates, marks (LRM, RLM, ALM). */
export const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;

// Matching control characters is the point of these two.
// eslint-disable-next-line no-control-regex
const C0_OR_C1 = /[\u0000-\u001F\u007F-\u009F]/;
// eslint-disable-next-line no-control-regex
const C0_OR_C1_EXCEPT_LINES = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/;

const codePoint = (char: string): string => `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Why `value` cannot be stored and shown as typed, or undefined when it can.
 * `multiline` allows tab, line feed and carriage return (a textarea).
 */
export function unacceptableCharacter(value: string, options: { multiline?: boolean } = {}): string | undefined {
  const control = (options.multiline === true ? C0_OR_C1_EXCEPT_LINES : C0_OR_C1).exec(value);
  if (control !== null) {
    return `Remove the control character ${codePoint(control[0])} (at position ${control.index + 1}); it cannot be stored.`;
  }
  const surrogate = LONE_SURROGATE.exec(value);
  if (surrogate !== null) {
    return `Remove the broken character at position ${surrogate.index + 1} (a lone UTF-16 surrogate ${codePoint(surrogate[0])}).`;
  }
  const bidi = BIDI.exec(value);
  if (bidi !== null) {
    return `Remove the invisible text-direction control ${codePoint(bidi[0])} (at position ${bidi.index + 1}); it changes how the text reads.`;
  }
  return undefined;
}
