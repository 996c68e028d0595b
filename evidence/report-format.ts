import { stringify } from 'csv-stringify/sync';
import type { Report } from './portfolio';

/**
 * RFC 4180 CSV of a report: a header row, then one row per finding, every field quoted (so commas,
 * quotes, CR and LF inside a field stay in it), CRLF between records. A field starting with = + - @
 * TAB or CR gets a leading apostrophe (OWASP CSV injection), so a spreadsheet shows it as text and
 * never runs it as a formula. The dossier column is absolute when `baseUrl` is given.
 */
export function reportCsv(report: Report, baseUrl?: string): string {
  const header = [...report.columns.map((c) => c.header), 'Dossier'];
  const records = report.rows.map((row) => [...report.columns.map((c) => row.cells[c.key] ?? ''), dossierLink(row.dossier, baseUrl)]);
  return stringify([header, ...records], { quoted: true, escape_formulas: true, record_delimiter: 'windows' });
}

export function dossierLink(path: string, baseUrl?: string): string {
  return baseUrl === undefined ? path : new URL(path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).toString();
}

/** Control characters would move a terminal's cursor or colour it: each is shown as U+FFFD. */
function printable(cell: string): string {
  return Array.from(cell, (ch) => {
    const code = ch.codePointAt(0) ?? 0;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029 ? '\uFFFD' : ch;
  }).join('');
}

/** A plain-text table for a terminal: padded columns, one line per row, control characters neutralised. */
export function reportTable(report: Report, baseUrl?: string): string {
  const header = [...report.columns.map((c) => c.header), 'Dossier'];
  const lines = report.rows.map((row) => [...report.columns.map((c) => row.cells[c.key] ?? ''), dossierLink(row.dossier, baseUrl)]);
  const clean = [header, ...lines].map((cells) => cells.map(printable));
  const widths = header.map((_, i) => Math.max(...clean.map((cells) => (cells[i] ?? '').length)));
  const render = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const title = `${report.title}${report.days === null ? '' : ` (N = ${report.days} days)`} — ${report.rows.length} found, ${report.generatedAt}`;
  if (report.rows.length === 0) return `${title}\n`;
  const [head = [], ...body] = clean;
  return `${title}\n${render(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${body.map(render).join('\n')}\n`;
}
