import { describe, expect, it } from 'vitest';
import { isEmailAtOrBelow } from '../../domain/email-domain';

describe('isEmailAtOrBelow', () => {
  it('accepts the domain itself and its subdomains, whatever the case or a trailing dot', () => {
    expect(isEmailAtOrBelow('ops@bank.example', 'bank.example')).toBe(true);
    expect(isEmailAtOrBelow('Ops@EU.Bank.Example.', 'bank.example')).toBe(true);
    expect(isEmailAtOrBelow('ops@bank.example', 'BANK.example.')).toBe(true);
  });

  it('refuses look-alikes that merely end with the same letters, and parents of the domain', () => {
    expect(isEmailAtOrBelow('ops@notbank.example', 'bank.example')).toBe(false);
    expect(isEmailAtOrBelow('ops@example', 'bank.example')).toBe(false);
    expect(isEmailAtOrBelow('ops@bank.example.evil', 'bank.example')).toBe(false);
  });

  it('takes the domain after the last @ and refuses what is not an address', () => {
    expect(isEmailAtOrBelow('"a@bank.example"@evil.example', 'bank.example')).toBe(false);
    expect(isEmailAtOrBelow('bank.example', 'bank.example')).toBe(false);
    expect(isEmailAtOrBelow('@bank.example', 'bank.example')).toBe(false);
    expect(isEmailAtOrBelow('ops@', 'bank.example')).toBe(false);
  });
});
