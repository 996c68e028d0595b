// Locates the third-party corpora beside the repository (../shared/corpora) and tallies agreement.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const corporaRoot = path.resolve(repoRoot, '..', 'shared', 'corpora');

/** Throws (fails the suite) rather than skipping when the corpora are missing. */
export function loadCorpus<T>(relative: string): T {
  const file = path.join(corporaRoot, relative);
  if (!existsSync(file)) throw new Error(`corpus file ${file} is missing: the corpus tests need ../shared/corpora beside the repository`);
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

export type Outcome = 'agree' | 'false-accept' | 'false-reject' | 'skipped' | 'acceptable';

export class Tally {
  private readonly rows = new Map<string, Record<Outcome, number>>();

  add(category: string, outcome: Outcome): void {
    const row = this.rows.get(category) ?? { agree: 0, 'false-accept': 0, 'false-reject': 0, skipped: 0, acceptable: 0 };
    row[outcome]++;
    this.rows.set(category, row);
  }

  total(outcome: Outcome): number {
    return [...this.rows.values()].reduce((n, r) => n + r[outcome], 0);
  }

  /** A Markdown table, printed in the test output and copied into docs/anchors.md. */
  table(title: string): string {
    const lines = [
      `${title}`,
      '',
      '| category | cases | agree | false accepts | false rejects | skipped | acceptable (either) |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    ];
    const sum: Record<Outcome, number> = { agree: 0, 'false-accept': 0, 'false-reject': 0, skipped: 0, acceptable: 0 };
    for (const [category, r] of [...this.rows].sort(([a], [b]) => a.localeCompare(b))) {
      const n = r.agree + r['false-accept'] + r['false-reject'] + r.skipped + r.acceptable;
      lines.push(`| ${category} | ${n} | ${r.agree} | ${r['false-accept']} | ${r['false-reject']} | ${r.skipped} | ${r.acceptable} |`);
      for (const k of Object.keys(sum) as Outcome[]) sum[k] += r[k];
    }
    const n = Object.values(sum).reduce((a, b) => a + b, 0);
    lines.push(`| **total** | ${n} | ${sum.agree} | ${sum['false-accept']} | ${sum['false-reject']} | ${sum.skipped} | ${sum.acceptable} |`);
    return lines.join('\n');
  }
}
