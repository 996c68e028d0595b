import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Registry } from './client';
import { loadDecisionFacts, type DecisionCacheSettings, type DecisionFactSource, type DecisionFacts } from './decision-facts';

export { DEFAULT_DECISION_CACHE_SETTINGS, type DecisionCacheSettings } from './decision-facts';

/** The channel the registry's triggers notify (prisma/migrations/20261203180000_decision_facts_notify). */
export const DECISION_FACTS_CHANNEL = 'admit_decision_facts';
/** How the cache's connections name themselves in pg_stat_activity. */
export const DECISION_CACHE_LISTENER_NAME = 'admit-decision-cache';
export const DECISION_CACHE_POLLER_NAME = 'admit-decision-cache-poll';

const VERSION_QUERY = 'SELECT "version"::text AS version FROM "decision_facts_version" WHERE "id" = 1';
const RECONNECT_MIN_MS = 50;
const RECONNECT_MAX_MS = 5_000;
/** Polls in a row that see a version the listener has not delivered before it is presumed deaf and replaced. */
const LAGGING_POLLS_BEFORE_RECYCLE = 3;

export interface DecisionCacheOptions extends DecisionCacheSettings {
  databaseUrl: string;
  registry: Registry;
  /** Listener losses, reconnections and failing staleness checks; never secrets. */
  log?: (message: string) => void;
}

export interface DecisionCacheStatus {
  /** The LISTEN connection is up. */
  listening: boolean;
  /** Cached answers may be used (a staleness check confirmed them within the bound). */
  fresh: boolean;
  /** The version counter as last applied. */
  version: string | undefined;
  entries: number;
  hits: number;
  misses: number;
  /** Decisions that read the database because the cache could not be trusted. */
  bypassed: number;
  /** Notifications applied. */
  notifications: number;
  /** Times everything was dropped (listener lost or connected, a version the listener missed, a TRUNCATE). */
  flushes: number;
  /** LISTEN connections made after the first. */
  reconnects: number;
}

/**
 * The facts request-time decisions need, kept in this process and invalidated by the registry.
 *
 * - Every transaction that changes a credential, a grant, or an application's status or
 *   environment bumps `decision_facts_version` and sends a NOTIFY naming the application and
 *   client (triggers, so no code path can forget). The LISTEN connection drops those entries.
 * - A second connection reads the version every `pollIntervalMs`: a version ahead of what the
 *   notifications delivered (a notification lost) drops everything. Each successful read confirms
 *   the cache until `maxStalenessMs` after it was sent; past that — the check failing, the
 *   database unreachable — the cache is not used and every decision reads the database (fail
 *   closed: no allow comes from facts older than the bound).
 * - Losing the LISTEN connection drops everything; it reconnects with backoff and drops
 *   everything again once listening, since notifications in between are lost.
 * - A load from the database is kept only if nothing was invalidated while it ran, so a
 *   revocation that commits during a load cannot be overwritten by the older answer.
 */
export class DecisionCache implements DecisionFactSource {
  private readonly entries = new Map<string, DecisionFacts | null>();
  private readonly byApplication = new Map<string, Set<string>>();
  private readonly inflight = new Map<string, { epoch: number; promise: Promise<DecisionFacts | null> }>();
  /** Bumped by every invalidation: a load that began in an earlier epoch is not kept. */
  private epoch = 0;
  private version: bigint | undefined;
  /** performance.now() until which cached entries may be used. */
  private freshUntil = Number.NEGATIVE_INFINITY;
  private listener: pg.Client | undefined;
  private connecting = false;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private pollFailing = false;
  /** Polls in a row that found a version the notifications never delivered. */
  private lagging = 0;
  /** A version a check saw before its notifications arrived, and when that check was sent. */
  private lag: { version: bigint; sentAt: number } | undefined;
  private started = false;
  private closed = false;
  private readonly poller: pg.Pool;
  private readonly log: (message: string) => void;
  private readonly counters = { hits: 0, misses: 0, bypassed: 0, notifications: 0, flushes: 0, reconnects: -1 };

