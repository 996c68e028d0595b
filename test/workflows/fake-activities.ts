import { randomUUID } from 'node:crypto';
import { makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { Resource } from '@opentelemetry/resources';
import { DISCARDING_EXPORTER } from '../../observability/tracing';
import { inject } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { LifecycleActivities } from '../../activities/contract';
import type { ApproverDirectory } from '../../domain/approval';
import type { ContactRoleKey } from '../../domain/contacts';
import { DEFAULT_LIFECYCLE_DURATIONS, type LifecycleDurations } from '../../domain/durations';
import { DEFAULT_EXPANSION_POLICY } from '../../domain/expansion';
import { DEFAULT_RISK_THRESHOLDS } from '../../domain/risk';
import type { LifecycleSettings } from '../../domain/settings';
import { validateSignup, type Signup } from '../../domain/signup';
import { signupBody } from '../support/signups';

/**
 * The lifecycle workflow against activities that keep their effects in
 * memory, in the style of Temporal's money-transfer template: the workflow's
 * own logic (stages, validators, races between handlers and timers) tested in
 * seconds, on the suite's real Temporal server. Each activity can be held at a
 * gate, to open a race exactly where a test wants it.
 */

export const APPROVERS: ApproverDirectory = [
  { approverId: 'idp ada', email: 'ada@platform.test', roles: ['approver'] },
  { approverId: 'idp rui', email: 'rui@platform.test', roles: ['approver', 'security-reviewer'] },
  { approverId: 'idp sam', email: 'sam@platform.test', roles: ['approver'] },
];

export const actor = (subject: string, directory: ApproverDirectory = APPROVERS) => {
  const entry = directory.find((a) => a.approverId === subject);
  if (entry === undefined) throw new Error(subject);
  return { subject, email: entry.email, name: subject, roles: [...entry.roles] };
};

/** A promise a test opens when it wants the held activity to go on. */
export class Gate {
  private release!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.release = resolve));
  /** Resolves once an activity is waiting at the gate. */
  readonly reached: Promise<void>;
  private markReached!: () => void;
  constructor() {
    this.reached = new Promise<void>((resolve) => (this.markReached = resolve));
  }
  async pass(): Promise<void> {
    this.markReached();
    await this.opened;
  }
  open(): void {
    this.release();
  }
}

export interface FakeWorld {
  calls: { name: keyof LifecycleActivities; input: unknown }[];
  audit: { type: string; data: Record<string, unknown> }[];
  /** One gate per activity name, consumed by the next call. */
  gates: Partial<Record<keyof LifecycleActivities, Gate>>;
  settings: LifecycleSettings;
  suspended: boolean;
  reverification: 'healthy' | 'revoked';
  /** The registry's answer: an approver admitted an application of this organisation before. */
  established: boolean;
  /** GLEIF's verdict on the LEI. */
  leiOutcome: 'pass' | 'needs-approval' | 'refused';
  /** Whether the domain proof is found, and which contacts are outside the domain. */
  domainProven: boolean;
  outsideDomain: ContactRoleKey[];
  /** How long an issued domain challenge can be proven. */
  challengeTtlMs: number;
  /** The approvers the directory activity answers with. */
  directory: ApproverDirectory;
  /** When set, the registry refuses the signup this way. */
  registrationFailure: ApplicationFailure | null;
  /** When set, the next verification fails this way instead of verifying. */
  verifierFailure: ApplicationFailure | null;
  /** Answers of the next re-verifications, before `reverification` again. */
  nextReverifications: ('healthy' | 'revoked')[];
  activities: LifecycleActivities;
  called(name: keyof LifecycleActivities): unknown[];
}

