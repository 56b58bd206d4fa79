/**
 * The approval flow end to end, in process: HTTP API → ActuationService → Kubernetes actuator (real
 * @kubernetes/client-node) → API double. Auth, idempotency, concurrency, re-checks at apply time,
 * 409/403 from the cluster, the self-reverting HPA floor, and alert webhooks.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunningServer } from '../../backend/src/server';
import type { SqliteStore } from '../../backend/src/store/sqlite';
import type { StoredRecommendation } from '../../backend/src/store/store';
import { startTestServer, type TestServer } from '../helpers/server';
import { KubernetesApiDouble } from './double';

const OPERATOR = 'operator-token-0123456789';
const VIEWER = 'viewer-token-0123456789';

let k8s: KubernetesApiDouble;
let srv: RunningServer;
let dir: string;
let harness: TestServer;

const CONFIG = `
auth:
  tokens:
    - {name: grafana, token: "${OPERATOR}", role: operator}
    - {name: readonly, token: "${VIEWER}", role: viewer}
targets:
  - name: web
    namespace: shop
    workload: {kind: Deployment, name: web}
    query: demo_cpu_usage{deployment="web"}
    unit: cores
    capacityPerReplica: 0.5
    minReplicas: 2
    maxReplicas: 20
  - name: api
    namespace: shop
    workload: {kind: HorizontalPodAutoscaler, name: api}
    query: demo_cpu_usage{deployment="api"}
    capacityPerReplica: 0.5
    minReplicas: 2
    maxReplicas: 10
    floorTtl: 1
    autoApplyEmergency: {enabled: true, maxReplicas: 5}
`;

beforeEach(async () => {
  k8s = new KubernetesApiDouble();
  k8s.addWorkload('Deployment', 'shop', 'web', 3);
  k8s.addHpa('shop', 'api', { minReplicas: 2, maxReplicas: 10, currentReplicas: 3, target: 'api' });
  await k8s.start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-apply-'));
  harness = await startTestServer({
    dir,
    yaml: CONFIG,
    env: {
      PRESCALER_ACTUATOR: 'kubernetes',
      PRESCALER_MODELS: path.join(dir, 'no-models'),
      KUBECONFIG: k8s.writeKubeconfig(dir),
    },
    startLoop: false,
  });
  srv = harness.srv;
});

afterEach(async () => {
  await harness.close();
  await k8s.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
async function addRecommendation(over: Partial<StoredRecommendation> = {}): Promise<StoredRecommendation> {
  const now = Date.now() / 1000;
  const rec: StoredRecommendation = {
    id: `rec-test-${++seq}`,
    target: 'web',
    kind: 'forecast',
    createdAt: now,
    expiresAt: now + 600,
    currentReplicas: 3,
    recommendedReplicas: 5,
    reason: 'p90 forecast 1.6 cores in 10 min → 5 replicas at 70 %; now 3',
    forecast: null,
    status: 'pending',
    statusAt: now,
    origin: null,
    ...over,
  };
  await srv.store.addRecommendation(rec, ['forecast']);
  return rec;
}

async function apply(id: string, token?: string, body?: unknown) {
  const res = await fetch(`${srv.url}/api/recommendations/${id}/apply`, {
    method: 'POST',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

async function post(p: string, body: unknown, token = OPERATOR) {
  const res = await fetch(srv.url + p, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** A read: with tokens configured every /api route but health needs one (a viewer's is enough). */
const get = async (p: string) =>
  (await fetch(srv.url + p, { headers: { authorization: `Bearer ${VIEWER}` } })).json();

