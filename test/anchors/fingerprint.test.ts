import { describe, expect, it } from 'vitest';
import { REASONS, normalizeFingerprint, reason } from '../../anchors/index';

describe('fingerprints and anchor reuse', () => {
  const hex = 'ab'.repeat(32);

  it('normalises certificate digests written in common spellings', () => {
    const colons = `SHA256:${hex.toUpperCase().match(/../g)!.join(':')}`;
    expect(normalizeFingerprint(colons)).toBe(`sha256:${hex}`);
    expect(normalizeFingerprint(`  sha256:${hex.toUpperCase()} `)).toBe(`sha256:${hex}`);
  });

  it('keeps thumbprints case-sensitive and lowercases only the scheme', () => {
    expect(normalizeFingerprint('JWK-SHA256:AbC_-x')).toBe('jwk-sha256:AbC_-x');
    expect(normalizeFingerprint('jwk-sha256:abc_-x')).not.toBe(normalizeFingerprint('jwk-sha256:AbC_-x'));
  });

  it.each(['no-scheme', `sha256:${hex.slice(2)}`, 'sha256:zz'])('refuses %s', (bad) => {
    expect(() => normalizeFingerprint(bad)).toThrow();
  });

  it('ANCHOR_IN_USE says what to do and names no holder', () => {
    const r = reason('ANCHOR_IN_USE');
    expect(r.code).toBe('ANCHOR_IN_USE');
    expect(r.message).toBe(REASONS.ANCHOR_IN_USE);
    expect(r.message).toMatch(/another participant/);
    expect(r.message).not.toMatch(/\$\{|%s|\(/);
  });
});
