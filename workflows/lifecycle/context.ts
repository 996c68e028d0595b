import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { Mutex } from 'async-mutex';
import type { LifecycleDurations } from '../../domain/durations';
import type { LifecycleState } from '../messages';
import { TERMINAL, type CarriedState, type InternalState } from './state';

/**
 * One partner application's lifecycle as the stage modules share it: its
 * public state (what the `state` query answers), what it remembers beyond
 * that, and the mutex that keeps message handlers and the main loop from
 * interleaving while they await.
 */
export class Lifecycle {
  /** Set by handlers when the main loop has something to act on. */
  wake = false;
  private readonly mutex = new Mutex();

  constructor(
    public state: LifecycleState,
    public internal: InternalState,
    /**
     * Lifecycles started before the serialised-handlers patch replay their
     * histories without the mutex (taking it would reorder their commands).
     */
    readonly serialised: boolean,
    /** Lifecycles started before the entity-verification patch go from registration to contacts. */
    readonly verifiesEntity = false,
  ) {}

  /** Set at registration: no application of the organisation is admitted yet (the registry's answer). */
  firstEnrolment = true;

  /** Replaces the provisional state with the registered one, keeping a termination already asked for. */
  adopt(carried: CarriedState): void {
    carried.internal.termination ??= this.internal.termination;
    this.state = carried.state;
    this.internal = carried.internal;
  }

  carry(): CarriedState {
    return { state: this.state, internal: this.internal };
  }

  /**
   * What this claim's activities key their idempotency on (and pass as
   * `workflowId`): the workflow id for the first claim of an application id,
   * `<workflowId>#<n>` for the n-th after earlier claims ended unverified, so
   * nothing a released claim did is mistaken for this one's.
   */
  get claimKey(): string {
    const claim = this.internal.claim ?? 1;
    return claim > 1 ? `${workflowInfo().workflowId}#${claim}` : workflowInfo().workflowId;
  }

  get durations(): LifecycleDurations {
    return this.internal.settings.durations;
  }

  get isClosed(): boolean {
    return TERMINAL.includes(this.state.stage);
  }

  get isRegistering(): boolean {
    return this.state.stage === 'REGISTERING';
  }

  /**
   * Runs `work` with nothing else that awaits on this lifecycle's state in
   * between: every handler body and every main-loop step goes through here.
   * Deliberately not `async`: without the mutex it must add no microtask, so
   * unpatched histories replay command for command.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.serialised ? this.mutex.runExclusive(work) : work();
  }
}

export const nowIso = (): string => new Date().toISOString();
export const addMs = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();
export const msUntil = (iso: string): number => Math.max(0, Date.parse(iso) - Date.now());
export const isDue = (at: string | null | undefined): at is string => typeof at === 'string' && Date.now() >= Date.parse(at);

/** Refuses an Update with a stable code (its `type`) and a sentence a person can act on. */
export function refuse(type: string, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}

export function sentence(message: string): string {
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return text.endsWith('.') ? text : `${text}.`;
}