async function waitUntil(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('POST /api/recommendations/:id/apply', () => {
  it('answers 401 without or with a wrong token, 403 for a viewer, and applies for an operator', async () => {
    const rec = await addRecommendation();
    const none = await apply(rec.id);
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthorized');
    expect((await apply(rec.id, 'not-a-valid-token-at-all')).status).toBe(401);
    expect((await apply(rec.id, OPERATOR.slice(0, -1) + 'X')).status).toBe(401);
    const viewer = await apply(rec.id, VIEWER);
    expect(viewer.status).toBe(403);
    expect(viewer.body.error.code).toBe('forbidden');
    expect(k8s.writes()).toHaveLength(0);

    const ok = await apply(rec.id, OPERATOR);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      actor: 'token:grafana',
      target: 'web',
      fromReplicas: 3,
      toReplicas: 5,
      recommendationId: rec.id,
      outcome: 'applied',
      dryRun: false,
    });
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(5);
    const listed = await get('/api/recommendations');
    expect(listed.recommendations.find((r: { id: string }) => r.id === rec.id).status).toBe('applied');
  });

  it('is idempotent: the same id again answers the same record and acts once', async () => {
    const rec = await addRecommendation();
    const a = await apply(rec.id, OPERATOR);
    const b = await apply(rec.id, OPERATOR);
    expect(b.status).toBe(200);
    expect(b.body).toEqual(a.body);
    expect(k8s.writes()).toHaveLength(1);
    expect((await get('/api/audit')).records).toHaveLength(1);
  });

  it('acts once for concurrent applies of one recommendation', async () => {
    const rec = await addRecommendation();
    k8s.faults.writeDelayMs = 150; // keep the first one in flight while the others arrive
    const all = await Promise.all(Array.from({ length: 5 }, () => apply(rec.id, OPERATOR)));
    expect(all.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(all.map((r) => r.body.id)).size).toBe(1);
    expect(k8s.writes()).toHaveLength(1);
    expect((await get('/api/audit')).records).toHaveLength(1);
  });

  it('refuses an expired recommendation and marks it expired', async () => {
    const now = Date.now() / 1000;
    const rec = await addRecommendation({ createdAt: now - 1000, expiresAt: now - 1 });
    const r = await apply(rec.id, OPERATOR);
    expect(r.status).toBe(409);
    expect(r.body.error.message).toMatch(/is expired/);
    expect(k8s.writes()).toHaveLength(0);
    expect((await srv.store.getRecommendation(rec.id))!.status).toBe('expired');
    expect((await get('/api/audit')).records).toHaveLength(0);
  });

  it('refuses a recommendation outside the target bounds as configured now', async () => {
    const rec = await addRecommendation({ recommendedReplicas: 50 });
    const r = await apply(rec.id, OPERATOR);
    expect(r.status).toBe(409);
    expect(r.body.error.message).toMatch(/outside web's bounds \[2, 20\]/);
    expect(k8s.writes()).toHaveLength(0);
  });

  it('refuses a superseded recommendation, and a body that names anything', async () => {
    const old = await addRecommendation();
    await addRecommendation({ recommendedReplicas: 6 });
    expect((await apply(old.id, OPERATOR)).status).toBe(409);
    const newer = await addRecommendation({ recommendedReplicas: 7 });
    const r = await apply(newer.id, OPERATOR, { replicas: 100 });
    expect(r.status).toBe(400);
    expect((await apply('rec-nope', OPERATOR)).status).toBe(404);
    expect(k8s.writes()).toHaveLength(0);
  });

  it('retries a 409 from the cluster and succeeds', async () => {
    const rec = await addRecommendation();
    k8s.faults.conflicts = 2;
    const r = await apply(rec.id, OPERATOR);
    expect(r.status).toBe(200);
    expect(k8s.writes()).toHaveLength(3);
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(5);
  });

  it('reports an RBAC 403 naming the verb and resource, records the failure, and repeats it', async () => {
    const rec = await addRecommendation();
    k8s.faults.forbid.add('patch deployments/scale');
    const r = await apply(rec.id, OPERATOR);
    expect(r.status).toBe(502);
    expect(r.body.error.message).toMatch(/verb "patch" on resource "deployments\/scale"/);
    expect(r.body.record).toMatchObject({ outcome: 'failed', recommendationId: rec.id });
    k8s.faults.forbid.clear();
    const again = await apply(rec.id, OPERATOR);
    expect(again.status).toBe(502);
    expect(again.body.record.id).toBe(r.body.record.id);
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(3);
    expect((await srv.store.getRecommendation(rec.id))!.status).toBe('failed');
  });

  it('raises an HPA floor that reverts itself when it expires, both audited', async () => {
    const rec = await addRecommendation({ target: 'api', recommendedReplicas: 6 });
    const r = await apply(rec.id, OPERATOR);
    expect(r.status).toBe(200);
    expect(r.body.detail).toMatch(/minReplicas 2 → 6/);
    expect((k8s.hpa('shop', 'api') as { spec: { minReplicas: number } }).spec.minReplicas).toBe(6);
    // floorTtl is 1 s: the service's own timer reverts it, nobody calls anything.
    await new Promise((res) => setTimeout(res, 1800));
    expect((k8s.hpa('shop', 'api') as { spec: { minReplicas: number } }).spec.minReplicas).toBe(2);
    const { records } = await get('/api/audit');
    expect(records.map((x: { action: string; outcome: string }) => [x.action, x.outcome])).toEqual([
      ['revert-floor', 'applied'],
      ['apply', 'applied'],
    ]);
    expect(records[0]).toMatchObject({ actor: 'prescaler:floor-expiry', fromReplicas: 6, toReplicas: 2 });
  });
});

