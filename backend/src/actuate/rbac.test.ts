/** deploy:rbac's RoleBindings: one per namespace the targets name, sorted, and none without targets. */
import YAML from 'yaml';
import { roleBindings, roleBindingsYaml, targetsOf } from './rbac';

const config = `targets:
  - {name: web, namespace: shop, workload: {kind: Deployment, name: web}, query: x, capacityPerReplica: 1, maxReplicas: 5}
  - {name: db, namespace: data, workload: {kind: StatefulSet, name: db}, query: x, capacityPerReplica: 1, maxReplicas: 5}
  - {name: api, namespace: shop, workload: {kind: HorizontalPodAutoscaler, name: api}, query: x, capacityPerReplica: 1, maxReplicas: 5}
  - {name: bare, workload: {kind: Deployment, name: bare}, query: x, capacityPerReplica: 1, maxReplicas: 5}
`;

it('binds once per namespace, sorted, the default namespace included, to the given account', () => {
  const got = roleBindings(targetsOf(config), {
    clusterRole: 'scaler',
    serviceAccount: 'sa',
    serviceAccountNamespace: 'ops',
  });
  expect(got.map((b) => [b.namespace, b.targets])).toEqual([
    ['data', ['db']],
    ['default', ['bare']],
    ['shop', ['web', 'api']],
  ]);
  expect(got[0].binding).toEqual({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'scaler', namespace: 'data', labels: { 'app.kubernetes.io/name': 'prescaler' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'scaler' },
    subjects: [{ kind: 'ServiceAccount', name: 'sa', namespace: 'ops' }],
  });
});

it('prints a YAML stream of those bindings, and no document at all without targets', () => {
  const docs = YAML.parseAllDocuments(roleBindingsYaml(targetsOf(config))).map((d) => d.toJS());
  expect(docs.map((d) => d.metadata.namespace)).toEqual(['data', 'default', 'shop']);
  const empty = YAML.parseAllDocuments(roleBindingsYaml(targetsOf('targets: []\n')));
  expect(empty.map((d) => d.toJS()).filter(Boolean)).toEqual([]);
});

it('refuses a target the backend would refuse, naming it and the key', () => {
  expect(() =>
    targetsOf('targets:\n  - {name: web, workload: {kind: Deployment, name: web}, query: x}\n')
  ).toThrow(/^targets\.0: capacityPerReplica: Required/);
  expect(() => targetsOf('targets: {web: 1}\n')).toThrow('targets: must be a list');
});
