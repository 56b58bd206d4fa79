/**
 * deploy/overlays/production-ha as `kubectl kustomize` renders it: two replicas on PostgreSQL with a
 * Lease for the leader, and nothing a single pod owns. Every object is checked against the Kubernetes
 * OpenAPI schemas (kubernetes-models, CRDs included), as deploy.test.ts checks the other overlays.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Validating = new (d: Doc) => { validate(): void };

const root = path.resolve(__dirname, '..');
const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => fs.existsSync(p));
const render = (dir: string): Doc[] =>
  YAML.parseAllDocuments(
    execFileSync(KUBECTL ?? 'kubectl', ['kustomize', path.join(root, dir)], { encoding: 'utf8' })
  ).map((d) => d.toJSON() as Doc);

const ha = render('deploy/overlays/production-ha');
const production = render('deploy/overlays/production');
const one = (docs: Doc[], kind: string) => docs.filter((d) => d.kind === kind);
const deployment = one(ha, 'Deployment')[0];
const container = deployment.spec.template.spec.containers.find((c: Doc) => c.name === 'backend');
const env = Object.fromEntries(container.env.map((e: Doc) => [e.name, e]));

it('runs two replicas, rolling one at a time, with a PDB that keeps one serving', () => {
  expect(deployment.spec.replicas).toBe(2);
  expect(deployment.spec.strategy).toEqual({
    type: 'RollingUpdate',
    rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
  });
  const [pdb] = one(ha, 'PodDisruptionBudget');
  expect(pdb.spec.minAvailable).toBe(1);
  expect(pdb.spec.maxUnavailable).toBeUndefined();
});

it('keeps its state in PostgreSQL from a Secret, elects with a Lease, and owns no volume', () => {
  expect(env.PRESCALER_DB).toEqual({
    name: 'PRESCALER_DB',
    valueFrom: { secretKeyRef: { name: 'prescaler-postgres', key: 'url' } },
  });
  expect(env.PRESCALER_LEADER_ELECTION.value).toBe('kubernetes');
  expect(env.POD_NAME.valueFrom.fieldRef.fieldPath).toBe('metadata.name');
  expect(env.POD_NAMESPACE.valueFrom.fieldRef.fieldPath).toBe('metadata.namespace');
  expect(one(ha, 'PersistentVolumeClaim')).toEqual([]);
  const volumes = deployment.spec.template.spec.volumes.map((v: Doc) => v.name);
  expect(volumes).not.toContain('data');
  expect(container.volumeMounts.map((m: Doc) => m.mountPath)).not.toContain('/var/lib/prescaler');
  // Nothing else changed: the same config, tokens, probes and image as production.
  const prod = one(production, 'Deployment')[0].spec.template.spec.containers.find(
    (c: Doc) => c.name === 'backend'
  );
  for (const k of ['image', 'livenessProbe', 'readinessProbe', 'startupProbe', 'resources'])
    expect(container[k]).toEqual(prod[k]);
});

it('may only get, create and update leases, in its own namespace', () => {
  const roles = one(ha, 'Role');
  expect(roles).toHaveLength(1);
  expect(roles[0].metadata.namespace).toBe('prescaler');
  expect(roles[0].rules).toEqual([
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
  ]);
  const binding = one(ha, 'RoleBinding').find((b) => b.roleRef.kind === 'Role')!;
  expect(binding.metadata.namespace).toBe('prescaler');
  expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'prescaler', namespace: 'prescaler' }]);
  // The scale verbs are production's, unchanged.
  expect(one(ha, 'ClusterRole')).toEqual(one(production, 'ClusterRole'));
});

it('validates against the Kubernetes OpenAPI schemas (kubernetes-models)', () => {
  const failures = ha.flatMap((d) => {
    const [group, version] = d.apiVersion.includes('/') ? d.apiVersion.split('/') : ['', d.apiVersion];
    const mod =
      group === 'monitoring.coreos.com'
        ? `@kubernetes-models/prometheus-operator/${group}/${version}/${d.kind}`
        : `kubernetes-models/${group ? `${group}/` : ''}${version}/${d.kind}`;
    const Model = (require(mod) as Record<string, Validating>)[d.kind]; // eslint-disable-line @typescript-eslint/no-require-imports
    try {
      new Model(d).validate();
      return [];
    } catch (e) {
      return [`${d.kind}/${d.metadata?.name}: ${(e as Error).message}`];
    }
  });
  expect(failures).toEqual([]);
});
