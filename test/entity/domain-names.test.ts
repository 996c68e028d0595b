import { describe, expect, it } from 'vitest';
import { canonicalDomain, checkPrimaryDomain, contactsOutsideDomain, emailWithinDomain } from '../../entity/domain-names';

describe('canonical domain names', () => {
  it.each([
    ['Bloomberg.Example', 'bloomberg.example'],
    ['bloomberg.example.', 'bloomberg.example'],
    ['ｂｌｏｏｍｂｅｒｇ.example', 'bloomberg.example'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['BÜCHER.example', 'xn--bcher-kva.example'],
  ])('%s → %s', (input, canonical) => expect(canonicalDomain(input)).toBe(canonical));
  it.each(['', '.', 'a..b', '.example', '127.0.0.1', '[::1]', 'exa mple.com', '-bad.example', 'bad-.example'])('%j is no domain', (input) =>
    expect(canonicalDomain(input)).toBeUndefined(),
  );
});

describe('the primary domain', () => {
  it('accepts a registrable domain or a name below one', () => {
    expect(checkPrimaryDomain('bloomberg.com')).toEqual({ ok: true, domain: 'bloomberg.com', registrable: 'bloomberg.com' });
    expect(checkPrimaryDomain('api.bloomberg.co.uk')).toEqual({ ok: true, domain: 'api.bloomberg.co.uk', registrable: 'bloomberg.co.uk' });
    expect(checkPrimaryDomain('partner.github.io')).toMatchObject({ ok: true, registrable: 'partner.github.io' });
  });
  it.each(['com', 'co.uk', 'github.io', 'CO.UK.', 'blogspot.com'])('refuses the public suffix %s', (domain) => {
    expect(checkPrimaryDomain(domain)).toMatchObject({ ok: false, code: expect.stringMatching(/DOMAIN_IS_PUBLIC_SUFFIX|DOMAIN_INVALID/) });
  });
  it('refuses IP addresses and non-names', () => {
    expect(checkPrimaryDomain('192.0.2.1')).toMatchObject({ ok: false, code: 'DOMAIN_INVALID' });
    expect(checkPrimaryDomain('localhost')).toMatchObject({ ok: false, code: 'DOMAIN_INVALID' });
  });
});

describe('contacts at the verified domain', () => {
  it.each([
    ['bea@bloomberg.example', true],
    ['bea@BLOOMBERG.EXAMPLE', true],
    ['bea@bloomberg.example.', true],
    ['bea@mail.bloomberg.example', true],
    ['bea@eu.mail.bloomberg.example', true],
    ['"bea@evil.test"@bloomberg.example', true],
    ['bea@ｂｌｏｏｍｂｅｒｇ.example', true],
    ['bea@evilbloomberg.example', false],
    ['bea@bloomberg.example.evil.test', false],
    ['bea@bloomberg-example.test', false],
    ['bea@bloomberg.example@evil.test', false],
    // Cyrillic "о" in the mail domain: another name once encoded.
    ['bea@blоomberg.example', false],
    ['bea@example', false],
    ['no-at-sign', false],
    ['@bloomberg.example', false],
  ])('%s within bloomberg.example: %s', (email, within) => expect(emailWithinDomain(email, 'bloomberg.example')).toBe(within));

  it('compares IDNA names in their A-label form', () => {
    expect(emailWithinDomain('anna@xn--bcher-kva.example', 'bücher.example')).toBe(true);
    expect(emailWithinDomain('anna@BÜCHER.example', 'xn--bcher-kva.example')).toBe(true);
    expect(emailWithinDomain('anna@bucher.example', 'bücher.example')).toBe(false);
  });

  it('lists the contacts outside the domain by role', () => {
    expect(
      contactsOutsideDomain(
        { business: { email: 'b@acme.example' }, technical: { email: 't@dev.acme.example' }, security: { email: 's@gmail.com' } },
        'acme.example',
      ),
    ).toEqual([{ role: 'security', email: 's@gmail.com' }]);
  });
});
