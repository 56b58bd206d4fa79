/**
 * A Kubernetes API server double for tests: the real paths, bodies and status codes of apps/v1
 * Deployments/StatefulSets with their `scale` subresource and autoscaling/v2 HorizontalPodAutoscalers,
 * with discovery so kubectl can talk to it. Writes honour resourceVersion preconditions (409), and
 * faults can be injected: RBAC denials (403), conflicting writers (409), slow answers (timeouts), and
 * writes answered by a 5xx or a reset connection, after the change was persisted or before.
 *
 * coordination.k8s.io/v1 Leases (leader election) as the API server stores them: create (POST, 201; 409
 * AlreadyExists), get (404 NotFound), update (PUT; 409 Conflict unless the body's
 * metadata.resourceVersion is the stored one), with the Status bodies of k8s.io/apimachinery's
 * pkg/api/errors (NewAlreadyExists, NewNotFound, NewConflict with the storage layer's
 * OptimisticLockErrorMsg) and the optimistic concurrency of k8s.io/apiserver's
 * registry/generic/registry/store.go (Update compares resourceVersion, then bumps it).
 */
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  discovery,
  hpaObject,
  jsonPatch,
  mergePatch,
  RESOURCE_OF,
  scaleObject,
  status,
  workloadObject,
  type Hpa,
  type Json,
  type Workload,
} from './double-objects';

export interface RecordedRequest {
  method: string;
  path: string;
  contentType?: string;
  body?: unknown;
  userAgent?: string;
}

export interface Faults {
  /** "verb resource" pairs refused with 403, e.g. "patch deployments/scale". */
  forbid: Set<string>;
  /** The next N writes find that someone else wrote first (resourceVersion moves, 409). */
  conflicts: number;
  /** Milliseconds before answering writes (the write itself lands first when `applyBeforeDelay`). */
  writeDelayMs: number;
  applyBeforeDelay: boolean;
  /**
   * Each write takes the first entry, if any: answered with that 5xx status, or by resetting the
   * connection; the change itself is persisted first when `landed`. `thenForbid` ("verb resource")
   * starts refusing that afterwards, e.g. the read-back.
   */
  writeFailures: Array<
    | { kind: 'status'; code: number; landed: boolean; thenForbid?: string }
    | { kind: 'reset'; landed: boolean; thenForbid?: string }
  >;
}

/** handle()'s answer meaning "drop the connection without answering". */
const RESET = -1;

export class KubernetesApiDouble {
  readonly token = 'test-token-' + Math.random().toString(36).slice(2);
  readonly requests: RecordedRequest[] = [];
  readonly faults: Faults = {
    forbid: new Set(),
    conflicts: 0,
    writeDelayMs: 0,
    applyBeforeDelay: true,
    writeFailures: [],
  };
  private readonly workloads = new Map<string, Workload>();
  private readonly hpas = new Map<string, Hpa>();
  /** Leases by namespace/name: the object as last written, with its resourceVersion. */
  private readonly leases = new Map<string, Json>();
  private rv = 1000;
  private server?: https.Server;
  url = '';

  addWorkload(kind: Workload['kind'], namespace: string, name: string, replicas: number): void {
    this.workloads.set(`${RESOURCE_OF[kind]}/${namespace}/${name}`, {
      kind,
      namespace,
      name,
      replicas,
      rv: ++this.rv,
      uid: `uid-${name}-${this.rv}`,
      generation: 1,
      created: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    });
  }