describe('apply against a workload that changed, and one action per target at a time', () => {
  it('refuses a stale emergency (someone scaled since) with 409, recorded as failed, and writes nothing', async () => {
    const raised = await post('/api/alerts/webhook', ALERTMANAGER);
    const id = raised.body.results[0].recommendationId;
    expect(await srv.store.getRecommendation(id)).toMatchObject({
      currentReplicas: 3,
      recommendedReplicas: 5,
    });
    k8s.externalWrite('Deployment', 'shop', 'web', 12); // kubectl scale --replicas=12
    const r = await apply(id, OPERATOR);
    expect(r.status).toBe(409);
    const message =
      'stale: web now runs 12 replicas, the recommendation was made at 3; wait for the next evaluation';
    expect(r.body.error).toEqual({ code: 'conflict', message });
    expect(r.body.record).toMatchObject({
      outcome: 'failed',
      fromReplicas: 3,
      toReplicas: 5,
      detail: message,
    });
    expect(k8s.writes()).toHaveLength(0);
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(12);
    // Asking again answers the same record; still nothing written.
    const again = await apply(id, OPERATOR);
    expect(again.status).toBe(409);
    expect(again.body).toEqual(r.body);
    expect((await get('/api/audit')).records).toHaveLength(1);
    expect((await srv.store.getRecommendation(id))!.status).toBe('failed');
  });

  it('applies only one of two recommendations for a target asked for at the same time', async () => {
    const a = await addRecommendation({ recommendedReplicas: 5 });
    const b: StoredRecommendation = {
      ...a,
      id: `rec-test-${++seq}`,
      kind: 'emergency',
      recommendedReplicas: 6,
    };
    await srv.store.addRecommendation(b, []); // both pending, both computed against 3 replicas
    k8s.faults.writeDelayMs = 150;
    const [ra, rb] = await Promise.all([apply(a.id, OPERATOR), apply(b.id, OPERATOR)]);
    expect([ra.status, rb.status]).toEqual([200, 409]);
    expect(rb.body.error.message).toMatch(/is superseded/);
    expect(k8s.writes()).toHaveLength(1);
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(5);
    expect((await get('/api/audit')).records).toHaveLength(1);
  });

  it('refuses an apply while another action on the target has no outcome yet', async () => {
    const a = await addRecommendation({ recommendedReplicas: 5 });
    k8s.faults.writeDelayMs = 300;
    const first = apply(a.id, OPERATOR);
    await waitUntil(() => k8s.writes().length === 1);
    // Advice made while the first write is in flight.
    const c = await addRecommendation({ recommendedReplicas: 8 });
    const r = await apply(c.id, OPERATOR);
    expect(r.status).toBe(409);
    expect(r.body.error.message).toMatch(
      new RegExp(
        `^web has an action without an outcome yet \\(audit record \\d+: apply of ${a.id} by token:grafana\\)`
      )
    );
    expect(r.body.record).toBeUndefined();
    expect((await first).status).toBe(200);
    expect(k8s.writes()).toHaveLength(1);
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(5);
    expect((await srv.store.getRecommendation(c.id))!.status).toBe('superseded');
  });

  it("supersedes the target's other pending advice when an apply is decided, even if it then fails", async () => {
    const a = await addRecommendation({ recommendedReplicas: 5 });
    const e: StoredRecommendation = {
      ...a,
      id: `rec-test-${++seq}`,
      kind: 'emergency',
      recommendedReplicas: 6,
    };
    await srv.store.addRecommendation(e, []);
    k8s.faults.forbid.add('patch deployments/scale');
    expect((await apply(a.id, OPERATOR)).status).toBe(502);
    expect((await srv.store.getRecommendation(e.id))!.status).toBe('superseded');
  });

  it('reads back after a 500 or a reset connection; an unreadable outcome stays unknown and blocks the target until reconciled', async () => {
    const a = await addRecommendation({ recommendedReplicas: 5 });
    k8s.faults.writeFailures.push({ kind: 'status', code: 500, landed: true });
    const ok = await apply(a.id, OPERATOR);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ outcome: 'applied', fromReplicas: 3, toReplicas: 5 });
    expect(ok.body.detail).toMatch(/the API answered 500; reading back shows it took effect/);

    const b = await addRecommendation({ currentReplicas: 5, recommendedReplicas: 7 });
    k8s.faults.writeFailures.push({ kind: 'reset', landed: true, thenForbid: 'get deployments/scale' });
    const lost = await apply(b.id, OPERATOR);
    expect(lost.status).toBe(502);
    expect(lost.body.record).toMatchObject({ outcome: 'unknown', recommendationId: b.id });
    expect(lost.body.error.message).toMatch(/reading back failed too, so the outcome is unknown/);

    const c = await addRecommendation({ currentReplicas: 5, recommendedReplicas: 6 });
    const blocked = await apply(c.id, OPERATOR);
    expect(blocked.status).toBe(409);
    expect(blocked.body.error.message).toMatch(/awaits reconciliation/);

    k8s.faults.forbid.clear();
    const [settled] = await srv.service.reconcile();
    expect(settled).toMatchObject({ recommendationId: b.id, outcome: 'applied', reconciled: true });
    expect(k8s.replicas('Deployment', 'shop', 'web')).toBe(7);
    expect(k8s.writes()).toHaveLength(2);
  });
});

