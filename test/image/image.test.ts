/**
 * The images the Dockerfile builds, run for real (`npm run test:image` builds them, then runs this): the
 * backend as user node on a read-only root file system with a /data volume and a /tmp tmpfs, against a real
 * Prometheus holding the demo's past (promtool backfill), on the host's loopback (--network host). Health
 * with both models, /metrics, a forecast and the demo targets evaluated; the image's own HEALTHCHECK; no
 * test keys, sources or dev dependencies inside; a bad configuration stops it with its message; the plugin
 * target copies the built plugin into a volume.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEMO_SCRAPE_LABELS, demoHistory } from '../../backend/src/sources/demo-history';
import {
  createBlocks,
  ensurePrometheusBinaries,
  freePort,
  startPrometheus,
  type RunningPrometheus,
} from '../helpers/prometheus';

const IMAGE = process.env.PRESCALER_IMAGE ?? 'prescaler:test-image';
const PLUGIN_IMAGE = process.env.PRESCALER_PLUGIN_IMAGE ?? 'prescaler-plugin:test-image';
const root = path.resolve(__dirname, '../..');
const OPERATOR = 'operator-token-0123456789';
const VIEWER = 'viewer-token-0123456789';
const suffix = `${process.pid}-${Date.now()}`;
const CONTAINER = `prescaler-image-test-${suffix}`;
const VOLUME = `prescaler-image-test-data-${suffix}`;
const HISTORY_VOLUME = `prescaler-image-test-history-${suffix}`;
const WORKLOAD = `prescaler-image-test-workload-${suffix}`;

function docker(args: string[], opts: { allowFail?: boolean } = {}): { status: number | null; out: string } {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0 && !opts.allowFail)
    throw new Error(`docker ${args.join(' ')} failed (${r.status}):\n${out}`);
  return { status: r.status, out };
}

let prom: RunningPrometheus;
let port: number;
let url: string;
let tmp: string;

beforeAll(async () => {
  if (docker(['image', 'inspect', IMAGE], { allowFail: true }).status !== 0)
    throw new Error(`no image ${IMAGE}: run npm run test:image, which builds it first`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prescaler-image-'));
  prom = await startPrometheus({
    series: demoHistory({ end: Date.now() / 1000, days: 9, step: 120, labels: DEMO_SCRAPE_LABELS }),
  });
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
  docker([
    'run',
    '-d',
    '--name',
    CONTAINER,
    '--network',
    'host',
    '--read-only',
    '--tmpfs',
    '/tmp',
    '-v',
    `${VOLUME}:/data`,
    '-v',
    `${path.join(root, 'provisioning/prescaler/prescaler.yaml')}:/etc/prescaler/prescaler.yaml:ro`,
    // The image's own check, run often enough for a test to see it.
    '--health-interval',
    '2s',
    '-e',
    `PORT=${port}`,
    '-e',
    'HOST=127.0.0.1',
    '-e',
    `PROMETHEUS_URL=${prom.url}`,
    '-e',
    'PRESCALER_CONFIG=/etc/prescaler/prescaler.yaml',
    '-e',
    `PRESCALER_OPERATOR_TOKEN=${OPERATOR}`,
    '-e',
    `PRESCALER_VIEWER_TOKEN=${VIEWER}`,
    IMAGE,
  ]);
  const t0 = Date.now();
  while (Date.now() - t0 < 120_000) {
    const state = docker(['inspect', '-f', '{{.State.Running}}', CONTAINER]).out.trim();
    if (state !== 'true') throw new Error(`the container stopped:\n${docker(['logs', CONTAINER]).out}`);
    if (
      await fetch(url + '/api/health').then(
        (r) => r.ok,
        () => false
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 500));
  }
  process.stderr.write(`image: healthy ${Date.now() - t0} ms after docker run\n`);
}, 240_000);

afterAll(async () => {
  if (process.env.PRESCALER_KEEP_CONTAINER !== '1') {
    docker(['rm', '-f', CONTAINER, WORKLOAD], { allowFail: true });
    docker(['volume', 'rm', '-f', VOLUME, HISTORY_VOLUME], { allowFail: true });
  }
  await prom?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const get = (route: string, token = VIEWER) =>
  fetch(url + route, { headers: { authorization: `Bearer ${token}` } });

it('runs as the non-root user node on a read-only root file system, writing only /data', () => {
  expect(docker(['inspect', '-f', '{{.Config.User}}', IMAGE]).out.trim()).toBe('node');
  expect(docker(['exec', CONTAINER, 'id', '-u']).out.trim()).toBe('1000');
  expect(docker(['inspect', '-f', '{{.HostConfig.ReadonlyRootfs}}', CONTAINER]).out.trim()).toBe('true');
  const write = docker(['exec', CONTAINER, 'sh', '-c', 'touch /app/x'], { allowFail: true });
  expect(write.status).not.toBe(0);
  expect(write.out).toMatch(/Read-only file system/);
  expect(docker(['exec', CONTAINER, 'ls', '/data']).out).toContain('prescaler.db');
  // PID 1 is node itself (signals reach it), not npm or a shell.
  expect(docker(['exec', CONTAINER, 'cat', '/proc/1/cmdline']).out.replace(/\0/g, ' ')).toMatch(
    /^node --enable-source-maps build\/backend\/main\.js/
  );
});

it('serves /api/health with both models and Prometheus upstream', async () => {
  const res = await fetch(url + '/api/health');
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({
    status: 'ok',
    source: 'prometheus',
    upstream: { ok: true },
    models: { forecaster: { id: expect.any(String) }, anomaly: { id: expect.any(String) } },
  });
});

it('forecasts a demo target from the real Prometheus, and has evaluated both targets', async () => {
  const res = await fetch(url + '/api/forecast', {
    method: 'POST',
    headers: { authorization: `Bearer ${VIEWER}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'demo_cpu_usage{deployment="web"}' }),
  });
  expect(res.status).toBe(200);
  const body = await res.json();
  expect(body.series).toHaveLength(1);
  expect(body.series[0].forecast).toHaveLength(6);

  let targets: Array<{ name: string; lastEvaluation: { ok: boolean } | null }> = [];
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    targets = (await (await get('/api/targets')).json()).targets;
    if (targets.every((t) => t.lastEvaluation)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(targets.map((t) => [t.name, t.lastEvaluation?.ok])).toEqual([
    ['web', true],
    ['api', true],
  ]);
}, 90_000);

it('serves /metrics with the requests it answered', async () => {
  const res = await get('/metrics');
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text).toMatch(/^prescaler_http_requests_total\{.*route="\/api\/forecast".*status="200".*\} [1-9]/m);
  expect(text).toMatch(/^process_resident_memory_bytes /m);
});

it("reports healthy through the image's own HEALTHCHECK", async () => {
  let status = '';
  for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
    status = docker(['inspect', '-f', '{{.State.Health.Status}}', CONTAINER]).out.trim();
    if (status === 'healthy') break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  expect(status).toBe('healthy');
}, 40_000);

it('holds no test keys, sources, tests or dev dependencies', () => {
  const find = docker([
    'run',
    '--rm',
    '--entrypoint',
    'sh',
    IMAGE,
    '-c',
    'find / -xdev \\( -name "*.pem" -o -name "*.key" \\) -not -path "/etc/ssl/*" -not -path "/usr/*" 2>/dev/null; ls /app; ls /app/node_modules',
  ]).out;
  const [keys, rest] = [find.split('\n').filter((l) => /\.(pem|key)$/.test(l)), find];
  expect(keys).toEqual([]);
  const top = rest.split('\n');
  expect(top).toEqual(expect.arrayContaining(['build', 'models', 'node_modules', 'package.json']));
  for (const absent of ['test', 'backend', 'src', '.git', 'tsx', 'typescript', 'jest', 'webpack', 'dist'])
    expect({ absent, present: top.includes(absent) }).toEqual({ absent, present: false });
});

it('stops with the configuration error when its configuration is wrong', () => {
  const r = docker(
    ['run', '--rm', '--read-only', '-e', 'PRESCALER_CONFIG=/etc/prescaler/missing.yaml', IMAGE],
    { allowFail: true }
  );
  expect(r.status).toBe(2);
  expect(r.out).toMatch(/prescaler: configuration error: .*missing\.yaml/);
});

it('the plugin target copies the built plugin into /plugins for Grafana', () => {
  const plugins = path.join(tmp, 'plugins');
  fs.mkdirSync(plugins);
  const r = docker(['run', '--rm', '-v', `${plugins}:/plugins`, PLUGIN_IMAGE]);
  expect(r.out).toContain('plugin copied to /plugins/prescaler-autoscaling-app');
  const dir = path.join(plugins, 'prescaler-autoscaling-app');
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'plugin.json'), 'utf8')).id).toBe(
    'prescaler-autoscaling-app'
  );
  expect(fs.existsSync(path.join(dir, 'module.js'))).toBe(true);
  expect(fs.existsSync(path.join(dir, 'datasource/plugin.json'))).toBe(true);
  // A second run replaces the copy (a rebuilt plugin is not mixed with the old one).
  fs.writeFileSync(path.join(dir, 'stale.js'), '');
  docker(['run', '--rm', '-v', `${plugins}:/plugins`, PLUGIN_IMAGE]);
  expect(fs.existsSync(path.join(dir, 'stale.js'))).toBe(false);
  execFileSync('rm', ['-rf', plugins]);
});

it("runs the compose stack's demo-history (as user node into a fresh named volume) and demo-workload", async () => {
  // demo-history, as docker-compose.yml runs it: read-only, a named volume at /data that it can write.
  const history = docker([
    'run',
    '--rm',
    '--read-only',
    '-v',
    `${HISTORY_VOLUME}:/data`,
    IMAGE,
    'node',
    'build/backend/cli/demo-backfill.js',
    '--openmetrics',
    '/data/demo-history.om',
    '--days',
    '9',
  ]);
  expect(history.out).toMatch(/^demo-backfill: 129610 samples of 10 series to \/data\/demo-history\.om$/m);
  // What prometheus-backfill then does with it (promtool, here the host's).
  const file = path.join(tmp, 'demo-history.om');
  fs.writeFileSync(
    file,
    execFileSync(
      'docker',
      ['run', '--rm', '-v', `${HISTORY_VOLUME}:/data`, IMAGE, 'cat', '/data/demo-history.om'],
      {
        maxBuffer: 64 * 1024 * 1024,
      }
    )
  );
  const tsdb = path.join(tmp, 'tsdb');
  await createBlocks((await ensurePrometheusBinaries()).promtool, file, tsdb);
  expect(fs.readdirSync(tsdb).filter((f) => /^[0-9A-Z]{26}$/.test(f)).length).toBeGreaterThan(0);

  const port = await freePort();
  docker([
    'run',
    '-d',
    '--name',
    WORKLOAD,
    '--read-only',
    '--network',
    'host',
    '-e',
    `PORT=${port}`,
    IMAGE,
    'node',
    'build/backend/cli/demo-workload.js',
  ]);
  let text = '';
  for (const deadline = Date.now() + 30_000; Date.now() < deadline && !text;) {
    text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
      (r) => (r.ok ? r.text() : ''),
      () => ''
    );
    if (!text) await new Promise((r) => setTimeout(r, 300));
  }
  expect(text).toMatch(/^demo_cpu_usage\{deployment="web",namespace="shop"\} [0-9.]+$/m);
}, 120_000);
