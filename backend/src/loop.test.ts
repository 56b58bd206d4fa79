/** The evaluation loop over the demo source and the shipped forecaster, in process, dry-run. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { loadConfig } from './config';
import { startServer, type RunningServer } from './server';

let srv: RunningServer;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-loop-'));
  fs.writeFileSync(
    path.join(dir, 'config.yaml'),
    `targets:
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
`
  );
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    PRESCALER_CONFIG: path.join(dir, 'config.yaml'),
    PRESCALER_DB: path.join(dir, 'db.sqlite'),
    LOG_LEVEL: 'silent',
  });
  srv = await startServer(config, { logger: pino({ level: 'silent' }), startLoop: false });
}, 60_000);

afterAll(async () => {
  await srv?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('evaluates every target, persists pending recommendations and sets the gauges; a failing target does not stop the others', async () => {
  const [web, ghost, worker] = await srv.loop.evaluateNow();
  expect(web).toMatchObject({ target: 'web', ok: true, currentReplicas: 1 });
  expect(web.recommendedReplicas).toBeGreaterThan(1);
  expect(web.reason).toMatch(/^p\d+ forecast [\d.]+ cores in 10 min → \d+ replicas at 70 %; now 1/);
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
