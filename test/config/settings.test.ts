import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_VARIABLES,
  EXPANSION_POLICY_VARIABLES,
  LIFECYCLE_VARIABLES,
  loadConfig,
  RISK_THRESHOLD_VARIABLES,
  SECRET_VARIABLES,
  describeConfig,
} from '../../config/env';
import { DEFAULT_LIFECYCLE_DURATIONS, LIFECYCLE_SETTINGS } from '../../domain/durations';
import { DEFAULT_RISK_THRESHOLDS } from '../../domain/risk';
import { DEFAULT_EXPANSION_POLICY } from '../../domain/expansion';
import { linkSecret, linkSecrets } from '../../links/link-secret';
import { payloadKey, payloadKeys } from '../../temporal/connection';
import { settingsActivities } from '../../activities/settings';

const key = Buffer.alloc(32, 9).toString('base64');

describe('lifecycle settings from the environment', () => {
  it('default to the domain’s production values', async () => {
    const settings = await settingsActivities(loadConfig({})).lifecycleSettings();
    expect(settings).toEqual({
      durations: DEFAULT_LIFECYCLE_DURATIONS,
      riskThresholds: DEFAULT_RISK_THRESHOLDS,
      expansionPolicy: DEFAULT_EXPANSION_POLICY,
    });
  });

  it('has a variable for every lifecycle setting, each read by the configuration', () => {
    expect(Object.values(LIFECYCLE_VARIABLES).sort()).toEqual([...LIFECYCLE_SETTINGS].sort());
    for (const variable of [
      ...Object.keys(LIFECYCLE_VARIABLES),
      ...Object.keys(RISK_THRESHOLD_VARIABLES),
      ...Object.keys(EXPANSION_POLICY_VARIABLES),
    ]) {
      expect(CONFIG_VARIABLES).toContain(variable);
    }
  });

  it('reads durations, counts, thresholds and policy limits', () => {
    const { lifecycle } = loadConfig({
      ADMIT_CONTACT_REMINDER: '2s',
      ADMIT_CONTACT_EXPIRY: 'PT10S',
      ADMIT_APPROVAL_ESCALATION: '1m',
      ADMIT_APPROVAL_EXPIRY: '1h30m',
      ADMIT_ANCHOR_RESUBMISSIONS: '0',
      ADMIT_RISK_MEDIUM: '12',
      ADMIT_RISK_HIGH: '25.5',
      ADMIT_EXPANSION_MAX_DENIAL_RATE: '0.05',
      ADMIT_EXPANSION_MIN_CALLS: '10',
    });
    expect(lifecycle.durations).toMatchObject({
      contactReminderMs: 2000,
      contactExpiryMs: 10_000,
      approvalEscalationMs: 60_000,
      approvalExpiryMs: 5_400_000,
      anchorResubmissionLimit: 0,
      probationMs: DEFAULT_LIFECYCLE_DURATIONS.probationMs,
    });
    expect(lifecycle.riskThresholds).toEqual({ medium: 12, high: 25.5 });
    expect(lifecycle.expansionPolicy).toEqual({ ...DEFAULT_EXPANSION_POLICY, maxDenialRate: 0.05, minCalls: 10 });
  });

  it('reports every bad value at once, naming the variable to fix', () => {
    expect(() =>
      loadConfig({
        ADMIT_INACTIVITY: '90',
        ADMIT_ANCHOR_RESUBMISSIONS: 'three',
        ADMIT_CONTACT_REMINDER: '8d',
        ADMIT_RISK_MEDIUM: '30',
        ADMIT_EXPANSION_MAX_ERROR_RATE: '5%',
      }),
    ).toThrow(
      new RegExp(
        [
          'ADMIT_INACTIVITY: Invalid duration "90": a bare number has no unit',
          'ADMIT_ANCHOR_RESUBMISSIONS: "three" is not a whole number',
          'ADMIT_CONTACT_REMINDER must be shorter than ADMIT_CONTACT_EXPIRY',
          'ADMIT_RISK_MEDIUM \\(30\\) must be below ADMIT_RISK_HIGH \\(20\\)',
          'ADMIT_EXPANSION_MAX_ERROR_RATE: "5%" is not a fraction',
        ].join('[\\s\\S]*'),
      ),
    );
  });
});

