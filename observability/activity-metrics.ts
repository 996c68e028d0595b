import type { LifecycleActivities } from '../activities/contract';
import type { Mailer } from '../mail/transport';
import { anchorVerificationReasons, anchorVerifications, mailFailures, mailSent } from './metrics';

/** The mailer, counting what the relay accepted and what failed (the activity's retry is Temporal's). */
export function instrumentedMailer(mailer: Mailer): Mailer {
  return {
    async send(mail) {
      try {
        await mailer.send(mail);
        mailSent.inc();
      } catch (error) {
        mailFailures.inc({ kind: mailFailureKind(error) });
        throw error;
      }
    },
    close: () => mailer.close(),
  };
}

/** Nodemailer's error code (ECONNECTION, EAUTH, EENVELOPE, EMESSAGE…), or `other`: a bounded label. */
function mailFailureKind(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]{2,20}$/.test(code) ? code : 'other';
}

type AnchorPhase = Pick<LifecycleActivities, 'verifyAndBindAnchor' | 'reverifyAnchor'>;

/** Counts each verification's result and reason codes; the results themselves pass through unchanged. */
export function instrumentedAnchorActivities<T extends AnchorPhase>(activities: T): T {
  return {
    ...activities,
    async verifyAndBindAnchor(input: Parameters<AnchorPhase['verifyAndBindAnchor']>[0]) {
      const result = await activities.verifyAndBindAnchor(input);
      anchorVerifications.inc({ phase: 'submission', kind: input.submission.kind, result: result.ok ? 'verified' : 'refused' });
      if (!result.ok) for (const { code } of result.reasons) anchorVerificationReasons.inc({ phase: 'submission', reason: code });
      return result;
    },
    async reverifyAnchor(input: Parameters<AnchorPhase['reverifyAnchor']>[0]) {
      const result = await activities.reverifyAnchor(input);
      anchorVerifications.inc({ phase: 'reverification', kind: 'bound', result: result.health });
      for (const { code } of result.reasons) anchorVerificationReasons.inc({ phase: 'reverification', reason: code });
      return result;
    },
  };
}
