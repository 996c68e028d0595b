/**
 * How the registry recognises "the same participant" again. Pure, so the
 * HTTP edge, activities and workflows agree on it.
 */

/** ISO 17442: 18 alphanumerics then two check digits (ISO 7064 MOD 97-10). */
export function isValidLei(lei: string): boolean {
  if (!/^[A-Z0-9]{18}[0-9]{2}$/.test(lei)) return false;
  let remainder = 0;
  for (const char of lei) {
    const value = Number.parseInt(char, 36);
    for (const digit of String(value)) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

/** Folds case, accents, spacing and punctuation: "Acme Pay!" and "acme-pay" are one name. */
export function nameKey(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * The application's registry id, also its workflow id, so a repeated signup
 * for the same application lands on the same record and the same workflow.
 */
export function applicationIdFor(lei: string, applicationName: string, environment: string): string {
  return `app-${lei.toLowerCase()}-${nameKey(applicationName)}-${environment}`;
}

export function workflowIdFor(applicationId: string): string {
  return `partner-lifecycle-${applicationId}`;
}
