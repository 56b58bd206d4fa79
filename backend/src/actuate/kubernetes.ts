/**
 * The Kubernetes actuator, through @kubernetes/client-node: patches the scale subresource of a
 * Deployment/StatefulSet, or raises an HPA's minReplicas as a floor recorded in annotations (so the
 * cluster itself shows who raised it, from what, and until when). Every write carries the
 * resourceVersion it was computed from; a 409 means someone else wrote in between, so read and retry.
 */
import type * as K8s from '@kubernetes/client-node';
import type { TargetConfig } from '../config';
import { PrescalerError } from '../errors';
import { planFloor } from './floor';
import {
  staleRecommendation,
  type ActResult,
  type Actuator,
  type ApplyOptions,
  type Floor,
  type WorkloadState,
} from './types';

// Loaded on first use, so the dry-run default never pays for it. The package is ESM-only; Node 20.19+
// `require`s ESM natively (jest maps it to test/k8s/client-node.cjs, which does the same).
let client: typeof K8s | undefined;
function k8s(): typeof K8s {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  client ??= require('@kubernetes/client-node') as typeof K8s;
  return client;
}

export const FLOOR_ANNOTATIONS = {
  replicas: 'prescaler.io/floor-replicas',
  original: 'prescaler.io/floor-original-min-replicas',
  expiresAt: 'prescaler.io/floor-expires-at',
} as const;

const MERGE_PATCH = 'application/merge-patch+json';

export interface KubernetesActuatorOptions {
  /** Path of a kubeconfig; absent: the in-cluster service account. */
  kubeconfig?: string;
  /** Per request. */
  timeoutMs?: number;
  /** Attempts when the object keeps changing under us (409). */
  conflictRetries?: number;
}

interface ScaleObject {
  metadata?: { resourceVersion?: string };
  spec?: { replicas?: number };
  status?: { replicas?: number };
}

interface HpaObject {
  metadata?: { resourceVersion?: string; annotations?: Record<string, string> };
  spec?: { minReplicas?: number; maxReplicas?: number };
  status?: { currentReplicas?: number; desiredReplicas?: number };
}

/** An error thrown after a write that may or may not have landed. */
export class UncertainOutcomeError extends PrescalerError {
  readonly uncertain = true;
}

const iso = (t: number) => new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function floorOf(hpa: HpaObject): Floor | undefined {
  const a = hpa.metadata?.annotations ?? {};
  const replicas = Number(a[FLOOR_ANNOTATIONS.replicas]);
  const original = Number(a[FLOOR_ANNOTATIONS.original]);
  const expiresAt = Date.parse(a[FLOOR_ANNOTATIONS.expiresAt] ?? '') / 1000;
  if (!Number.isInteger(replicas) || !Number.isInteger(original) || !Number.isFinite(expiresAt))
    return undefined;
  return { replicas, originalMinReplicas: original, expiresAt };
}

interface Resource {
  /** For messages and RBAC hints: `deployments/scale`, `horizontalpodautoscalers`. */
  resource: string;
  group: string;
  what: string;
}

function resourceOf(t: TargetConfig): Resource {
  const where = `${t.namespace}/${t.workload.name}`;
  switch (t.workload.kind) {
    case 'Deployment':
      return { resource: 'deployments/scale', group: 'apps', what: `Deployment ${where}` };
    case 'StatefulSet':
      return { resource: 'statefulsets/scale', group: 'apps', what: `StatefulSet ${where}` };
    default:
      return {
        resource: 'horizontalpodautoscalers',
        group: 'autoscaling',
        what: `HorizontalPodAutoscaler ${where}`,
      };
  }
}

function statusMessage(e: unknown): string {
  const body = (e as { body?: unknown }).body;
  try {
    const parsed = typeof body === 'string' ? JSON.parse(body) : body;
    if (parsed && typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return typeof body === 'string' && body
    ? body.slice(0, 300)
    : String((e as Error).message ?? e).split('\n')[0];
}

const isAbort = (e: unknown) => {
  const x = e as { name?: string; type?: string };
  return x?.name === 'AbortError' || x?.type === 'aborted' || x?.name === 'TimeoutError';
};

/** Failures to connect at all: the request never reached the API server, so nothing can have landed. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Whether a failed write may still have been committed: a 4xx is the API server refusing it, but a 5xx
 * (etcd slow, apiserver overloaded) may come after the write was persisted, and a timeout or a reset
 * connection after the request was sent says nothing about what the server did.
 */
function mayHaveLanded(e: unknown): boolean {
  if (e instanceof PrescalerError) return false;
  if (isAbort(e)) return true;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'number') return code >= 500;
  return !(typeof code === 'string' && NOT_SENT.has(code));
}

/** What the failure was, in words, for "…; reading back shows …". */
function failureInWords(e: unknown): string {
  if (isAbort(e)) return 'the request timed out';
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'number') return `the API answered ${code}`;
  return `the connection failed (${typeof code === 'string' ? code : (e as Error).message})`;
}

