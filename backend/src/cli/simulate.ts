/**
 * `npm run -s simulate -- --data FILE [--series NAME] [--json] [--report out.html] …`: replays a canonical
 * CSV trace through HPA, Prescaler and an oracle (docs/definitions.md). Progress on stderr, the table (or JSON) on stdout.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadSeriesFile } from '../data/loaders';
import { PrescalerError } from '../errors';
import type { BatchForecaster } from '../forecast/types';
import type { ForecasterMetadata } from '../forecast/lstm';
import { persistenceForecaster, seasonalForecaster } from '../evaluate/simulate/fallback-forecasters';
import { forecastTrack } from '../evaluate/simulate/forecasts';
import { simulationReportHtml } from '../evaluate/simulate/report';
import { costAtEqualViolationsInWorkers, defaultThreads } from '../evaluate/simulate/frontier-workers';
import {
  firstOriginNeeded,
  type Comparison,
  type FrontierInput,
  type FrontierResult,
} from '../evaluate/simulate/frontier';
import { describeSetting, frontierReportHtml } from '../evaluate/simulate/frontier-report';
import {
  simulateAll,
  SIMULATION_DEFAULTS,
  type SimulationOptions,
  type SimulationResult,
} from '../evaluate/simulate/simulate';
import type { BandChoice } from '../evaluate/simulate/policies';

const FORECASTERS = ['lstm', 'persistence', 'seasonal'] as const;
type ForecasterName = (typeof FORECASTERS)[number];

// The one place that picks the forecaster when --forecaster is not given.
const DEFAULT_FORECASTER: ForecasterName = 'lstm';
const DEFAULT_MODEL_DIR = path.join(__dirname, '..', '..', '..', 'models', 'forecaster');

const USAGE = `usage: npm run -s simulate -- --data FILE [--series NAME] [--frontier [--threads N]] [--json] [--report out.html]
  [--metric-lag 30] [--utilization-cap 1|inf] [--no-behavior] [--interval 60] [--approval-delay 0]
  [--peak-replicas 20] [--startup 120] [--target 0.7] [--min-replicas 1] [--max-replicas 40]
  [--forecaster ${FORECASTERS.join('|')}] (default ${DEFAULT_FORECASTER}) [--model-dir DIR] [--coverage 0.9]
  [--quantile lower|mean|upper] [--prescaler-target (default = --target)] [--floor-utilization 1]`;

function fail(msg: string): never {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}

function num(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x)) fail(`--${name} must be a number, got "${v}"`);
  return x;
}

async function makeForecaster(
  name: ForecasterName,
  modelDir: string,
  coverage?: number
): Promise<BatchForecaster> {
  if (name === 'persistence') return persistenceForecaster({ coverage });
  if (name === 'seasonal') return seasonalForecaster({ coverage });
  try {
    const { loadForecaster } = await import('../forecast/lstm');
    return await loadForecaster(modelDir);
  } catch (e) {
    fail(
      `cannot load the LSTM from ${modelDir}: ${(e as Error).message}\n(use --model-dir, or --forecaster persistence|seasonal)`
    );
  }
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      data: { type: 'string' },
      series: { type: 'string' },
      json: { type: 'boolean', default: false },
      report: { type: 'string' },
      'peak-replicas': { type: 'string' },
      startup: { type: 'string' },
      target: { type: 'string' },
      'min-replicas': { type: 'string' },
      'max-replicas': { type: 'string' },
      forecaster: { type: 'string' },
      'model-dir': { type: 'string' },
      coverage: { type: 'string' },
      quantile: { type: 'string' },
      'prescaler-target': { type: 'string' },
      'floor-utilization': { type: 'string' },
      'metric-lag': { type: 'string' },
      'utilization-cap': { type: 'string' },
      'approval-delay': { type: 'string' },
      interval: { type: 'string' },
      'no-behavior': { type: 'boolean', default: false },
      frontier: { type: 'boolean', default: false },
      threads: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!a.data) fail('--data FILE is required');
  const fname = (a.forecaster ?? DEFAULT_FORECASTER) as ForecasterName;
  if (!FORECASTERS.includes(fname)) fail(`--forecaster must be one of ${FORECASTERS.join(', ')}`);
  if (a.quantile && !['lower', 'mean', 'upper'].includes(a.quantile))
    fail('--quantile must be lower, mean or upper');

  const all = loadSeriesFile(a.data);
  let chosen = all;
  if (a.series) {
    const found = all.find((s) => s.name === a.series || s.name.endsWith(`/${a.series}`));
    if (!found) fail(`no series "${a.series}" in ${a.data}; it has: ${all.map((s) => s.name).join(', ')}`);
    chosen = [found];
  }

  const opts: Partial<SimulationOptions> = {};
  const set = <K extends keyof SimulationOptions>(k: K, v: SimulationOptions[K] | undefined) => {
    if (v !== undefined) opts[k] = v;
  };
  set('peakReplicas', num(a['peak-replicas'], 'peak-replicas'));
  set('startup', num(a.startup, 'startup'));
  set('hpaTargetUtilization', num(a.target, 'target'));
  set('minReplicas', num(a['min-replicas'], 'min-replicas'));
  set('maxReplicas', num(a['max-replicas'], 'max-replicas'));
  set('prescalerTarget', num(a['prescaler-target'], 'prescaler-target'));
  set('floorUtilization', num(a['floor-utilization'], 'floor-utilization'));
  set('metricLag', num(a['metric-lag'], 'metric-lag'));
  set('approvalDelay', num(a['approval-delay'], 'approval-delay'));
  set('interval', num(a.interval, 'interval'));
  const cap = a['utilization-cap'];
  set('utilizationCap', cap === 'inf' || cap === 'Infinity' ? Infinity : num(cap, 'utilization-cap'));
  if (a['no-behavior']) opts.behavior = null;
  set('quantile', a.quantile as BandChoice | undefined);
  opts.keepTraces = Boolean(a.report) && !a.frontier;

  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const forecaster = await makeForecaster(
    fname,
    a['model-dir'] ?? DEFAULT_MODEL_DIR,
    num(a.coverage, 'coverage')
  );
  const metadata = (forecaster as { metadata?: ForecasterMetadata }).metadata;
  set('nominal', metadata?.interval?.nominal);
  const dataset = path.basename(a.data);
  const model = metadata ? `${metadata.id}@${metadata.version}` : forecaster.name;
  const tracks: FrontierInput[] = [];
  for (const s of chosen) {
    // Origins every evaluation interval, as fresh as the live loop's; with --frontier only from where replays start.
    const track = await forecastTrack(s.points, forecaster, {
      originEvery: opts.interval ?? SIMULATION_DEFAULTS.interval,
      from: a.frontier ? firstOriginNeeded(s.points) : undefined,
    });
    tracks.push({ name: s.name, points: s.points, track });
    process.stderr.write(
      `${s.name}: ${s.points.length} points forecast with ${forecaster.name} (${elapsed()})\n`
    );
  }

  if (a.frontier) {
    process.stderr.write(`replaying ${tracks.length} series at every setting…\n`);
    const threads = num(a.threads, 'threads') ?? defaultThreads();
    const f = await costAtEqualViolationsInWorkers(tracks, { simulation: opts }, threads, (done, name) =>
      process.stderr.write(`${done}/${tracks.length} ${name} replayed (${elapsed()})\n`)
    );
    process.stderr.write(`done in ${elapsed()}\n`);
    const d = f.comparison.default;
    const results = [
      { ...d.hpa, policy: 'hpa' },
      { ...d.prescaler, policy: 'prescaler' },
      { ...d.oracle, policy: 'oracle' },
    ].map(({ setting: _s, ...r }) => r);
    if (a.report) {
      const command = `npm run -s simulate -- ${process.argv.slice(2).join(' ')}`;
      fs.writeFileSync(
        a.report,
        frontierReportHtml(f, { title: `Cost at equal violations: ${dataset}`, command, model })
      );
      process.stderr.write(`report written to ${a.report}\n`);
    }
    if (a.json) {
      process.stdout.write(
        `${JSON.stringify({ dataset, series: f.series, forecaster: model, evaluatedHours: f.evaluatedHours, results, budget: f.budget, frontier: f.frontier, comparison: f.comparison, oracle: f.oracle, validation: f.validation, sampleDay: f.sampleDay, skipped: f.skipped })}\n`
      );
      return;
    }
    process.stdout.write(`${frontierTable(dataset, model, f)}\n`);
    return;
  }

  // Without --frontier: the three policies at the given settings, pooled over the series.
  const sims = tracks.map((t) => simulateAll(t.points, t.track, opts));
  process.stderr.write(`done in ${elapsed()}\n`);
  const results = pooledResults(sims);
  if (a.report) {
    if (sims.length > 1) fail('--report without --frontier draws one series: pick it with --series');
    const command = `npm run -s simulate -- ${process.argv.slice(2).join(' ')}`;
    fs.writeFileSync(
      a.report,
      simulationReportHtml(sims[0], { title: `Simulation: ${chosen[0].name}`, command })
    );
    process.stderr.write(`report written to ${a.report}\n`);
  }
  const evaluatedHours = sims.reduce((x, s) => x + s.evaluatedHours, 0);
  if (a.json) {
    const series = chosen.length === 1 ? chosen[0].name : chosen.length;
    const { traces: _t, results: _r, details: _d, ...rest } = sims[0];
    process.stdout.write(
      `${JSON.stringify({ dataset, series, forecaster: forecaster.name, results, ...rest, evaluatedHours }, (_, v) => (v === Infinity ? null : v))}\n`
    );
    return;
  }
  const lines = [
    `${chosen.length === 1 ? chosen[0].name : `${chosen.length} series`} — ${evaluatedHours.toFixed(1)} h evaluated, forecaster ${forecaster.name}`,
    'policy      replicaHours  violationMinutes  lateScaleUps  meanRecoveryMinutes',
    ...results.map(
      (r) =>
        `${r.policy.padEnd(10)}  ${String(r.replicaHours).padStart(12)}  ${String(r.violationMinutes).padStart(16)}  ${String(r.lateScaleUps).padStart(12)}  ${String(r.meanRecoveryMinutes).padStart(19)}`
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

const round = (x: number) => Math.round(x * 100) / 100;

/** Each policy's figures summed over series; the mean recovery over all their episodes pooled. */
function pooledResults(sims: readonly SimulationResult[]) {
  return sims[0].results.map(({ policy }) => {
    let replicaHours = 0;
    let violationMinutes = 0;
    let lateScaleUps = 0;
    let recovery = 0;
    let episodes = 0;
    for (const s of sims) {
      const r = s.results.find((x) => x.policy === policy)!;
      const d = s.details.find((x) => x.policy === policy)!;
      replicaHours += r.replicaHours;
      violationMinutes += r.violationMinutes;
      lateScaleUps += r.lateScaleUps;
      recovery += r.meanRecoveryMinutes * d.violations;
      episodes += d.violations;
    }
    return {
      policy,
      replicaHours: round(replicaHours),
      violationMinutes: round(violationMinutes),
      lateScaleUps,
      meanRecoveryMinutes: round(episodes ? recovery / episodes : 0),
    };
  });
}

