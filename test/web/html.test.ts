import { describe, expect, it } from 'vitest';
import { escapeHtml, html } from '../../web/html';

describe('HTML escaping (issue 9: bidi controls shown raw to approvers)', () => {
  it('shows every bidirectional control as a visible code point', () => {
    const controls = ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u200E', '\u200F', '\u061C'];
    for (const control of controls) {
      const out = html`<td>${`Evil${control}gnp.exe`}</td>`.toString();
      expect(out).not.toContain(control);
      expect(out).toMatch(/<td>Evil\[U\+[0-9A-F]{4}\]gnp\.exe<\/td>/);
    }
    expect(escapeHtml('a\u202Eb')).toBe('a[U+202E]b');
  });

  it('leaves right-to-left text itself alone, and still escapes markup', () => {
    expect(escapeHtml('شركة <b>')).toBe('شركة &lt;b&gt;');
  });
});