/** A workload's state as read() reports it, from the raw scale subresource or HPA object. */
function stateOf(t: TargetConfig, obj: ScaleObject | HpaObject): WorkloadState {
  if (t.workload.kind !== 'HorizontalPodAutoscaler') {
    const replicas = (obj as ScaleObject).spec?.replicas ?? 0;
    return { replicas, setpoint: replicas };
  }
  const h = obj as HpaObject;
  const min = h.spec?.minReplicas ?? 1;
  return {
    replicas: h.status?.currentReplicas ?? h.status?.desiredReplicas ?? min,
    setpoint: min,
    floor: floorOf(h),
    hpa: { minReplicas: min, maxReplicas: h.spec?.maxReplicas ?? min },
  };
}

export class KubernetesActuator implements Actuator {
  readonly kind = 'kubernetes' as const;
  readonly dryRun = false;
  private readonly apps: K8s.AppsV1Api;
  private readonly autoscaling: K8s.AutoscalingV2Api;
  private readonly timeoutMs: number;
  private readonly conflictRetries: number;

  constructor(opts: KubernetesActuatorOptions = {}) {
    const { KubeConfig, AppsV1Api, AutoscalingV2Api } = k8s();
    const kc = new KubeConfig();
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromCluster();
    this.apps = kc.makeApiClient(AppsV1Api);
    this.autoscaling = kc.makeApiClient(AutoscalingV2Api);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.conflictRetries = opts.conflictRetries ?? 5;
  }

  /**
   * Per-request options: a timeout, and the patch content type when writing. The object-parameter API
   * runs "observable" middleware, whose results the client's own stub of rxjs only asks `toPromise()` of.
   */
  private options(patch: boolean): K8s.ConfigurationOptions {
    const timeoutMs = this.timeoutMs;
    const done = <T>(v: T) => ({ toPromise: () => Promise.resolve(v) });
    const middleware = {
      pre: (ctx: K8s.RequestContext) => {
        ctx.setSignal(AbortSignal.timeout(timeoutMs));
        if (patch) ctx.setHeaderParam('Content-Type', MERGE_PATCH);
        return done(ctx);
      },
      post: (rsp: K8s.ResponseContext) => done(rsp),
    };
    return {
      middleware: [middleware],
      middlewareMergeStrategy: 'append',
    } as unknown as K8s.ConfigurationOptions;
  }

  /** Turns a client failure into a PrescalerError an SRE can act on. */
  private explain(e: unknown, t: TargetConfig, verb: 'get' | 'patch'): PrescalerError {
    if (e instanceof PrescalerError) return e;
    const r = resourceOf(t);
    if (isAbort(e)) {
      return new PrescalerError(
        'upstream_timeout',
        `Kubernetes API did not answer ${verb} ${r.resource} for ${r.what} within ${this.timeoutMs} ms`
      );
    }
    const code = (e as { code?: number }).code;
    const msg = statusMessage(e);
    if (code === 403) {
      return new PrescalerError(
        'upstream_error',
        `Kubernetes RBAC: the backend may not ${verb} ${r.resource} in namespace ${t.namespace}; grant verb "${verb}" on ` +
          `resource "${r.resource}" (API group "${r.group}") to its service account (deploy/base/rbac.yaml). API said: ${msg}`
      );
    }
    if (code === 404)
      return new PrescalerError('not_found', `${r.what} not found: the target is gone (API said: ${msg})`);
    if (code === 401)
      return new PrescalerError(
        'upstream_error',
        `Kubernetes API rejected the backend's credentials: ${msg}`
      );
    if (code === 409) return new PrescalerError('conflict', `${r.what} kept changing during ${verb}: ${msg}`);
    if (code === 422)
      return new PrescalerError('conflict', `Kubernetes refused the change to ${r.what}: ${msg}`);
    if (typeof code === 'number')
      return new PrescalerError(
        'upstream_error',
        `Kubernetes API answered ${code} to ${verb} ${r.resource}: ${msg}`
      );
    const sys = (e as { code?: unknown }).code;
    if (typeof sys === 'string' && NOT_SENT.has(sys))
      return new PrescalerError(
        'upstream_error',
        `Kubernetes API unreachable for ${r.what}: ${(e as Error).message ?? e}`
      );
    return new PrescalerError(
      'upstream_error',
      `the connection to the Kubernetes API failed during ${verb} ${r.resource} for ${r.what}: ${(e as Error).message ?? e}`
    );
  }

