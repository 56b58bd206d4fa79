/** The evaluation loop over the demo source and the shipped forecaster, in process, dry-run. */
import { startTestServer, type TestServer } from '../../test/helpers/server';
import type { RunningServer } from './server';
import { DemoSource } from './sources/demo';

// One fixed "now" for the demo's data and the loop: two rounds read the same values (with the real
// clock, a round a second later sampled other instants and could advise one replica more).
const NOW = Math.floor(Date.now() / 1000);

let harness: TestServer;
let srv: RunningServer;

beforeAll(async () => {
  harness = await startTestServer({
    yaml: `targets:
  - name: web
    namespace: shop
    workload: {kind: Deployment, name: web}
    query: demo_cpu_usage{deployment="web"}
    unit: cores
    capacityPerReplica: 0.1
    minReplicas: 1
    maxReplicas: 200
  - name: ghost
    workload: {kind: Deployment, name: ghost}
    query: demo_cpu_usage{deployment="nope"}
    capacityPerReplica: 0.5
    maxReplicas: 5
  - name: worker
    namespace: shop
    workload: {kind: HorizontalPodAutoscaler, name: worker}
    query: demo_cpu_usage{deployment="worker"}
    capacityPerReplica: 0.05
    minReplicas: 1
    maxReplicas: 300
`,
    startLoop: false,
    source: new DemoSource({ now: () => NOW }),
    loopNow: () => NOW,
  });
  srv = harness.srv;
}, 60_000);

afterAll(() => harness?.close());

it('evaluates every target, persists pending recommendations and sets the gauges; a failing target does not stop the others', async () => {
  const [web, ghost, worker] = await srv.loop.evaluateNow();
  expect(web).toMatchObject({ target: 'web', ok: true, currentReplicas: 1 });
  expect(web.recommendedReplicas).toBeGreaterThan(1);
  expect(web.reason).toMatch(
    /^p\d+ forecast( \(peak ×[\d.]+\))? [\d.]+ cores in 10 min \(lead 4 min\) → \d+ replicas at 70 %; now 1/
  );
  expect(ghost).toMatchObject({ target: 'ghost', ok: false, error: { reason: 'no_data' } });
  expect(worker.ok).toBe(true);

  const body = await (await fetch(`${srv.url}/api/recommendations?status=pending`)).json();
  const pending = body.recommendations.filter((r: { target: string }) => r.target === 'web');
  expect(pending).toHaveLength(1);
  expect(pending[0]).toMatchObject({
    id: web.recommendationId,
    currentReplicas: 1,
    recommendedReplicas: web.recommendedReplicas,
  });
  expect(pending[0].forecast.points).toHaveLength(6);

  const metrics = await (await fetch(`${srv.url}/metrics`)).text();
  expect(metrics).toContain(`prescaler_recommended_replicas{target="web"} ${web.recommendedReplicas}`);
  expect(metrics).toContain('prescaler_current_replicas{target="web"} 1');
  expect(metrics).toMatch(/prescaler_forecast\{target="web",horizon="3600"\} [\d.]+/);
  expect(metrics).toContain('prescaler_evaluation_errors_total{target="ghost",reason="no_data"} 1');

  // The same advice on the next round keeps its id; runs never overlap.
  const [a, b] = await Promise.all([srv.loop.evaluateNow(), srv.loop.evaluateNow()]);
  expect(a).toBe(b);
  expect(a[0].recommendationId).toBe(web.recommendationId);
}, 60_000);
