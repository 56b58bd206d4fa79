/**
 * The shipped alert rules end to end: a real Prometheus scrapes the real backend (demo source, evaluation
 * loop every second) and evaluates provisioning/prometheus/rules/prescaler.rules.yml; normal load stays
 * silent, an anomaly injected into the demo source drives PrescalerAnomalyScoreHigh to firing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { parseDuration } from '../backend/src/series/time';
import type { RunningServer } from '../backend/src/server';
import { DemoSource } from '../backend/src/sources/demo';
import { startPrometheus, type RunningPrometheus } from './helpers/prometheus';
import { startTestServer, type TestServer } from './helpers/server';

const RULES_FILE = path.resolve(__dirname, '../provisioning/prometheus/rules/prescaler.rules.yml');
const DAY = 86400;

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  [k: string]: unknown;
}
// A type, not an interface: the harness takes it as Record<string, unknown>.
type RuleFile = {
  groups: Array<{ name: string; rules: Rule[] }>;
};
interface Alert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
  value: string;
}

/**
 * The shipped rules with only their `for:` durations shortened (÷100: 5m → 3s, 2m → 1.2s), so the
 * expressions, labels and annotations Prometheus evaluates here are exactly the shipped ones.
 */
function rulesWithShortFor(shipped: RuleFile): RuleFile {
  const copy: RuleFile = structuredClone(shipped);
  for (const g of copy.groups) {
    for (const r of g.rules) {
      if (r.for === undefined) continue;
      const seconds = parseDuration(r.for);
      if (seconds === undefined) throw new Error(`cannot parse for: ${r.for} of ${r.alert}`);
      r.for = `${Math.round(seconds * 10)}ms`;
    }
  }
  return copy;
}

/**
 * A demo seed whose schedule puts no anomaly on these deployments in the eight days before `now` (all the
 * evaluation loop reads: the forecaster's history, and the anomaly detector's week of breakout look-back)
 * or the next hour: "normal load" by the source's own ground truth.
 */
function quietSeed(deployments: string[], now: number): number {
  for (let seed = 1; seed < 1000; seed++) {
    const s = new DemoSource({ seed });
    if (deployments.every((d) => s.anomalies(now - 8 * DAY, now + 3600, d).length === 0)) return seed;
  }
  throw new Error('no quiet demo seed');
}

/**
 * The instant the backend's evaluation loop evaluates, every round (`loopNow`): a fixed one, so the scores
 * under "normal load" are the same in every run. On the real clock the loop scored whatever instant the run
 * started at, and a few normal points in a thousand cross the detector's threshold: now and then a run saw
 * one.
 */
const NOW = 1_764_000_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let harness: TestServer;
let srv: RunningServer;
let prom: RunningPrometheus;
let demo: DemoSource;
const shipped: RuleFile = YAML.parse(fs.readFileSync(RULES_FILE, 'utf8'));

async function promGet<T>(p: string): Promise<T> {
  const res = await fetch(`${prom.url}${p}`);
  const body = (await res.json()) as { status: string; data: T };
  if (body.status !== 'success') throw new Error(`${p}: ${JSON.stringify(body)}`);
  return body.data;
}

const alerts = async (alertname: string) =>
  (await promGet<{ alerts: Alert[] }>('/api/v1/alerts')).alerts.filter(
    (a) => a.labels.alertname === alertname
  );

/** Polls until `check` returns a value (not undefined), or fails with what was last seen. */
async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) {
      const seen = await promGet('/api/v1/alerts').catch((e) => String(e));
      throw new Error(
        `timed out waiting for ${what}; alerts: ${JSON.stringify(seen)}\n${prom.logs().slice(-2000)}`
      );
    }
    await sleep(250);
  }
}

beforeAll(async () => {
  // web: 1 replica of 0.1 cores, far below its demand (ForecastAboveCapacity must fire);
  // api: 30 replicas of 0.5 cores, far above its demand (it must not).
  demo = new DemoSource({ seed: quietSeed(['web', 'api'], NOW) });
  harness = await startTestServer({
    loopNow: () => NOW,
    yaml: `targets:
  - name: web
    namespace: shop
    workload: {kind: Deployment, name: web}
    query: demo_cpu_usage{deployment="web"}
    capacityPerReplica: 0.1
    minReplicas: 1
    maxReplicas: 100
  - name: api
    namespace: shop
    workload: {kind: Deployment, name: api}
    query: demo_cpu_usage{deployment="api"}
    capacityPerReplica: 0.5
    minReplicas: 30
    maxReplicas: 40
evaluation:
  interval: 1s
`,
    source: demo,
  });
  srv = harness.srv;
  if (!srv.models.forecaster || !srv.models.anomaly) {
    throw new Error(
      `models not loaded: ${srv.models.forecasterError ?? ''} ${srv.models.anomalyError ?? ''}`
    );
  }
  prom = await startPrometheus({
    scrapeConfigs: [
      {
        job_name: 'prescaler',
        scrape_interval: '1s',
        scrape_timeout: '1s',
        static_configs: [{ targets: [new URL(srv.url).host] }],
      },
    ],
    rules: [rulesWithShortFor(shipped)],
    scrapeInterval: '1s',
    evaluationInterval: '1s',
  });
}, 60_000);

afterAll(async () => {
  await prom?.stop();
  await harness?.close();
});