function frontierTable(dataset: string, model: string, f: FrontierResult): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const row = (name: string, c: Comparison) =>
    [
      `${name}: HPA (${describeSetting(c.hpa.setting)}) ${c.hpa.replicaHours.toFixed(1)} replica-h, ${c.hpa.violationMinutes.toFixed(1)} violation min`,
      `  Prescaler (${describeSetting(c.prescaler.setting)}) ${c.prescaler.replicaHours.toFixed(1)} replica-h, ${c.prescaler.violationMinutes.toFixed(1)} violation min`,
      `  oracle ${c.oracle.replicaHours.toFixed(1)} replica-h; saving ${pct(c.saving)} [${pct(c.savingCi95[0])}, ${pct(c.savingCi95[1])}], gap captured ${c.gapCaptured === null ? 'n/a' : pct(c.gapCaptured)}`,
    ].join('\n');
  return [
    `${dataset}: ${f.series} series, ${f.evaluatedHours.toFixed(1)} h of test slice, forecaster ${model}; budget ${f.budget.violationMinutes.toFixed(1)} violation min`,
    row('tuned', f.comparison.tuned),
    row('default (HPA at 0.70)', f.comparison.default),
    ...(f.skipped.length ? [`skipped: ${f.skipped.map((s) => `${s.series} (${s.reason})`).join('; ')}`] : []),
  ].join('\n');
}

main().catch((e) => {
  if (e instanceof PrescalerError) process.stderr.write(`error (${e.code}): ${e.message}\n`);
  else process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
