import { describe, expect, it } from 'vitest';
import { submissionFromForm } from '../../web/routes/anchor';

describe('the trust-anchor form as a submission', () => {
  it('takes an uploaded file over the pasted text, and the paste when no file came', () => {
    expect(
      submissionFromForm({ kind: 'x509', 'x509.certificateChainPemFile': Buffer.from('FROM FILE'), 'x509.certificateChainPem': 'PASTED' }),
    ).toEqual({
      ok: true,
      submission: { kind: 'x509', certificateChainPem: 'FROM FILE' },
    });
    expect(submissionFromForm({ kind: 'x509', 'x509.certificateChainPemFile': Buffer.alloc(0), 'x509.certificateChainPem': ' PASTED\n' })).toEqual({
      ok: true,
      submission: { kind: 'x509', certificateChainPem: 'PASTED' },
    });
  });

  it('reads inline keys as JSON and the assertion from its file', () => {
    const result = submissionFromForm({ kind: 'jwk', 'jwk.jwks': '{"keys":[]}', 'jwk.assertionFile': Buffer.from('a.b.c') });
    expect(result).toEqual({ ok: true, submission: { kind: 'jwk', jwks: { keys: [] }, assertion: 'a.b.c' } });
  });

  it('names the field and says what to do when something is missing or wrong', () => {
    expect(submissionFromForm({ kind: 'x509' })).toEqual({
      ok: false,
      errors: [{ field: 'x509.certificateChainPem', message: 'Upload or paste the certificate chain (PEM).' }],
    });
    expect(submissionFromForm({ kind: 'jwk', 'jwk.jwks': '{not json', 'jwk.assertion': 'a.b.c' })).toMatchObject({
      ok: false,
      errors: [{ field: 'jwk.jwks', message: expect.stringContaining('not valid JSON') }],
    });
    expect(submissionFromForm({ kind: 'jwk', 'jwk.jwksUrl': 'http://keys.example.com/jwks', 'jwk.assertion': 'a.b.c' })).toMatchObject({
      ok: false,
      errors: [{ field: 'jwk.jwksUrl', message: 'Use an https:// URL.' }],
    });
    expect(submissionFromForm({ kind: 'telepathy' })).toEqual({ ok: false, errors: [{ field: 'kind', message: 'Choose a kind of trust anchor.' }] });
  });

  it('refuses an oversized paste at the edge', () => {
    expect(submissionFromForm({ kind: 'x509', 'x509.certificateChainPem': 'A'.repeat(70 * 1024) })).toMatchObject({
      ok: false,
      errors: [{ field: 'x509.certificateChainPem' }],
    });
  });
});