  constructor(private readonly options: DecisionCacheOptions) {
    if (!(options.pollIntervalMs > 0 && options.pollIntervalMs < options.maxStalenessMs)) {
      throw new RangeError('the decision cache must poll more often than its staleness bound');
    }
    this.log = options.log ?? (() => undefined);
    // One connection; its statements and connects give up within the bound, so a stuck check
    // never holds the cache's trust past it and never queues behind itself.
    this.poller = new pg.Pool({
      connectionString: options.databaseUrl,
      max: 1,
      application_name: DECISION_CACHE_POLLER_NAME,
      statement_timeout: options.maxStalenessMs,
      query_timeout: options.maxStalenessMs,
      connectionTimeoutMillis: options.maxStalenessMs,
      keepAlive: true,
    });
    this.poller.on('error', () => undefined); // an idle connection's loss: the next check reconnects
  }

  /** Connects the listener and makes the first check; never throws (until both work, decisions read the database). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await Promise.all([this.connectListener(), this.poll()]);
    this.pollTimer = setInterval(() => void this.poll(), this.options.pollIntervalMs);
    this.pollTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.reconnectTimer);
    const listener = this.listener;
    this.listener = undefined;
    this.flush();
    await Promise.all([listener?.end().catch(() => undefined), this.poller.end().catch(() => undefined)]);
  }

  lookup(clientId: string): DecisionFacts | null | Promise<DecisionFacts | null> {
    if (!this.isFresh()) {
      this.counters.bypassed += 1;
      return loadDecisionFacts(this.options.registry, clientId);
    }
    const hit = this.entries.get(clientId);
    if (hit !== undefined) {
      this.counters.hits += 1;
      return hit;
    }
    this.counters.misses += 1;
    const pending = this.inflight.get(clientId);
    if (pending !== undefined && pending.epoch === this.epoch) return pending.promise;
    const epoch = this.epoch;
    const promise = loadDecisionFacts(this.options.registry, clientId)
      .then((facts) => {
        if (epoch === this.epoch && !this.closed) this.store(clientId, facts);
        return facts;
      })
      .finally(() => {
        if (this.inflight.get(clientId)?.promise === promise) this.inflight.delete(clientId);
      });
    this.inflight.set(clientId, { epoch, promise });
    return promise;
  }

  status(): DecisionCacheStatus {
    const { reconnects, ...counters } = this.counters;
    return {
      listening: this.listener !== undefined,
      fresh: this.isFresh(),
      version: this.version?.toString(),
      entries: this.entries.size,
      ...counters,
      reconnects: Math.max(0, reconnects),
    };
  }

  private isFresh(): boolean {
    return performance.now() < this.freshUntil;
  }

  private store(clientId: string, facts: DecisionFacts | null): void {
    if (this.options.maxEntries <= 0) return;
    if (!this.entries.has(clientId) && this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.forget(oldest.value);
    }
    this.entries.set(clientId, facts);
    if (facts !== null) {
      let clients = this.byApplication.get(facts.applicationId);
      if (clients === undefined) this.byApplication.set(facts.applicationId, (clients = new Set()));
      clients.add(clientId);
    }
  }

  private forget(clientId: string): void {
    const facts = this.entries.get(clientId);
    this.entries.delete(clientId);
    if (facts) {
      const clients = this.byApplication.get(facts.applicationId);
      clients?.delete(clientId);
      if (clients?.size === 0) this.byApplication.delete(facts.applicationId);
    }
  }

  private flush(): void {
    this.epoch += 1;
    this.counters.flushes += 1;
    this.entries.clear();
    this.byApplication.clear();
  }

  private onNotification(message: pg.Notification): void {
    if (message.channel !== DECISION_FACTS_CHANNEL) return;
    this.counters.notifications += 1;
    let change: { v?: unknown; app?: unknown; client?: unknown; all?: unknown };
    try {
      change = JSON.parse(message.payload ?? '') as typeof change;
    } catch {
      this.flush();
      return;
    }
    this.epoch += 1;
    if (change.all === true) this.flush();
    if (typeof change.client === 'string') this.forget(change.client);
    if (typeof change.app === 'string') {
      for (const clientId of this.byApplication.get(change.app) ?? []) this.entries.delete(clientId);
      this.byApplication.delete(change.app);
    }
    // Notifications arrive in commit order on a connection that has listened since `version` was read.
    if (typeof change.v === 'number' && Number.isSafeInteger(change.v)) {
      const v = BigInt(change.v);
      if (this.version === undefined || v > this.version) this.version = v;
    }
  }

  private async connectListener(): Promise<void> {
    if (this.closed || this.connecting || this.listener !== undefined) return;
    this.connecting = true;
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: DECISION_CACHE_LISTENER_NAME,
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
    });
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost) return;
      lost = true;
      void client.end().catch(() => undefined);
      if (this.listener === client) {
        this.listener = undefined;
        // Notifications may be missed from now on: nothing cached can be vouched for by them.
        this.flush();
        this.log(`decision cache: LISTEN connection lost${error ? ` (${error.message})` : ''}; reconnecting`);
      }
      this.scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => this.onNotification(message));
    try {
      await client.connect();
      await client.query(`LISTEN ${DECISION_FACTS_CHANNEL}`);
      // Listening first, then the version: any later change is notified, any earlier one is in it.
      const { rows } = await client.query<{ version: string }>(VERSION_QUERY);
      if (lost || this.closed) throw new Error('closed while connecting');
      const row = rows[0];
      if (row === undefined) throw new Error('decision_facts_version has no row: is the registry migrated?');
      this.flush();
      // Everything is dropped, so everything committed so far counts as applied.
      const current = BigInt(row.version);
      if (this.version === undefined || current > this.version) this.version = current;
      this.listener = client;
      this.lagging = 0;
      this.lag = undefined;
      this.reconnectDelay = RECONNECT_MIN_MS;
      this.counters.reconnects += 1;
      if (this.counters.reconnects > 0) this.log('decision cache: listening again');
    } catch (error) {
      if (!lost && !this.closed) this.log(`decision cache: cannot LISTEN (${(error as Error).message}); retrying`);
      onLost();
    } finally {
      this.connecting = false;
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer !== undefined) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(RECONNECT_MAX_MS, this.reconnectDelay * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connectListener();
    }, delay);
    this.reconnectTimer.unref();
  }

  /** Everything committed before `sentAt` is applied: cached facts may be used until a bound after it. */
  private confirm(sentAt: number): void {
    if (this.closed) return;
    // After a lapse (checks failing past the bound) nothing kept from before it is vouched for.
    if (!this.isFresh()) this.flush();
    this.freshUntil = Math.max(this.freshUntil, sentAt + this.options.maxStalenessMs);
  }