  private async readScale(t: TargetConfig): Promise<ScaleObject> {
    const p = { name: t.workload.name, namespace: t.namespace };
    try {
      return (
        t.workload.kind === 'Deployment'
          ? await this.apps.readNamespacedDeploymentScale(p, this.options(false))
          : await this.apps.readNamespacedStatefulSetScale(p, this.options(false))
      ) as ScaleObject;
    } catch (e) {
      throw this.explain(e, t, 'get');
    }
  }

  private async readHpa(t: TargetConfig): Promise<HpaObject> {
    try {
      return (await this.autoscaling.readNamespacedHorizontalPodAutoscaler(
        { name: t.workload.name, namespace: t.namespace },
        this.options(false)
      )) as HpaObject;
    } catch (e) {
      throw this.explain(e, t, 'get');
    }
  }

  private async patch(t: TargetConfig, body: object): Promise<void> {
    const p = { name: t.workload.name, namespace: t.namespace, body, fieldManager: 'prescaler' };
    switch (t.workload.kind) {
      case 'Deployment':
        await this.apps.patchNamespacedDeploymentScale(p, this.options(true));
        break;
      case 'StatefulSet':
        await this.apps.patchNamespacedStatefulSetScale(p, this.options(true));
        break;
      default:
        await this.autoscaling.patchNamespacedHorizontalPodAutoscaler(p, this.options(true));
    }
  }

  async read(t: TargetConfig): Promise<WorkloadState> {
    return stateOf(
      t,
      t.workload.kind === 'HorizontalPodAutoscaler' ? await this.readHpa(t) : await this.readScale(t)
    );
  }

  /**
   * Read, compute the patch from what was read, write it guarded by that resourceVersion; on 409 start
   * over from a fresh read. A write that failed in a way that may still have committed (timeout, reset
   * connection, 5xx) is settled by reading back; if that read fails too, the outcome is uncertain.
   */
  private async readModifyWrite(
    t: TargetConfig,
    plan: (state: { rv: string | undefined; obj: ScaleObject | HpaObject }) => {
      body?: object;
      result: ActResult;
    },
    landed: (state: WorkloadState) => boolean
  ): Promise<ActResult> {
    let lastConflict = '';
    for (let attempt = 0; attempt < this.conflictRetries; attempt++) {
      const obj =
        t.workload.kind === 'HorizontalPodAutoscaler' ? await this.readHpa(t) : await this.readScale(t);
      const { body, result } = plan({ rv: obj.metadata?.resourceVersion, obj });
      if (!body) return result;
      try {
        await this.patch(t, body);
        return result;
      } catch (e) {
        if ((e as { code?: number }).code === 409) {
          lastConflict = statusMessage(e);
          await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
          continue;
        }
        const err = this.explain(e, t, 'patch');
        if (!mayHaveLanded(e)) throw err;
        // The write may have landed: look before calling it failed.
        let now: WorkloadState;
        try {
          now = await this.read(t);
        } catch {
          throw new UncertainOutcomeError(
            err.code,
            `${err.message}; reading back failed too, so the outcome is unknown`
          );
        }
        if (landed(now))
          return {
            ...result,
            detail: `${result.detail} (${failureInWords(e)}; reading back shows it took effect)`,
          };
        throw new PrescalerError(
          err.code,
          `${err.message}; reading back shows it did not take effect (${now.setpoint})`
        );
      }
    }
    throw new PrescalerError(
      'conflict',
      `${resourceOf(t).what} changed under every one of ${this.conflictRetries} attempts: ${lastConflict}`
    );
  }

