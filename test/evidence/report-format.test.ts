import { describe, expect, it } from 'vitest';
import type { Report } from '../../evidence/portfolio';
import { dossierLink, reportCsv, reportTable } from '../../evidence/report-format';

const reportOf = (values: string[]): Report => ({
  view: 'exceptions',
  title: 'Open exceptions',
  description: '',
  days: null,
  generatedAt: '2026-12-03T12:00:00.000Z',
  columns: [{ key: 'value', header: 'Value' }],
  rows: values.map((value, i) => ({ applicationId: `app-${i}`, dossier: `/console/applications/app-${i}/dossier`, cells: { value } })),
});

describe('reportCsv', () => {
  it('quotes every field, doubles quotes and keeps commas, CR and LF inside their field (RFC 4180), CRLF between records', () => {
    const csv = reportCsv(reportOf(['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\rinside']));
    expect(csv).toBe(
      [
        '"Value","Dossier"',
        '"plain","/console/applications/app-0/dossier"',
        '"a,b","/console/applications/app-1/dossier"',
        '"say ""hi""","/console/applications/app-2/dossier"',
        '"two\nlines","/console/applications/app-3/dossier"',
        '"cr\rinside","/console/applications/app-4/dossier"',
        '',
      ].join('\r\n'),
    );
  });

  it.each([
    ['=', '=HYPERLINK("http://evil.example")'],
    ['+', '+1+cmd|/C calc!A0'],
    ['-', '-2+3'],
    ['@', '@SUM(A1:A9)'],
    ['tab', '\t=1'],
    ['CR', '\r=1'],
  ])('puts an apostrophe before a cell starting with %s (OWASP CSV injection)', (_, value) => {
    const [, line] = reportCsv(reportOf([value])).split('\r\n');
    expect(line).toBe(`"'${value.replace(/"/g, '""')}","/console/applications/app-0/dossier"`);
  });

  it('leaves cells that only contain those characters later alone', () => {
    const [, first, second] = reportCsv(reportOf(['a=b', 'x-1'])).split('\r\n');
    expect(first).toBe('"a=b","/console/applications/app-0/dossier"');
    expect(second).toBe('"x-1","/console/applications/app-1/dossier"');
  });

  it('makes the dossier link absolute under the public URL', () => {
    expect(dossierLink('/console/applications/app-1/dossier', 'https://admit.example/base')).toBe(
      'https://admit.example/console/applications/app-1/dossier',
    );
    expect(reportCsv(reportOf(['x']), 'https://admit.example')).toContain('"https://admit.example/console/applications/app-0/dossier"');
  });
});

describe('reportTable', () => {
  it('pads columns and shows control characters as U+FFFD, so a value cannot drive the terminal', () => {
    const table = reportTable(reportOf(['ok', 'red\u001b[31m']));
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toBe('Open exceptions — 2 found, 2026-12-03T12:00:00.000Z');
    expect(lines[1]).toMatch(/^Value\s+Dossier$/);
    expect(table).not.toContain('\u001b');
    expect(lines[4]).toContain('red\uFFFD[31m');
  });

  it('says when nothing was found', () => {
    expect(reportTable(reportOf([]))).toBe('Open exceptions — 0 found, 2026-12-03T12:00:00.000Z\n');
  });
});