export function fakeWorld(durations: Partial<LifecycleDurations> = {}): FakeWorld {
  const world: FakeWorld = {
    calls: [],
    audit: [],
    gates: {},
    settings: {
      durations: { ...DEFAULT_LIFECYCLE_DURATIONS, ...durations },
      riskThresholds: { ...DEFAULT_RISK_THRESHOLDS },
      expansionPolicy: { ...DEFAULT_EXPANSION_POLICY, minCalls: 10 },
    },
    suspended: false,
    reverification: 'healthy',
    nextReverifications: [],
    verifierFailure: null,
    directory: APPROVERS,
    established: true,
    leiOutcome: 'pass',
    domainProven: true,
    outsideDomain: [],
    challengeTtlMs: 60_000,
    registrationFailure: null,
    activities: undefined as unknown as LifecycleActivities,
    called: (name) => world.calls.filter((c) => c.name === name).map((c) => c.input),
  };
  const step = async (name: keyof LifecycleActivities, input: unknown): Promise<void> => {
    world.calls.push({ name, input });
    const gate = world.gates[name];
    if (gate !== undefined) {
      delete world.gates[name];
      await gate.pass();
    }
  };
  world.activities = {
    async lifecycleSettings() {
      await step('lifecycleSettings', undefined);
      return structuredClone(world.settings);
    },
    async registerApplication(input) {
      await step('registerApplication', input);
      if (world.registrationFailure !== null) throw world.registrationFailure;
      return { organisationId: 'org-1', applicationId: input.applicationId, organisationEstablished: world.established };
    },
    async recordAudit(input) {
      await step('recordAudit', input);
      world.audit.push({ type: input.type, data: input.data });
    },
    async recordRisk(input) {
      await step('recordRisk', input);
    },
    async sendContactConfirmations(input) {
      await step('sendContactConfirmations', input);
      return input.roles.map((role) => ({ role, tokenHash: `${role}-${input.round}` }));
    },
    async recordContactConfirmation(input) {
      await step('recordContactConfirmation', input);
    },
    async notify(input) {
      await step('notify', input);
    },
    async loadApproverDirectory() {
      await step('loadApproverDirectory', undefined);
      return world.directory;
    },
    async issueAnchorChallenge(input) {
      await step('issueAnchorChallenge', input);
      const now = new Date();
      return {
        nonce: randomUUID(),
        audience: 'https://admit.test',
        issuedAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + 600_000).toISOString(),
      };
    },
    async verifyAndBindAnchor(input) {
      await step('verifyAndBindAnchor', input);
      const failure = world.verifierFailure;
      world.verifierFailure = null;
      if (failure !== null) throw failure;
      return {
        ok: true,
        kind: input.submission.kind,
        fingerprint: `sha256:${randomUUID()}`,
        keyFingerprint: null,
        subject: 'CN=partner',
        notAfter: new Date(Date.now() + 365 * 86_400_000).toISOString(),
        verifiedAt: new Date().toISOString(),
      };
    },
    async reverifyAnchor(input) {
      await step('reverifyAnchor', input);
      const health = world.nextReverifications.shift() ?? world.reverification;
      return { health, notAfter: null, reasons: health === 'healthy' ? [] : [{ code: 'CERT_REVOKED', message: 'revoked' }] };
    },
    async retireRotatedAnchors(input) {
      await step('retireRotatedAnchors', input);
    },
    async grantAccess(input) {
      await step('grantAccess', input);
      return { grantId: 'grant-1', clientId: 'admit-client-1' };
    },
    async expandGrant(input) {
      await step('expandGrant', input);
    },
    async suspendAccess(input) {
      await step('suspendAccess', input);
      world.suspended = true;
    },
    async reinstateAccess(input) {
      await step('reinstateAccess', input);
      // The registry's contract: only what is suspended can be reinstated.
      if (!world.suspended) throw ApplicationFailure.create({ type: 'NotSuspended', message: 'nothing is suspended', nonRetryable: true });
      world.suspended = false;
    },
    async closeApplication(input) {
      await step('closeApplication', input);
    },
    async verifyLegalEntity(input) {
      await step('verifyLegalEntity', input);
      const outcome = world.leiOutcome;
      return {
        outcome,
        score: outcome === 'pass' ? 1 : 0.5,
        nameScore: 1,
        jurisdictionScore: outcome === 'pass' ? 1 : 0.5,
        reasons: [{ code: outcome === 'pass' ? 'LEI_ACTIVE' : 'LEI_DOUBT', outcome, message: `the LEI check says ${outcome}` }],
        record: {
          lei: input.lei,
          legalName: input.legalName,
          matchedName: input.legalName,
          jurisdiction: input.jurisdiction,
          registrationStatus: outcome === 'pass' ? 'ISSUED' : outcome === 'refused' ? 'RETIRED' : 'LAPSED',
          entityStatus: 'ACTIVE',
          successorLei: null,
          successorName: null,
          nextRenewalDate: null,
          lastUpdateDate: null,
          managingLou: null,
          corroborationLevel: null,
        },
        source: 'https://gleif.test/api/v1',
        checkedAt: new Date().toISOString(),
      };
    },
    async recordLegalEntityDecision(input) {
      await step('recordLegalEntityDecision', input);
    },
    async issueDomainChallenge(input) {
      await step('issueDomainChallenge', input);
      return {
        domain: input.domain,
        round: input.round ?? 0,
        token: 'tok',
        keyAuthorization: 'tok.thumb',
        txtName: `_admit-challenge.${input.domain}`,
        txtValue: 'value',
        httpUrl: `https://${input.domain}/.well-known/admit-challenge/tok`,
        expiresAt: new Date(Date.now() + world.challengeTtlMs).toISOString(),
      };
    },
    async checkDomainControl(input) {
      await step('checkDomainControl', input);
      return world.domainProven
        ? { verified: true, method: 'dns-txt', reasons: [], contactsOutsideDomain: [...world.outsideDomain] }
        : { verified: false, method: null, reasons: [{ code: 'TXT_MISSING', method: 'dns-txt', message: 'no record' }], contactsOutsideDomain: [] };
    },
    async provisionKeycloakClient(input) {
      await step('provisionKeycloakClient', input);
      return { provider: 'embedded' as const };
    },
    async disableKeycloakClient(input) {
      await step('disableKeycloakClient', input);
      return { provider: 'embedded' as const };
    },
    async removeKeycloakClient(input) {
      await step('removeKeycloakClient', input);
      return { provider: 'embedded' as const };
    },
    async readUsage(input) {
      await step('readUsage', input);
      return { calls: 1000, denials: 0, errors: 0, anomalies: 0, lastSeenAt: new Date().toISOString() };
    },
  };
  return world;
}

