/**
 * The Kubernetes actuator through the real @kubernetes/client-node against the API double: scale
 * subresource patches with resourceVersion, 409 retries, RBAC 403s, gone targets, timeouts, HPA floors;
 * and kubectl talking to the same double, to show it speaks the real protocol.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { KubernetesActuator, FLOOR_ANNOTATIONS } from '../../backend/src/actuate/kubernetes';
import type { TargetConfig } from '../../backend/src/config';
import { PrescalerError } from '../../backend/src/errors';
import { KubernetesApiDouble } from './double';

const run = promisify(execFile);

const target = (
  name: string,
  kind: TargetConfig['workload']['kind'],
  over: Partial<TargetConfig> = {}
): TargetConfig => ({
  name,
  namespace: 'shop',
  workload: { kind, name },
  query: 'x',
  capacityPerReplica: 0.5,
  targetUtilization: 0.7,
  quantile: 'upper',
  peakQuantile: 0.9,
  minReplicas: 1,
  maxReplicas: 20,
  startup: 120,
  scaleDownStabilization: 300,
  tolerance: 0.1,
  floorTtl: 1800,
  ...over,
});

const web = target('web', 'Deployment');
const db = target('db', 'StatefulSet');
const api = target('api', 'HorizontalPodAutoscaler');

let k8s: KubernetesApiDouble;
let actuator: KubernetesActuator;
let dir: string;

beforeEach(async () => {
  k8s = new KubernetesApiDouble();
  k8s.addWorkload('Deployment', 'shop', 'web', 3);
  k8s.addWorkload('StatefulSet', 'shop', 'db', 2);
  k8s.addHpa('shop', 'api', { minReplicas: 2, maxReplicas: 10, currentReplicas: 3, target: 'api' });
  await k8s.start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-k8s-'));
  actuator = new KubernetesActuator({ kubeconfig: k8s.writeKubeconfig(dir), timeoutMs: 1000 });
});

afterEach(async () => {
  await k8s.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<PrescalerError> {
  try {
    await p;
  } catch (e) {
    return e as PrescalerError;
  }
  throw new Error('expected a failure');
}

describe('scale subresource', () => {
  it('reads and patches spec.replicas with the resourceVersion it read, as a merge patch', async () => {
    expect(await actuator.read(web)).toEqual({ replicas: 3, setpoint: 3 });
    const r = await actuator.apply(web, 7, { now: 0, floorTtl: 60 });
    expect(r.fromReplicas).toBe(3);
    expect(r.detail).toMatch(/deployments\/scale shop\/web: spec.replicas 3 → 7/);
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(7);
    const [w] = k8s.writes();
    expect(w.path).toBe('/apis/apps/v1/namespaces/shop/deployments/web/scale');
    expect(w.contentType).toBe('application/merge-patch+json');
    expect(w.body).toEqual({
      metadata: { resourceVersion: expect.stringMatching(/^\d+$/) },
      spec: { replicas: 7 },
    });
    expect(k8s.requests[0].path).toBe('/apis/apps/v1/namespaces/shop/deployments/web/scale');
  });

  it('scales a StatefulSet through its own scale subresource', async () => {
    await actuator.apply(db, 4, { now: 0, floorTtl: 60 });
    expect(k8s.replicas('StatefulSet', 'shop', 'db')).toBe(4);
    expect(k8s.writes()[0].path).toBe('/apis/apps/v1/namespaces/shop/statefulsets/db/scale');
  });

  it('retries a 409 with a fresh resourceVersion', async () => {
    k8s.faults.conflicts = 2;
    await actuator.apply(web, 6, { now: 0, floorTtl: 60 });
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(6);
    const writes = k8s.writes();
    expect(writes).toHaveLength(3);
    const rvs = writes.map(
      (w) => (w.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion
    );
    expect(new Set(rvs).size).toBe(3); // each attempt re-read first
  });

  it('gives up with a conflict after repeated 409s, having changed nothing', async () => {
    k8s.faults.conflicts = 100;
    const e = await failure(actuator.apply(web, 6, { now: 0, floorTtl: 60 }));
    expect(e).toBeInstanceOf(PrescalerError);
    expect(e.code).toBe('conflict');
    expect(k8s.writes()).toHaveLength(5);
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(3);
  });

  it('names the missing RBAC verb and resource on a 403', async () => {
    k8s.faults.forbid.add('patch deployments/scale');
    const e = await failure(actuator.apply(web, 6, { now: 0, floorTtl: 60 }));
    expect(e.code).toBe('upstream_error');
    expect(e.message).toMatch(/grant verb "patch" on resource "deployments\/scale" \(API group "apps"\)/);
    expect(e.message).toMatch(/cannot patch resource "deployments\/scale"/);
    k8s.faults.forbid.add('get horizontalpodautoscalers');
    const g = await failure(actuator.read(api));
    expect(g.message).toMatch(/verb "get" on resource "horizontalpodautoscalers"/);
  });

  it('reports a target that is gone as not_found', async () => {
    k8s.removeWorkload('Deployment', 'shop', 'web');
    const e = await failure(actuator.apply(web, 6, { now: 0, floorTtl: 60 }));
    expect(e.code).toBe('not_found');
    expect(e.message).toMatch(/Deployment shop\/web not found/);
  });

  it('fails a write that times out and did not land, leaving the workload as it was', async () => {
    const slow = new KubernetesActuator({ kubeconfig: path.join(dir, 'kubeconfig'), timeoutMs: 300 });
    k8s.faults.writeDelayMs = 800;
    k8s.faults.applyBeforeDelay = false;
    const e = await failure(slow.apply(web, 9, { now: 0, floorTtl: 60 }));
    expect(e.code).toBe('upstream_timeout');
    expect(e.message).toMatch(/did not take effect/);
    await new Promise((r) => setTimeout(r, 900));
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(3);
  });

  it('confirms by reading back a write that timed out after it landed', async () => {
    const slow = new KubernetesActuator({ kubeconfig: path.join(dir, 'kubeconfig'), timeoutMs: 300 });
    k8s.faults.writeDelayMs = 800;
    k8s.faults.applyBeforeDelay = true;
    const r = await slow.apply(web, 9, { now: 0, floorTtl: 60 });
    expect(r.detail).toMatch(/timed out; reading back shows it took effect/);
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(9);
  });
});

describe('writes that may have landed (not a 4xx)', () => {
  it('confirms by reading back a write answered 500 after it was persisted', async () => {
    k8s.faults.writeFailures.push({ kind: 'status', code: 500, landed: true });
    const r = await actuator.apply(web, 9, { now: 0, floorTtl: 60 });
    expect(r.detail).toMatch(
      /spec.replicas 3 → 9 \(the API answered 500; reading back shows it took effect\)/
    );
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(9);
  });

  it('fails a write answered 503 that reading back shows did not land', async () => {
    k8s.faults.writeFailures.push({ kind: 'status', code: 503, landed: false });
    const e = await failure(actuator.apply(web, 9, { now: 0, floorTtl: 60 }));
    expect(e.code).toBe('upstream_error');
    expect(e.message).toMatch(
      /answered 503 to patch deployments\/scale.*reading back shows it did not take effect \(3\)/
    );
    expect((e as { uncertain?: boolean }).uncertain).toBeUndefined();
  });

  it('confirms by reading back a write whose connection was reset after it was sent', async () => {
    k8s.faults.writeFailures.push({ kind: 'reset', landed: true });
    const r = await actuator.apply(api, 6, { now: 0, floorTtl: 60 });
    expect(r.detail).toMatch(
      /minReplicas 2 → 6 .*\(the connection failed \(ECONNRESET\); reading back shows it took effect\)/
    );
  });

  it('calls the outcome uncertain when the write was reset and the read-back fails too', async () => {
    k8s.faults.writeFailures.push({ kind: 'reset', landed: true, thenForbid: 'get deployments/scale' });
    const e = await failure(actuator.apply(web, 9, { now: 0, floorTtl: 60 }));
    expect((e as { uncertain?: boolean }).uncertain).toBe(true);
    expect(e.message).toMatch(
      /connection to the Kubernetes API failed during patch .*reading back failed too/
    );
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(9);
  });

  it('still calls a 4xx refusal failed without reading back', async () => {
    k8s.faults.forbid.add('patch deployments/scale');
    const before = k8s.requests.length;
    const e = await failure(actuator.apply(web, 9, { now: 0, floorTtl: 60 }));
    expect(e.code).toBe('upstream_error');
    expect((e as { uncertain?: boolean }).uncertain).toBeUndefined();
    expect(k8s.requests.slice(before).map((r) => r.method)).toEqual(['GET', 'PATCH']);
  });
});

describe('stale recommendations (expectedReplicas)', () => {
  it('refuses to write a count computed for another replica count, and writes nothing', async () => {
    // Advice "2 → 7" was made while web ran 2; someone has since scaled it to 12 by hand.
    k8s.externalWrite('Deployment', 'shop', 'web', 12);
    const e = await failure(actuator.apply(web, 7, { now: 0, floorTtl: 60, expectedReplicas: 2 }));
    expect(e.code).toBe('conflict');
    expect(e.message).toBe(
      'stale: web now runs 12 replicas, the recommendation was made at 2; wait for the next evaluation'
    );
    expect(k8s.writes()).toHaveLength(0);
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(12);
  });

  it('writes when the workload still runs what the recommendation saw', async () => {
    await actuator.apply(web, 7, { now: 0, floorTtl: 60, expectedReplicas: 3 });
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(7);
  });

  it('re-checks on every attempt: a change between a 409 and the retry is caught', async () => {
    k8s.faults.conflicts = 1;
    const p = actuator.apply(web, 7, { now: 0, floorTtl: 60, expectedReplicas: 3 });
    // The first PATCH gets a 409; before the retry's read, someone scales to 12.
    await new Promise<void>((r) => {
      const poll = setInterval(() => {
        if (k8s.writes().length === 1) {
          clearInterval(poll);
          k8s.externalWrite('Deployment', 'shop', 'web', 12);
          r();
        }
      }, 1);
    });
    const e = await failure(p);
    expect(e.message).toMatch(/^stale: web now runs 12 replicas/);
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(12);
  });

  it('HPA: compares what the HPA runs (status.currentReplicas)', async () => {
    // The HPA scaled itself 3 → 5 since the advice "3 → 6" was made.
    k8s.setHpa('shop', 'api', { currentReplicas: 5 });
    const e = await failure(actuator.apply(api, 6, { now: 0, floorTtl: 60, expectedReplicas: 3 }));
    expect(e.message).toBe(
      'stale: api now runs 5 replicas, the recommendation was made at 3; wait for the next evaluation'
    );
    expect(k8s.writes()).toHaveLength(0);
    await actuator.apply(api, 6, { now: 0, floorTtl: 60, expectedReplicas: 5 });
    expect((k8s.hpa('shop', 'api') as { spec: { minReplicas: number } }).spec.minReplicas).toBe(6);
  });

  it('HPA: refuses a scale-up that would lower minReplicas raised since (status not caught up yet)', async () => {
    await actuator.apply(api, 8, { now: 0, floorTtl: 600 });
    // The HPA controller has not synced yet: it still reports 3 replicas under a floor of 8.
    k8s.setHpa('shop', 'api', { currentReplicas: 3 });
    const before = k8s.writes().length;
    const e = await failure(actuator.apply(api, 5, { now: 0, floorTtl: 60, expectedReplicas: 3 }));
    expect(e.message).toBe(
      "stale: api's HPA minReplicas is now 8; this scale-up would lower it to 5; wait for the next evaluation"
    );
    expect(k8s.writes()).toHaveLength(before);
    expect((k8s.hpa('shop', 'api') as { spec: { minReplicas: number } }).spec.minReplicas).toBe(8);
  });
});

describe('HPA floor', () => {
  it('raises minReplicas with annotations saying from what and until when, then reverts', async () => {
    const now = Date.now() / 1000;
    const r = await actuator.apply(api, 6, { now, floorTtl: 600 });
    expect(r.fromReplicas).toBe(2);
    const hpa = k8s.hpa('shop', 'api') as {
      spec: { minReplicas: number };
      metadata: { annotations: Record<string, string> };
    };
    expect(hpa.spec.minReplicas).toBe(6);
    expect(hpa.metadata.annotations[FLOOR_ANNOTATIONS.original]).toBe('2');
    expect(Date.parse(hpa.metadata.annotations[FLOOR_ANNOTATIONS.expiresAt]) / 1000).toBeCloseTo(
      now + 600,
      -1
    );
    const state = await actuator.read(api);
    expect(state.setpoint).toBe(6);
    expect(state.floor).toMatchObject({ replicas: 6, originalMinReplicas: 2 });
    expect(k8s.writes()[0].path).toBe('/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/api');

    // A second floor keeps the original minimum from before the first.
    await actuator.apply(api, 8, { now, floorTtl: 600 });
    expect((await actuator.read(api)).floor).toMatchObject({ replicas: 8, originalMinReplicas: 2 });

    const detail = await actuator.revertFloor(api, state.floor!);
    expect(detail).toMatch(/minReplicas 8 → 2/);
    const after = k8s.hpa('shop', 'api') as {
      spec: { minReplicas: number };
      metadata: { annotations?: object };
    };
    expect(after.spec.minReplicas).toBe(2);
    expect(after.metadata.annotations).toBeUndefined();
  });

  it('leaves a minReplicas someone else changed since, removing only its marks', async () => {
    await actuator.apply(api, 6, { now: 0, floorTtl: 1 });
    const floor = (await actuator.read(api)).floor!;
    // A human raises the HPA minimum by hand (merge patch through the same API).
    const raw = k8s.hpa('shop', 'api') as { spec: { minReplicas: number } };
    expect(raw.spec.minReplicas).toBe(6);
    await run(
      'kubectl',
      [
        '--cache-dir',
        path.join(dir, 'cache'),
        '-n',
        'shop',
        'patch',
        'hpa',
        'api',
        '--type=merge',
        '-p',
        '{"spec":{"minReplicas":4}}',
      ],
      {
        env: { ...process.env, KUBECONFIG: path.join(dir, 'kubeconfig'), HOME: dir },
      }
    );
    const detail = await actuator.revertFloor(api, floor);
    expect(detail).toMatch(/changed to 4 by someone else/);
    expect((k8s.hpa('shop', 'api') as { spec: { minReplicas: number } }).spec.minReplicas).toBe(4);
  });

  it('refuses a floor above the HPA maxReplicas before writing', async () => {
    const e = await failure(actuator.apply(api, 11, { now: 0, floorTtl: 60 }));
    expect(e.code).toBe('conflict');
    expect(e.message).toMatch(/at most 10 replicas/);
    expect(k8s.writes()).toHaveLength(0);
  });
});

describe('kubectl against the double', () => {
  const kubectl = (args: string[]) =>
    run('kubectl', ['--cache-dir', path.join(dir, 'cache'), ...args], {
      env: { ...process.env, KUBECONFIG: path.join(dir, 'kubeconfig'), HOME: dir },
    });

  it('gets and scales a Deployment through discovery and the scale subresource', async () => {
    const got = await kubectl(['-n', 'shop', 'get', 'deployment', 'web', '-o', 'json']);
    expect(JSON.parse(got.stdout)).toMatchObject({ kind: 'Deployment', spec: { replicas: 3 } });
    const scaled = await kubectl(['-n', 'shop', 'scale', 'deployment/web', '--replicas=5']);
    expect(scaled.stdout).toMatch(/deployment.apps\/web scaled/);
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(5);
    const patch = k8s.writes().at(-1)!;
    expect(patch.path).toBe('/apis/apps/v1/namespaces/shop/deployments/web/scale');
    expect(patch.contentType).toBe('application/merge-patch+json');
    const hpa = await kubectl([
      '-n',
      'shop',
      'get',
      'hpa',
      'api',
      '-o',
      'jsonpath={.spec.minReplicas}/{.spec.maxReplicas}',
    ]);
    expect(hpa.stdout).toBe('2/10');
  }, 30_000);

  it('sees a resourceVersion precondition fail with 409 like a real API server', async () => {
    const stale = JSON.stringify({ metadata: { resourceVersion: '1' }, spec: { replicas: 5 } });
    const e = await kubectl([
      '-n',
      'shop',
      'patch',
      'deployment',
      'web',
      '--subresource=scale',
      '--type=merge',
      '-p',
      stale,
    ]).catch((x) => x);
    expect(String(e.stderr)).toMatch(/the object has been modified/);
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(3);
  }, 30_000);
});