describe('GET /api/targets and /api/audit', () => {
  it('shows each target as the cluster has it', async () => {
    const { targets } = await get('/api/targets');
    expect(targets.map((t: { name: string }) => t.name)).toEqual(['web', 'api']);
    expect(targets[0]).toMatchObject({
      unit: 'cores',
      mode: 'scale',
      actuator: 'kubernetes',
      dryRun: false,
      state: { replicas: 3 },
    });
    expect(targets[1].unit).toBeUndefined(); // not configured: not invented
    expect(targets[1]).toMatchObject({
      mode: 'hpa-floor',
      state: { setpoint: 2, hpa: { minReplicas: 2, maxReplicas: 10 } },
    });
  });

  it('rejects bad query parameters', async () => {
    const res = await fetch(srv.url + '/api/audit?limit=0', {
      headers: { authorization: `Bearer ${VIEWER}` },
    });
    expect(res.status).toBe(400);
  });
});

const ALERTMANAGER = {
  version: '4',
  groupKey: '{}:{alertname="HighCPU"}',
  truncatedAlerts: 0,
  status: 'firing',
  receiver: 'prescaler',
  groupLabels: { alertname: 'HighCPU' },
  commonLabels: { alertname: 'HighCPU', target: 'web', severity: 'critical' },
  commonAnnotations: { summary: 'web CPU above 90 %' },
  externalURL: 'http://alertmanager:9093',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'HighCPU', target: 'web', severity: 'critical' },
      annotations: { summary: 'web CPU above 90 %' },
      startsAt: '2025-11-20T10:00:00.000Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph?g0.expr=...',
      fingerprint: 'c6a1b4f2d3e4a5b6',
    },
  ],
};

const GRAFANA = {
  receiver: 'prescaler',
  status: 'firing',
  orgId: 1,
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'PrescalerAnomaly', grafana_folder: 'Prescaler', target: 'api' },
      annotations: { summary: 'anomaly score above threshold' },
      startsAt: '2025-11-20T10:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://grafana:3000/alerting/grafana/abc/view',
      fingerprint: '57c6d9296de2ad39',
      silenceURL: 'http://grafana:3000/alerting/silence/new',
      dashboardURL: '',
      panelURL: '',
      values: { A: 0.93, C: 1 },
      valueString: "[ var='A' labels={target=api} value=0.93 ]",
    },
  ],
  groupLabels: { alertname: 'PrescalerAnomaly' },
  commonLabels: { alertname: 'PrescalerAnomaly', target: 'api' },
  commonAnnotations: {},
  externalURL: 'http://grafana:3000/',
  version: '1',
  groupKey: '{}:{alertname="PrescalerAnomaly"}',
  truncatedAlerts: 0,
  title: '[FIRING:1] PrescalerAnomaly',
  state: 'alerting',
  message: '**Firing**',
};