export interface WorkflowTestBed {
  env: TestWorkflowEnvironment;
  run<T>(world: FakeWorld, body: (taskQueue: string) => Promise<T>): Promise<T>;
  teardown(): Promise<void>;
}

/** Connects to the suite's Temporal server and runs a worker with `world`'s activities for each test. */
export async function workflowTestBed(): Promise<WorkflowTestBed> {
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address: inject('temporalAddress') });
  return {
    env,
    async run(world, body) {
      const taskQueue = `workflow-test-${randomUUID()}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: { codePath: inject('workflowBundlePath') },
        activities: world.activities,
        // The bundle's OpenTelemetry workflow interceptors (worker/bundle.ts) export through this sink.
        sinks: { exporter: makeWorkflowExporter(DISCARDING_EXPORTER, Resource.empty()) },
      });
      return worker.runUntil(body(taskQueue));
    },
    teardown: () => env.teardown(),
  };
}

export function testSignup(
  application: Partial<ReturnType<typeof signupBody>['application']> = {},
  lei?: string,
): { applicationId: string; signup: Signup } {
  const body = signupBody(lei === undefined ? {} : { lei });
  Object.assign(body.application, application);
  const validation = validateSignup(body, new Date());
  if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
  return { applicationId: `app-${randomUUID()}`, signup: validation.signup };
}
