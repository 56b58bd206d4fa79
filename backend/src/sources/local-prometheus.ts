/**
 * A real Prometheus on loopback, for the bench, the demo backfill and the tests: backfills the given series
 * with promtool, starts the server on a free loopback port and waits until it is ready. Optional scrape
 * targets, rule files and Alertmanager receivers for alerting tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import YAML from 'yaml';

import type { Labels, Point } from '../series/types';

export interface BackfillSeries {
  /** Must include `__name__`. */
  labels: Labels;
  /** [Unix seconds, value]; any order; NaN/±Inf allowed. Timestamps must be distinct within a series. */
  points: Point[];
}

export interface StartPrometheusOptions {
  /** Written as OpenMetrics and backfilled with `promtool tsdb create-blocks-from openmetrics`. */
  series?: BackfillSeries[];
  /** An existing TSDB directory to serve (e.g. one `demo-backfill` filled) instead of a new one; kept by stop(). */
  tsdbDir?: string;
  /** Extra entries for `scrape_configs`, as Prometheus' YAML (e.g. `{job_name, scrape_interval, static_configs}`). */
  scrapeConfigs?: Array<Record<string, unknown>>;
  /** Paths of existing rule files (e.g. provisioning/prometheus/rules.yml). */
  ruleFiles?: string[];
  /** Rule files given inline (YAML text or the object), written into the temp dir. */
  rules?: Array<string | Record<string, unknown>>;
  /** Alertmanager API base URLs (`http://127.0.0.1:PORT[/prefix]`); Prometheus POSTs to `<url>/api/v2/alerts`. */
  alertmanagers?: string[];
  /** `global.scrape_interval`. Default '15s'. */
  scrapeInterval?: string;
  /** `global.evaluation_interval` (rules). Default '15s'. */
  evaluationInterval?: string;
  /** `--query.lookback-delta`; Prometheus' default is 5m (a gap shorter than that is bridged). */
  lookbackDelta?: string;
  /** `--web.route-prefix`, e.g. '/prometheus'; `url` then includes it. */
  routePrefix?: string;
  /** More command-line flags. */
  extraArgs?: string[];
  /** Default 30 000. */
  readyTimeoutMs?: number;
}

export interface RunningPrometheus {
  /** Base URL for the API, including the route prefix, without a trailing slash. */
  url: string;
  port: number;
  /** The TSDB directory (inside `dir`, unless `tsdbDir` was given). */
  dataDir: string;
  /** The temp dir holding config, rules, backfill input and data; removed by stop(). */
  dir: string;
  configFile: string;
  /** Time range of the backfilled samples (Unix seconds), if any. */
  backfilled?: { start: number; end: number; samples: number };
  /** Everything Prometheus printed so far (for failure messages). */
  logs(): string;
  /** Kills Prometheus (TERM, then KILL after 5 s) and removes `dir`. Safe to call twice. */
  stop(): Promise<void>;
}

const APT_COMMAND = 'sudo apt-get update && sudo apt-get install -y prometheus';