it('loads the shipped rules with only the for: durations changed', async () => {
  const derived = rulesWithShortFor(shipped);
  const strip = (f: RuleFile) =>
    f.groups.map((g) => ({ ...g, rules: g.rules.map(({ for: _f, ...r }) => r) }));
  expect(strip(derived)).toEqual(strip(shipped));
  // PrescalerAnomalyScoreHigh has no for: it fires on the first score at the threshold.
  expect(derived.groups[0].rules.map((r) => r.for)).toEqual([undefined, '1200ms', '0ms']);

  const data = await waitFor('the rules to be evaluated', 15_000, async () => {
    const d = await promGet<{
      groups: Array<{ rules: Array<{ name: string; query: string; health: string; lastError?: string }> }>;
    }>('/api/v1/rules');
    const rules = d.groups.flatMap((g) => g.rules);
    return rules.length > 0 && rules.every((r) => r.health === 'ok') ? rules : undefined;
  });
  const shippedRules = shipped.groups.flatMap((g) => g.rules);
  expect(data.map((r) => r.name)).toEqual(shippedRules.map((r) => r.alert));
  for (const r of data) expect(r.lastError ?? '').toBe('');
}, 30_000);

it('exports every gauge for every configured target, capacity = current replicas × capacityPerReplica', async () => {
  const text = await waitFor('the gauges', 15_000, async () => {
    const t = await (await fetch(`${srv.url}/metrics`)).text();
    return /prescaler_anomaly_score\{target="api"\}/.test(t) && /prescaler_capacity\{target="api"\}/.test(t)
      ? t
      : undefined;
  });
  const value = (name: string, labels: string): number => {
    const m = new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text);
    if (!m) throw new Error(`${name}{${labels}} missing from /metrics`);
    return Number(m[1]);
  };
  const horizons = [600, 1200, 1800, 2400, 3000, 3600];
  for (const [target, perReplica] of [
    ['web', 0.1],
    ['api', 0.5],
  ] as const) {
    for (const h of horizons)
      expect(value('prescaler_forecast', `target="${target}",horizon="${h}"`)).toBeGreaterThan(0);
    const score = value('prescaler_anomaly_score', `target="${target}"`);
    expect(score).toBeGreaterThanOrEqual(0);
    expect(score).toBeLessThanOrEqual(1);
    expect(value('prescaler_recommended_replicas', `target="${target}"`)).toBeGreaterThanOrEqual(1);
    const current = value('prescaler_current_replicas', `target="${target}"`);
    expect(current).toBe(target === 'web' ? 1 : 30);
    expect(value('prescaler_capacity', `target="${target}"`)).toBeCloseTo(current * perReplica, 10);
  }
  expect(text).not.toMatch(/^prescaler_evaluation_errors_total\{/m);
  // The threshold the rule compares with is the served detector's, the one the answers carry.
  const m = /^prescaler_anomaly_threshold (\S+)$/m.exec(text);
  expect(Number(m?.[1])).toBe(srv.models.anomaly!.detector.threshold);
  expect(srv.loop.status('web')?.anomalyThreshold).toBe(srv.models.anomaly!.detector.threshold);
}, 30_000);

it('stays silent under normal load; an injected spike drives PrescalerAnomalyScoreHigh to firing', async () => {
  // Prometheus must hold the scores and have evaluated the rule over them for longer than its for: (3 s).
  await waitFor('anomaly scores in Prometheus', 15_000, async () => {
    const d = await promGet<{ result: unknown[] }>('/api/v1/query?query=prescaler_anomaly_score');
    return d.result.length === 2 ? true : undefined;
  });
  const quietUntil = Date.now() + 6000;
  while (Date.now() < quietUntil) {
    expect(await alerts('PrescalerAnomalyScoreHigh')).toEqual([]);
    await sleep(500);
  }
  // The other rules against their own conditions: web's 0.1 cores cannot serve its forecast, api's 15 can.
  const capacity = await waitFor('PrescalerForecastAboveCapacity to fire', 15_000, async () => {
    const a = await alerts('PrescalerForecastAboveCapacity');
    return a.some((x) => x.state === 'firing') ? a : undefined;
  });
  expect(capacity.map((a) => [a.labels.target, a.state])).toEqual([['web', 'firing']]);
  expect(await alerts('PrescalerEvaluationFailing')).toEqual([]);

  // Ten times web's CPU since three minutes ago: the latest point the loop scores is in the spike.
  demo.injectAnomaly({ deployment: 'web', kind: 'spike', start: NOW - 180, end: NOW + 600, factor: 10 });
  const firing = await waitFor('PrescalerAnomalyScoreHigh to fire', 30_000, async () => {
    const a = await alerts('PrescalerAnomalyScoreHigh');
    return a.some((x) => x.state === 'firing') ? a : undefined;
  });
  expect(firing).toHaveLength(1);
  expect(firing[0].labels).toMatchObject({
    alertname: 'PrescalerAnomalyScoreHigh',
    target: 'web',
    severity: 'warning',
  });
  const threshold = srv.models.anomaly!.detector.threshold;
  expect(Number(firing[0].value)).toBeGreaterThanOrEqual(threshold);
  expect(srv.loop.status('web')?.anomalyScore).toBeGreaterThanOrEqual(threshold);
  expect(srv.loop.status('api')?.anomalyScore).toBeLessThan(threshold);
}, 60_000);