  addHpa(
    namespace: string,
    name: string,
    o: { minReplicas: number; maxReplicas: number; currentReplicas: number; target: string }
  ): void {
    this.hpas.set(`${namespace}/${name}`, {
      namespace,
      name,
      minReplicas: o.minReplicas,
      maxReplicas: o.maxReplicas,
      currentReplicas: o.currentReplicas,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: o.target },
      annotations: {},
      rv: ++this.rv,
      uid: `uid-hpa-${name}`,
      created: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    });
  }

  replicas(kind: Workload['kind'], namespace: string, name: string): number | undefined {
    return this.workloads.get(`${RESOURCE_OF[kind]}/${namespace}/${name}`)?.replicas;
  }

  hpa(namespace: string, name: string): Json | undefined {
    const h = this.hpas.get(`${namespace}/${name}`);
    return h && hpaObject(h);
  }

  /** The HPA controller (or a human) changes an HPA: the resourceVersion moves on. */
  setHpa(
    namespace: string,
    name: string,
    o: Partial<Pick<Hpa, 'minReplicas' | 'maxReplicas' | 'currentReplicas'>>
  ): void {
    const h = this.hpas.get(`${namespace}/${name}`)!;
    Object.assign(h, o);
    h.rv = ++this.rv;
  }

  removeWorkload(kind: Workload['kind'], namespace: string, name: string): void {
    this.workloads.delete(`${RESOURCE_OF[kind]}/${namespace}/${name}`);
  }

  /** Someone else (another controller, a human) writes: the resourceVersion moves on. */
  externalWrite(kind: Workload['kind'], namespace: string, name: string, replicas: number): void {
    const w = this.workloads.get(`${RESOURCE_OF[kind]}/${namespace}/${name}`)!;
    w.replicas = replicas;
    w.rv = ++this.rv;
  }

  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'PATCH' || r.method === 'PUT');
  }

  async start(): Promise<string> {
    // HTTPS because client-go (kubectl) only sends a bearer token over TLS.
    const tls = path.join(__dirname, 'tls');
    this.server = https.createServer(
      { cert: fs.readFileSync(path.join(tls, 'cert.pem')), key: fs.readFileSync(path.join(tls, 'key.pem')) },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          this.handle(req, Buffer.concat(chunks).toString('utf8'))
            .then(([code, body]) => {
              if (code === RESET) {
                req.socket.destroy();
                return;
              }
              res.writeHead(code, { 'Content-Type': 'application/json' });
              res.end(JSON.stringify(body));
            })
            .catch((e) => {
              res.writeHead(500, { 'Content-Type': 'application/json' });
              res.end(JSON.stringify(status(500, 'InternalError', String(e))));
            });
        });
      }
    );
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => {
      this.server?.close(() => r());
      this.server?.closeAllConnections();
    });
  }

  /** A kubeconfig file pointing at this server with its bearer token. */
  writeKubeconfig(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-double-'))): string {
    const file = path.join(dir, 'kubeconfig');
    fs.writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: double',
        '  cluster:',
        `    server: ${this.url}`,
        `    certificate-authority-data: ${fs.readFileSync(path.join(__dirname, 'tls', 'cert.pem')).toString('base64')}`,
        'users:',
        '- name: prescaler',
        '  user:',
        `    token: ${this.token}`,
        'contexts:',
        '- name: double',
        '  context: {cluster: double, user: prescaler, namespace: default}',
        'current-context: double',
        '',
      ].join('\n')
    );
    return file;
  }

  private async handle(req: http.IncomingMessage, raw: string): Promise<[number, unknown]> {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    const method = req.method ?? 'GET';
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return [400, status(400, 'BadRequest', 'the body is not valid JSON')];
    }
    this.requests.push({
      method,
      path: p,
      contentType: req.headers['content-type'],
      body,
      userAgent: req.headers['user-agent'],
    });

    if (req.headers.authorization !== `Bearer ${this.token}`)
      return [401, status(401, 'Unauthorized', 'Unauthorized')];
    if (method === 'GET') {
      const d = discovery(p, this.url);
      if (d) return [200, d];
    }

    const lease = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/.exec(p);
    if (lease) return this.handleLease(method, lease[1], lease[2], body);

    let m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(deployments|statefulsets)\/([^/]+)(\/scale)?$/.exec(p);
    if (m) {
      const [, ns, resource, name, sub] = m;
      const resName = resource + (sub ? '/scale' : '');
      const verb =
        method === 'GET'
          ? 'get'
          : method === 'PATCH'
            ? 'patch'
            : method === 'PUT'
              ? 'update'
              : method.toLowerCase();
      if (this.faults.forbid.has(`${verb} ${resName}`)) {
        return [
          403,
          status(
            403,
            'Forbidden',
            `${resource}.apps "${name}" is forbidden: User "system:serviceaccount:prescaler:prescaler" cannot ${verb} resource "${resName}" in API group "apps" in the namespace "${ns}"`,
            { name, group: 'apps', kind: resource }
          ),
        ];
      }
      const w = this.workloads.get(`${resource}/${ns}/${name}`);
      if (!w)
        return [
          404,
          status(404, 'NotFound', `${resource}.apps "${name}" not found`, {
            name,
            group: 'apps',
            kind: resource,
          }),
        ];
      const render = () => (sub ? scaleObject(w) : workloadObject(w));
      if (method === 'GET') return [200, render()];
      if (method !== 'PATCH')
        return [
          405,
          status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`),
        ];
      return this.write(
        req,
        body,
        render,
        () => {
          const current = render();
          const next = this.patchBody(req.headers['content-type'], current, body);
          if (typeof next === 'string') return next;
          const meta = (body as { metadata?: { resourceVersion?: string } })?.metadata;
          if (meta?.resourceVersion !== undefined && meta.resourceVersion !== String(w.rv)) return 'conflict';
          const replicas = (next as { spec?: { replicas?: unknown } }).spec?.replicas;
          if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
            return `spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`;
          w.replicas = replicas;
          w.rv = ++this.rv;
          w.generation++;
          return undefined;
        },
        `${resource}.apps "${name}"`
      );
    }

    m = /^\/apis\/autoscaling\/v2\/namespaces\/([^/]+)\/horizontalpodautoscalers\/([^/]+)$/.exec(p);
    if (m) {
      const [, ns, name] = m;
      const verb = method === 'GET' ? 'get' : method === 'PATCH' ? 'patch' : method.toLowerCase();
      if (this.faults.forbid.has(`${verb} horizontalpodautoscalers`)) {
        return [
          403,
          status(
            403,
            'Forbidden',
            `horizontalpodautoscalers.autoscaling "${name}" is forbidden: User "system:serviceaccount:prescaler:prescaler" cannot ${verb} resource "horizontalpodautoscalers" in API group "autoscaling" in the namespace "${ns}"`,
            { name, group: 'autoscaling', kind: 'horizontalpodautoscalers' }
          ),
        ];
      }
      const h = this.hpas.get(`${ns}/${name}`);
      if (!h)
        return [
          404,
          status(404, 'NotFound', `horizontalpodautoscalers.autoscaling "${name}" not found`, {
            name,
            group: 'autoscaling',
            kind: 'horizontalpodautoscalers',
          }),
        ];
      if (method === 'GET') return [200, hpaObject(h)];
      if (method !== 'PATCH')
        return [
          405,
          status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
        ];
      return this.write(
        req,
        body,
        () => hpaObject(h),
        () => {
          const next = this.patchBody(req.headers['content-type'], hpaObject(h), body) as Json | string;
          if (typeof next === 'string') return next;
          const meta = (body as { metadata?: { resourceVersion?: string } })?.metadata;
          if (meta?.resourceVersion !== undefined && meta.resourceVersion !== String(h.rv)) return 'conflict';
          const spec = next.spec as { minReplicas?: number; maxReplicas?: number };
          const min = spec.minReplicas ?? 1;
          const max = spec.maxReplicas ?? h.maxReplicas;
          if (!Number.isInteger(min) || min < 1)
            return `spec.minReplicas: Invalid value: ${min}: must be greater than or equal to 1`;
          if (min > max)
            return `spec.maxReplicas: Invalid value: ${max}: must be greater than or equal to \`minReplicas\``;
          h.minReplicas = min;
          h.maxReplicas = max;
          h.currentReplicas = Math.max(h.currentReplicas, min);
          h.annotations = ((next.metadata as Json).annotations as Record<string, string>) ?? {};
          h.rv = ++this.rv;
          return undefined;
        },
        `horizontalpodautoscalers.autoscaling "${name}"`
      );
    }
    return [404, status(404, 'NotFound', 'the server could not find the requested resource')];
  }

  /** A Lease as stored (a copy), or undefined. */
  lease(namespace: string, name: string): Json | undefined {
    const l = this.leases.get(`${namespace}/${name}`);
    return l && (JSON.parse(JSON.stringify(l)) as Json);
  }

  private handleLease(
    method: string,
    ns: string,
    name: string | undefined,
    body: unknown
  ): [number, unknown] {
    const what = 'leases.coordination.k8s.io';
    const verb = method === 'GET' ? 'get' : method === 'POST' ? 'create' : method === 'PUT' ? 'update' : '';
    if (this.faults.forbid.has(`${verb} leases`))
      return [
        403,
        status(
          403,
          'Forbidden',
          `${what} ${name ? `"${name}" ` : ''}is forbidden: User "system:serviceaccount:prescaler:prescaler" cannot ${verb} resource "leases" in API group "coordination.k8s.io" in the namespace "${ns}"`,
          { ...(name ? { name } : {}), group: 'coordination.k8s.io', kind: 'leases' }
        ),
      ];
    const meta = ((body as Json | undefined)?.metadata ?? {}) as Json;
    if (method === 'POST' && !name) {
      const key = `${ns}/${String(meta.name)}`;
      if (this.leases.has(key))
        return [
          409,
          status(409, 'AlreadyExists', `${what} "${String(meta.name)}" already exists`, {
            name: meta.name,
            group: 'coordination.k8s.io',
            kind: 'leases',
          }),
        ];
      const created: Json = {
        ...(body as Json),
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          ...meta,
          namespace: ns,
          uid: `uid-lease-${++this.rv}`,
          resourceVersion: String(this.rv),
          creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        },
      };
      this.leases.set(key, created);
      return [201, created];
    }
    if (!name)
      return [
        405,
        status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
      ];
    const key = `${ns}/${name}`;
    const stored = this.leases.get(key);
    if (!stored)
      return [
        404,
        status(404, 'NotFound', `${what} "${name}" not found`, {
          name,
          group: 'coordination.k8s.io',
          kind: 'leases',
        }),
      ];
    if (method === 'GET') return [200, stored];
    if (method !== 'PUT')
      return [
        405,
        status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
      ];
    const storedMeta = stored.metadata as Json;
    if (this.faults.conflicts > 0) {
      // Another writer got there first.
      this.faults.conflicts--;
      storedMeta.resourceVersion = String(++this.rv);
    }
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== storedMeta.resourceVersion)
      return [
        409,
        status(
          409,
          'Conflict',
          `Operation cannot be fulfilled on ${what} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
          { name, group: 'coordination.k8s.io', kind: 'leases' }
        ),
      ];
    const updated: Json = {
      ...(body as Json),
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...storedMeta, ...meta, resourceVersion: String(++this.rv), uid: storedMeta.uid },
    };
    this.leases.set(key, updated);
    return [200, updated];
  }

  private patchBody(contentType: string | undefined, current: Json, body: unknown): unknown {
    const ct = (contentType ?? '').split(';')[0].trim();
    try {
      if (ct === 'application/merge-patch+json' || ct === 'application/strategic-merge-patch+json')
        return mergePatch(current, body);
      if (ct === 'application/json-patch+json')
        return jsonPatch(current, body as Array<{ op: string; path: string; value?: unknown }>);
    } catch (e) {
      return `invalid patch: ${(e as Error).message}`;
    }
    return `unsupported-media-type:${ct}`;
  }

  /** Common write path: injected conflicts and delays, then the change, then 200 with the object. */
  private async write(
    req: http.IncomingMessage,
    _body: unknown,
    render: () => Json,
    change: () => string | undefined,
    what: string
  ): Promise<[number, unknown]> {
    if (this.faults.conflicts > 0) {
      this.faults.conflicts--;
      this.rv++;
      // Another writer got there first: every object's resourceVersion the client holds is now stale.
      for (const w of this.workloads.values()) w.rv = this.rv;
      for (const h of this.hpas.values()) h.rv = this.rv;
    }
    const failure = this.faults.writeFailures.shift();
    if (failure) {
      const result = failure.landed ? change() : undefined;
      if (failure.thenForbid) this.faults.forbid.add(failure.thenForbid);
      if (result) return [422, status(422, 'Invalid', `${what} is invalid: ${result}`)];
      if (failure.kind === 'reset') return [RESET, undefined];
      return [
        failure.code,
        status(failure.code, 'InternalError', 'Internal error occurred: etcdserver: request timed out'),
      ];
    }
    const delay = this.faults.writeDelayMs;
    let result: string | undefined;
    if (!delay || this.faults.applyBeforeDelay) result = change();
    if (delay) await new Promise((r) => setTimeout(r, delay));
    // A request whose client gave up is not persisted (the API server cancels it with the request context).
    if (delay && !this.faults.applyBeforeDelay)
      result = req.socket.destroyed || req.destroyed ? 'client went away' : change();
    if (result === 'conflict') {
      return [
        409,
        status(
          409,
          'Conflict',
          `Operation cannot be fulfilled on ${what}: the object has been modified; please apply your changes to the latest version and try again`
        ),
      ];
    }
    if (result?.startsWith('unsupported-media-type:')) {
      return [
        415,
        status(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`
        ),
      ];
    }
    if (result) return [422, status(422, 'Invalid', `${what} is invalid: ${result}`)];
    return [200, render()];
  }
}
