/**
 * The Kubernetes API double's (double.ts) stored objects and the bodies it answers with: workloads, their
 * scale subresource, HPAs, discovery documents, Status errors, and the merge and JSON patches it applies.
 */

export type Json = Record<string, unknown>;

export interface Workload {
  kind: 'Deployment' | 'StatefulSet';
  namespace: string;
  name: string;
  replicas: number;
  rv: number;
  uid: string;
  generation: number;
  created: string;
}

export interface Hpa {
  namespace: string;
  name: string;
  minReplicas: number;
  maxReplicas: number;
  currentReplicas: number;
  scaleTargetRef: { apiVersion: string; kind: string; name: string };
  annotations: Record<string, string>;
  rv: number;
  uid: string;
  created: string;
}
export const RESOURCE_OF = { Deployment: 'deployments', StatefulSet: 'statefulsets' } as const;

export function status(code: number, reason: string, message: string, details?: Json): Json {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

/** RFC 7386 JSON merge patch (strategic merge is the same for the scalar fields served here). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Json =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Json) } : {};
  for (const [k, v] of Object.entries(patch as Json)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902 JSON patch, for the add/replace/remove/test operations clients send to these objects. */
export function jsonPatch(doc: unknown, ops: Array<{ op: string; path: string; value?: unknown }>): unknown {
  const root = JSON.parse(JSON.stringify(doc));
  for (const o of ops) {
    const keys = o.path
      .split('/')
      .slice(1)
      .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop()!;
    let node = root;
    for (const k of keys) {
      if (node[k] === undefined) throw new Error(`path ${o.path} not found`);
      node = node[k];
    }
    if (o.op === 'add' || o.op === 'replace') node[last] = o.value;
    else if (o.op === 'remove') delete node[last];
    else if (o.op === 'test') {
      if (JSON.stringify(node[last]) !== JSON.stringify(o.value)) throw new Error(`test failed at ${o.path}`);
    } else throw new Error(`unsupported op ${o.op}`);
  }
  return root;
}

/** The `scale` subresource of a workload (autoscaling/v1 Scale). */
export function scaleObject(w: Workload): Json {
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: w.name,
      namespace: w.namespace,
      uid: w.uid,
      resourceVersion: String(w.rv),
      creationTimestamp: w.created,
    },
    spec: { replicas: w.replicas },
    status: { replicas: w.replicas, selector: `app=${w.name}` },
  };
}

/** A Deployment or StatefulSet as apps/v1 serves it. */
export function workloadObject(w: Workload): Json {
  return {
    kind: w.kind,
    apiVersion: 'apps/v1',
    metadata: {
      name: w.name,
      namespace: w.namespace,
      uid: w.uid,
      resourceVersion: String(w.rv),
      generation: w.generation,
      creationTimestamp: w.created,
      labels: { app: w.name },
    },
    spec: {
      replicas: w.replicas,
      selector: { matchLabels: { app: w.name } },
      template: {
        metadata: { labels: { app: w.name } },
        spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
      },
      ...(w.kind === 'StatefulSet' ? { serviceName: w.name } : {}),
    },
    status: {
      observedGeneration: w.generation,
      replicas: w.replicas,
      readyReplicas: w.replicas,
      availableReplicas: w.replicas,
      updatedReplicas: w.replicas,
    },
  };
}

/** A HorizontalPodAutoscaler as autoscaling/v2 serves it. */
export function hpaObject(h: Hpa): Json {
  return {
    kind: 'HorizontalPodAutoscaler',
    apiVersion: 'autoscaling/v2',
    metadata: {
      name: h.name,
      namespace: h.namespace,
      uid: h.uid,
      resourceVersion: String(h.rv),
      creationTimestamp: h.created,
      ...(Object.keys(h.annotations).length ? { annotations: { ...h.annotations } } : {}),
    },
    spec: {
      scaleTargetRef: h.scaleTargetRef,
      minReplicas: h.minReplicas,
      maxReplicas: h.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
        },
      ],
    },
    status: {
      currentReplicas: h.currentReplicas,
      desiredReplicas: Math.max(h.currentReplicas, h.minReplicas),
    },
  };
}

/** The discovery documents kubectl reads (`/version`, `/api`, `/apis`, …); `url` is the server's own. */
export function discovery(p: string, url: string): Json | undefined {
  const res = (name: string, kind: string, opts: Json = {}) => ({
    name,
    singularName: name.includes('/') ? '' : kind.toLowerCase(),
    namespaced: true,
    kind,
    verbs: name.includes('/') ? ['get', 'patch', 'update'] : ['get', 'list', 'patch', 'update', 'watch'],
    ...opts,
  });
  const scale = { group: 'autoscaling', version: 'v1' };
  switch (p) {
    case '/version':
      return { major: '1', minor: '32', gitVersion: 'v1.32.0-double', platform: 'linux/amd64' };
    case '/api':
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: url.slice(8) }],
      };
    case '/api/v1':
      return {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [res('namespaces', 'Namespace', { namespaced: false })],
      };
    case '/apis':
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [
          {
            name: 'apps',
            versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
            preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
          },
          {
            name: 'autoscaling',
            versions: [{ groupVersion: 'autoscaling/v2', version: 'v2' }],
            preferredVersion: { groupVersion: 'autoscaling/v2', version: 'v2' },
          },
        ],
      };
    case '/apis/apps/v1':
      return {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: 'apps/v1',
        resources: [
          res('deployments', 'Deployment', { shortNames: ['deploy'], categories: ['all'] }),
          res('deployments/scale', 'Scale', scale),
          res('statefulsets', 'StatefulSet', { shortNames: ['sts'], categories: ['all'] }),
          res('statefulsets/scale', 'Scale', scale),
        ],
      };
    case '/apis/autoscaling/v2':
      return {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: 'autoscaling/v2',
        resources: [
          res('horizontalpodautoscalers', 'HorizontalPodAutoscaler', {
            shortNames: ['hpa'],
            categories: ['all'],
          }),
        ],
      };
    default:
      return undefined;
  }
}