describe('the link secret', () => {
  it('is required in production, where generated keys would differ between machines', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ADMIT_PAYLOAD_KEY: key })).toThrow(/ADMIT_LINK_SECRET: required in production/);
    expect(loadConfig({ NODE_ENV: 'production', ADMIT_PAYLOAD_KEY: key, ADMIT_LINK_SECRET: key, ADMIT_OAUTH_SIGNING_KEY: key }).NODE_ENV).toBe(
      'production',
    );
  });

  it('must be at least 32 bytes of base64', () => {
    expect(() => loadConfig({ ADMIT_LINK_SECRET: Buffer.alloc(16).toString('base64') })).toThrow(
      /ADMIT_LINK_SECRET: must be at least 32 random bytes/,
    );
    expect(() => loadConfig({ ADMIT_LINK_SECRET: 'not base64 at all!' })).toThrow(/ADMIT_LINK_SECRET/);
  });

  it('is the configured one when set, else generated once under the data directory and reused', async () => {
    expect(Buffer.from(await linkSecret(loadConfig({ ADMIT_LINK_SECRET: key })))).toEqual(Buffer.alloc(32, 9));
    const dataDir = await mkdtemp(path.join(tmpdir(), 'admit-link-'));
    const config = loadConfig({ ADMIT_DATA_DIR: dataDir });
    const [first, concurrent] = await Promise.all([linkSecret(config), linkSecret(config)]);
    expect(first.length).toBe(32);
    expect(Buffer.from(concurrent)).toEqual(Buffer.from(first));
    expect(Buffer.from(await linkSecret(config))).toEqual(Buffer.from(first));
    const file = path.join(dataDir, 'link.key');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64')).toEqual(Buffer.from(first));
  });
});

describe('gateway tokens', () => {
  const token = 'k'.repeat(40);

  it('parse as name:token pairs', () => {
    expect(loadConfig({ ADMIT_GATEWAY_TOKENS: `kong:${token}, edge-2:${'e'.repeat(32)}` }).gatewayTokens).toEqual([
      { name: 'kong', token },
      { name: 'edge-2', token: 'e'.repeat(32) },
    ]);
    expect(loadConfig({}).gatewayTokens).toEqual([]);
  });

  it('refuse short tokens, bad names and repeats without printing a token', () => {
    let message = '';
    try {
      loadConfig({ ADMIT_GATEWAY_TOKENS: `kong:short-secret,Bad Name:${token},kong:${token}` });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/the token of gateway kong must be at least 32 characters/);
    expect(message).toMatch(/pair 2 must be name:token/);
    expect(message).not.toContain('short-secret');
    expect(message).not.toContain(token);
  });

  it('are secrets: masked when the configuration is described', () => {
    expect(SECRET_VARIABLES).toEqual(expect.arrayContaining(['ADMIT_GATEWAY_TOKENS', 'ADMIT_LINK_SECRET']));
    const described = describeConfig(loadConfig({ ADMIT_GATEWAY_TOKENS: `kong:${token}`, ADMIT_LINK_SECRET: key }));
    expect(described.ADMIT_GATEWAY_TOKENS).toBe('***');
    expect(described.ADMIT_LINK_SECRET).toBe('***');
  });
});

describe('gateway environments and clock skew (issue 9)', () => {
  const token = 'k'.repeat(40);

  it('bind each listed gateway to its environments; once set, an unlisted gateway serves none', () => {
    const config = loadConfig({
      ADMIT_GATEWAY_TOKENS: `kong:${token},edge:${token}x,spare:${token}y`,
      ADMIT_GATEWAY_ENVIRONMENTS: 'kong:production, edge:sandbox+production',
    });
    expect(config.gatewayTokens.map((t) => [t.name, t.environments])).toEqual([
      ['kong', ['production']],
      ['edge', ['sandbox', 'production']],
      ['spare', []],
    ]);
    expect(loadConfig({ ADMIT_GATEWAY_TOKENS: `kong:${token}` }).gatewayTokens[0]?.environments).toBeUndefined();
  });

  it('refuse unknown gateways and environments', () => {
    expect(() => loadConfig({ ADMIT_GATEWAY_TOKENS: `kong:${token}`, ADMIT_GATEWAY_ENVIRONMENTS: 'nginx:sandbox' })).toThrow(/nginx has no token/);
    expect(() => loadConfig({ ADMIT_GATEWAY_TOKENS: `kong:${token}`, ADMIT_GATEWAY_ENVIRONMENTS: 'kong:staging' })).toThrow(
      /"staging" is not one of/,
    );
  });

  it('read the clock skew as a duration, 5 minutes by default, at most an hour', () => {
    expect(loadConfig({}).clockSkewMs).toBe(300_000);
    expect(loadConfig({ ADMIT_CLOCK_SKEW: '30s' }).clockSkewMs).toBe(30_000);
    expect(() => loadConfig({ ADMIT_CLOCK_SKEW: '2h' })).toThrow(/ADMIT_CLOCK_SKEW/);
    expect(() => loadConfig({ ADMIT_CLOCK_SKEW: 'soon' })).toThrow(/ADMIT_CLOCK_SKEW/);
  });
});