export async function startPrometheus(opts: StartPrometheusOptions = {}): Promise<RunningPrometheus> {
  const bin = await ensurePrometheusBinaries();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'prescaler-prometheus-'));
  try {
    const dataDir = opts.tsdbDir ? path.resolve(opts.tsdbDir) : path.join(dir, 'data');
    await mkdir(dataDir, { recursive: true });

    let backfilled: RunningPrometheus['backfilled'];
    const series = (opts.series ?? []).filter((s) => s.points.length > 0);
    if (series.length > 0) {
      backfilled = await backfillBlocks(bin.promtool, series, path.join(dir, 'backfill.om'), dataDir);
    }

    const ruleFiles = [...(opts.ruleFiles ?? []).map((p) => path.resolve(p))];
    for (const [i, r] of (opts.rules ?? []).entries()) {
      const file = path.join(dir, `rules-${i}.yml`);
      await writeFile(file, typeof r === 'string' ? r : YAML.stringify(r));
      ruleFiles.push(file);
    }
    const config: Record<string, unknown> = {
      global: {
        scrape_interval: opts.scrapeInterval ?? '15s',
        evaluation_interval: opts.evaluationInterval ?? '15s',
      },
      scrape_configs: opts.scrapeConfigs ?? [],
    };
    if (ruleFiles.length > 0) config.rule_files = ruleFiles;
    if (opts.alertmanagers?.length)
      config.alerting = { alertmanagers: opts.alertmanagers.map(alertmanagerConfig) };
    const configFile = path.join(dir, 'prometheus.yml');
    await writeFile(configFile, YAML.stringify(config));
    // Fail here, with promtool's words, rather than as a Prometheus that never gets ready.
    await run(bin.promtool, ['check', 'config', configFile]);

    const prefix = opts.routePrefix ? '/' + opts.routePrefix.replace(/^\/+|\/+$/g, '') : '';
    // The free port can be taken between probing and binding; try a few.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const args = [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${dataDir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        // Backfilled blocks may be years old; the default 15 d would delete them at start-up.
        '--storage.tsdb.retention.time=100y',
        ...(opts.lookbackDelta ? [`--query.lookback-delta=${opts.lookbackDelta}`] : []),
        ...(prefix
          ? [`--web.route-prefix=${prefix}`, `--web.external-url=http://127.0.0.1:${port}${prefix}`]
          : []),
        ...(opts.extraArgs ?? []),
      ];
      const url = `http://127.0.0.1:${port}${prefix}`;
      const proc = new PrometheusProcess(bin.prometheus, args);
      try {
        await proc.waitReady(`${url}/-/ready`, opts.readyTimeoutMs ?? 30_000);
      } catch (err) {
        await proc.kill();
        if (attempt < 3 && /address already in use/.test(proc.logs())) continue;
        throw err;
      }
      let stopped = false;
      return {
        url,
        port,
        dataDir,
        dir,
        configFile,
        backfilled,
        logs: () => proc.logs(),
        stop: async () => {
          if (stopped) return;
          stopped = true;
          await proc.kill();
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The series as OpenMetrics text for promtool: one family per metric name (its samples contiguous),
 * samples of a series in time order, timestamps in seconds, `# EOF` at the end.
 */
export function toOpenMetrics(series: BackfillSeries[]): {
  /** The OpenMetrics text in pieces (one per series): a week of 1000 series would pass V8's string limit. */
  chunks: string[];
  start: number;
  end: number;
  samples: number;
} {
  const families = new Map<string, BackfillSeries[]>();
  for (const s of series) {
    const name = s.labels.__name__;
    if (!name || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) {
      throw new Error(`backfill series needs a valid __name__ label, got ${JSON.stringify(s.labels)}`);
    }
    const members = families.get(name);
    if (members) members.push(s);
    else families.set(name, [s]);
  }
  const chunks: string[] = [];
  let start = Infinity;
  let end = -Infinity;
  let samples = 0;
  for (const [name, members] of families) {
    chunks.push(`# TYPE ${name} gauge\n`);
    for (const s of members) {
      const labelText = Object.entries(s.labels)
        .filter(([k]) => k !== '__name__')
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
        .join(',');
      const head = labelText ? `${name}{${labelText}}` : name;
      const points = [...s.points].sort((a, b) => a[0] - b[0]);
      const lines: string[] = [];
      for (let i = 0; i < points.length; i++) {
        const [t, v] = points[i];
        if (!Number.isFinite(t)) throw new Error(`non-finite timestamp in ${head}`);
        if (i > 0 && points[i - 1][0] === t) throw new Error(`two samples at ${t} in ${head}`);
        lines.push(`${head} ${formatValue(v)} ${t}`);
        start = Math.min(start, t);
        end = Math.max(end, t);
        samples++;
      }
      if (lines.length) chunks.push(lines.join('\n') + '\n');
    }
  }
  chunks.push('# EOF\n');
  return { chunks, start, end, samples };
}

/**
 * Writes the series as OpenMetrics to `input` and turns them into TSDB blocks in `dataDir` with
 * `promtool tsdb create-blocks-from openmetrics` (Prometheus must not be running on `dataDir`, or must be
 * restarted to see them).
 */
export async function backfillBlocks(
  promtool: string,
  series: BackfillSeries[],
  input: string,
  dataDir: string
): Promise<{ start: number; end: number; samples: number }> {
  const { start, end, samples } = await writeOpenMetrics(series, input);
  await createBlocks(promtool, input, dataDir);
  return { start, end, samples };
}

/** The series as an OpenMetrics file (see toOpenMetrics). */
export async function writeOpenMetrics(
  series: BackfillSeries[],
  file: string
): Promise<{ start: number; end: number; samples: number }> {
  const { chunks, start, end, samples } = toOpenMetrics(series);
  const handle = await open(file, 'w');
  try {
    // writeFile, unlike write, writes all of a chunk (it appends at the file position).
    for (const c of chunks) await handle.writeFile(c);
  } finally {
    await handle.close();
  }
  return { start, end, samples };
}

/** A Prometheus data directory holds data once it has a block (a ULID directory) or a write-ahead log. */
export function holdsData(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { withFileTypes: true }).some(
    (e) => e.isDirectory() && (e.name === 'wal' || /^[0-9A-HJKMNP-TV-Z]{26}$/.test(e.name))
  );
}

/** `promtool tsdb create-blocks-from openmetrics` of an OpenMetrics file into a TSDB directory. */
export async function createBlocks(promtool: string, input: string, dataDir: string): Promise<void> {
  // Large blocks: promtool's 2 h default makes a dozen blocks per day and is several times slower.
  await run(promtool, [
    'tsdb',
    'create-blocks-from',
    'openmetrics',
    '--max-block-duration=240h',
    input,
    dataDir,
  ]);
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function alertmanagerConfig(raw: string): Record<string, unknown> {
  const u = new URL(raw);
  const prefix = u.pathname.replace(/\/+$/, '');
  return {
    scheme: u.protocol.replace(':', ''),
    api_version: 'v2',
    ...(prefix ? { path_prefix: prefix } : {}),
    static_configs: [{ targets: [u.host] }],
  };
}

// ---- binaries -------------------------------------------------------------------------------------

let install: Promise<void> | undefined;

/** Finds prometheus and promtool; installs the Debian package when missing and running as root. */
export async function ensurePrometheusBinaries(): Promise<{ prometheus: string; promtool: string }> {
  let found = findBinaries();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `prometheus and promtool are needed for this test and were not found; install them with: ${APT_COMMAND}`
    );
  }
  install ??= (async () => {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update'], env);
    await run('apt-get', ['install', '-y', '--no-install-recommends', 'prometheus'], env);
  })();
  await install;
  found = findBinaries();
  if (!found)
    throw new Error(
      `installing the prometheus package did not provide prometheus and promtool; try: ${APT_COMMAND}`
    );
  return found;
}

