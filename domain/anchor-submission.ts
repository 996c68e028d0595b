import { z } from 'zod';

/**
 * What a partner submits as proof of identity, as it reaches the workflow.
 * Sizes are capped here, at the edge: the verifiers parse only bounded input.
 */
const MAX_PEM_CHARS = 64 * 1024;
const MAX_TOKEN_CHARS = 16 * 1024;

const httpsUrl = z
  .string()
  .trim()
  .max(2048)
  .refine(
    (v) => {
      try {
        return new URL(v).protocol === 'https:';
      } catch {
        return false;
      }
    },
    { message: 'Use an https:// URL.' },
  );

export const anchorSubmissionSchema = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.literal('x509'),
      /** Leaf first, then any intermediates. */
      certificateChainPem: z.string().min(1).max(MAX_PEM_CHARS),
    }),
    z.object({
      kind: z.literal('jwk'),
      /** The partner's public keys, inline (a JWK or JWKS) or by URL. */
      jwks: z.record(z.string(), z.unknown()).optional(),
      jwksUrl: httpsUrl.optional(),
      /** A JWT over Admit's challenge, signed with one of those keys (RFC 7523 style). */
      assertion: z.string().min(1).max(MAX_TOKEN_CHARS),
    }),
    z.object({
      kind: z.literal('spiffe'),
      spiffeId: z.string().min(1).max(2048),
      /** An X.509-SVID chain (PEM) or a JWT-SVID; exactly one. */
      svidPem: z.string().min(1).max(MAX_PEM_CHARS).optional(),
      jwtSvid: z.string().min(1).max(MAX_TOKEN_CHARS).optional(),
    }),
    z.object({
      kind: z.literal('oidc'),
      issuer: httpsUrl,
      subject: z.string().min(1).max(512),
      /** An ID token from the issuer for that subject, with Admit as audience. */
      token: z.string().min(1).max(MAX_TOKEN_CHARS),
    }),
  ])
  .superRefine((value, ctx) => {
    if (value.kind === 'jwk' && (value.jwks === undefined) === (value.jwksUrl === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['jwks'], message: 'Give the public keys either inline (jwks) or by URL (jwksUrl), not both.' });
    }
    if (value.kind === 'spiffe' && (value.svidPem === undefined) === (value.jwtSvid === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['svidPem'], message: 'Give either an X.509-SVID (svidPem) or a JWT-SVID (jwtSvid).' });
    }
  });

export type AnchorSubmission = z.infer<typeof anchorSubmissionSchema>;
