/**
 * The Kubernetes manifests in deploy/ (a kustomize base, a component and two overlays) as kubectl renders
 * them: every object valid against the Kubernetes OpenAPI schemas (kubernetes-models, when installed) and
 * free of fields Kubernetes does not know (@kubernetes/client-node's generated models); each overlay's
 * config accepted by the backend, its RoleBindings exactly what `deploy:rbac` generates from it; memory
 * sized from the bench's peak RSS plus the caches its config allows; a config change rolls the pod; the
 * ServiceMonitor and PrometheusRule match the Service and the plain rules; and the probes' paths, asked of
 * the real backend in front of a real Prometheus, fail readiness but not liveness while it is down.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import YAML from 'yaml';
import { roleBindingsYaml, targetsOf } from '../backend/src/actuate/rbac';
import { loadConfig } from '../backend/src/config';
import { startPrometheus, type RunningPrometheus } from './helpers/prometheus';
import { startTestServer, type TestServer } from './helpers/server';

const root = path.resolve(__dirname, '..');
const deploy = path.join(root, 'deploy');
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const OVERLAYS = ['demo', 'production'] as const;
const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => fs.existsSync(p));

function render(dir: string): Doc[] {
  if (!KUBECTL)
    throw new Error(
      'kubectl (v1.27+, for its built-in kustomize) is needed to render deploy/ and was not found'
    );
  const out = execFileSync(KUBECTL, ['kustomize', dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return YAML.parseAllDocuments(out).map((d) => d.toJS() as Doc);
}
const rendered = Object.fromEntries(
  [...OVERLAYS.map((o) => [o, path.join(deploy, 'overlays', o)]), ['base', path.join(deploy, 'base')]].map(
    ([name, dir]) => [name, render(dir)]
  )
) as Record<(typeof OVERLAYS)[number] | 'base', Doc[]>;
const ofKind = (docs: Doc[], kind: string) => docs.filter((d) => d.kind === kind);
const one = (docs: Doc[], kind: string) => {
  const all = ofKind(docs, kind);
  expect(all).toHaveLength(1);
  return all[0];
};
const container = (docs: Doc[]) => one(docs, 'Deployment').spec.template.spec.containers[0];
const configText = (docs: Doc[]) => one(docs, 'ConfigMap').data['prescaler.yaml'] as string;

// ---- schema checks ----------------------------------------------------------------------------------

/** "1536Mi" → bytes. */
function bytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  if (!m) throw new Error(`not a memory quantity: ${q}`);
  const unit =
    { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

type AttributeType = { name: string; baseName: string; type: string };
type ModelClass = { attributeTypeMap?: AttributeType[] };
const models = k8s as unknown as Record<string, ModelClass>;

/**
 * Fields the client-node model of the object's kind (generated from Kubernetes' OpenAPI) does not have,
 * and values of the wrong JSON type: what `kubectl apply --validate=strict` would refuse, without a
 * cluster. Kinds client-node has no model of (CRDs) are left to the schema check and the hand checks.
 */
function unknownFields(doc: Doc): string[] {
  const version = String(doc.apiVersion).split('/').pop()!;
  const cls = `${version[0].toUpperCase()}${version.slice(1)}${doc.kind}`;
  if (!models[cls]?.attributeTypeMap) {
    return doc.apiVersion.startsWith('monitoring.coreos.com/') ? [] : [`${doc.kind}: no model ${cls}`];
  }
  const out: string[] = [];
  const walk = (v: unknown, type: string, at: string): void => {
    if (v === null || v === undefined) return;
    const array = /^Array<(.+)>$/.exec(type);
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (array) {
      if (!Array.isArray(v)) out.push(`${at}: not a list`);
      else v.forEach((x, i) => walk(x, array[1], `${at}[${i}]`));
    } else if (map) {
      if (typeof v !== 'object' || Array.isArray(v)) out.push(`${at}: not a map`);
      else for (const [k, x] of Object.entries(v)) walk(x, map[1], `${at}.${k}`);
    } else if (type === 'string') {
      // Quantities (cpu: 1) are int-or-string in Kubernetes; client-node types them as strings.
      if (typeof v !== 'string' && typeof v !== 'number') out.push(`${at}: not a string`);
    } else if (type === 'number' || type === 'boolean') {
      if (typeof v !== type) out.push(`${at}: not a ${type}`);
    } else if (type === 'IntOrString') {
      if (typeof v !== 'string' && typeof v !== 'number') out.push(`${at}: not an int or string`);
    } else if (type === 'Date' || type === 'any' || type === 'object') {
      return;
    } else {
      const attrs = models[type]?.attributeTypeMap;
      if (!attrs) return; // a type client-node leaves open
      if (typeof v !== 'object' || Array.isArray(v)) {
        out.push(`${at}: not an object (${type})`);
        return;
      }
      const byName = new Map(attrs.map((a) => [a.baseName, a.type]));
      for (const [k, x] of Object.entries(v)) {
        const t = byName.get(k);
        if (!t) out.push(`${at}.${k}: unknown field of ${type}`);
        else walk(x, t, `${at}.${k}`);
      }
    }
  };
  walk(doc, cls, `${doc.kind}/${doc.metadata?.name}`);
  return out;
}

const SCHEMAS_MISSING =
  'kubernetes-models and @kubernetes-models/prometheus-operator are not installed: ' +
  'npm install -D kubernetes-models@4.5.1 @kubernetes-models/prometheus-operator@4.4.4';

type Validating = new (data: Doc) => { validate(): void };
/** The kubernetes-models class of an apiVersion and kind, or undefined when the packages are missing. */
const schemas: ((apiVersion: string, kind: string) => Validating | undefined) | undefined = (() => {
  try {
    require.resolve('kubernetes-models/package.json');
    require.resolve('@kubernetes-models/prometheus-operator/package.json');
  } catch {
    return undefined;
  }
  return (apiVersion: string, kind: string) => {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const mod =
      group === 'monitoring.coreos.com'
        ? `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`
        : `kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`;
    try {
      return (require(mod) as Record<string, Validating>)[kind]; // eslint-disable-line @typescript-eslint/no-require-imports
    } catch {
      return undefined;
    }
  };
})();

/** The schema cases, skipped (and said why, once) while the packages are not installed. */
const withSchemas = schemas ? it : it.skip;
if (!schemas) console.warn(`deploy.test: schema validation skipped: ${SCHEMAS_MISSING}`);

describe.each(['base', ...OVERLAYS] as const)('kubectl kustomize deploy/ (%s)', (name) => {
  const docs = rendered[name];

  it('renders the objects Prescaler needs, operator CRDs in production only', () => {
    const kinds = docs.map((d) => d.kind).sort();
    const common = [
      'ClusterRole',
      'ConfigMap',
      'Deployment',
      'Namespace',
      'PersistentVolumeClaim',
      'PodDisruptionBudget',
      'Service',
      'ServiceAccount',
    ];
    const extra = {
      base: [],
      demo: ['RoleBinding', 'Secret'],
      production: ['PrometheusRule', 'RoleBinding', 'RoleBinding', 'ServiceMonitor'],
    }[name];
    expect(kinds).toEqual([...common, ...extra].sort());
  });

  it('has no field Kubernetes does not know (client-node models, OpenAPI v1.34)', () => {
    const problems = docs.flatMap((d) => unknownFields(d));
    expect(problems).toEqual([]);
  });

  withSchemas('validates against the Kubernetes OpenAPI schemas, CRDs included (kubernetes-models)', () => {
    const failures = docs.flatMap((d) => {
      const Model = schemas!(d.apiVersion, d.kind);
      if (!Model) return [`${d.kind} ${d.apiVersion}: no schema`];
      try {
        new Model(d).validate();
        return [];
      } catch (e) {
        return [`${d.kind}/${d.metadata?.name}: ${(e as Error).message}`];
      }
    });
    expect(failures).toEqual([]);
  });

  it('gives the backend a config it accepts, and grants exactly its targets’ namespaces the scale verbs', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-deploy-'));
    const file = path.join(dir, 'prescaler.yaml');
    const text = configText(docs);
    fs.writeFileSync(file, text);
    const c = container(docs);
    const mount = c.volumeMounts.find((m: Doc) => m.name === 'config').mountPath;
    const env = Object.fromEntries(c.env.map((e: Doc) => [e.name, e.value]));
    expect(env.PRESCALER_CONFIG).toBe(`${mount}/prescaler.yaml`);
    const config = loadConfig({
      PRESCALER_CONFIG: file,
      PRESCALER_OPERATOR_TOKEN: 'o'.repeat(32),
      PRESCALER_VIEWER_TOKEN: 'v'.repeat(32),
    });
    fs.rmSync(dir, { recursive: true });
    expect(config.tokens.map((t) => t.role).sort()).toEqual(['operator', 'viewer']);

    const role = one(docs, 'ClusterRole');
    expect(role.rules).toEqual([
      {
        apiGroups: ['apps'],
        resources: ['deployments/scale', 'statefulsets/scale'],
        verbs: ['get', 'patch'],
      },
      { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['get', 'patch'] },
    ]);
    expect(ofKind(docs, 'ClusterRoleBinding')).toEqual([]); // granted per namespace, never cluster-wide
    expect(ofKind(docs, 'Role')).toEqual([]);

    const sa = one(docs, 'ServiceAccount');
    const bindings = ofKind(docs, 'RoleBinding');
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
    const wanted = [...new Set(config.targets.map((t) => t.namespace))].sort();
    expect(bindings.map((b) => b.metadata.namespace).sort()).toEqual(wanted);

    const deployment = one(docs, 'Deployment');
    expect(deployment.spec.template.spec.serviceAccountName).toBe(sa.metadata.name);
    expect(deployment.metadata.namespace).toBe(sa.metadata.namespace);
    // Every env var the container sets is one the backend reads.
    const read = fs.readFileSync(path.join(root, 'backend/src/config.ts'), 'utf8') + text;
    for (const e of c.env) expect([e.name, read.includes(e.name)]).toEqual([e.name, true]);
  });

  it("sizes memory from the bench's peak RSS plus every cache its config allows, with 15 % headroom", () => {
    // The README's bench table: "| peak RSS of the backend process (…) | 909 MB …".
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const peak = Number(/\|\s*peak RSS of the backend process[^|]*\|\s*(\d+(?:\.\d+)?) MB/.exec(readme)?.[1]);
    expect(peak).toBeGreaterThan(500);
    const config = YAML.parse(configText(docs));
    const history = config.historyCache ?? {};
    // The history cache, and the two memos (answers, anomaly scores) memo.maxMegabytes sizes each.
    const memoMb = config.memo?.maxMegabytes ?? history.maxAnswerMegabytes ?? 64;
    const cacheMb = (history.maxMegabytes ?? 256) + 2 * memoMb;
    const { requests, limits } = container(docs).resources;
    const limitMb = bytes(limits.memory) / 1e6;
    expect(bytes(limits.memory)).toBeGreaterThanOrEqual(bytes('1Gi'));
    expect((peak + cacheMb) * 1.15).toBeLessThanOrEqual(limitMb);
    expect(requests.memory).toBe(limits.memory); // never the first evicted under memory pressure
    expect(limits.cpu).toBeUndefined(); // no CPU throttling of answers
  });

  it('probes: startup and liveness on /livez, readiness on /readyz, on the port the backend listens on', () => {
    const c = container(docs);
    const port = c.ports.find((p: Doc) => p.name === 'http');
    expect(port.containerPort).toBe(Number(c.env.find((e: Doc) => e.name === 'PORT').value));
    expect(c.startupProbe.httpGet).toEqual({ path: '/livez', port: 'http' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    // The backend waits 2 s for the upstream's ping (UPSTREAM_HEALTH_TIMEOUT_MS): readiness must wait longer.
    expect(c.readinessProbe.timeoutSeconds).toBeGreaterThan(2);
    // Model loading may take minutes on a busy node before liveness starts counting.
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(180);
  });

  it('has a PodDisruptionBudget over the Deployment’s pods, and a Service over the same pods', () => {
    const deployment = one(docs, 'Deployment');
    const labels = deployment.spec.template.metadata.labels;
    const matches = (sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels[k] === v);
    const pdb = one(docs, 'PodDisruptionBudget');
    expect(pdb.metadata.namespace).toBe(deployment.metadata.namespace);
    expect(matches(pdb.spec.selector.matchLabels)).toBe(true);
    expect(pdb.spec.maxUnavailable).toBe(1);
    const svc = one(docs, 'Service');
    expect(matches(svc.spec.selector)).toBe(true);
  });
});

describe('deploy/ overlays', () => {
  it.each(OVERLAYS)(
    '%s: rolebindings.yaml is exactly what npm run -s deploy:rbac generates from its prescaler.yaml',
    (o) => {
      const rel = `deploy/overlays/${o}/prescaler.yaml`;
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', 'backend/src/cli/deploy-rbac.ts', '--config', rel],
        { cwd: root, encoding: 'utf8' }
      );
      expect(out).toBe(
        roleBindingsYaml(targetsOf(fs.readFileSync(path.join(root, rel), 'utf8')), undefined, rel)
      );
      expect(fs.readFileSync(path.join(deploy, 'overlays', o, 'rolebindings.yaml'), 'utf8')).toBe(out);
    }
  );

  it('deploy:rbac refuses a config whose target is invalid, naming the key', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-rbac-'));
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(
      file,
      'targets:\n  - name: web\n    namespace: shop\n    workload: {kind: Pod, name: web}\n'
    );
    try {
      execFileSync(
        process.execPath,
        ['--import', 'tsx', 'backend/src/cli/deploy-rbac.ts', '--config', file],
        {
          cwd: root,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        }
      );
      throw new Error('deploy:rbac accepted an invalid config');
    } catch (e) {
      const err = e as { status?: number; stderr?: string };
      expect(err.status).toBe(2);
      expect(err.stderr).toMatch(/targets\.0: workload\.kind: /);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('a change to an overlay’s prescaler.yaml renames its ConfigMap in the pod template, so the pod rolls', () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-kustomize-'));
    fs.cpSync(deploy, copy, { recursive: true });
    try {
      const configName = (docs: Doc[]) => {
        const cm = one(docs, 'ConfigMap').metadata.name;
        const vol = one(docs, 'Deployment').spec.template.spec.volumes.find((v: Doc) => v.name === 'config');
        expect(vol.configMap.name).toBe(cm);
        return cm as string;
      };
      const before = configName(render(path.join(copy, 'overlays/production')));
      expect(before).toMatch(/^prescaler-config-[a-z0-9]{10}$/);
      const file = path.join(copy, 'overlays/production/prescaler.yaml');
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('interval: 60,', 'interval: 30,'));
      const after = configName(render(path.join(copy, 'overlays/production')));
      expect(after).toMatch(/^prescaler-config-[a-z0-9]{10}$/);
      expect(after).not.toBe(before);
    } finally {
      fs.rmSync(copy, { recursive: true });
    }
  });

  it('production: the ServiceMonitor scrapes the Service’s http port at /metrics under job "prescaler"', () => {
    const docs = rendered.production;
    const sm = one(docs, 'ServiceMonitor');
    const svc = one(docs, 'Service');
    // Checked by hand as well as by the CRD's schema: what the operator needs to find the target.
    expect(sm.spec.selector.matchLabels).toEqual(svc.metadata.labels);
    expect(sm.spec.namespaceSelector.matchNames).toEqual([svc.metadata.namespace]);
    expect(sm.spec.endpoints).toHaveLength(1);
    expect(svc.spec.ports.map((p: Doc) => p.name)).toContain(sm.spec.endpoints[0].port);
    expect(sm.spec.endpoints[0].path).toBe('/metrics');
    expect(sm.spec.jobLabel).toBeUndefined(); // so the job is the Service's name
    const rules = YAML.parse(
      fs.readFileSync(path.join(root, 'provisioning/prometheus/rules/prescaler.rules.yml'), 'utf8')
    );
    const down = rules.groups
      .flatMap((g: Doc) => g.rules)
      .find((r: Doc) => r.alert === 'PrescalerBackendDown');
    expect(down.expr).toContain(`job="${svc.metadata.name}"`);
  });

  it('production: the PrometheusRule carries the plain rule file’s groups, rule for rule', () => {
    const pr = one(rendered.production, 'PrometheusRule');
    const plain = YAML.parse(
      fs.readFileSync(path.join(root, 'provisioning/prometheus/rules/prescaler.rules.yml'), 'utf8')
    );
    expect(pr.spec.groups).toEqual(plain.groups);
    for (const g of pr.spec.groups)
      for (const r of g.rules) expect([r.alert, typeof r.expr]).toEqual([r.alert, 'string']);
  });

  it('demo: dry-run on the demo source (no PROMETHEUS_URL), with a token Secret of its own', () => {
    const docs = rendered.demo;
    const env = Object.fromEntries(container(docs).env.map((e: Doc) => [e.name, e]));
    expect(env.PROMETHEUS_URL).toBeUndefined();
    expect(env.PRESCALER_ACTUATOR.value).toBe('dry-run');
    const secret = one(docs, 'Secret');
    expect(env.PRESCALER_OPERATOR_TOKEN.valueFrom.secretKeyRef.name).toBe(secret.metadata.name);
    expect(Object.keys(secret.data).sort()).toEqual(['operator', 'viewer']);
  });
});

describe('the probes of the rendered Deployment, asked of the real backend before a real Prometheus', () => {
  let prom: RunningPrometheus;
  let harness: TestServer;
  const probes = container(rendered.production);

  beforeAll(async () => {
    prom = await startPrometheus();
    harness = await startTestServer({
      yaml: configText(rendered.production),
      env: {
        PROMETHEUS_URL: prom.url,
        PRESCALER_OPERATOR_TOKEN: 'o'.repeat(32),
        PRESCALER_VIEWER_TOKEN: 'v'.repeat(32),
      },
      startLoop: false,
    });
  }, 120_000);
  afterAll(async () => {
    await harness?.close();
    await prom?.stop();
  });

  const get = async (p: string) => {
    const res = await fetch(harness.srv.url + p);
    return { status: res.status, body: await res.json() };
  };

  it('is ready and live while Prometheus answers', async () => {
    expect((await get(probes.readinessProbe.httpGet.path)).status).toBe(200);
    expect((await get(probes.livenessProbe.httpGet.path)).status).toBe(200);
    expect((await get(probes.startupProbe.httpGet.path)).status).toBe(200);
  });

  it('fails readiness but not liveness (nor /api/health) once Prometheus is down', async () => {
    await prom.stop();
    // Health answers about the upstream are reused for 5 s (UPSTREAM_HEALTH_TTL_SECONDS).
    let ready = await get(probes.readinessProbe.httpGet.path);
    for (let i = 0; i < 40 && ready.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 250));
      ready = await get(probes.readinessProbe.httpGet.path);
    }
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe('not_ready');
    expect(ready.body.error.message).toMatch(/^not ready: prometheus source not answering: /);
    expect((await get(probes.livenessProbe.httpGet.path)).status).toBe(200);
    expect((await get(probes.startupProbe.httpGet.path)).status).toBe(200);
    const health = await get('/api/health');
    expect([health.status, health.body.status]).toEqual([200, 'degraded']);
  }, 30_000);
});