function findBinaries(): { prometheus: string; promtool: string } | undefined {
  const dirs = [
    '/usr/bin',
    '/usr/local/bin',
    ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean),
  ];
  const find = (name: string) => dirs.map((d) => path.join(d, name)).find((p) => existsSync(p));
  const prometheus = find('prometheus');
  const promtool = find('promtool');
  return prometheus && promtool ? { prometheus, promtool } : undefined;
}

// ---- processes ------------------------------------------------------------------------------------

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A Prometheus child; killed with the test process if a test forgets stop(). */
class PrometheusProcess {
  private readonly child: ChildProcess;
  private output = '';
  private readonly exited: Promise<number | null>;

  constructor(binary: string, args: string[]) {
    this.child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this.child);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const c of running) c.kill('SIGKILL');
      });
    }
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString();
      // Keep the tail only: a long scrape test can log a lot.
      if (this.output.length > 1_000_000) this.output = this.output.slice(-500_000);
    };
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code) => {
        running.delete(this.child);
        resolve(code);
      });
      this.child.on('error', (err) => {
        this.output += `\nspawn error: ${err.message}`;
        running.delete(this.child);
        resolve(null);
      });
    });
  }

  logs(): string {
    return this.output;
  }

  async waitReady(readyUrl: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (Date.now() < deadline) {
      if (exited) throw new Error(`prometheus exited before it was ready:\n${tail(this.output)}`);
      try {
        const res = await fetch(readyUrl, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
        await res.body?.cancel();
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`prometheus was not ready at ${readyUrl} within ${timeoutMs} ms:\n${tail(this.output)}`);
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Runs a command to completion; rejects with its output when it fails. */
function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`${cmd} ${args.join(' ')} failed (exit ${code}):\n${tail(out)}`))
    );
  });
}

/** A port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
