import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Registry } from '../../registry/client';
import { establishOrganisation } from '../support/entity';
import { signupBody } from '../support/signups';
import type { Mailbox } from './mailbox';

/**
 * One partner, as its people do it over HTTP: the signup, the three
 * confirmation links from their mail, a challenge, a signed assertion.
 * Whatever fails on the way (the web killed mid-request, the registry
 * restarting, Temporal away) is tried again as a person would, after a pause;
 * a request whose answer was lost is judged by what the service says next.
 */
export interface PartnerRun {
  applicationId: string;
  body: ReturnType<typeof signupBody>;
  admittedAfterMs?: number;
  error?: string;
}

const STEP_DEADLINE_MS = 300_000;
const PAUSE_MS = 750;

/** Answers worth trying again: the service is restarting or a dependency is away. */
const TRANSIENT = new Set([429, 500, 502, 503, 504]);

class Browser {
  private readonly cookies = new Map<string, string>();
  constructor(
    private readonly base: string,
    private readonly address: string,
  ) {}

  async request(
    method: 'GET' | 'POST',
    url: string,
    body?: { json?: unknown; form?: Record<string, string> },
  ): Promise<{ status: number; text: string; location?: string }> {
    const headers: Record<string, string> = { 'x-forwarded-for': this.address, accept: body?.json === undefined ? 'text/html' : 'application/json' };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let payload: string | undefined;
    if (body?.json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body?.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(body.form).toString();
    }
    const response = await fetch(new URL(url, this.base), {
      method,
      headers,
      body: payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(30_000),
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(cookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const location = response.headers.get('location') ?? undefined;
    return { status: response.status, text: await response.text(), ...(location === undefined ? {} : { location }) };
  }
}

function csrfOf(html: string): string | undefined {
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
}

async function pause(ms = PAUSE_MS): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `attempt` until it returns a value, retrying thrown network errors and `undefined` (not yet). */
async function persistEvery<T>(what: string, attempt: () => Promise<T | undefined>, deadlineMs = STEP_DEADLINE_MS, pauseMs = PAUSE_MS): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let last = '';
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      last = error instanceof Error ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}` : String(error);
    }
    if (Date.now() > deadline) throw new Error(`gave up on ${what} after ${deadlineMs / 1000}s${last === '' ? '' : `: ${last}`}`);
    await pause(pauseMs);
  }
}

async function stageOf(browser: Browser, applicationId: string): Promise<string | null | undefined> {
  const response = await browser.request('GET', `/applications/${applicationId}`, { json: undefined });
  if (response.status !== 200) return undefined;
  return (JSON.parse(response.text) as { workflow: { stage: string | null } }).workflow.stage;
}

async function untilStage(browser: Browser, applicationId: string, stages: string[], pauseMs = PAUSE_MS): Promise<string> {
  return persistEvery(
    `${applicationId} to reach ${stages.join(' or ')}`,
    async () => {
      const stage = await stageOf(browser, applicationId);
      if (stage === 'REJECTED' || stage === 'EXPIRED' || stage === 'WITHDRAWN') throw new Error(`${applicationId} ended ${stage}`);
      return stage !== null && stage !== undefined && stages.includes(stage) ? stage : undefined;
    },
    STEP_DEADLINE_MS,
    pauseMs,
  );
}

export async function admitPartner(options: {
  webUrl: string;
  registry: Registry;
  mailbox: Mailbox;
  index: number;
  /** How long a person waits before looking again (stage, mail) or trying again; 750 ms unless told (the admission benchmark polls faster). */
  pauseMs?: number;
}): Promise<PartnerRun> {
  const { webUrl, registry, mailbox, index } = options;
  const pauseMs = options.pauseMs ?? PAUSE_MS;
  const persist = <T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> => persistEvery(what, attempt, STEP_DEADLINE_MS, pauseMs);
  const started = Date.now();
  const body = signupBody({ name: `Chaos Sync ${index}` });
  const browser = new Browser(webUrl, `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`);
  const run: PartnerRun = { applicationId: '', body };
  try {
    // The organisation's first application was admitted before this run: this one takes the LOW path.
    await persist('the organisation', async () => {
      await establishOrganisation(registry, body.organisation);
      return true;
    });
    run.applicationId = await persist('the signup', async () => {
      const response = await browser.request('POST', '/signup', { json: body });
      if (response.status === 202) return (JSON.parse(response.text) as { applicationId: string }).applicationId;
      if (TRANSIENT.has(response.status)) return undefined;
      throw new Error(`signup refused (${response.status}): ${response.text.slice(0, 300)}`);
    });
    await untilStage(browser, run.applicationId, ['AWAITING_CONTACTS', 'AWAITING_ANCHOR', 'ADMITTED'], pauseMs);

    // One browser for the three people, so any confirmation that answered leaves a partner session.
    for (const role of ['business', 'security', 'technical'] as const) {
      const email = body.contacts[role].email;
      const link = await persist(`the confirmation mail to ${email}`, async () => (await mailbox.linksTo(email)).at(-1));
      await persist(`${role}'s confirmation`, async () => {
        const landing = await browser.request('GET', link);
        if (landing.status === 409) return true; // already confirmed by an attempt whose answer was lost
        if (landing.status !== 200) {
          if (TRANSIENT.has(landing.status)) return undefined;
          throw new Error(`the ${role} link answered ${landing.status}`);
        }
        const csrf = csrfOf(landing.text);
        const confirmed = await browser.request('POST', link, { form: csrf === undefined ? {} : { _csrf: csrf } });
        if (confirmed.status === 200 || confirmed.status === 409) return true;
        if (TRANSIENT.has(confirmed.status)) return undefined;
        throw new Error(`the ${role} confirmation answered ${confirmed.status}: ${confirmed.text.slice(0, 200)}`);
      });
    }

    const stage = await untilStage(browser, run.applicationId, ['AWAITING_ANCHOR', 'ADMITTED'], pauseMs);
    if (stage === 'AWAITING_ANCHOR') await bindAnchor(browser, run.applicationId, pauseMs);
    await untilStage(browser, run.applicationId, ['ADMITTED'], pauseMs);
    run.admittedAfterMs = Date.now() - started;
  } catch (error) {
    run.error = error instanceof Error ? error.message : String(error);
  }
  return run;
}

