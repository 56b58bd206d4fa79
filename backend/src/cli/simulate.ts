/**
 * `npm run -s simulate -- --data FILE [--series NAME] [--json] [--report out.html] …`: replays a canonical
 * CSV trace through HPA, Prescaler and an oracle (DESIGN §3). Progress on stderr, the table (or JSON) on stdout.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadSeriesFile } from '../data/loaders';
import { PrescalerError } from '../errors';
import type { BatchForecaster } from '../forecast/types';
import { persistenceForecaster, seasonalForecaster } from '../evaluate/simulate/fallback-forecasters';
import { forecastTrack } from '../evaluate/simulate/forecasts';
import { simulationReportHtml } from '../evaluate/simulate/report';
import { simulateAll, type SimulationOptions } from '../evaluate/simulate/simulate';
import type { BandChoice } from '../evaluate/simulate/policies';

const FORECASTERS = ['lstm', 'persistence', 'seasonal'] as const;
type ForecasterName = (typeof FORECASTERS)[number];

// The one place that picks the forecaster when --forecaster is not given.
const DEFAULT_FORECASTER: ForecasterName = 'lstm';
const DEFAULT_MODEL_DIR = path.join(__dirname, '..', '..', '..', 'models', 'forecaster');

const USAGE = `usage: npm run -s simulate -- --data FILE [--series NAME] [--json] [--report out.html]
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
  let chosen = all[0];
  if (a.series) {
    const found = all.find((s) => s.name === a.series || s.name.endsWith(`/${a.series}`));
    if (!found) fail(`no series "${a.series}" in ${a.data}; it has: ${all.map((s) => s.name).join(', ')}`);
    chosen = found;
  } else if (all.length > 1) {
    fail(
      `${a.data} holds ${all.length} series; pick one with --series (${all.map((s) => s.name).join(', ')})`
    );
  }

  const opts: Partial<SimulationOptions> = {};
  const set = <K extends keyof SimulationOptions>(k: K, v: SimulationOptions[K] | undefined) => {
    if (v !== undefined) opts[k] = v;
  };
  set('peakReplicas', num(a['peak-replicas'], 'peak-replicas'));
  set('startup', num(a.startup, 'startup'));
  set('target', num(a.target, 'target'));
  set('minReplicas', num(a['min-replicas'], 'min-replicas'));
  set('maxReplicas', num(a['max-replicas'], 'max-replicas'));
  set('prescalerTarget', num(a['prescaler-target'], 'prescaler-target'));
  set('floorUtilization', num(a['floor-utilization'], 'floor-utilization'));
  set('quantile', a.quantile as BandChoice | undefined);
  opts.keepTraces = Boolean(a.report);

  const started = Date.now();
  const forecaster = await makeForecaster(
    fname,
    a['model-dir'] ?? DEFAULT_MODEL_DIR,
    num(a.coverage, 'coverage')
  );
  process.stderr.write(
    `${chosen.name}: ${chosen.points.length} points; forecasting with ${forecaster.name}…\n`
  );
  const track = await forecastTrack(chosen.points, forecaster);
  process.stderr.write(
    `${track.origins.length} forecast origins in ${((Date.now() - started) / 1000).toFixed(1)} s; simulating…\n`
  );
  const sim = simulateAll(chosen.points, track, opts);
  process.stderr.write(`done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

  const round = (x: number) => Math.round(x * 100) / 100;
  const results = sim.results.map((r) => ({
    policy: r.policy,
    replicaHours: round(r.replicaHours),
    violationMinutes: round(r.violationMinutes),
    lateScaleUps: r.lateScaleUps,
    meanRecoveryMinutes: round(r.meanRecoveryMinutes),
  }));

  if (a.report) {
    const command = `npm run -s simulate -- ${process.argv.slice(2).join(' ')}`;
    fs.writeFileSync(a.report, simulationReportHtml(sim, { title: `Simulation: ${chosen.name}`, command }));
    process.stderr.write(`report written to ${a.report}\n`);
  }
  if (a.json) {
    const { traces: _t, results: _r, ...rest } = sim;
    process.stdout.write(
      `${JSON.stringify({ dataset: path.basename(a.data), series: chosen.name, forecaster: forecaster.name, results, ...rest }, (_, v) => (v === Infinity ? null : v))}\n`
    );
    return;
  }
  const lines = [
    `${chosen.name} — ${sim.evaluatedHours.toFixed(1)} h evaluated, forecaster ${forecaster.name}`,
    'policy      replicaHours  violationMinutes  lateScaleUps  meanRecoveryMinutes',
    ...results.map(
      (r) =>
        `${r.policy.padEnd(10)}  ${String(r.replicaHours).padStart(12)}  ${String(r.violationMinutes).padStart(16)}  ${String(r.lateScaleUps).padStart(12)}  ${String(r.meanRecoveryMinutes).padStart(19)}`
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e) => {
  if (e instanceof PrescalerError) process.stderr.write(`error (${e.code}): ${e.message}\n`);
  else process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