  async apply(t: TargetConfig, replicas: number, opts: ApplyOptions): Promise<ActResult> {
    const r = resourceOf(t);
    if (t.workload.kind !== 'HorizontalPodAutoscaler') {
      return this.readModifyWrite(
        t,
        ({ rv, obj }) => {
          const from = (obj as ScaleObject).spec?.replicas ?? 0;
          const stale = staleRecommendation(t, { replicas: from }, replicas, opts.expectedReplicas);
          if (stale) throw stale;
          return {
            body: { metadata: { resourceVersion: rv }, spec: { replicas } },
            result: {
              fromReplicas: from,
              detail: `patched ${r.resource} ${t.namespace}/${t.workload.name}: spec.replicas ${from} → ${replicas}`,
            },
          };
        },
        (s) => s.setpoint === replicas
      );
    }
    return this.readModifyWrite(
      t,
      ({ rv, obj }) => {
        const state = stateOf(t, obj);
        const min = state.setpoint;
        const plan = planFloor({ ...state.hpa!, floor: state.floor }, replicas, opts);
        const stale = staleRecommendation(
          t,
          { replicas: state.replicas, minReplicas: min },
          replicas,
          opts.expectedReplicas,
          plan.minReplicas
        );
        if (stale) throw stale;
        if (plan.aboveMax) {
          throw new PrescalerError(
            'conflict',
            `${r.what} allows at most ${state.hpa!.maxReplicas} replicas (spec.maxReplicas); a floor of ${replicas} is refused`
          );
        }
        const original = plan.originalMinReplicas;
        if (!plan.floor) {
          const active = plan.removes;
          const body = active
            ? {
                metadata: {
                  resourceVersion: rv,
                  annotations: {
                    [FLOOR_ANNOTATIONS.replicas]: null,
                    [FLOOR_ANNOTATIONS.original]: null,
                    [FLOOR_ANNOTATIONS.expiresAt]: null,
                  },
                },
                spec: { minReplicas: plan.minReplicas },
              }
            : undefined;
          return {
            body,
            result: {
              fromReplicas: min,
              detail: `${replicas} is at or below the HPA's own minReplicas ${original}: no floor${active ? ' (earlier floor removed)' : ''}`,
            },
          };
        }
        const { floor } = plan;
        return {
          body: {
            metadata: {
              resourceVersion: rv,
              annotations: {
                [FLOOR_ANNOTATIONS.replicas]: String(floor.replicas),
                [FLOOR_ANNOTATIONS.original]: String(floor.originalMinReplicas),
                [FLOOR_ANNOTATIONS.expiresAt]: iso(floor.expiresAt),
              },
            },
            spec: { minReplicas: plan.minReplicas },
          },
          result: {
            fromReplicas: min,
            detail: `raised HPA ${t.namespace}/${t.workload.name} minReplicas ${min} → ${replicas} until ${iso(floor.expiresAt)}`,
          },
        };
      },
      (s) => s.setpoint === replicas
    );
  }

  async revertFloor(t: TargetConfig, floor: Floor): Promise<string> {
    let detail = '';
    await this.readModifyWrite(
      t,
      ({ rv, obj }) => {
        const h = obj as HpaObject;
        const now = floorOf(h);
        if (!now) {
          detail = 'floor already gone';
          return { result: { fromReplicas: h.spec?.minReplicas ?? 0, detail } };
        }
        // Someone edited minReplicas since we raised it: theirs stands, only our marks go.
        const ours = h.spec?.minReplicas === now.replicas;
        const annotations = {
          [FLOOR_ANNOTATIONS.replicas]: null,
          [FLOOR_ANNOTATIONS.original]: null,
          [FLOOR_ANNOTATIONS.expiresAt]: null,
        };
        detail = ours
          ? `floor expired: HPA ${t.namespace}/${t.workload.name} minReplicas ${now.replicas} → ${now.originalMinReplicas}`
          : `floor expired: minReplicas was changed to ${h.spec?.minReplicas} by someone else since; left as is, floor marks removed`;
        return {
          body: {
            metadata: { resourceVersion: rv, annotations },
            ...(ours ? { spec: { minReplicas: now.originalMinReplicas } } : {}),
          },
          result: { fromReplicas: floor.replicas, detail },
        };
      },
      (s) => !s.floor
    );
    return detail;
  }
}