/** A challenge, then a signed assertion over it with a fresh ES256 key, until the application has left AWAITING_ANCHOR. */
async function bindAnchor(browser: Browser, applicationId: string, pauseMs: number): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const anchorPath = `/applications/${applicationId}/anchor`;
  await persistEvery(
    `${applicationId}'s trust anchor`,
    async () => {
      const stage = await stageOf(browser, applicationId);
      if (stage !== 'AWAITING_ANCHOR') return stage === undefined ? undefined : true;
      const page = await browser.request('GET', anchorPath);
      if (page.status !== 200) {
        if (TRANSIENT.has(page.status)) return undefined;
        throw new Error(`the anchor page answered ${page.status}: ${page.text.slice(0, 200)}`);
      }
      const asked = await browser.request('POST', `${anchorPath}/challenge`, { form: { _csrf: csrfOf(page.text) ?? '' } });
      if (asked.status !== 303)
        return TRANSIENT.has(asked.status) || asked.status === 409 ? undefined : Promise.reject(new Error(`challenge answered ${asked.status}`));
      const challengeResponse = await browser.request('GET', `${anchorPath}/challenge.json`);
      if (challengeResponse.status !== 200) return undefined;
      const challenge = JSON.parse(challengeResponse.text) as { nonce: string; audience: string };
      const now = Math.floor(Date.now() / 1000);
      const partnerName = `partner-${applicationId}`.slice(0, 60);
      const assertion = await new SignJWT({ nonce: challenge.nonce })
        .setProtectedHeader({ alg: 'ES256', kid })
        .setIssuer(partnerName)
        .setSubject(partnerName)
        .setAudience(challenge.audience)
        .setIssuedAt(now)
        .setExpirationTime(now + 120)
        .setJti(randomUUID())
        .sign(privateKey);
      const form = await browser.request('GET', anchorPath);
      const submitted = await browser.request('POST', anchorPath, {
        form: { _csrf: csrfOf(form.text) ?? '', kind: 'jwk', 'jwk.jwks': JSON.stringify({ keys: [publicJwk] }), 'jwk.assertion': assertion },
      });
      if (submitted.status === 200) return true;
      if (TRANSIENT.has(submitted.status) || submitted.status === 409) return undefined;
      throw new Error(
        `the anchor was refused (${submitted.status}): ${submitted.text
          .replace(/<[^>]+>/g, ' ')
          .replace(/\s+/g, ' ')
          .slice(0, 400)}`,
      );
    },
    STEP_DEADLINE_MS,
    pauseMs,
  );
}
