/** Each value once, first occurrence first: requests are sets, but their order is kept for explanations. */
export function distinct<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
