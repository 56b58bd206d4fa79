/**
 * The demo shows itself at once: `npm run demo-backfill` fills a fresh Prometheus data directory with 9 days
 * of the demo load model (promtool), Prometheus starts on it scraping the demo workload exporter with the
 * shipped scrape config, and within Prometheus' first minute the backend (the demo stack's configuration)
 * answers a forecast and anomaly scores and has evaluated both targets. Without the backfill the same stack
 * has no forecast. The backfilled past and the live scrape are one series.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import {
  createBlocks,
  ensurePrometheusBinaries,
  freePort,
  startPrometheus,
  type RunningPrometheus,
} from './helpers/prometheus';
import { startTestServer, type TestServer } from './helpers/server';

const root = path.resolve(__dirname, '..');
const CLI = path.join(root, 'backend/src/cli/demo-backfill.ts');
const OPERATOR = 'operator-token-0123456789';
const VIEWER = 'viewer-token-0123456789';
// Wednesday 2026-03-04 14:00:30 UTC, for the runs whose output is compared exactly.
const FIXED_END = 1772632830;

let dir: string;
const children: ChildProcess[] = [];
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-demo-backfill-'))));
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The environment without DEMO_SEED: the exporter and the backfill then both use the default seed. */
function withoutSeed(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.DEMO_SEED;
  return env;
}

function cli(args: string[]): Promise<{ status: number | null; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: withoutSeed(),
    });
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('exit', (status) => resolve({ status, stderr, ms: Date.now() - t0 }));
  });
}

/** The demo workload exporter (`npm run demo-workload`) on a free port. */
async function startExporter(): Promise<number> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'backend/src/cli/demo-workload.ts'], {
    cwd: root,
    stdio: 'ignore',
    env: withoutSeed({ PORT: String(port) }),
  });
  children.push(child);
  for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
    if (child.exitCode !== null) throw new Error(`demo workload exporter exited with ${child.exitCode}`);
    if (
      await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false
      )
    )
      return port;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('demo workload exporter did not answer within 30 s');
}

/** The shipped demo-workload scrape job (relabelling included), pointed at the exporter on loopback. */
function demoScrapeJob(port: number): Record<string, unknown> {
  const cfg = YAML.parse(fs.readFileSync(path.join(root, 'provisioning/prometheus/prometheus.yml'), 'utf8'));
  const job = cfg.scrape_configs.find((j: { job_name: string }) => j.job_name === 'demo-workload');
  return { ...job, static_configs: [{ targets: [`127.0.0.1:${port}`] }] };
}

function startDemoBackend(prom: RunningPrometheus): Promise<TestServer> {
  return startTestServer({
    yaml: fs.readFileSync(path.join(root, 'provisioning/prescaler/prescaler.yaml'), 'utf8'),
    env: {
      PROMETHEUS_URL: prom.url,
      PRESCALER_OPERATOR_TOKEN: OPERATOR,
      PRESCALER_VIEWER_TOKEN: VIEWER,
      PRESCALER_ACTUATOR: 'dry-run',
    },
  });
}