describe('the decision cache (issue 13)', () => {
  it('defaults to 100,000 clients, a 1 s bound and a check every 200 ms', () => {
    expect(loadConfig({}).decisionCache).toEqual({ maxEntries: 100_000, maxStalenessMs: 1_000, pollIntervalMs: 200 });
    expect(
      loadConfig({ ADMIT_DECISION_CACHE_SIZE: '0', ADMIT_DECISION_CACHE_MAX_STALENESS: '500ms', ADMIT_DECISION_CACHE_POLL: '100ms' }).decisionCache,
    ).toEqual({
      maxEntries: 0,
      maxStalenessMs: 500,
      pollIntervalMs: 100,
    });
  });

  it('refuses a check slower than half the bound, a bound outside 100 ms–60 s, and a size that is not a count', () => {
    expect(() => loadConfig({ ADMIT_DECISION_CACHE_POLL: '600ms' })).toThrow(/ADMIT_DECISION_CACHE_POLL \(600 ms\) must be at most half/);
    expect(() => loadConfig({ ADMIT_DECISION_CACHE_MAX_STALENESS: '50ms', ADMIT_DECISION_CACHE_POLL: '10ms' })).toThrow(
      /ADMIT_DECISION_CACHE_MAX_STALENESS: must be between/,
    );
    expect(() => loadConfig({ ADMIT_DECISION_CACHE_MAX_STALENESS: '2m' })).toThrow(/ADMIT_DECISION_CACHE_MAX_STALENESS/);
    expect(() => loadConfig({ ADMIT_DECISION_CACHE_SIZE: '-1' })).toThrow(/ADMIT_DECISION_CACHE_SIZE/);
    expect(() => loadConfig({ ADMIT_DECISION_CACHE_SIZE: 'lots' })).toThrow(/ADMIT_DECISION_CACHE_SIZE/);
  });
});

describe('key rings (ADMIT_PAYLOAD_KEYS, ADMIT_LINK_SECRETS, ADMIT_SESSION_SECRETS)', () => {
  const k = (fill: number) => Buffer.alloc(32, fill).toString('base64');

  it('lists the newest first and keeps the single variable as the oldest, once', async () => {
    const config = loadConfig({ ADMIT_PAYLOAD_KEYS: `${k(3)}, ${k(2)}`, ADMIT_PAYLOAD_KEY: k(1), ADMIT_LINK_SECRETS: k(5), ADMIT_LINK_SECRET: k(5) });
    expect((await payloadKeys(config)).map((key) => key[0])).toEqual([3, 2, 1]);
    expect(Buffer.from(await payloadKey(config))[0]).toBe(3);
    expect((await linkSecrets(config)).map((key) => key[0])).toEqual([5]);
  });

  it('refuses a malformed ring, naming the key', () => {
    expect(() => loadConfig({ ADMIT_PAYLOAD_KEYS: `${k(3)},${Buffer.alloc(16).toString('base64')}` })).toThrow(
      /ADMIT_PAYLOAD_KEYS: key 2 must be 32/,
    );
    expect(() => loadConfig({ ADMIT_SESSION_SECRETS: `${k(3)},,${k(2)}` })).toThrow(/ADMIT_SESSION_SECRETS: .*without empty entries/);
  });

  it('accepts a ring instead of the single variable in production', () => {
    const production = { NODE_ENV: 'production', ADMIT_OAUTH_SIGNING_KEY: k(7) };
    expect(() => loadConfig(production)).toThrow(/ADMIT_PAYLOAD_KEY: required in production.*or ADMIT_PAYLOAD_KEYS/);
    expect(loadConfig({ ...production, ADMIT_PAYLOAD_KEYS: k(1), ADMIT_LINK_SECRETS: k(2) }).NODE_ENV).toBe('production');
  });
});