describe('the schema checks catch what they are for', () => {
  const deployment = () => structuredClone(one(rendered.production, 'Deployment'));

  it('reports a misspelt field and a wrong type (client-node models)', () => {
    const d = deployment();
    const c = d.spec.template.spec.containers[0];
    c.readinesProbe = c.readinessProbe; // a typo Kubernetes would drop (or refuse with --validate=strict)
    c.ports[0].containerPort = 'http';
    expect(unknownFields(d)).toEqual([
      'Deployment/prescaler.spec.template.spec.containers[0].ports[0].containerPort: not a number',
      'Deployment/prescaler.spec.template.spec.containers[0].readinesProbe: unknown field of V1Container',
    ]);
  });

  withSchemas(
    'rejects a missing required field, and a PrometheusRule rule without expr (kubernetes-models)',
    () => {
      const d = deployment();
      delete d.spec.selector;
      const Deployment = schemas!('apps/v1', 'Deployment')!;
      expect(() => new Deployment(d).validate()).toThrow(/selector/);
      const pr = structuredClone(one(rendered.production, 'PrometheusRule'));
      delete pr.spec.groups[0].rules[0].expr;
      const PrometheusRule = schemas!('monitoring.coreos.com/v1', 'PrometheusRule')!;
      expect(() => new PrometheusRule(pr).validate()).toThrow(/expr/);
    }
  );
});
