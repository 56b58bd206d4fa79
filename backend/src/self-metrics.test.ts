/**
 * The backend's metrics about itself, read from /metrics of the real server (demo source, shipped
 * models, dry-run): prescaler_build_info, prescaler_last_evaluation_timestamp_seconds and
 * prescaler_actions_total after an apply through the HTTP API.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startTestServer, type TestServer } from '../../test/helpers/server';
import { DemoSource } from './sources/demo';
import { prescalerVersion } from './version';

const NOW = Math.floor(Date.now() / 1000);
const TOKEN = 'o'.repeat(24);
let harness: TestServer;

beforeAll(async () => {
  harness = await startTestServer({
    yaml: `auth:
  tokens: [{name: sre, token: "${TOKEN}", role: operator}]
targets:
  - name: web
    namespace: shop
    workload: {kind: Deployment, name: web}
    query: demo_cpu_usage{deployment="web"}
    capacityPerReplica: 0.1
    minReplicas: 1
    maxReplicas: 200
  - name: ghost
    workload: {kind: Deployment, name: ghost}
    query: demo_cpu_usage{deployment="nope"}
    capacityPerReplica: 0.5
    maxReplicas: 5
`,
    startLoop: false,
    source: new DemoSource({ now: () => NOW }),
    loopNow: () => NOW,
  });
}, 60_000);
afterAll(() => harness?.close());

const scrape = async () => (await fetch(`${harness.srv.url}/metrics`)).text();
const sample = (text: string, name: string, labels: string) =>
  new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1];

it('prescaler_build_info gives the version, Node and the models served', async () => {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8'));
  expect(prescalerVersion()).toBe(pkg.version);
  const { forecaster, anomaly } = harness.srv.models;
  const labels =
    `version="${pkg.version}",node="${process.version}",` +
    `forecaster="${forecaster!.metadata.id}@${forecaster!.metadata.version}",` +
    `anomaly="${anomaly!.id}@${anomaly!.version}"`;
  expect(sample(await scrape(), 'prescaler_build_info', labels)).toBe('1');
});

it('prescaler_last_evaluation_timestamp_seconds is set by a successful evaluation only', async () => {
  const before = Date.now() / 1000;
  const results = await harness.srv.loop.evaluateNow();
  const after = Date.now() / 1000;
  expect(results.map((r) => [r.target, r.ok])).toEqual([
    ['web', true],
    ['ghost', false],
  ]);
  const text = await scrape();
  const at = Number(sample(text, 'prescaler_last_evaluation_timestamp_seconds', 'target="web"'));
  expect(at).toBeGreaterThanOrEqual(before);
  expect(at).toBeLessThanOrEqual(after);
  expect(text).not.toMatch(/prescaler_last_evaluation_timestamp_seconds\{target="ghost"\}/);
});

it('prescaler_actions_total counts an apply made through the API', async () => {
  const text0 = await scrape();
  expect(sample(text0, 'prescaler_actions_total', 'target="web",outcome="applied"')).toBe('0');
  const recs = await (
    await fetch(`${harness.srv.url}/api/recommendations`, { headers: { authorization: `Bearer ${TOKEN}` } })
  ).json();
  const rec = recs.recommendations.find((r: { target: string; status: string }) => r.target === 'web');
  expect(rec).toBeDefined();
  const res = await fetch(`${harness.srv.url}/api/recommendations/${rec.id}/apply`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(res.status).toBe(200);
  const again = await fetch(`${harness.srv.url}/api/recommendations/${rec.id}/apply`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(again.status).toBe(200); // the same action's record: counted once
  const text = await scrape();
  expect(sample(text, 'prescaler_actions_total', 'target="web",outcome="applied"')).toBe('1');
  expect(sample(text, 'prescaler_actions_total', 'target="ghost",outcome="failed"')).toBe('0');
});
