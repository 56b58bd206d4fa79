/**
 * The Kubernetes manifests in deploy/ hang together: kustomize renders them, the config in the ConfigMap
 * passes the backend's own validation, every target's namespace is granted exactly the scale verbs the
 * actuator uses (and nothing else), and the Deployment runs as the bound service account.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { loadConfig } from '../backend/src/config';

const root = path.resolve(__dirname, '..');
const deploy = path.join(root, 'deploy');
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function docs(): Doc[] {
  const kustomization = YAML.parse(fs.readFileSync(path.join(deploy, 'kustomization.yaml'), 'utf8'));
  return (kustomization.resources as string[]).flatMap((f) =>
    YAML.parseAllDocuments(fs.readFileSync(path.join(deploy, f), 'utf8')).map((d) => d.toJS() as Doc)
  );
}
const ofKind = (kind: string) => docs().filter((d) => d?.kind === kind);

describe('deploy/', () => {
  it('renders with kubectl kustomize, when kubectl is installed', () => {
    let kubectl: string;
    try {
      kubectl = execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim();
    } catch {
      return; // kustomize is not part of npm test's requirements; the checks below run regardless
    }
    const out = execFileSync(kubectl, ['kustomize', deploy], { encoding: 'utf8' });
    const kinds = YAML.parseAllDocuments(out).map((d) => (d.toJS() as Doc).kind);
    expect(kinds).toEqual(expect.arrayContaining(['ClusterRole', 'RoleBinding', 'Deployment', 'ConfigMap']));
  });

  it("ships a config the backend accepts, and grants each target's namespace the scale verbs only", () => {
    const [cm] = ofKind('ConfigMap');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-deploy-'));
    const file = path.join(dir, 'config.yaml');
    fs.writeFileSync(file, cm.data['config.yaml']);
    const config = loadConfig({
      PRESCALER_CONFIG: file,
      PRESCALER_OPERATOR_TOKEN: 'o'.repeat(32),
      PRESCALER_VIEWER_TOKEN: 'v'.repeat(32),
    });
    fs.rmSync(dir, { recursive: true });

    const [role] = ofKind('ClusterRole');
    expect(role.rules).toEqual([
      {
        apiGroups: ['apps'],
        resources: ['deployments/scale', 'statefulsets/scale'],
        verbs: ['get', 'patch'],
      },
      { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['get', 'patch'] },
    ]);
    expect(ofKind('ClusterRoleBinding')).toEqual([]); // the rules are granted per namespace, never cluster-wide

    const [sa] = ofKind('ServiceAccount');
    const bindings = ofKind('RoleBinding');
    for (const b of bindings) {
      expect(b.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: role.metadata.name,
      });
      expect(b.subjects).toEqual([
        { kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace },
      ]);
    }
    const granted = new Set(bindings.map((b) => b.metadata.namespace));
    for (const t of config.targets) expect([t.name, granted.has(t.namespace)]).toEqual([t.name, true]);

    const [deployment] = ofKind('Deployment');
    expect(deployment.spec.template.spec.serviceAccountName).toBe(sa.metadata.name);
    expect(deployment.metadata.namespace).toBe(sa.metadata.namespace);
  });
});