async function api(srv: TestServer, route: string, body?: unknown) {
  const res = await fetch(srv.srv.url + route, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${VIEWER}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function promQuery(prom: RunningPrometheus, query: string) {
  const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  return (await res.json()).data.result as Array<{ metric: Record<string, string>; value: [number, string] }>;
}

const blocks = (tsdb: string) => fs.readdirSync(tsdb).filter((f) => /^[0-9A-Z]{26}$/.test(f));

describe('a fresh demo Prometheus filled by demo-backfill', () => {
  let prom: RunningPrometheus;
  let srv: TestServer;
  let tsdb: string;
  let exporterPort: number;
  let backfillEnd: number;
  let t0: number;

  beforeAll(async () => {
    exporterPort = await startExporter();
    tsdb = path.join(dir, 'tsdb');
    backfillEnd = Math.floor(Date.now() / 1000);
    const r = await cli(['--tsdb', tsdb]);
    process.stderr.write(`demo-backfill: ${r.ms} ms: ${r.stderr}`);
    expect(r.stderr).toMatch(/demo-backfill: 129610 samples \(10 series, 9\.0 days\) into /);
    expect(r.status).toBe(0);
    prom = await startPrometheus({
      tsdbDir: tsdb,
      scrapeConfigs: [demoScrapeJob(exporterPort)],
      scrapeInterval: '2s',
    });
    t0 = Date.now();
    srv = await startDemoBackend(prom);
  }, 180_000);
  afterAll(async () => {
    await srv?.close();
    await prom?.stop();
  });

  it('gives a forecast, anomaly scores and both targets evaluated within its first minute', async () => {
    const forecast = await api(srv, '/api/forecast', { query: 'demo_cpu_usage{deployment="web"}' });
    expect(forecast.status).toBe(200);
    expect(forecast.body.series).toHaveLength(1);
    const [series] = forecast.body.series;
    expect(series.labels).toMatchObject({
      deployment: 'web',
      instance: 'demo-workload',
      job: 'demo-workload',
    });
    expect(series.forecast).toHaveLength(6);
    expect(series.actual.length).toBeGreaterThanOrEqual(140); // the default 24 h at 600 s
    expect(series.actual.at(-1)[0]).toBeGreaterThan((backfillEnd - 900) * 1000);

    const anomalies = await api(srv, '/api/anomalies', { query: 'demo_cpu_usage{deployment="api"}' });
    expect(anomalies.status).toBe(200);
    expect(anomalies.body.series[0].scores.length).toBeGreaterThan(100);

    // The loop's first evaluation runs at start-up; it reads 8 days of each target.
    let targets: Array<{
      name: string;
      lastEvaluation: { ok: boolean; recommendedReplicas: number } | null;
    }> = [];
    while (Date.now() - t0 < 60_000) {
      targets = (await api(srv, '/api/targets')).body.targets;
      if (targets.every((t) => t.lastEvaluation)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(targets.map((t) => [t.name, t.lastEvaluation?.ok])).toEqual([
      ['web', true],
      ['api', true],
    ]);
    for (const t of targets) expect(t.lastEvaluation!.recommendedReplicas).toBeGreaterThanOrEqual(2);
    const elapsed = Date.now() - t0;
    process.stderr.write(
      `demo-backfill: forecast, anomalies and both evaluations ${elapsed} ms after Prometheus was ready\n`
    );
    expect(elapsed).toBeLessThan(60_000);
  }, 90_000);

  it('joins the backfilled past and the live scrape into one series per deployment', async () => {
    let up: Awaited<ReturnType<typeof promQuery>> = [];
    for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
      up = await promQuery(prom, 'up{job="demo-workload"} == 1');
      if (up.length) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(up).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 2500)); // one more scrape
    // Samples of the last day, backfilled and scraped: one series per deployment, scraped ones included.
    const counts = await promQuery(prom, 'count_over_time(demo_cpu_usage[1d])');
    expect(counts.map((s) => s.metric.deployment).sort()).toEqual([
      'api',
      'batch',
      'search',
      'web',
      'worker',
    ]);
    const latest = await promQuery(prom, 'timestamp(demo_cpu_usage{deployment="web"})');
    expect(latest).toHaveLength(1);
    expect(Number(latest[0].value[1])).toBeGreaterThan(backfillEnd);
  }, 60_000);

  it('leaves a data directory that already holds data alone', async () => {
    const before = blocks(tsdb);
    expect(before.length).toBeGreaterThan(0);
    const r = await cli(['--tsdb', tsdb]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`${tsdb} already holds Prometheus data; left alone`);
    expect(blocks(tsdb)).toEqual(before);
  }, 60_000);
});

describe('without the backfill', () => {
  it('a fresh demo Prometheus has no forecast for the demo targets', async () => {
    const port = await startExporter();
    const prom = await startPrometheus({ scrapeConfigs: [demoScrapeJob(port)], scrapeInterval: '2s' });
    const srv = await startDemoBackend(prom);
    try {
      for (let i = 0; i < 20 && !(await promQuery(prom, 'demo_cpu_usage')).length; i++)
        await new Promise((r) => setTimeout(r, 500));
      const forecast = await api(srv, '/api/forecast', { query: 'demo_cpu_usage{deployment="web"}' });
      expect(forecast.status).toBe(422);
      expect(forecast.body.error.code).toBe('insufficient_history');
    } finally {
      await srv.close();
      await prom.stop();
    }
  }, 90_000);
});

describe('demo-backfill --openmetrics (the compose stack runs promtool on it in its own image)', () => {
  it('writes the demo past with the scrape labels, on a whole-minute grid, that promtool turns into blocks', async () => {
    const file = path.join(dir, 'demo.om');
    const r = await cli(['--openmetrics', file, '--end', String(FIXED_END), '--days', '1', '--seed', '42']);
    expect(r.stderr).toBe(`demo-backfill: 14410 samples of 10 series to ${file}\n`);
    expect(r.status).toBe(0);
    const text = fs.readFileSync(file, 'utf8');
    const web = text.split('\n').filter((l) => l.startsWith('demo_cpu_usage{deployment="web"'));
    expect(web).toHaveLength(1441);
    expect(web.at(-1)).toMatch(
      /^demo_cpu_usage\{deployment="web",instance="demo-workload",job="demo-workload",namespace="shop"\} [0-9.]+ 1772632800$/
    );
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect(fs.existsSync(`${file}.part`)).toBe(false);

    const { promtool } = await ensurePrometheusBinaries();
    const tsdb = path.join(dir, 'om-tsdb');
    await createBlocks(promtool, file, tsdb);
    expect(blocks(tsdb)).toHaveLength(1);
  }, 60_000);

  it('refuses to run without exactly one output, or with a bad number', async () => {
    const neither = await cli([]);
    expect(neither.status).toBe(2);
    expect(neither.stderr).toContain('give exactly one of --tsdb and --openmetrics');
    const both = await cli(['--tsdb', path.join(dir, 'x'), '--openmetrics', path.join(dir, 'y')]);
    expect(both.status).toBe(2);
    const days = await cli(['--tsdb', path.join(dir, 'x'), '--days', 'nine']);
    expect(days.status).toBe(2);
    expect(days.stderr).toContain('--days must be a number, got "nine"');
    const zero = await cli(['--tsdb', path.join(dir, 'x'), '--step', '0']);
    expect(zero.status).toBe(2);
    expect(zero.stderr).toContain('--days and --step must be positive');
    expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
  }, 60_000);
});