describe('POST /api/alerts/webhook', () => {
  it('turns an Alertmanager alert into a pending emergency recommendation, once per alert', async () => {
    const r = await post('/api/alerts/webhook', ALERTMANAGER);
    expect(r.status).toBe(200);
    expect(r.body.source).toBe('alertmanager');
    expect(r.body.results).toEqual([
      expect.objectContaining({ target: 'web', status: 'pending', recommendationId: expect.any(String) }),
    ]);
    const rec = (await srv.store.getRecommendation(r.body.results[0].recommendationId))!;
    expect(rec).toMatchObject({
      kind: 'emergency',
      currentReplicas: 3,
      recommendedReplicas: 5,
      status: 'pending',
    });
    expect(rec.reason).toMatch(/alert "HighCPU"/);
    expect(k8s.writes()).toHaveLength(0); // web has no auto-apply policy: a human decides
    const again = await post('/api/alerts/webhook', ALERTMANAGER);
    expect(again.body.results[0].status).toBe('duplicate');
  });

  it('auto-applies a Grafana alert where the policy allows, within its cap, and says so in the audit', async () => {
    const r = await post('/api/alerts/webhook', GRAFANA);
    expect(r.status).toBe(200);
    expect(r.body.source).toBe('grafana');
    expect(r.body.results[0]).toMatchObject({ target: 'api', status: 'auto-applied' });
    expect((k8s.hpa('shop', 'api') as { spec: { minReplicas: number } }).spec.minReplicas).toBe(5); // cap 5
    const { records } = await get('/api/audit');
    expect(records[0]).toMatchObject({
      actor: 'policy:autoApplyEmergency (alert PrescalerAnomaly)',
      toReplicas: 5,
      outcome: 'applied',
    });
  });

  it('stays a duplicate for as long as the alert fires: a repeat hours later raises nothing new', async () => {
    const first = await post('/api/alerts/webhook', ALERTMANAGER);
    const id = first.body.results[0].recommendationId;
    // Four hours pass (Alertmanager's default repeat_interval): the emergency has long expired.
    (srv.store as SqliteStore).db
      .prepare('UPDATE recommendations SET created_at = created_at - 14400, expires_at = expires_at - 14400')
      .run();
    await srv.store.expireDue(Date.now() / 1000);
    const repeat = await post('/api/alerts/webhook', {
      ...ALERTMANAGER,
      alerts: [{ ...ALERTMANAGER.alerts[0], startsAt: '2025-11-20T10:00:00Z' }], // same instant, other spelling
    });
    expect(repeat.body.results[0]).toMatchObject({ status: 'duplicate', recommendationId: id });
    expect(repeat.body.results[0].message).toMatch(/already handled by .* \(expired\)/);
    expect(await srv.store.listRecommendations({ target: 'web' })).toHaveLength(1);
  });

  it('treats a resolved alert that fires again as a new occurrence; Grafana alerts without a fingerprint too', async () => {
    const labels = { alertname: 'PrescalerAnomaly', target: 'web' };
    const send = (status: 'firing' | 'resolved', startsAt?: string) =>
      post('/api/alerts/webhook', {
        ...GRAFANA,
        status,
        alerts: [{ status, labels, annotations: {}, ...(startsAt ? { startsAt } : {}) }],
      });
    const a = await send('firing', '2025-11-20T10:00:00Z');
    expect(a.body.results[0].status).toBe('pending');
    expect((await send('firing', '2025-11-20T10:00:00Z')).body.results[0].status).toBe('duplicate');
    const resolved = await send('resolved', '2025-11-20T10:00:00Z');
    expect(resolved.body.results[0].message).toMatch(/^resolved: this occurrence is over/);
    // A late copy of the old occurrence stays answered; the new firing (new startsAt) is new.
    expect((await send('firing', '2025-11-20T10:00:00Z')).body.results[0].status).toBe('duplicate');
    const b = await send('firing', '2025-11-20T14:00:00Z');
    expect(b.body.results[0].status).toBe('pending');
    expect(b.body.results[0].recommendationId).not.toBe(a.body.results[0].recommendationId);

    // No startsAt at all: the same alert is one occurrence until it resolves.
    const c = await send('firing');
    expect(c.body.results[0].status).toBe('pending');
    expect((await send('firing')).body.results[0].status).toBe('duplicate');
    await send('resolved');
    expect((await send('firing')).body.results[0].status).toBe('pending');
  });

  it('answers 400 to malformed payloads and 401 without a token', async () => {
    expect((await post('/api/alerts/webhook', '{"alerts": [')).status).toBe(400);
    expect((await post('/api/alerts/webhook', { alerts: 'nope' })).status).toBe(400);
    expect((await post('/api/alerts/webhook', { alerts: [{ labels: { target: 'web' } }] })).status).toBe(400);
    expect((await post('/api/alerts/webhook', [1, 2])).status).toBe(400);
    expect((await post('/api/alerts/webhook', ALERTMANAGER, 'wrong-token-000000000')).status).toBe(401);
    const resolved = await post('/api/alerts/webhook', {
      ...ALERTMANAGER,
      alerts: [{ ...ALERTMANAGER.alerts[0], status: 'resolved' }],
    });
    expect(resolved.body.results[0].status).toBe('skipped');
    expect(k8s.writes()).toHaveLength(0);
  });
});
