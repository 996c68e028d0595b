import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES, loadConfig, REPO_ROOT } from '../../config/env';

// Schema validators need schemas from the internet: this parses deploy/k8s/ and checks it against
// the code, as test/stack/compose.test.ts does for docker-compose.yml.
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean };
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean };
  containers: Container[];
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    template?: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
    minAvailable?: number;
  };
}

const dir = path.join(REPO_ROOT, 'deploy/k8s');
const manifests: Manifest[] = [];
for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml'))) {
  for (const doc of parseAllDocuments(await readFile(path.join(dir, file), 'utf8'))) {
    expect(doc.errors, file).toEqual([]);
    manifests.push(doc.toJS() as Manifest);
  }
}
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const named = (kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name);
const workloads = [...byKind('Deployment'), ...byKind('Job')];
const build = JSON.parse((await readFile(path.join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')).replace(/^\s*\/\/.*$/gm, '')) as { files: string[] };

/** A container's environment as the cluster would give it, the secrets filled with valid stand-ins. */
function environmentOf(container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, named('ConfigMap', source.configMapRef.name)?.data ?? {});
    if (source.secretRef) {
      const secret = named('Secret', source.secretRef.name);
      expect(secret, `secret ${source.secretRef.name}`).toBeDefined();
      for (const key of Object.keys(secret?.stringData ?? {})) env[key] = STAND_INS[key] ?? Buffer.alloc(32, 9).toString('base64');
    }
  }
  for (const entry of container.env ?? []) env[entry.name] = entry.value ?? '';
  return env;
}
const STAND_INS: Record<string, string> = {
  DATABASE_URL: 'postgresql://admit:secret@registry.db:5432/admit',
  SMTP_URL: 'smtp://relay.mail:587',
  ADMIT_GATEWAY_TOKENS: `edge:${'t'.repeat(40)}`,
  ADMIT_METRICS_TOKEN: 'm'.repeat(32),
  ADMIT_OIDC_CLIENT_SECRET: 'client-secret',
};

describe('deploy/k8s', () => {
  it('has a worker and a web Deployment with a PodDisruptionBudget each, and a migration Job', () => {
    expect(
      byKind('Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(['admit-web', 'admit-worker']);
    expect(byKind('Job').map((j) => j.metadata.name)).toEqual(['admit-migrate']);
    for (const deployment of byKind('Deployment')) {
      const labels = deployment.spec?.template?.metadata?.labels ?? {};
      expect(deployment.spec?.selector?.matchLabels, deployment.metadata.name).toEqual(
        expect.objectContaining({ 'app.kubernetes.io/name': labels['app.kubernetes.io/name'] }),
      );
      const budget = byKind('PodDisruptionBudget').find((pdb) =>
        Object.entries(pdb.spec?.selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v),
      );
      expect(budget, `a PodDisruptionBudget selects ${deployment.metadata.name}`).toBeDefined();
      expect(budget?.spec?.minAvailable).toBeGreaterThanOrEqual(1);
    }
  });

  it('configures every container only with variables Admit reads, and they validate in production', () => {
    for (const workload of workloads) {
      for (const container of workload.spec?.template?.spec.containers ?? []) {
        const env = environmentOf(container);
        const unknown = Object.keys(env).filter((k) => !CONFIG_VARIABLES.includes(k));
        expect(unknown, `${workload.metadata.name} sets variables Admit does not read`).toEqual([]);
        const config = loadConfig(env);
        expect(config.NODE_ENV).toBe('production');
      }
    }
  });

  it('runs compiled entry points, as non-root, with resources, probes on the configured ports and a grace period longer than the drain', () => {
    for (const workload of workloads) {
      const pod = workload.spec?.template?.spec as PodSpec;
      expect(pod.securityContext?.runAsNonRoot, workload.metadata.name).toBe(true);
      for (const container of pod.containers) {
        const where = `${workload.metadata.name}/${container.name}`;
        const [node, entry] = container.command ?? [];
        expect(node, where).toBe('node');
        expect(build.files, `${where}: tsconfig.build.json compiles ${entry}`).toContain(entry?.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
        expect(container.resources?.requests?.cpu, where).toBeDefined();
        expect(container.resources?.limits?.memory, where).toBeDefined();
        expect(container.securityContext?.allowPrivilegeEscalation, where).toBe(false);
        if (workload.kind === 'Job') continue;
        const config = loadConfig(environmentOf(container));
        const port = workload.metadata.name === 'admit-worker' ? config.workerHttpPort : config.PORT;
        expect(config.ADMIT_HTTP_HOST, `${where} listens beyond loopback`).toBe('0.0.0.0');
        const portNamed = (name: string | number) => (typeof name === 'number' ? name : container.ports?.find((p) => p.name === name)?.containerPort);
        expect(container.livenessProbe?.httpGet?.path, where).toBe('/healthz');
        expect(container.readinessProbe?.httpGet?.path, where).toBe('/readyz');
        expect(portNamed(container.livenessProbe?.httpGet?.port ?? ''), `${where} liveness port`).toBe(port);
        expect(portNamed(container.readinessProbe?.httpGet?.port ?? ''), `${where} readiness port`).toBe(port);
        // The worker may take the grace and 10 s more before it gives up on an activity.
        expect(pod.terminationGracePeriodSeconds ?? 30, `${where} grace period`).toBeGreaterThan(config.shutdownGraceMs / 1000 + 10);
      }
    }
  });

  it('commits no secret values', () => {
    for (const secret of byKind('Secret')) for (const value of Object.values(secret.stringData ?? {})) expect(value).toBe('');
  });
});