  /** The staleness check: one read of the version counter. */
  private async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    const sentAt = performance.now();
    try {
      const { rows } = await this.poller.query<{ version: string }>(VERSION_QUERY);
      const row = rows[0];
      if (row === undefined) throw new Error('decision_facts_version has no row: is the registry migrated?');
      const seen = BigInt(row.version);
      const applied = this.version;
      if (applied !== undefined && seen > applied && this.listener !== undefined && (this.lag === undefined || applied >= this.lag.version)) {
        // Changes committed, their notifications on the way: give them one more check before
        // dropping everything. Vouch only up to the previous check, whose version has arrived.
        if (this.lag !== undefined) this.confirm(this.lag.sentAt);
        this.lag = { version: seen, sentAt };
      } else {
        if (applied !== undefined && seen > applied) {
          // A change the notifications did not deliver within a check: drop everything rather than guess.
          this.flush();
          if (this.listener !== undefined && ++this.lagging >= LAGGING_POLLS_BEFORE_RECYCLE) {
            this.log('decision cache: the LISTEN connection delivers nothing; replacing it');
            this.lagging = 0;
            void this.listener.end().catch(() => undefined);
          }
        } else {
          this.lagging = 0;
        }
        if (applied === undefined || seen > applied) this.version = seen;
        this.lag = undefined;
        this.confirm(sentAt);
      }
      if (this.pollFailing) this.log('decision cache: staleness check succeeds again');
      this.pollFailing = false;
    } catch (error) {
      if (!this.pollFailing && !this.closed) {
        this.log(`decision cache: staleness check failed (${(error as Error).message}); decisions read the database until it succeeds`);
      }
      this.pollFailing = true;
    } finally {
      this.polling = false;
    }
  }
}
